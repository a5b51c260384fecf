#!/usr/bin/env bash
# The package as users install it, each way from its own fresh clone of this repository (no node_modules,
# no dist/: npm's `prepare` must build it): `npm pack` + `npm install -g` of the tarball, `npm install -g`
# of the clone's folder, `npm install -g --install-links git+file://` of the clone. Each into its own
# prefix; each command's --version with the installed bin and on Debian's Node 18. Then the real-supervisord
# integration tests with the tarball's listener (and the operator commands) running on Node 18.
# The clones hold the working tree's tracked files, committed or not (`git stash create`); untracked files
# are not in them. Needs root the first time (scripts/node18.sh uses apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
work="$PWD/tmp/installed"
rm -rf "$work"
mkdir -p "$work"

node18="$(bash scripts/node18.sh)"
echo "node 18: $node18 ($("$node18" --version)); npm $(npm --version)"

# The tracked files as they are now: a commit of the uncommitted changes, or HEAD when there are none.
rev="$(git stash create)"
rev="${rev:-$(git rev-parse HEAD)}"
fresh_clone() {
  git clone -q "$PWD" "$work/$1"
  git -C "$work/$1" -c advice.detachedHead=false checkout -q "$rev"
}
want="$(node -p 'require("./package.json").version')"

# The bin npm linked, and the same cli.js on Node 18: each prints the version (which loads every module
# and both runtime dependencies).
verify() {
  local how="$1" prefix="$2"
  local bin="$prefix/bin/supervisor-haproxy" pkg="$prefix/lib/node_modules/supervisor-haproxy"
  local run got
  for run in "$bin" "$node18 $pkg/dist/cli.js"; do
    if ! got="$($run --version)" || [ "$got" != "$want" ]; then
      echo "test-installed: $how: '$run --version' printed '${got:-}', expected '$want'" >&2
      exit 1
    fi
    echo "ok: $how: $run --version → $got"
  done
  # Every file the README names (docs/…, *.md, the examples) is there for the user who reads it.
  local f
  for f in $(grep -o '`\(docs/[^`]*\|[A-Za-z.-]*\.md\|[a-z.-]*\.example\)`' "$pkg/README.md" | tr -d '`' | sort -u); do
    if [ ! -e "$pkg/$f" ]; then
      echo "test-installed: $how: the README names $f, which the installed package lacks" >&2
      exit 1
    fi
  done
  echo "ok: $how: every file the README names is installed"
}

# 1. The tarball, packed in a fresh clone.
fresh_clone pack
tarball="$(cd "$work/pack" && npm pack --silent | tail -n 1)"
echo "packed: $work/pack/$tarball"
(cd "$work/pack" && npm install -g --silent --prefix "$work/prefix-pack" ./supervisor-haproxy-*.tgz)
verify "npm install -g ./$tarball" "$work/prefix-pack"

# 2. The clone's folder: npm links it and runs its `prepare` there.
fresh_clone folder
(cd "$work/folder" && npm install -g --silent --prefix "$work/prefix-folder" .)
verify "npm install -g ." "$work/prefix-folder"

# 3. A git URL, as `npm install -g git+https://…` installs. Without --install-links npm 11 links the global
# package to its temporary clone, whose files it then deletes (npm/cli#4148).
fresh_clone git
(cd "$work/git" && npm install -g --silent --install-links --prefix "$work/prefix-git" "git+file://$PWD")
verify "npm install -g --install-links git+file://\$PWD" "$work/prefix-git"

# supervisord runs one command: a script that starts the tarball's cli.js on Node 18.
pkg="$work/prefix-pack/lib/node_modules/supervisor-haproxy"
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
  test/integration/restart-faults.test.ts \
  "$@"
