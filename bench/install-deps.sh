#!/bin/sh
# What make bench needs beyond the build's dependencies: sanlock and sbd (the systems compared) and
# python3-matplotlib (the plots). Quiet when all are present.
set -eu
missing=""
for p in sanlock sbd python3-matplotlib; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
[ "$(id -u)" = 0 ] || { echo "bench: missing packages:$missing (run make bench as root)" >&2; exit 1; }
echo "bench: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
