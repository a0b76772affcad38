#!/bin/sh
# Installs what `make fuzz` needs beyond `make deps`: clang and its libFuzzer/sanitizer runtimes
# (Debian 12: clang + libclang-rt-14-dev). Quiet and quick when they are present.
set -eu
CXX=${1:-clang++}
have_runtime() {
  command -v "$CXX" >/dev/null 2>&1 || return 1
  dir=$("$CXX" -print-resource-dir 2>/dev/null) || return 1
  ls "$dir"/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1
}
have_runtime && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "fuzz: $CXX or its libFuzzer runtime is missing (as root: apt-get install clang libclang-rt-dev)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
ver=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1)
echo "fuzz: installing clang${ver:+ $ver} and libclang-rt${ver:+-$ver}-dev"
apt-get install -y -qq --no-install-recommends clang ${ver:+libclang-rt-$ver-dev} >/dev/null
have_runtime || { echo "fuzz: still no libFuzzer runtime for $CXX" >&2; exit 1; }
