#!/usr/bin/env bash
# The integration tests that involve HAProxy, against Debian 11's HAProxy 2.2 and Debian 13's 3.0 (npm test
# runs every test against the machine's own, Debian 12's 2.6): the listener, faults on either side, reloads
# (soft -sf, master-worker -W + SIGUSR2, hard restart), the server state file, and check/status/restart.
# Each version's haproxy comes first on PATH (scripts/haproxy-versions.sh unpacks it; root the first time).
# Left to 2.6 alone: files where HAProxy is only a bystander (the listener's own protocol and process life,
# a non-root user's socket access, the harness, the CLI's arguments, the demo) and haproxy.cfg.example,
# whose `option idle-close-on-response` 2.2 does not know.
# usage: scripts/test-haproxy-versions.sh [2.2] [3.0]        (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"

FILES=(
  test/integration/listener.test.ts
  test/integration/faults-haproxy.test.ts
  test/integration/faults-supervisor.test.ts
  test/integration/listener-safety.test.ts
  test/integration/reload.test.ts
  test/integration/harness-reload.test.ts
  test/integration/server-state-file.test.ts
  test/integration/commands.test.ts
)

dirs="$(bash scripts/haproxy-versions.sh "$@")"
npm run build --silent

failed=()
while read -r version dir; do
  echo "== HAProxy $version ($dir/haproxy): ${FILES[*]}"
  start=$SECONDS
  # The global set-up prints the haproxy the tests run with and refuses any other version.
  if PATH="$dir:$PATH" SUPERVISOR_HAPROXY_EXPECT_VERSION="$version" npx vitest run --project integration "${FILES[@]}" </dev/null; then
    echo "== HAProxy $version: passed in $((SECONDS - start)) s"
  else
    echo "== HAProxy $version: FAILED after $((SECONDS - start)) s"
    failed+=("$version")
  fi
done <<<"$dirs"

if [ ${#failed[@]} -gt 0 ]; then
  echo "test-haproxy-versions: failed with HAProxy ${failed[*]}" >&2
  exit 1
fi
