#!/usr/bin/env bash
# Unpacks Debian 11's HAProxy 2.2 and Debian 13's HAProxy 3.0 from Debian's archive beside the machine's
# own (Debian 12: 2.6), without installing them, and prints for each version a directory holding a
# `haproxy` to put first on PATH: "2.2 DIR". Idempotent; everything is kept under tmp/haproxy-versions.
# usage: scripts/haproxy-versions.sh [2.2] [3.0]       (default: both; root the first time, for apt-get)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="$root/tmp/haproxy-versions"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.2 3.0)

# What each version needs from the archive: the binary, and the libraries Debian 12 lacks or has too old.
declare -A SUITE=([2.2]=bullseye [3.0]=trixie)
declare -A DEBS=(
  [2.2]="haproxy libssl1.1 liblua5.3-0"
  # 3.0 needs glibc 2.38 (Debian 12 has 2.36): it runs with trixie's own loader and libraries.
  [3.0]="haproxy libc6 libcrypt1 libjemalloc2 liblua5.4-0 libopentracing-c-wrapper0t64 libopentracing1
         libpcre2-8-0 libssl3t64 libstdc++6 libgcc-s1 libzstd1 zlib1g"
)

works() { # version dir
  local out
  # Read whole, not piped into `head`: under pipefail, a writer cut off by SIGPIPE would fail the check.
  out="$("$2/haproxy" -v 2>/dev/null)" || return 1
  grep -Eq "^HA-?Proxy version $1\\." <<<"$out"
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "haproxy-versions.sh: unpacking HAProxy $1 needs root (apt-get) the first time" >&2
    exit 1
  fi
}

# A package list of its own for bullseye and trixie: the machine's sources and lists stay untouched.
apt_private() {
  mkdir -p "$base/apt/lists/partial" "$base/apt/cache/archives/partial"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  cat >"$base/apt/sources.list" <<EOF
deb [signed-by=$keyring] http://deb.debian.org/debian trixie main
deb [signed-by=$keyring] http://deb.debian.org/debian bullseye main
EOF
  APT=(-o "Dir::Etc::sourcelist=$base/apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::lists=$base/apt/lists" -o "Dir::Cache=$base/apt/cache")
  if [ ! -e "$base/apt/updated" ]; then
    apt-get "${APT[@]}" update -qq
    touch "$base/apt/updated"
  fi
}

unpack() { # version
  local v="$1" suite="${SUITE[$1]}" dir="$base/$1"
  need_root "$v"
  apt_private
  command -v patchelf >/dev/null 2>&1 || {
    apt-get install -y -qq patchelf >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq patchelf >/dev/null; }
  }
  rm -rf "$dir"
  mkdir -p "$dir/deb" "$dir/bin"
  local pkgs=()
  for p in ${DEBS[$v]}; do pkgs+=("$p/$suite"); done
  # apt-get download writes into the current directory as _apt, which must be able to write there.
  # The archive moves on (security updates): with an old package list, fetch a new one and try again.
  (cd "$dir/deb" && chmod 777 . && { apt-get "${APT[@]}" download -qq "${pkgs[@]}" ||
    { apt-get "${APT[@]}" update -qq && apt-get "${APT[@]}" download -qq "${pkgs[@]}"; }; })
  chmod 755 "$dir/deb"
  for f in "$dir"/deb/*.deb; do dpkg -x "$f" "$dir/root"; done
  local lib bin="$dir/root/usr/sbin/haproxy"
  lib="$(dirname "$(find "$dir/root" -name 'libssl.so.*' | head -n 1)")"
  # The library path is baked into the binary, not set by a wrapper: a master (-W) re-executes its own
  # binary on SIGUSR2, and a wrapper's environment or explicit loader would be lost there.
  # --force-rpath: DT_RPATH also reaches the libraries' own dependencies (liblua5.4 needs trixie's libm).
  if [ "$v" = 3.0 ]; then
    local loader
    loader="$(find "$lib" -maxdepth 1 -name 'ld-linux-*.so.*' | head -n 1)"
    patchelf --force-rpath --set-interpreter "$loader" --set-rpath "$lib" "$bin"
  else
    patchelf --force-rpath --set-rpath "$lib" "$bin"
  fi
  ln -sf "$bin" "$dir/bin/haproxy"
  if ! works "$v" "$dir/bin"; then
    echo "haproxy-versions.sh: $dir/bin/haproxy does not run HAProxy $v:" >&2
    "$dir/bin/haproxy" -v >&2 || true
    exit 1
  fi
}

for v in "${versions[@]}"; do
  if [ -z "${SUITE[$v]:-}" ]; then
    echo "haproxy-versions.sh: unknown version '$v' (known: ${!SUITE[*]})" >&2
    exit 2
  fi
  works "$v" "$base/$v/bin" || unpack "$v" >&2
  echo "$v $base/$v/bin"
done
