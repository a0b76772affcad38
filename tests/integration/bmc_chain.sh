#!/bin/bash
# bmc_chain (issue 16): the real power-fencing chain on the harness cluster, independent of Castor's own fencing
# code. The cluster is built with FENCE=1 (tests/cluster/bmc.sh: one ipmi_sim per node on a management network,
# whose power on boots the node and whose power off kills it as kill_node does), under CLUSTER_ID=bmcchain so
# that it never touches another run's cluster. From beta's network namespace, as beta's quorumd will, the REAL
# fence_ipmilan (fence-agents; options on stdin, the password read from the root-only file; lanplus) fences alpha:
#   status = on (exit 0); monitor exits 0; a wrong password is refused (exit 1);
#   off -> when the agent returns, alpha's cgroup is empty and its quorumd is gone (beta untouched); status = off
#     (exit 2); a second off says "Already OFF" (exit 0);
#   on -> alpha boots again: its quorumd runs and castor status shows a new incarnation;
#   the same over IPMI 1.5 (lanplus=0, MD5); for comparison, off with fence_ipmilan's default power_wait (2 s) and
#     with status polled without pause (stonith_status_sleep=0);
#   alpha's BMC unreachable (its link cut): status and off exit 1 within power_timeout (+1 s), alpha still runs.
# Prints how long status, off and on take ("[castor] bmc_chain ..." lines). Then checks, from outside the run,
# that nothing is left: the ipmi_sim processes, their wrappers, the namespaces, the loop devices, the cgroups.
# Needs root, network namespaces, the cgroup v1 freezer and bindfs (exits 77 without them); installs openipmi,
# ipmitool and fence-agents if missing. About 30 s.
. "$(dirname "$0")/../cluster/prereqs.sh"  # root, namespaces, the freezer, bindfs: else skipped
[ -x "$BUILD/quorumd" ] && [ -x "$BUILD/svcmgr" ] && [ -x "$BUILD/castor" ] || skip "castor is not built"
export CLUSTER_ID=${BMC_CHAIN_ID:-bmcchain}

if [ -z "${BMC_CHAIN_RECORD:-}" ]; then
  # The run itself in a child, so that what its EXIT trap leaves behind can be checked here.
  record=$(mktemp "${TMPDIR:-/tmp}/bmc_chain.XXXXXX") || { echo "FAILED: mktemp"; exit 1; }
  BMC_CHAIN_RECORD=$record BUILD=$BUILD bash "$0"
  rc=$?
  left=""
  while read -r what value; do
    case $what in
      pid) read -r p start <<<"$value"  # the same process (its PID and start time), not a zombie, after 5 s
           for ((i = 0; i < 50; i++)); do
             read -r _ _ state _ 2>/dev/null <"/proc/$p/stat" || break
             [ "$state" = Z ] || [ "$(awk '{print $22}' "/proc/$p/stat" 2>/dev/null)" != "$start" ] && break
             sleep 0.1
           done
           [ "$(awk '$3 != "Z" {print $22}' "/proc/$p/stat" 2>/dev/null)" = "$start" ] && left+=" process $p ($(cat "/proc/$p/comm"))" ;;
      dir) [ -e "$value" ] && left+=" folder $value" ;;
      loop) losetup "$value" 2>/dev/null | grep -qF "$(cat "$record.dir" 2>/dev/null)" && left+=" loop $value" ;;
    esac
  done <"$record"
  ip netns list | grep -q "^$CLUSTER_ID-" && left+=" namespaces: $(ip netns list | grep "^$CLUSTER_ID-" | cut -d' ' -f1 | tr '\n' ' ')"
  [ -d "/sys/fs/cgroup/freezer/$CLUSTER_ID-demo" ] && left+=" cgroup /sys/fs/cgroup/freezer/$CLUSTER_ID-demo"
  rm -f "$record" "$record.dir"
  [ "$rc" = 0 ] || exit "$rc"
  [ -z "$left" ] || { echo "FAILED: the run left behind:$left"; exit 1; }
  echo "cleanup: no process, namespace, loop device, cgroup or folder left"
  exit 0
fi

# FENCE_INI=0: no [fence NODE] in castor.ini, so no quorumd fences beside the test's own agent runs (a quorumd
# that saw alpha fall silent would run its own status/off rounds against the same BMC).
export FENCE=1 FENCE_INI=0 IO_TIMEOUT_MS=200 LAN=1 LIGHT_SERVICES=0
. "$(dirname "$0")/../cluster/harness.sh"
KEEP=$ROOT/$BUILD/test-logs/bmc_chain
lfail() {
  mkdir -p "$KEEP" && cp "$dir"/*.log "$dir"/*.out "$BMC_DIR"/*.log "$KEEP/" 2>/dev/null
  fail "$* (logs in $KEEP)"
}
figure() { echo "[castor] bmc_chain $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
echo "$dir" >"$BMC_CHAIN_RECORD.dir"
# record_procs: the processes the BMCs started, for the parent to check they are gone after the run
record_procs() {
  local n p w h pid wd
  for n in alpha beta; do
    eval "p=\$BMC_PID_$n"
    w='' h='' pid='' wd=''
    read -r w h 2>/dev/null <"$BMC_DIR/$n.wrapper"
    read -r pid wd 2>/dev/null <"$BMC_DIR/$n.pids"
    for p in $p $w $h $pid $wd; do echo "pid $p $(awk '{print $22}' "/proc/$p/stat" 2>/dev/null)"; done
  done >>"$BMC_CHAIN_RECORD"
}

# agent NODE ACTION [KEY=VALUE...]: the real fence_ipmilan, run from the PEER's network namespace with its options
# on stdin (the fence-agents contract), the password read from NODE's root-only file; later KEY=VALUEs override.
# Sets RC (its exit status), OUT (its output, less Python's deprecation warning), T0 and MS (its duration).
agent() {
  local n=$1 a=$2
  shift 2
  T0=$(now_ms)
  OUT=$({ bmc_fence_options "$n"; echo "action=$a"; echo "password=$(cat "$(bmc_password_file "$n")")"; printf '%s\n' "$@"; } |
    ip netns exec "$(node_ns "$(peer_of "$n")")" fence_ipmilan 2>&1)
  RC=$? MS=$(($(now_ms) - T0))
  OUT=$(echo "$OUT" | grep -v "DeprecationWarning\|from pipes import")
  echo "  fence_ipmilan action=$a $* -> exit $RC in $MS ms: $(echo "$OUT" | tr '\n' ' ')"
}
expect() {  # expect RC PATTERN WHAT: the last agent run exited RC and printed PATTERN
  [ "$RC" = "$1" ] && echo "$OUT" | grep -q "$2" || lfail "$3: exit $RC (expected $1), output: $OUT"
}
# qget NODE EXPR: qstatus, tried for up to 20 s (the node may still be booting); fails if never answered
qget() {
  local v i
  for ((i = 0; i < 100; i++)); do
    v=$(qstatus "$1" "$2") && [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.2
  done
  lfail "$1's quorumd did not answer castor status ($2)"
}
stamp_of() { awk -v w="$1" -v n="$2" '$1 == w && $2 == n { t = $3 } END { print int(t / 1000000) }' "$BMC_DIR/power.log"; }
running() { local s; read -r _ _ s _ 2>/dev/null </proc/"$1"/stat && [ "$s" != Z ]; }  # PID lives (not a zombie)
links_down() { local l; for l in eth0 eth1 eth2; do ip -n "$NS_A" link show "$l" | grep -q "state DOWN" || return 1; done; }

cluster_setup
echo "dir $dir" >>"$BMC_CHAIN_RECORD"
for l in "${loops[@]}"; do echo "loop $l"; done >>"$BMC_CHAIN_RECORD"

step "Both nodes powered on through their BMCs (ipmitool from the admin's station on the management network)"
start_node alpha
start_node beta
record_procs
[ "$(bmc_power alpha status)" = on ] && [ "$(bmc_power beta status)" = on ] || lfail "the BMCs do not say both powers are on"
inc0=$(qget alpha "d['incarnation']")
qpid0=$(node_proc alpha quorumd)
bpid=$(node_proc beta quorumd)
[ -n "$qpid0" ] && [ -n "$bpid" ] || lfail "a quorumd is not running (alpha: '$qpid0', beta: '$bpid')"
echo "alpha: quorumd $qpid0, incarnation $inc0; beta: quorumd $bpid"
echo "the [fence alpha] section beta's castor.ini needs:"
bmc_fence_ini alpha | sed 's/^/  /'

step "fence_ipmilan from beta's namespace: status and monitor of alpha (on), a wrong password refused"
agent alpha status
expect 0 "Status: ON" "status of a running alpha"
status_ms=$MS
agent alpha status
status_ms="$status_ms $MS"
agent alpha monitor
expect 0 "" "monitor of alpha's BMC"
agent alpha status password=not-the-password
expect 1 "" "status with a wrong password"
alive alpha || lfail "alpha died during status/monitor"

step "fence_ipmilan action=off (power_wait=0): alpha is dead when it returns"
off_ms="" kill_ms=""
agent alpha off
expect 0 "Success: Powered OFF" "off"
t_ret=$(now_ms)
alive alpha && lfail "fence_ipmilan off returned with processes in alpha's cgroup: $(cat "$CGROOT/alpha/cgroup.procs")"
running "$qpid0" && lfail "alpha's quorumd $qpid0 survives the power off"
links_down || lfail "alpha's NICs are not all down after its power off"
running "$bpid" || lfail "beta's quorumd died when alpha was fenced"
t_term=$(stamp_of sigterm alpha) t_off=$(stamp_of off alpha)
[ "$t_off" -le "$t_ret" ] || lfail "the power off was logged after the agent returned"
echo "  ipmi_sim's SIGTERM $((t_term - T0)) ms after the agent started, alpha dead at $((t_off - T0)) ms, the agent returned at $MS ms"
off_ms=$MS kill_ms=$((t_off - T0))
agent alpha status
expect 2 "Status: OFF" "status of a powered-off alpha"
status_off_ms=$MS
agent alpha off
expect 0 "Already OFF" "a second off"

step "fence_ipmilan action=on: alpha boots again, a new incarnation"
agent alpha on
expect 0 "Success: Powered ON" "on"
on_ms=$MS
for ((i = 0; i < 100; i++)); do qpid1=$(node_proc alpha quorumd); [ -n "$qpid1" ] && break; sleep 0.05; done
[ -n "$qpid1" ] || lfail "alpha's quorumd does not run after its power on"
[ "$qpid1" != "$qpid0" ] || lfail "alpha's quorumd is the same process after a power cycle"
inc1=$(qget alpha "d['incarnation']")
[ "$inc1" != "$inc0" ] || lfail "alpha's incarnation is still $inc0 after a power cycle"
echo "  alpha: quorumd $qpid1, incarnation $inc1 (was $qpid0, $inc0)"

step "Two more power cycles (the spread of off: ipmi_sim kills at its one-second tick)"
for k in 1 2; do
  agent alpha off
  expect 0 "Success: Powered OFF" "off (cycle $k)"
  alive alpha && lfail "alpha alive after off (cycle $k)"
  off_ms="$off_ms $MS" kill_ms="$kill_ms $(($(stamp_of off alpha) - T0))"
  agent alpha on
  expect 0 "Success: Powered ON" "on (cycle $k)"
  on_ms="$on_ms $MS"
  for ((i = 0; i < 100; i++)); do [ -n "$(node_proc alpha quorumd)" ] && break; sleep 0.05; done
  [ -n "$(node_proc alpha quorumd)" ] || lfail "alpha's quorumd does not run after power on (cycle $k)"
done

step "IPMI 1.5 (lanplus=0, MD5) and fence_ipmilan's default power_wait (2 s), for comparison"
agent alpha status lanplus=0
expect 0 "Status: ON" "status over IPMI 1.5"
lan15_status_ms=$MS
agent alpha off lanplus=0
expect 0 "Success: Powered OFF" "off over IPMI 1.5"
alive alpha && lfail "alpha alive after off over IPMI 1.5"
lan15_off_ms=$MS
agent alpha on
expect 0 "Success: Powered ON" "on"
for ((i = 0; i < 100; i++)); do [ -n "$(node_proc alpha quorumd)" ] && break; sleep 0.05; done
agent alpha off power_wait=2
expect 0 "Success: Powered OFF" "off with power_wait=2"
wait2_off_ms=$MS
agent alpha on
expect 0 "Success: Powered ON" "on"
for ((i = 0; i < 100; i++)); do [ -n "$(node_proc alpha quorumd)" ] && break; sleep 0.05; done
# The agent polls status once a second after the off (stonith_status_sleep, whole seconds); 0 polls without pause,
# but power_timeout then counts polls, not seconds, and must be raised (it also bounds each ipmitool call).
agent alpha off stonith_status_sleep=0 power_timeout=40
expect 0 "Success: Powered OFF" "off with stonith_status_sleep=0"
alive alpha && lfail "alpha alive after off with stonith_status_sleep=0"
busy_off_ms=$MS
agent alpha on
expect 0 "Success: Powered ON" "on"
for ((i = 0; i < 100; i++)); do [ -n "$(node_proc alpha quorumd)" ] && break; sleep 0.05; done
[ -n "$(node_proc alpha quorumd)" ] || lfail "alpha's quorumd does not run after power on"

step "alpha's BMC unreachable (its link cut): status and off fail within power_timeout ($BMC_POWER_TIMEOUT s), alpha untouched"
bmc_down alpha
agent alpha status
expect 1 "" "status of an unreachable BMC"
unreach_status_ms=$MS
[ "$MS" -le $(((BMC_POWER_TIMEOUT + 1) * 1000)) ] || lfail "status of an unreachable BMC took $MS ms (power_timeout $BMC_POWER_TIMEOUT s)"
agent alpha off
expect 1 "" "off through an unreachable BMC"
unreach_off_ms=$MS
[ "$MS" -le $(((BMC_POWER_TIMEOUT + 1) * 1000)) ] || lfail "off through an unreachable BMC took $MS ms"
alive alpha || lfail "alpha died although its BMC was unreachable"
bmc_up alpha
agent alpha status
expect 0 "Status: ON" "status once the BMC is reachable again"

record_procs
figure "status (lanplus, on): $status_ms ms; status (off): $status_off_ms ms; status over IPMI 1.5: $lan15_status_ms ms"
figure "off (lanplus, power_wait=0): $off_ms ms (node dead at $kill_ms ms); off over IPMI 1.5: $lan15_off_ms ms; off with power_wait=2: $wait2_off_ms ms; off with stonith_status_sleep=0: $busy_off_ms ms"
figure "on: $on_ms ms; unreachable BMC: status $unreach_status_ms ms, off $unreach_off_ms ms (power_timeout $BMC_POWER_TIMEOUT s)"
echo "ok"
