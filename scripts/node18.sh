#!/usr/bin/env bash
# Unpacks Debian 12's own Node 18 beside the installed Node (without installing it) and prints a command
# that runs it: DIR/node, a wrapper that sets LD_LIBRARY_PATH for Debian's libnode. Idempotent.
# usage: scripts/node18.sh [DIR]     (default: tmp/node18 in the repository, which git ignores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/tmp/node18}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
wrapper="$dir/node"

works() { [ -x "$wrapper" ] && "$wrapper" -e 'process.exit(process.versions.node.startsWith("18.") ? 0 : 1)' >/dev/null 2>&1; }

if ! works; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "node18.sh: unpacking Debian's Node 18 needs root (apt-get), or run it once as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The security archive moves the exact version: take the newest 18.x Debian offers.
  version="$(apt-cache madison nodejs | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -m1 '^18\.' || true)"
  if [ -z "$version" ]; then
    echo "node18.sh: apt-cache madison nodejs lists no 18.x version (is this Debian 12 with its archive in sources.list?)" >&2
    exit 1
  fi
  # libnode's shared libraries, and the JS helpers Debian's node loads from /usr/share/nodejs
  # (without node-cjs-module-lexer it aborts at start: "Cannot load externalized builtin").
  apt-get install -y -qq --no-install-recommends libc-ares2 libuv1 libnghttp2-14 libicu72 libbrotli1 \
    node-cjs-module-lexer node-acorn node-undici >/dev/null
  rm -rf "$dir/deb" "$dir/root"
  mkdir -p "$dir/deb"
  # apt-get download writes into the current directory; _apt must be able to write there.
  (cd "$dir/deb" && chmod 777 . && apt-get download -qq "nodejs=$version" "libnode108=$version")
  for f in "$dir"/deb/*.deb; do dpkg -x "$f" "$dir/root"; done
  chmod 755 "$dir/deb"
  # libnode's directory is per architecture (x86_64-linux-gnu, aarch64-linux-gnu, ...).
  lib="$(dirname "$(find "$dir/root" -name 'libnode.so.*' | head -n 1)")"
  cat >"$wrapper" <<EOF
#!/bin/sh
# Debian's Node 18, unpacked by scripts/node18.sh: its libnode is not in the linker's path.
LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$dir/root/usr/bin/node" "\$@"
EOF
  chmod 755 "$wrapper"
  if ! works; then
    echo "node18.sh: $wrapper does not run Node 18:" >&2
    "$wrapper" --version >&2 || true
    exit 1
  fi
fi
echo "$wrapper"
