#!/bin/bash
# The cluster harness (sourced by tools/demo.sh and tests/cluster/torture.sh): a real two-node Castor
# cluster on one machine.
#   Two nodes (alpha, beta), each in its own network namespace, mount namespace and process group, each
#   seeing the shared disks through its own loop devices over one backing file per disk (as two hosts see
#   one SAN LUN): a quorum disk and a data disk with ext4. A LAN (a bridge in its own namespace) joins them
#   and a client namespace; addresses 192.0.2.0/24 exist only inside these namespaces, with no route out.
#   The service `web` is ocf:heartbeat:Filesystem (the data disk) + ocf:heartbeat:IPaddr2 (192.0.2.10) + an
#   HTTP server serving the shared filesystem on the floating IP. Each node has a stand-in hardware
#   watchdog outside it.
#   A second service, `ledger`, on a second shared ext4 disk: a writer that appends "EPOCH NODE SEQ" records
#   with fsync there and acknowledges each to a log outside the nodes (tests/cluster/ledger_writer.py) —
#   the evidence the torture run checks. Each node sees the quorum disk through its own FUSE pass-through
#   (bindfs) of the disks folder, so a test can hang that node's disk (SIGSTOP its bindfs: I/O stalls, and
#   the writes land late when it resumes), as a SAN path that stalls.
#   With LIGHT_SERVICES=N, N more services svc01.. (tests/cluster/svc_proc.sh: a sleep holding a lock) that
#   log each start and stop outside the nodes; kill_node logs "kill NODE NS" to kills.log.
#   The LAN heartbeat channel (castor.ini [lan], issue 15; LAN=0 leaves the section out): link1 over a
#   dedicated heartbeat network (a second bridge, br1 in the LAN namespace, and eth1 in each node:
#   198.51.100.1 alpha, .2 beta, no route out), link2 over the client LAN (192.0.2.1, .2); UDP port LAN_PORT
#   (5406), authenticated with the cluster key $dir/authkey (castor keygen). Faults: lan_partition / lan_heal
#   (both links; lan_link_down / lan_link_up N for one), stall_disk / unstall_disk NODE (the node's path to
#   the quorum disk hangs: its bindfs SIGSTOPped) and stall_both / unstall_both (a shared storage stall).
#   QUORUM_DEVICES=3 (issue 17; default 1: one quorum disk, everything as before): a set of three quorum devices,
#   one backing file each ($dir/qdisks/qI/quorum.img, 16 MiB), and for each node and each device its own FUSE
#   pass-through ($dir/NODE/qI, bindfs PID FUSE_NODE_I) and loop device (QI_NODE; Q_NODE lists the node's three),
#   so that one device can hang as an array does (device_stall I: its bindfs stopped on both nodes) or one node's
#   path to it alone (path_stall NODE I). castor init writes the set; each node's castor.ini lists its three loop
#   devices (beta's in the reverse order: quorumd orders them by their superblocks). One device's faults:
#   device_stall / device_unstall I, device_ro / device_rw I (blockdev --setro on both nodes' loop devices),
#   device_zero I / device_garbage I (zeros / random bytes over both node regions of its backing file, while
#   the cluster runs), device_fail I (both its bindfs killed: every I/O fails with ENOTCONN, for good).
#   stall_disk NODE then stalls all three of the node's paths (the node loses its quorum storage).
#   FENCE=1 (issue 16): each node also has a BMC (tests/cluster/bmc.sh, sourced below): one ipmi_sim per node on a
#   management network, whose power on boots the node (boot_node, in ipmi_sim's startcmd) and whose power off
#   kills it as kill_node does; start_node then powers the node on (or resets it) through its BMC. Without
#   FENCE=1 nothing of this exists and start_node boots the node itself, as before.
#   DIRECTOR=1 (issue 18): two real servers in namespaces of their own and a `director` service (IPaddr2 +
#   lsb:haproxy, Debian's init script), each node with its own /run and /etc/haproxy (tests/cluster/director.sh).
# Sourcing defines the functions; cluster_setup builds the disks, the LAN and the configs; the EXIT trap
# tears everything down (also on failure or Ctrl-C), killing only what the harness started.
# HARNESS_NODE_DIR=DIR (used only by the BMC's startcmd, tests/cluster/bmc.sh): define the functions over the
# existing cluster folder DIR, with no trap and nothing made or torn down: the caller boots or kills one node.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CASTOR=$ROOT/$BUILD/castor QUORUMD=$ROOT/$BUILD/quorumd SVCMGR=$ROOT/$BUILD/svcmgr
STANDIN=$ROOT/$BUILD/tests/watchdog_standin
export CASTOR_TEST_WATCHDOG_STANDIN=1  # quorumd accepts the stand-in FIFO only with this (test-only) switch
[ "$(id -u)" = 0 ] || { echo "make demo needs root (loop devices, namespaces, mounts)"; exit 1; }
# CLUSTER_ID names this cluster's namespaces and cgroups, so two harness clusters (a benchmark and a test)
# can run side by side: the default "castor" gives castor-lan, castor-alpha, ...; CLUSTER_ID=cb gives cb-lan.
CLUSTER_ID=${CLUSTER_ID:-castor}
# IO_TIMEOUT_MS: the quorum disk's io_timeout T (default 200 ms); each node's stand-in watchdog fires at 2T (looser than the W = T a hardware watchdog is set to).
IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-200}
FENCE=${FENCE:-0}  # 1: each node powered through its own BMC (tests/cluster/bmc.sh)
if [ -n "${HARNESS_NODE_DIR:-}" ]; then dir=$HARNESS_NODE_DIR; else dir=$(mktemp -d "${TMPDIR:-/tmp}/castor-demo.XXXXXX"); fi
NS_LAN=$CLUSTER_ID-lan NS_A=$CLUSTER_ID-alpha NS_B=$CLUSTER_ID-beta NS_C=$CLUSTER_ID-client
VIP=192.0.2.10
CGROOT=/sys/fs/cgroup/freezer/$CLUSTER_ID-demo
loops=() pids=() made_ns=() fuse_mounts=()
. "$ROOT/tests/lib/pid_identity.sh"
declare -A pid_start  # track_pid: each PID of pids, with its start time
# track_pid PID: killed (its process group too) at cleanup, if it is still that process (pid_identity.sh)
track_pid() { pids+=("$1"); pid_start[$1]=$(proc_start "$1"); }
LEDGER_TOOL=$ROOT/tests/cluster/ledger_writer.py
SVC_TOOL=$ROOT/tests/cluster/svc_proc.sh
# LIGHT_SERVICES: how many light `exec` services (svc01..) besides web and ledger (default none; the torture
# run has 40: with web and ledger they fill two service-table blocks).
LIGHT_SERVICES=${LIGHT_SERVICES:-0}
# LAN: 1 (default) gives castor.ini a [lan] section with both links; 0 leaves it out (the disk alone, as before
# issue 15; the heartbeat network is built either way). LAN_MAX_STALL_S: its max_storage_stall_s.
LAN=${LAN:-1}
LAN_PORT=${LAN_PORT:-5406}
LAN_MAX_STALL_S=${LAN_MAX_STALL_S:-120}
# QUORUM_DEVICES: 1 (default: one quorum disk) or 3 (a set of three quorum devices, issue 17)
QUORUM_DEVICES=${QUORUM_DEVICES:-1}
case $QUORUM_DEVICES in 1|3) ;; *) echo "QUORUM_DEVICES must be 1 or 3 (not $QUORUM_DEVICES)"; exit 1 ;; esac
QDEVS=$(seq 0 $((QUORUM_DEVICES - 1)))  # the device indexes (QUORUM_DEVICES=3)
DIRECTOR=${DIRECTOR:-0}  # 1: the director service and two real servers (tests/cluster/director.sh)
STATUS_GROUP=${STATUS_GROUP:-}  # a group that may read the daemons' sockets (status_group; make demo's web console)
. "$ROOT/tests/cluster/db.sh"  # DB=1: the db service, PostgreSQL on a third shared disk (issue 18)

step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "FAILED: $*" >&2
  for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done >&2
  exit 1
}

# kill_node NAME: everything in the node's cgroup dies at once, and its NIC goes dark (a host that loses
# power). Frozen first, so nothing forks meanwhile; SIGKILL is delivered when thawed.
kill_node() {
  local n=$1 cg=$CGROOT/$1 pass procs pid
  [ -d "$cg" ] || return 0
  echo FROZEN >"$cg/freezer.state" 2>/dev/null
  reset_mounts "$n"  # at once, as a power cut would: not after the kill loop below
  for ((pass = 0; pass < 100; pass++)); do
    procs=$(cat "$cg/cgroup.procs" 2>/dev/null)  # a pseudo-file: its size is always 0
    [ -n "$procs" ] || break
    for pid in $procs; do kill -KILL "$pid" 2>/dev/null; done
    echo THAWED >"$cg/freezer.state" 2>/dev/null
    sleep 0.02
  done
  echo THAWED >"$cg/freezer.state" 2>/dev/null
  ip -n "$CLUSTER_ID-$n" link set eth0 down 2>/dev/null
  ip -n "$CLUSTER_ID-$n" link set eth1 down 2>/dev/null
  if [ "$FENCE" = 1 ]; then ip -n "$CLUSTER_ID-$n" link set eth2 down 2>/dev/null; fi  # the management LAN too
  echo "kill $n $(date +%s%N)" >>"$dir/kills.log"  # the node's services ended before this (the checker's bound)
}

reset_mounts() { bash "$ROOT/tests/cluster/reset_mounts.sh" "$CGROOT/$1"; }  # a reset ends the node's mounts too

# fuse_mountpoint M: where the FUSE pass-through M of fuse_mounts is mounted: NODE (one quorum disk) is the
# node's view of the disks folder, NODE_I (QUORUM_DEVICES=3) its view of device I's folder.
fuse_mountpoint() { case $1 in *_*) echo "$dir/${1%_*}/q${1##*_}" ;; *) echo "$dir/$1/disks" ;; esac; }
# node_paths NODE: the PIDs of the bindfs daemons of NODE's paths to its quorum storage (one, or one per device)
node_paths() {
  local i
  if [ "$QUORUM_DEVICES" = 1 ]; then eval "echo \${FUSE_$1:-}"; return; fi
  for i in $QDEVS; do eval "echo \${FUSE_$1_$i:-}"; done
}
# device_path NODE K (QUORUM_DEVICES=3): NODE's path to quorum device K, whose backing file is
# $dir/qdisks/qK/quorum.img: a FUSE pass-through (bindfs, its own daemon, PID FUSE_NODE_K) of the device's
# folder, under its own loop device (QK_NODE).
device_path() {
  local n=$1 k=$2 p i
  mkdir -p "$dir/$n/q$k"
  bindfs -f --no-allow-other "$dir/qdisks/q$k" "$dir/$n/q$k" >>"$dir/$n-bindfs.log" 2>&1 &
  eval "FUSE_${n}_$k=$!"
  fuse_mounts+=("${n}_$k")
  for ((i = 0; i < 50; i++)); do [ -e "$dir/$n/q$k/quorum.img" ] && break; sleep 0.1; done
  p=$(losetup -f --show --direct-io=on "$dir/$n/q$k/quorum.img") || fail "losetup (quorum device $k of $n)"
  loops+=("$p")
  eval "Q${k}_$n=$p"
}
HARNESS_OWNS=  # set once this harness made the cluster's namespaces: before that, its names may be another run's
cleanup() {
  set +e
  # The BMCs first (FENCE=1): no power on may start a node while the nodes are taken down.
  [ -n "$HARNESS_OWNS" ] && declare -F bmc_cleanup >/dev/null && bmc_cleanup
  # A run that stopped before it made its namespaces (another cluster of this CLUSTER_ID runs) must not touch
  # that cluster's nodes: their cgroups have the same names.
  [ -n "$HARNESS_OWNS" ] && { kill_node alpha; kill_node beta; }
  for p in "${pids[@]}"; do
    if [ -n "${pid_start[$p]+set}" ]; then
      kill_group_started "$p" "${pid_start[$p]}"; kill_started "$p" "${pid_start[$p]}"
    else  # added to pids without track_pid: a child of this shell, waited for below, so killed as it is
      kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null
    fi
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for ns in "${made_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
  for m in "${fuse_mounts[@]}"; do
    eval "p=\${FUSE_${m}:-}"  # empty once its daemon was killed and reaped (device_fail)
    [ -n "$p" ] && kill -CONT "$p" 2>/dev/null
    umount "$(fuse_mountpoint "$m")" 2>/dev/null || umount -l "$(fuse_mountpoint "$m")" 2>/dev/null
    [ -n "$p" ] && { kill -TERM "$p"; wait "$p"; } 2>/dev/null
  done
  [ -n "$HARNESS_OWNS" ] && rmdir "$CGROOT/alpha" "$CGROOT/beta" "$CGROOT" 2>/dev/null
  [ -n "$HARNESS_OWNS" ] && rf_cleanup  # RESOURCE_FAULTS=1: the nodes' cpu and memory cgroups
  umount "$dir/m" 2>/dev/null
  # The node locks of this cluster's quorumd (QUORUM_DEVICES=3; named by the cluster UUID the life files carry).
  local f b
  for f in "$dir"/alpha/quorumd-state/life.*.node-? "$dir"/beta/quorumd-state/life.*.node-?; do
    [ -e "$f" ] || continue
    b=${f##*/life.}; rm -f "/run/castor/quorumd.${b%.node-*}.node-${b##*.node-}.lock"
  done
  # A FUSE mount whose daemon was killed (device_fail) may still be busy above while its loop device is let
  # go: a second try, lazily, for any mount left under this cluster's folder (never outside it).
  local left i
  for ((i = 0; i < 20; i++)); do
    left=$(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts)
    [ -z "$left" ] && break
    for m in $left; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    sleep 0.1
  done
  rm -rf "$dir"
}
if [ -z "${HARNESS_NODE_DIR:-}" ]; then
  trap cleanup EXIT
  trap 'exit 130' INT TERM
fi

# cluster_setup: the shared disks, the LAN, and each node's configuration and services.
cluster_setup() {
for ns in $NS_A $NS_B $NS_C $NS_LAN; do
  ip netns list | grep -qw "$ns" && fail "network namespace $ns exists already (another demo running?)"
done
for n in alpha beta; do
  [ -z "$(cat "$CGROOT/$n/cgroup.procs" 2>/dev/null)" ] || fail "the cgroup $CGROOT/$n has processes (another demo running?)"
done

if [ "$QUORUM_DEVICES" = 3 ]; then
  step "Shared disks: a set of three 16 MiB quorum devices, a 64 MiB data disk and a 32 MiB ledger disk (ext4), each one file seen through one loop device per node"
else
  step "Shared disks: a 16 MiB quorum disk, a 64 MiB data disk and a 32 MiB ledger disk (ext4), each one file seen through one loop device per node"
fi
echo "working files in $dir"
mkdir -p "$dir/disks" "$dir/m" "$dir/svc-locks"
if [ "$QUORUM_DEVICES" = 3 ]; then
  for i in $QDEVS; do mkdir -p "$dir/qdisks/q$i" && truncate -s 16M "$dir/qdisks/q$i/quorum.img"; done
else
  truncate -s 16M "$dir/disks/quorum.img"
fi
truncate -s 64M "$dir/disks/data.img"
truncate -s 32M "$dir/disks/ledger.img"
# The page is put on the data disk by mkfs itself (-d): never mounted on the host, where a mount made while another
# harness cluster's node namespaces are being made would be copied into them and outlive its umount here (the
# image would then miss the page, and that copy would be a second mount of the data disk).
mkdir -p "$dir/webroot"
echo "<h1>Hello from the Castor demo</h1><p>This page lives on the shared data disk.</p>" >"$dir/webroot/index.html"
mkfs.ext4 -q -L castor-data -d "$dir/webroot" "$dir/disks/data.img" && mkfs.ext4 -q -L castor-ledger "$dir/disks/ledger.img" ||
  fail "mkfs.ext4"
command -v bindfs >/dev/null || fail "bindfs is not installed (make deps installs it)"
for n in alpha beta; do
  if [ "$QUORUM_DEVICES" = 3 ]; then
    # This node's path to each quorum device: a FUSE pass-through (bindfs, its own daemon) of that device's
    # folder, under its own loop device.
    q=
    for k in $QDEVS; do
      device_path "$n" "$k"
      eval "q+=\"\${q:+ }\$Q${k}_$n\""
    done
  else
  # This node's path to the quorum disk: a FUSE pass-through (bindfs, its own daemon) of the disks folder.
  mkdir -p "$dir/$n/disks"
  bindfs -f --no-allow-other "$dir/disks" "$dir/$n/disks" >>"$dir/$n-bindfs.log" 2>&1 &
  eval "FUSE_$n=$!"
  fuse_mounts+=("$n")
  for ((i = 0; i < 50; i++)); do [ -e "$dir/$n/disks/quorum.img" ] && break; sleep 0.1; done
  q=$(losetup -f --show --direct-io=on "$dir/$n/disks/quorum.img") || fail "losetup (quorum disk of $n)"
  loops+=("$q")
  fi
  d=$(losetup -f --show --direct-io=on "$dir/disks/data.img") || fail losetup
  loops+=("$d")
  l=$(losetup -f --show --direct-io=on "$dir/disks/ledger.img") || fail losetup
  loops+=("$l")
  eval "Q_$n=\"$q\" D_$n=$d L_$n=$l"
done
db_setup  # DB=1: the pg disk and each node's path to it
if [ "$QUORUM_DEVICES" = 3 ]; then
  echo "alpha sees the quorum devices 0 1 2 as $Q_alpha (each through its own FUSE), the data disk as $D_alpha, the ledger disk as $L_alpha"
  echo "beta sees them as $Q_beta, $D_beta, $L_beta"
  # shellcheck disable=SC2086  # the three devices
  "$CASTOR" init $Q_alpha --cluster demo --nodes alpha,beta --io-timeout "$IO_TIMEOUT_MS" || fail "castor init (the set)"
  # beta lists its devices in the reverse order: quorumd orders the set by the superblocks
  Q_beta="$Q2_beta $Q1_beta $Q0_beta"
else
echo "alpha sees the quorum disk as $Q_alpha (through FUSE), the data disk as $D_alpha, the ledger disk as $L_alpha"
echo "beta sees them as $Q_beta, $D_beta, $L_beta"
"$CASTOR" init "$Q_alpha" --cluster demo --nodes alpha,beta --io-timeout "$IO_TIMEOUT_MS" || fail "castor init"
fi

step "A LAN: a bridge in $NS_LAN; alpha 192.0.2.1, beta 192.0.2.2, client 192.0.2.100 (no route out)"
ip netns add $NS_LAN || fail "netns $NS_LAN"  # fails if another run made it meanwhile: then this one owns nothing
made_ns+=($NS_LAN)
HARNESS_OWNS=1
ip -n $NS_LAN link add br0 type bridge && ip -n $NS_LAN link set br0 up || fail "bridge"
i=1
for pair in "$NS_A:192.0.2.1" "$NS_B:192.0.2.2" "$NS_C:192.0.2.100"; do
  ns=${pair%%:*} addr=${pair#*:}
  ip netns add "$ns" || fail "netns $ns"
  made_ns+=("$ns")
  ip -n $NS_LAN link add "cd$i" type veth peer name eth0 netns "$ns" || fail "veth for $ns"
  ip -n $NS_LAN link set "cd$i" master br0 && ip -n $NS_LAN link set "cd$i" up || fail "bridge port"
  ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up && ip -n "$ns" addr add "$addr/24" dev eth0 || fail "address"
  i=$((i + 1))
done

step "A heartbeat network: a bridge br1 in $NS_LAN; alpha 198.51.100.1, beta 198.51.100.2 on eth1 (no route out)"
ip -n $NS_LAN link add br1 type bridge && ip -n $NS_LAN link set br1 up || fail "heartbeat bridge"
for pair in "$NS_A:198.51.100.1:hb1" "$NS_B:198.51.100.2:hb2"; do
  IFS=: read -r ns addr port <<<"$pair"
  ip -n $NS_LAN link add "$port" type veth peer name eth1 netns "$ns" || fail "heartbeat veth for $ns"
  ip -n $NS_LAN link set "$port" master br1 && ip -n $NS_LAN link set "$port" up || fail "heartbeat bridge port"
  ip -n "$ns" link set eth1 up && ip -n "$ns" addr add "$addr/24" dev eth1 || fail "heartbeat address"
  # lan_link_down 2 drops the LAN datagrams arriving on eth0 with a routing rule (no iptables or tc actions
  # here): that needs the rule for local delivery after it, so it moves from 0 to 100.
  ip -n "$ns" rule add pref 100 lookup local && ip -n "$ns" rule del pref 0 || fail "routing rules of $ns"
done
"$CASTOR" keygen "$dir/authkey" >/dev/null || fail "castor keygen $dir/authkey"
[ "$LAN" = 1 ] && echo "castor.ini [lan]: link1 198.51.100.1 <-> .2 (heartbeat network), link2 192.0.2.1 <-> .2 (client LAN), UDP $LAN_PORT, key $dir/authkey"

for n in alpha beta; do
  q=Q_$n d=D_$n l=L_$n
  mkdir -p "$dir/$n/services.d"
  cat >"$dir/$n/castor.ini" <<EOI
[quorumd]
device = ${!q}
node = $n
watchdog_device = $dir/$n/watchdog.fifo
socket = $dir/$n/quorumd.sock
lock_memory = no
realtime = no
authkey = $dir/authkey
state_dir = $dir/$n/quorumd-state
${STATUS_GROUP:+status_group = $STATUS_GROUP}
$(lan_section "$n")

[svcmgr]
services_dir = $dir/$n/services.d
socket = $dir/$n/svcmgr.sock
quorumd_socket = $dir/$n/quorumd.sock
state_dir = $dir/$n/svcmgr-state
${STATUS_GROUP:+status_group = $STATUS_GROUP}
EOI
  cat >"$dir/$n/services.d/web.ini" <<EOI
; The demo's web service: the shared filesystem, the floating IP, and a web server on both.
[service]
name = web
nodes = alpha, beta
monitor_interval = 2s

[resource fs]
agent = ocf:heartbeat:Filesystem
param.device = /run/castor-node/data
param.directory = /run/castor-node/web
param.fstype = ext4

[resource mark]
; Evidence for the torture checker: which node mounted the data disk, in which epoch.
agent = exec
shell = yes
start = echo "mount \$CASTOR_NODE \$CASTOR_EPOCH web" >>$dir/mounts-marks.log
stop = echo "umount \$CASTOR_NODE \$CASTOR_EPOCH web" >>$dir/mounts-marks.log
monitor = exit 0

[resource ip]
agent = ocf:heartbeat:IPaddr2
param.ip = 192.0.2.10
param.cidr_netmask = 24
param.nic = eth0

[resource http]
agent = exec
shell = yes
start = /usr/bin/python3 -m http.server 80 --bind 192.0.2.10 --directory /run/castor-node/web </dev/null >/dev/null 2>&1 & echo \$! >/run/castor-node/http.pid
stop = kill \$(cat /run/castor-node/http.pid 2>/dev/null) 2>/dev/null; rm -f /run/castor-node/http.pid; exit 0
monitor = test -e /run/castor-node/http.pid && kill -0 \$(cat /run/castor-node/http.pid) || exit 7
EOI
  cat >"$dir/$n/services.d/ledger.ini" <<EOI
; A writer to shared storage with its epoch as the fencing token (tests/cluster/ledger_writer.py): it
; appends "EPOCH NODE SEQ" records with fsync to the ledger disk and acknowledges each to a log outside
; the nodes. Its stop hangs while the file $dir/hang-stop exists (a fault the torture run injects).
[service]
name = ledger
nodes = beta, alpha
monitor_interval = 1s

[resource fs]
agent = ocf:heartbeat:Filesystem
param.device = /run/castor-node/ledgerdisk
param.directory = /run/castor-node/ledger
param.fstype = ext4

[resource writer]
agent = exec
shell = yes
stop_timeout = 2s
start = python3 $LEDGER_TOOL --file /run/castor-node/ledger/ledger.log --evidence $dir/ledger.log --node \$CASTOR_NODE --epoch \$CASTOR_EPOCH </dev/null >>$dir/ledger-writer.err 2>&1 & echo \$! >/run/castor-node/ledger.pid
stop = while [ -e $dir/hang-stop ]; do sleep 0.1; done; p=\$(cat /run/castor-node/ledger.pid 2>/dev/null); [ -n "\$p" ] && kill \$p 2>/dev/null; while [ -n "\$p" ] && kill -0 \$p 2>/dev/null; do sleep 0.02; done; rm -f /run/castor-node/ledger.pid; exit 0
monitor = test -e /run/castor-node/ledger.pid && kill -0 \$(cat /run/castor-node/ledger.pid) || exit 7
EOI
  db_service_ini "$n"  # DB=1
  # The light services (tests/cluster/svc_proc.sh): evidence outside the nodes of where each copy ran and
  # when; odd ones prefer alpha, even ones beta, so both nodes' tables fill two blocks with live entries.
  for ((k = 1; k <= LIGHT_SERVICES; k++)); do
    s=$(printf 'svc%02d' $k)
    if ((k % 2)); then pref="alpha, beta"; else pref="beta, alpha"; fi
    cat >"$dir/$n/services.d/$s.ini" <<EOI
[service]
name = $s
nodes = $pref
monitor_interval = 5s

[resource proc]
agent = exec
shell = yes
start = bash $SVC_TOOL run $s $dir </dev/null >/dev/null 2>&1 & echo \$! >/run/castor-node/$s.pid
stop = bash $SVC_TOOL stop $s $dir
monitor = bash $SVC_TOOL monitor $s $dir
EOI
  done
  # One node = its own network namespace, mount namespace (a private /run/castor-node, like a host's own
  # /run, where "data" names this node's path to the data disk) and process group.
  cat >"$dir/$n/node.sh" <<EOI
#!/bin/bash
$([ "$DIRECTOR" = 1 ] && director_node_hook "$n")
mkdir -p /run/castor-node && mount -t tmpfs tmpfs /run/castor-node || exit 1
# The resource agents' state directory (HA_RSCTMP) is a host's own too: IPaddr2's stop kills the PID in its
# send_arp pidfile there (named by the address alone, never checked), and send_arp kills the one it finds. On
# the host's shared /run a node of one cluster killed a process of another cluster's node (a send_arp of the
# same address), or whatever had reused a stale PID: pacemaker_live's node once (CI and a rehearsal).
mkdir -p /run/resource-agents && mount -t tmpfs tmpfs /run/resource-agents || exit 1
# The FUSE views under the loop devices are the harness's SAN paths, not this host's files: hidden here, so
# nothing in the node (fuser in a Filesystem stop, say) can block on a stopped one.
umount -l $dir/alpha/disks 2>/dev/null; umount -l $dir/beta/disks 2>/dev/null
for m in $dir/alpha/q0 $dir/alpha/q1 $dir/alpha/q2 $dir/beta/q0 $dir/beta/q1 $dir/beta/q2; do [ -d \$m ] && umount -l \$m 2>/dev/null; done
mkdir -p /run/castor-node/web /run/castor-node/ledger && ln -s ${!d} /run/castor-node/data && ln -s ${!l} /run/castor-node/ledgerdisk
$(db_node_sh "$n")
# As systemd runs castor-quorumd.service (Restart=on-failure) and castor-svcmgr.service (restarted 1 s after a
# failure, for as long as quorumd runs). A quorumd refused because a quorumd of this node's previous boot still
# holds the node lock (stuck on I/O until the reset resumed its path, its writes still landing) is started again
# 1 s later, for up to a minute.
for try in \$(seq 60); do
  $QUORUMD --config $dir/$n/castor.ini >>$dir/$n-quorumd.log 2>&1 &
  q=\$!
  while kill -0 \$q 2>/dev/null; do
    $SVCMGR --config $dir/$n/castor.ini >>$dir/$n-svcmgr.log 2>&1 && break
    sleep 1
  done
  wait \$q
  [ \$? = 1 ] && tail -n 3 $dir/$n-quorumd.log | grep -q "another quorumd of node $n holds" || break
  sleep 1
done
wait
EOI
done
if [ "$DIRECTOR" = 1 ]; then director_setup; fi
mkdir -p /run/castor-node  # the mount point each node's private tmpfs goes on
[ -d /sys/fs/cgroup/freezer ] || fail "no cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer"
if [ "$FENCE" = 1 ]; then
  bmc_setup
  # Both nodes' castor.ini name both fence devices, as an admin's identical files would: quorumd fences
  # with its peer's, castor fence-check checks both. FENCE_INI=0 leaves them out (bmc_chain drives the BMCs
  # itself and wants no quorumd fencing beside it).
  if [ "${FENCE_INI:-1}" = 1 ]; then
    for n in alpha beta; do
      { echo; bmc_fence_ini alpha; echo; bmc_fence_ini beta; } >>"$dir/$n/castor.ini"
    done
  fi
fi
}

# start_node NAME: the node boots (boot_node); with FENCE=1 through its BMC: powered on, or reset if its power is
# on already (tests/cluster/bmc.sh). Either way the node is in its cgroup when this returns.
start_node() { if [ "$FENCE" = 1 ]; then bmc_start_node "$1"; else boot_node "$1"; fi; }
boot_node() {  # boot_node NAME: the node, in its own cgroup, then its stand-in watchdog outside it
  local n=$1 ns pid i cg=$CGROOT/$1
  if [ "$n" = alpha ]; then ns=$NS_A; else ns=$NS_B; fi
  mkdir -p "$cg" || fail "cgroup $cg"
  # A host that boots has its own address only (no floating IP left from before it went down).
  ip -n "$ns" addr flush dev eth0 && ip -n "$ns" addr add "$(node_addr "$n")/24" dev eth0 && ip -n "$ns" link set eth0 up ||
    fail "network of $n"
  ip -n "$ns" addr flush dev eth1 && ip -n "$ns" addr add "$(hb_addr "$n")/24" dev eth1 && ip -n "$ns" link set eth1 up ||
    fail "heartbeat network of $n"
  if [ "$FENCE" = 1 ]; then ip -n "$ns" link set eth2 up || fail "management network of $n"; fi
  [ -p "$dir/$n/watchdog.fifo" ] || mkfifo "$dir/$n/watchdog.fifo"
  # Its watchdog's reset also ends a hang of the node's disk path (its bindfs resumed, with QUORUM_DEVICES=3
  # each device's; the writes in flight land late): on one machine the kernel state a reset discards (a
  # mounted filesystem) is only released once the tasks stuck on that I/O can finish, and a stale superblock
  # flushed after the peer took over would corrupt the shared disk in a way no real reset could.
  # The node joins its cgroup before it runs anything: every process it starts stays in it.
  setsid bash -c "echo \$\$ >$cg/cgroup.procs && $(rf_join_cmd "$n")exec ip netns exec $ns unshare --mount --propagation private $(db_unshare) bash $dir/$n/node.sh" &
  pid=$!
  track_pid "$pid"
  eval "PID_$n=$pid"
  # In its cgroup before this returns: a caller that looks there for the node must find it.
  for ((i = 0; i < 200; i++)); do [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.01; done
  "$STANDIN" --fifo "$dir/$n/watchdog.fifo" --timeout-ms $((2 * IO_TIMEOUT_MS)) --pgid "$pid" --cgroup "$cg" \
    --on-fire "kill -CONT $(node_paths "$n" | tr '\n' ' ') $(db_paths "$n") 2>/dev/null; bash $ROOT/tests/cluster/reset_mounts.sh $cg" \
    --log "$dir/$n-watchdog.out" >>"$dir/$n-standin.log" 2>&1 &
  eval "WD_$n=$!"
  track_pid "$!"
}
node_addr() { if [ "$1" = alpha ]; then echo 192.0.2.1; else echo 192.0.2.2; fi; }
hb_addr() { if [ "$1" = alpha ]; then echo 198.51.100.1; else echo 198.51.100.2; fi; }
peer_of() { if [ "$1" = alpha ]; then echo beta; else echo alpha; fi; }
lan_section() {  # lan_section NODE: castor.ini's [lan] for NODE (nothing with LAN=0)
  [ "$LAN" = 1 ] || return 0
  local p; p=$(peer_of "$1")
  printf '\n[lan]\nlink1_local = %s\nlink1_peer = %s\nlink2_local = %s\nlink2_peer = %s\nport = %s\nmax_storage_stall_s = %s\n' \
    "$(hb_addr "$1")" "$(hb_addr "$p")" "$(node_addr "$1")" "$(node_addr "$p")" "$LAN_PORT" "$LAN_MAX_STALL_S"
}

# The LAN's faults. A cut is silent, as a pulled cable or a dead switch port is: the senders see no error.
#   link1 (the heartbeat network): both bridge ports in $NS_LAN go down (each node's eth1 loses its carrier;
#     its address and route stay, so a node that boots meanwhile stays cut off).
#   link2 (over the client LAN, which the floating IP and the client need): each node drops the UDP datagrams
#     to LAN_PORT that arrive on eth0, by a blackhole routing rule for input (iptables, nft and tc's actions
#     are not available on every host this runs on; a rule is).
# Each step is logged to $dir/lan.log ("down|up LINK NS").
lan_link_down() {  # lan_link_down 1|2
  local ns
  if [ "$1" = 1 ]; then
    ip -n $NS_LAN link set hb1 down && ip -n $NS_LAN link set hb2 down || fail "cut link1"
  else
    for ns in $NS_A $NS_B; do
      ip -n "$ns" rule del pref 10 2>/dev/null
      ip -n "$ns" rule add pref 10 iif eth0 ipproto udp dport "$LAN_PORT" blackhole || fail "cut link2 in $ns"
    done
  fi
  echo "down $1 $(date +%s%N)" >>"$dir/lan.log"
}
lan_link_up() {  # lan_link_up 1|2
  local ns
  if [ "$1" = 1 ]; then
    ip -n $NS_LAN link set hb1 up && ip -n $NS_LAN link set hb2 up || fail "restore link1"
  else
    for ns in $NS_A $NS_B; do ip -n "$ns" rule del pref 10 2>/dev/null; done
  fi
  echo "up $1 $(date +%s%N)" >>"$dir/lan.log"
}
lan_partition() { lan_link_down 1; lan_link_down 2; }  # the nodes no longer hear each other on any LAN link
lan_heal() { lan_link_up 1; lan_link_up 2; }
# A node's path to the quorum disk hangs (its bindfs SIGSTOPped: every I/O waits, the writes land late when it
# resumes), as a SAN path that stalls; the data disks are not affected. The node's watchdog firing resumes it.
# With QUORUM_DEVICES=3, all three of the node's paths hang (each device's bindfs of the node).
stall_disk() { local p; for p in $(node_paths "$1"); do kill -STOP "$p" || fail "stop the disk path of $1"; done; echo "stall $1 $(date +%s%N)" >>"$dir/stalls.log"; }
unstall_disk() { local p; for p in $(node_paths "$1"); do kill -CONT "$p" 2>/dev/null; done; echo "unstall $1 $(date +%s%N)" >>"$dir/stalls.log"; }
stall_both() { stall_disk alpha; stall_disk beta; }  # a shared storage stall: both nodes' paths at once
unstall_both() { unstall_disk alpha; unstall_disk beta; }
# One device of a set of three (QUORUM_DEVICES=3) fails while both nodes run; each step is logged to
# $dir/device-faults.log ("KIND I NS"). The device's I/O is what its backing file and the nodes' bindfs give.
#   device_stall / device_unstall I   both nodes' paths to device I hang (an array that stalls: I/O held, the
#                                     writes in flight land when it resumes); a node's watchdog firing resumes
#                                     that node's paths (on one machine a task stuck on that I/O never dies)
#   path_stall / path_unstall NODE I  the node's path to device I alone hangs
#   device_ro / device_rw I           both nodes' loop devices of device I read-only (writes fail, reads work)
#   device_zero / device_garbage I    zeros / random bytes over both node regions of device I (its backing file,
#                                     O_DIRECT, as the nodes' direct-I/O loop devices read it); the header area
#                                     (the device's own superblock) is left as it is
#   device_fail I                     both bindfs of device I killed: every I/O fails (ENOTCONN), for good (a
#                                     detached device; nothing in the harness brings it back)
QREGION_FIRST=16 QREGION_BLOCKS=128  # the node regions: 64 blocks each after the 16 header blocks (docs/ondisk-format.md)
QBS=4096
device_log() { echo "$1 $2 $(date +%s%N)" >>"$dir/device-faults.log"; }
device_check() { [ "$QUORUM_DEVICES" = 3 ] && [ -n "${1:-}" ] && [ "$1" -ge 0 ] && [ "$1" -lt 3 ] || fail "no quorum device '${1:-}' (QUORUM_DEVICES=$QUORUM_DEVICES)"; }
device_pids() { eval "echo \${FUSE_alpha_$1:-} \${FUSE_beta_$1:-}"; }
device_loops() { eval "echo \${Q$1_alpha:-} \${Q$1_beta:-}"; }
device_image() { echo "$dir/qdisks/q$1/quorum.img"; }
device_stall() { device_check "$1"; kill -STOP $(device_pids "$1") || fail "stop device $1"; device_log stall "$1"; }
device_unstall() { device_check "$1"; kill -CONT $(device_pids "$1") 2>/dev/null; device_log unstall "$1"; }
path_stall() { local p; device_check "$2"; eval "p=\$FUSE_$1_$2"; kill -STOP "$p" || fail "stop $1's path to device $2"; device_log "path_stall_$1" "$2"; }
path_unstall() { local p; device_check "$2"; eval "p=\$FUSE_$1_$2"; kill -CONT "$p" 2>/dev/null; device_log "path_unstall_$1" "$2"; }
device_ro() { local l; device_check "$1"; for l in $(device_loops "$1"); do blockdev --setro "$l" || fail "setro $l"; done; device_log ro "$1"; }
device_rw() { local l; device_check "$1"; for l in $(device_loops "$1"); do blockdev --setrw "$l"; done; device_log rw "$1"; }
device_zero() {
  device_check "$1"
  dd if=/dev/zero of="$(device_image "$1")" bs=$QBS seek=$QREGION_FIRST count=$QREGION_BLOCKS oflag=direct \
    conv=notrunc,fsync status=none || fail "zero device $1"
  device_log zero "$1"
}
device_garbage() {
  device_check "$1"
  dd if=/dev/urandom of="$(device_image "$1")" bs=$QBS seek=$QREGION_FIRST count=$QREGION_BLOCKS iflag=fullblock \
    oflag=direct conv=notrunc,fsync status=none || fail "garbage over device $1"
  device_log garbage "$1"
}
device_fail() {
  local p
  device_check "$1"
  for p in $(device_pids "$1"); do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  eval "FUSE_alpha_$1= FUSE_beta_$1="  # reaped: never signalled again (cleanup still unmounts the dead mounts)
  device_log fail "$1"
}

# spare_device K (QUORUM_DEVICES=3): a fresh quorum device K (3, 4, ...) beside the set, for castor disk replace:
# its own 16 MiB backing file ($dir/qdisks/qK), and for each node a FUSE path and loop device (QK_NODE), made
# as the set's own; never part of the set until a replace hands it over. Cleaned up with the others.
spare_device() {
  local k=$1 n
  device_log spare "$k"
  mkdir -p "$dir/qdisks/q$k" && truncate -s 16M "$dir/qdisks/q$k/quorum.img" || fail "backing file of spare device $k"
  for n in alpha beta; do device_path "$n" "$k"; done
}

# qstatus NODE EXPR: EXPR (python, over d = castor status --json of NODE) printed; empty if the node does
# not answer within 3 s.
qstatus() {
  timeout 3 "$CASTOR" status --socket "$dir/$1/quorumd.sock" --svcmgr-socket "$dir/$1/svcmgr.sock" --json 2>/dev/null |
    python3 -c "import json,sys
d=json.load(sys.stdin)
print($2)" 2>/dev/null
}
# lan_links_up NODE: how many of NODE's LAN links are up, as its quorumd says (empty if it does not answer)
lan_links_up() { qstatus "$1" "sum(1 for l in (d.get('channels') or {}).get('lan') or [] if l.get('up'))"; }
status() { "$CASTOR" status --socket "$dir/$1/quorumd.sock" --svcmgr-socket "$dir/$1/svcmgr.sock" "${@:2}"; }
owner() {
  status "$1" --json 2>/dev/null | python3 -c "import json,sys
d=json.load(sys.stdin)
print(next((s['owner'] for s in d.get('services',{}).get('services',[]) if s['name']=='web' and s['state']=='started'), ''))" 2>/dev/null
}
fetch() { ip netns exec $NS_C curl -s --max-time 1 "http://$VIP/"; }
view() { python3 "$ROOT/tests/cluster/cluster_view.py" "$CASTOR" "$dir"; }  # "WEB LEDGER STARTED WHOLE"
alive() { [ -n "$(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null)" ]; }
reap() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null || wait "$p" 2>/dev/null; done; }  # never blocks
revive() { alive "$1" || { eval "reap \$PID_$1 \$WD_$1"; start_node "$1"; }; }  # a node that was reset boots again
node_proc() {  # node_proc NODE NAME: the PID of the process called NAME in the node
  local p
  for p in $(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return; }
  done
}

# The evidence the checker (tests/cluster/torture_check.py) reads, gathered outside the nodes.
# evidence_start: the mount watcher, the client's HTTP probe ($dir/probe.log) and the light services' watcher.
evidence_start() {
  python3 "$ROOT/tests/cluster/mount_watch.py" --cgroot "$CGROOT" --nodes alpha,beta \
    --points /run/castor-node/web,/run/castor-node/ledger --out "$dir/mounts.log" &
  track_pid "$!"; WATCH=$!
  ip netns exec "$NS_C" python3 "$ROOT/tests/cluster/http_probe.py" --url "http://$VIP/" --out "$dir/probe.log" &
  track_pid "$!"; PROBE=$!
  python3 "$ROOT/tests/cluster/svc_watch.py" --evidence "$dir/svc-evidence.log" --out "$dir/svc-ends.log" &
  track_pid "$!"; SVCWATCH=$!
}
# evidence_check SEED SUMMARY_JSON: ends the run (watchers stopped, both nodes reset), reads both shared disks
# (fsck -n, the ledger file) and the kernel's mount log since KERNEL_T0 (/proc/uptime when the run began),
# then runs the checker; returns its exit status (0: no split-brain, no lost record, ...).
evidence_check() {
  kill -TERM "$PROBE" "$WATCH" 2>/dev/null; wait "$PROBE" "$WATCH" 2>/dev/null
  kill_node alpha; kill_node beta
  echo "end $(date +%s%N)" >>"$dir/kills.log"
  kill -TERM "$SVCWATCH" 2>/dev/null; wait "$SVCWATCH" 2>/dev/null
  local disk
  for disk in data ledger; do
    if fsck.ext4 -n "$dir/disks/$disk.img" >"$dir/fsck-$disk.out" 2>&1; then echo "$disk clean"; else echo "$disk dirty"; fi
  done >"$dir/fsck.log"
  debugfs -R "cat /ledger.log" "$dir/disks/ledger.img" >"$dir/ledger-on-disk.log" 2>/dev/null
  # The kernel's own record of every mount of the shared disks, by loop device (which node's path it is).
  dmesg | awk -v t0="$KERNEL_T0" -F'[][]' '$2 + 0 >= t0 - 1' | grep 'EXT4-fs (loop' >"$dir/kernel-mounts.log"
  echo "alpha $D_alpha $L_alpha beta $D_beta $L_beta" >"$dir/loops.map"
  mkdir -p "$(dirname "$2")"
  python3 "$ROOT/tests/cluster/torture_check.py" --dir "$dir" --ledger-file "$dir/ledger-on-disk.log" --seed "$1" \
    --out "$2"
}
read -r KERNEL_T0 _ </proc/uptime  # the kernel log's clock, near enough: its lines from now on are this run's
if [ "$FENCE" = 1 ] && [ -z "${HARNESS_NODE_DIR:-}" ]; then . "$ROOT/tests/cluster/bmc.sh"; fi
. "$ROOT/tests/cluster/resource_faults.sh"  # slow_disk, cpu_starve, mem_pressure; RESOURCE_FAULTS=1: cpu and memory cgroups per node
if [ "$DIRECTOR" = 1 ]; then . "$ROOT/tests/cluster/director.sh"; fi
