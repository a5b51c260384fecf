#!/usr/bin/env bash
# The demo from a fresh Debian machine with Node: set up (haproxy, supervisor, npm ci), then `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
npm run demo -- "$@"
