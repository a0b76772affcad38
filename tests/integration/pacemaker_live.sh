#!/bin/bash
# castor export pacemaker, live (issue 21): a real two-node Pacemaker cluster (corosync with two_node, and
# pacemakerd), each node in network, mount and PID namespaces of its own joined by a veth pair, runs what
# Castor exported and places it as Castor would: the dummy sample on beta (its first node), and the demo's
# web service on alpha — its floating address (IPaddr2, 10.231.0.100), its ext4 filesystem on a shared disk
# (Filesystem, a loop device both namespaces see) and its HTTP server — the page fetched through the address
# from beta; when alpha dies (its PID namespace ends: a crash, not a clean stop), web moves to beta, the
# filesystem mounted there and the page served from it. The demo's HTTP server is an exec resource, which the
# export refuses (ocf:heartbeat:anything cannot run a start command that exits; tests/unit/
# pacemaker_export_test.cc checks the reason), so here it is the same server as a small OCF agent of the test's own (ocf:castorliveN:http),
# installed for the run and removed after it. No fence device can act in namespaces: stonith-enabled=false, set here, not exported. Skips without
# corosync, pacemakerd and the heartbeat agents (Debian: corosync, pacemaker, resource-agents; not in make
# deps: Debian's packages start their daemons). Every namespace and process made here is undone at exit,
# processes by PID: a node's PID namespace ends with its first process.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -x "$CASTOR" ] || skip "castor is not built"
for c in corosync pacemakerd cibadmin crm_mon crm_attribute ip unshare nsenter; do
  command -v "$c" >/dev/null || skip "$c missing (Debian: corosync, pacemaker, pacemaker-cli-utils)"
done
for a in Dummy IPaddr2; do [ -x /usr/lib/ocf/resource.d/heartbeat/$a ] || skip "ocf:heartbeat:$a missing (resource-agents)"; done
id hacluster >/dev/null 2>&1 || skip "no hacluster user (the pacemaker package makes it)"
SAMPLES=$(cd "$(dirname "$0")/../.." && pwd)/etc/services.d
make_scratch; dir=$SCRATCH
chmod 0755 "$dir"
tag=$$
# Not "castor-...": the cluster scripts running beside this one (lane 2) check that no "castor-" namespace
# outlives them, and took these for their own leftovers (a rehearsal failed torture_broken so).
ns() { echo "pcmklive$tag-$1"; }

cat >"$dir/corosync.conf" <<'EOF2'
totem {
  version: 2
  cluster_name: castorlive
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 5000
}
nodelist {
  node {
    ring0_addr: 10.231.0.1
    name: alpha
    nodeid: 1
  }
  node {
    ring0_addr: 10.231.0.2
    name: beta
    nodeid: 2
  }
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_stderr: yes
  to_logfile: no
  to_syslog: no
}
EOF2
# One node: its own /etc/corosync, /var/lib/corosync, /var/lib/pacemaker, /var/log/pacemaker, /run and
# /dev/shm (libqb's IPC) by bind and tmpfs mounts inside its mount namespace; runs until stop-NAME exists.
cat >"$dir/node.sh" <<'EOF2'
N=$1; D=$2; B=$D/$N
mkdir -p "$B/etc" "$B/varlibcs" "$B/varlibpcmk/cib" "$B/varlibpcmk/pengine" "$B/varlibpcmk/blackbox" "$B/varlibpcmk/cores" "$B/logp"
cp "$D/corosync.conf" "$B/etc/corosync.conf"
chown -R hacluster:haclient "$B/varlibpcmk" "$B/logp"
mkdir -p /var/log/pacemaker
mount --bind "$B/etc" /etc/corosync && mount --bind "$B/varlibcs" /var/lib/corosync &&
  mount --bind "$B/varlibpcmk" /var/lib/pacemaker && mount --bind "$B/logp" /var/log/pacemaker &&
  mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /dev/shm || { echo "mounts failed"; exit 1; }
mkdir -p /run/castor
corosync -f >"$B/corosync.out" 2>&1 &
sleep 2
PCMK_logfile=/var/log/pacemaker/pacemaker.log pacemakerd -f >"$B/pacemakerd.out" 2>&1 &
while [ ! -e "$D/stop-$N" ]; do sleep 1; done
EOF2

say "two nodes in namespaces: $(ns alpha), $(ns beta)"
for n in alpha beta; do
  ip netns add "$(ns $n)" || fail "ip netns add $(ns $n)"
  register_undo "ip netns del '$(ns $n)' 2>/dev/null"
done
ip link add "cpl${tag}a" type veth peer name "cpl${tag}b" || fail "veth"
ip link set "cpl${tag}a" netns "$(ns alpha)" && ip link set "cpl${tag}b" netns "$(ns beta)" || fail "moving the veth ends"
ip -n "$(ns alpha)" addr add 10.231.0.1/24 dev "cpl${tag}a" && ip -n "$(ns beta)" addr add 10.231.0.2/24 dev "cpl${tag}b" ||
  fail "addresses"
for n in alpha beta; do ip -n "$(ns $n)" link set lo up; done
ip -n "$(ns alpha)" link set "cpl${tag}a" up && ip -n "$(ns beta)" link set "cpl${tag}b" up || fail "links up"
declare -A inner
for n in alpha beta; do
  ip netns exec "$(ns $n)" unshare --mount --pid --fork --kill-child --mount-proc bash "$dir/node.sh" $n "$dir" >"$dir/$n.log" 2>&1 &
  pid=$!
  register_undo "touch '$dir/stop-$n'"
  register_pid "$pid"
  for _ in $(seq 50); do inner[$n]=$(pgrep -P "$pid" | head -1); [ -n "${inner[$n]}" ] && break; sleep 0.1; done
  [ -n "${inner[$n]}" ] || fail "node $n did not start: $(cat "$dir/$n.log")"
done
on() { local n=$1; shift; nsenter -t "${inner[$n]}" -m -n -p -- "$@"; }
wait_for() {  # SECONDS DESCRIPTION NODE PATTERN: crm_mon -1 on NODE matches the extended regex
  local i
  for ((i = 0; i < $1; i++)); do
    on "$3" crm_mon -1 >"$dir/mon.txt" 2>&1 && grep -Eq "$4" "$dir/mon.txt" && return 0
    sleep 1
  done
  # What each node's stack last said, the cluster's view last (run-tests' recap shows a failed suite's last
  # 40 lines): corosync's membership, pacemaker's errors and elections, then crm_mon.
  for n in alpha beta; do
    echo "--- $n: corosync"
    tail -6 "$dir/$n/corosync.out" 2>/dev/null
    echo "--- $n: pacemaker (errors, joins, elections)"
    grep -Ei "error|crit|join|elect|pending|state transition" "$dir/$n/logp/pacemaker.log" 2>/dev/null | tail -6 | cut -c1-200
  done
  echo "--- crm_mon -1 on $3"
  cat "$dir/mon.txt"
  fail "after $1 s: $2"
}
# Normally online within 10 s. A membership that changes while the nodes first join (one node starved of
# CPU past a token by the suites running beside this one) sends Pacemaker's join back to its election, which
# can take minutes (CI once saw "after 90 s"): a longer token, and time for that.
t_online=$SECONDS
wait_for 180 "both nodes online" alpha "Online: \[ alpha beta \]"
say "both nodes online after $((SECONDS - t_online)) s"
sed -n '/Cluster Summary/,/Online/p' "$dir/mon.txt"

say "castor export pacemaker: the dummy sample and the demo's web service, loaded into the live CIB"
# The shared disk: an ext4 filesystem holding the page, on a loop device both nodes' namespaces see.
disk=$(new_loop "$dir/shared.img" 64) && register_loop "$disk"
mkfs.ext4 -q -F "$disk" || fail "mkfs.ext4 $disk"
mkdir -p "$dir/page-setup" "$dir/srv"
mount "$disk" "$dir/page-setup" && echo "castor-live-page $tag" >"$dir/page-setup/index.html" && umount "$dir/page-setup" ||
  fail "writing the page onto $disk"
# The demo's HTTP server as an OCF agent (start/stop/monitor/meta-data; the same python3 http.server).
provider=castorlive$tag
agent_dir=/usr/lib/ocf/resource.d/$provider
mkdir -p "$agent_dir" && register_undo "rm -rf '$agent_dir'"
cat >"$agent_dir/http" <<'EOF2'
#!/bin/sh
# The demo web service's HTTP server (etc/services.d/web.ini, resource http) as an OCF agent.
: "${OCF_RESKEY_port:=8080}"
pidf=/run/castor/http-$OCF_RESOURCE_INSTANCE.pid
running() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }
case $1 in
meta-data) cat <<'XML'
<?xml version="1.0"?>
<resource-agent name="http" version="1.0">
<version>1.0</version>
<shortdesc lang="en">python3 http.server on an address</shortdesc>
<longdesc lang="en">The demo web service's HTTP server.</longdesc>
<parameters>
<parameter name="ip" required="1"><shortdesc lang="en">address</shortdesc><content type="string"/></parameter>
<parameter name="port"><shortdesc lang="en">port</shortdesc><content type="integer" default="8080"/></parameter>
<parameter name="docroot" required="1"><shortdesc lang="en">directory served</shortdesc><content type="string"/></parameter>
</parameters>
<actions>
<action name="start" timeout="20s"/><action name="stop" timeout="20s"/>
<action name="monitor" timeout="20s" interval="10s"/><action name="meta-data" timeout="5s"/>
</actions>
</resource-agent>
XML
  exit 0 ;;
start)
  running && exit 0
  mkdir -p /run/castor
  setsid /usr/bin/python3 -m http.server "$OCF_RESKEY_port" --bind "$OCF_RESKEY_ip" --directory "$OCF_RESKEY_docroot" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$pidf"
  for i in 1 2 3 4 5 6 7 8 9 10; do
    python3 -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)" \
      "$OCF_RESKEY_ip" "$OCF_RESKEY_port" 2>/dev/null && exit 0
    sleep 0.5
  done
  exit 1 ;;
stop)
  running && kill "$(cat "$pidf")"
  for i in 1 2 3 4 5 6 7 8 9 10; do running || { rm -f "$pidf"; exit 0; }; sleep 0.5; done
  kill -9 "$(cat "$pidf")" 2>/dev/null; rm -f "$pidf"; exit 0 ;;
monitor) running && exit 0; exit 7 ;;
*) exit 3 ;;
esac
EOF2
chmod 0755 "$agent_dir/http"
mkdir -m 0755 "$dir/services"
install -m 0644 "$SAMPLES/dummy.ini" "$dir/services/" || fail "copying dummy.ini"
cat >"$dir/services/web.ini" <<EOF2
[service]
name = web
nodes = alpha, beta
failback = no
monitor_interval = 10s
[resource ip]
agent = ocf:heartbeat:IPaddr2
param.ip = 10.231.0.100
param.cidr_netmask = 24
monitor_interval = 10s
[resource fs]
agent = ocf:heartbeat:Filesystem
param.device = $disk
param.directory = $dir/srv
param.fstype = ext4
[resource http]
agent = ocf:$provider:http
param.ip = 10.231.0.100
param.docroot = $dir/srv
EOF2
chmod 0644 "$dir/services/web.ini"
: >"$dir/castor.ini"  # no [fence NODE]: nothing could fence a namespace
"$CASTOR" export pacemaker --services "$dir/services" --config "$dir/castor.ini" >"$dir/export.cib" 2>"$dir/export.err" ||
  { cat "$dir/export.err"; fail "castor export pacemaker"; }
python3 - "$dir" <<'PY' || fail "splitting the export"
import sys, xml.etree.ElementTree as ET
d = sys.argv[1]
f = ET.parse(d + "/export.cib").getroot()
ET.ElementTree(f.find("resources")).write(d + "/resources.xml")
ET.ElementTree(f.find("constraints")).write(d + "/constraints.xml")
PY
on alpha crm_attribute --type crm_config --name stonith-enabled --update false || fail "stonith-enabled=false"
on alpha cibadmin --replace --scope resources --xml-file "$dir/resources.xml" || fail "loading the resources"
on alpha cibadmin --replace --scope constraints --xml-file "$dir/constraints.xml" || fail "loading the constraints"

say "Pacemaker places them where Castor would: dummy on beta, web on alpha"
wait_for 60 "dummy on beta" alpha "dummy_dummy.*Started beta"
wait_for 90 "web on alpha" alpha "web_http.*Started alpha"
sed -n '/Active Resources/,$p' "$dir/mon.txt"
on alpha ip -4 addr show "cpl${tag}a" | grep -q "inet 10.231.0.100/24" || fail "10.231.0.100 is not up on alpha"
on beta ip -4 addr show "cpl${tag}b" | grep -q "10.231.0.100" && fail "10.231.0.100 is up on beta too"
on alpha findmnt -n -S "$disk" -M "$dir/srv" >/dev/null || fail "$disk is not mounted on $dir/srv on alpha"
on beta findmnt -n -S "$disk" >/dev/null && fail "$disk is mounted on beta too"
on beta test -e /run/castor/dummy.state || fail "Dummy's state file is not on beta"
page=$(on beta curl -s --max-time 5 http://10.231.0.100:8080/index.html)
[ "$page" = "castor-live-page $tag" ] || fail "the page through 10.231.0.100 from beta: '$page'"
echo "web on alpha: 10.231.0.100 on its interface, $disk mounted there, the page served from it to beta;" \
  "/run/castor/dummy.state on beta"

say "alpha dies: web moves to beta"
touch "$dir/stop-alpha"
wait_for 90 "web on beta after alpha died" beta "web_http.*Started beta"
grep -Eq "OFFLINE: \[ alpha \]" "$dir/mon.txt" || fail "alpha is not offline: $(cat "$dir/mon.txt")"
sed -n '/Node List/,$p' "$dir/mon.txt"
on beta ip -4 addr show "cpl${tag}b" | grep -q "inet 10.231.0.100/24" || fail "10.231.0.100 is not up on beta"
on beta findmnt -n -S "$disk" -M "$dir/srv" >/dev/null || fail "$disk is not mounted on $dir/srv on beta"
page=$(on beta curl -s --max-time 5 http://10.231.0.100:8080/index.html)
[ "$page" = "castor-live-page $tag" ] || fail "the page through 10.231.0.100 on beta: '$page'"
echo "web on beta: 10.231.0.100 on its interface, $disk mounted there, the page served from it"
say "pass"
