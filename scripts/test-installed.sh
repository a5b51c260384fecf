#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a temp prefix, its
# --version, then the real-supervisord integration tests with that installed listener (and the operator
# commands) running on Debian's Node 18. Needs root the first time (scripts/node18.sh uses apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
work="$PWD/tmp/installed"
rm -rf "$work"
mkdir -p "$work"

node18="$(bash scripts/node18.sh)"
echo "node 18: $node18 ($("$node18" --version))"

# prepack builds dist/ from a clean slate, so the tarball is what `npm install -g supervisor-haproxy` gets.
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed: $work/$tarball"
npm install -g --silent --no-audit --no-fund --prefix "$work/prefix" "$work/$tarball"
bin="$work/prefix/bin/supervisor-haproxy"
pkg="$work/prefix/lib/node_modules/supervisor-haproxy"

want="$(node -p 'require("./package.json").version')"
for run in "$bin" "$node18 $pkg/dist/cli.js"; do
  got="$($run --version)"
  if [ "$got" != "$want" ]; then
    echo "test-installed: '$run --version' printed '$got', expected '$want'" >&2
    exit 1
  fi
  echo "ok: $run --version → $got"
done

# supervisord runs one command: a script that starts the installed cli.js on Node 18.
listener="$work/listener"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$node18" "$pkg/dist/cli.js" >"$listener"
chmod 755 "$listener"
# The node behind the wrapper, which the tests compare with the running listener's /proc/PID/exe.
real_node="$(dirname "$node18")/root/usr/bin/node"

export SUPERVISOR_HAPROXY_LISTENER="$listener" SUPERVISOR_HAPROXY_LISTENER_NODE="$real_node"
npx vitest run --project integration \
  test/integration/listener.test.ts \
  test/integration/faults-supervisor.test.ts \
  test/integration/commands.test.ts \
  test/integration/examples.test.ts \
  test/integration/nonroot.test.ts \
  test/integration/reload.test.ts \
  "$@"
