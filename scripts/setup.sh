#!/usr/bin/env bash
# Set-up on a fresh Debian machine with Node: haproxy and supervisor from Debian when missing, then npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v supervisord >/dev/null 2>&1 || [ -x /usr/bin/supervisord ] || need+=(supervisor)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${need[*]}: run as root or install them (apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  # Debian's packages start system-wide services where an init system runs them; tests and demo start their own.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
npm ci --no-audit --no-fund
