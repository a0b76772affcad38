#!/bin/sh
# Installs the Debian packages Castor needs to build and test; quiet and quick when all are present.
set -eu
# Package builds (debian/rules, castor.spec) declare their build dependencies themselves and must never
# run apt-get: CASTOR_SKIP_DEPS=1 makes this a no-op.
[ "${CASTOR_SKIP_DEPS:-0}" = 1 ] && exit 0
PKGS="g++ make pkg-config libaio-dev libblkid-dev libboost-log-dev libboost-thread-dev libboost-filesystem-dev
      libinih-dev libsodium-dev doctest-dev util-linux e2fsprogs fuse3 bindfs kmod iproute2 procps resource-agents nlohmann-json3-dev
      python3 curl haproxy postgresql-15 postgresql-client-15 python3-psycopg2 pacemaker-cli-utils crmsh
      prometheus libpam0g-dev libssl-dev openssl chromium chromium-driver python3-selenium jq openipmi ipmitool
      fence-agents openssh-server"
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
# Nothing installed here may start on this host: haproxy's postinst would start (and enable) a host-wide
# haproxy, where the tests run it only inside the harness nodes (tests/cluster/director.sh). A policy-rc.d
# that denies every start is put in place for the install (unless the host has one), and a haproxy this
# install brought is not enabled at boot (nor an sshd).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
case " $missing " in
  *" haproxy "*) if command -v systemctl >/dev/null; then systemctl disable haproxy.service >/dev/null 2>&1 || true; fi
                 update-rc.d haproxy disable >/dev/null 2>&1 || true ;;
esac
# Likewise sshd: tests/integration/history_peer.sh runs its own on 127.0.0.1; the host gets none at boot.
case " $missing " in
  *" openssh-server "*) if command -v systemctl >/dev/null; then systemctl disable ssh.service >/dev/null 2>&1 || true; fi
                        update-rc.d ssh disable >/dev/null 2>&1 || true ;;
esac
