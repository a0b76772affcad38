#!/bin/sh
# Installs the Debian packages Castor needs to build and test; quiet and quick when all are present.
set -eu
# Package builds (debian/rules, castor.spec) declare their build dependencies themselves and must never
# run apt-get: CASTOR_SKIP_DEPS=1 makes this a no-op.
[ "${CASTOR_SKIP_DEPS:-0}" = 1 ] && exit 0
PKGS="g++ make pkg-config libaio-dev libblkid-dev libboost-log-dev libboost-thread-dev libboost-filesystem-dev
      libinih-dev libsodium-dev doctest-dev util-linux e2fsprogs fuse3 bindfs kmod iproute2 procps resource-agents nlohmann-json3-dev
      python3 curl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages:$missing (run 'make deps' as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
