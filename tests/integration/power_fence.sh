#!/bin/bash
# power_fence (issue 16): Castor's power fencing through the real chain — quorumd runs the real fence_ipmilan
# (fence-agents) from its node's namespace against the peer's BMC, one ipmi_sim per node on a management
# network (tests/cluster/bmc.sh, FENCE=1), whose power off kills every process of the node at once.
# io_timeout 2 s (D = 12 s; suspicion S = T = 2 s with the LAN, the peer silent there too; the fence intent is
# written and looked at before the BMC is asked) and a settle of 300 ms (the default 1 s is for real arrays; the
# loop device's writes take a millisecond), so a fenced takeover (S + the fence round + the settle, 4-6 s) is told
# apart from the dead time:
#   fence-check: both devices answer "on", the options pass fence_ipmilan's metadata; without
#   option.power_wait it notes the agent's own 2 s wait after its off (a longer takeover);
#   a bad option (option.ciper) is refused by castor fence-check and by quorumd at start, naming the option;
#   the owner crashes (its processes die, its power stays on) -> the peer powers it off, confirms it is off, and
#     runs web before D, on the verdict "powered off by a confirmed fence";
#   the owner frozen (its cgroup frozen) -> the same;
#   the owner's quorum-disk path stalled (disk-isolated; its LAN says its disk fails) -> the same;
#   a shared storage stall longer than S (both paths at once, 2.5T) -> nobody fences, web stays;
#   the owner's BMC unreachable and the owner crashed -> the fence fails (logged) and the peer takes over after D,
#     on the ordinary verdict, never before;
#   a fence race (every LAN link cut, both nodes frozen at once for 1.25T, thawed together: each sees the other
#     silent for S while its own disk worked) -> never both fenced, at least one node runs;
#   castor fence NODE --yes from the peer: NODE is powered off and its services move at once.
# Prints each failover time ("[castor] power_fence ..."). Needs root, namespaces, the cgroup v1 freezer and bindfs
# (exits 77 without them). About 2 minutes.
. "$(dirname "$0")/../cluster/prereqs.sh"  # root, namespaces, the freezer, bindfs: else skipped
export CLUSTER_ID=${POWER_FENCE_ID:-pfence} FENCE=1 IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-2000} LAN=1 LIGHT_SERVICES=0 \
       FENCE_SETTLE_MS=${FENCE_SETTLE_MS:-300}
. "$(dirname "$0")/../cluster/harness.sh"
D_MS=$((6 * IO_TIMEOUT_MS))
KEEP=$ROOT/$BUILD/test-logs/power_fence
lfail() {
  mkdir -p "$KEEP" && cp "$dir"/*.log "$dir"/*.out "$BMC_DIR"/*.log "$KEEP/" 2>/dev/null
  fail "$* (logs in $KEEP)"
}
figure() { echo "[castor] power_fence $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
web_on() { local w _r; read -r w _r <<<"$(view)"; echo "$w"; }
settle() {  # settle SECONDS: both nodes up (powered on through their BMCs if off), web and ledger started
  local end=$(($(date +%s) + $1)) w l n whole
  while [ "$(date +%s)" -lt "$end" ]; do
    revive alpha; revive beta
    read -r w l n whole <<<"$(view)"
    [ "$w" != - ] && [ "$l" != - ] && [ "$whole" = 1 ] && return 0
    sleep 0.3
  done
  return 1
}
count() { grep -c "$2" "$dir/$1-quorumd.log" 2>/dev/null; }
# failover NAME FAULT...: runs FAULT against web's owner, waits for web on the peer; sets MS, OWNER, PEER
failover() {
  local name=$1 i; shift
  OWNER=$(web_on); [ "$OWNER" != - ] || lfail "$name: web runs nowhere before the fault"
  PEER=$(peer_of "$OWNER")
  FENCED_BEFORE=$(count "$PEER" 'powered off by a confirmed fence')
  local t0; t0=$(now_ms)
  "$@" "$OWNER"
  for ((i = 0; i < 300; i++)); do
    [ "$(web_on)" = "$PEER" ] && break
    sleep 0.1
  done
  MS=$(($(now_ms) - t0))
  [ "$(web_on)" = "$PEER" ] || lfail "$name: web did not move to $PEER within 30 s"
  # The figure ends when the peer's svcmgr logged web started, not when this loop's next poll (a castor
  # status every 0.1 s) saw it: that poll added 0.1-0.2 s of its own to every figure.
  local line started
  line=$(grep 'service=web from=starting to=started' "$dir/$PEER-svcmgr.log" 2>/dev/null | tail -1)
  started=$(date -d "${line%% *}" +%s%3N 2>/dev/null)
  [ -n "$started" ] && [ "$started" -ge "$t0" ] && [ "$started" -le "$(now_ms)" ] && MS=$((started - t0))
}
expect_fenced() {  # expect_fenced NAME: the takeover came from a confirmed power-off, before D; the owner is off
  [ "$(count "$PEER" 'powered off by a confirmed fence')" -gt "$FENCED_BEFORE" ] ||
    lfail "$1: $PEER took web over without a confirmed fence of $OWNER"
  [ "$MS" -lt "$D_MS" ] || lfail "$1: the fenced takeover took $MS ms, not less than D = $D_MS ms"
  [ "$(bmc_power "$OWNER" status "$NS_MGMT")" = off ] || lfail "$1: $OWNER's BMC does not say off"
  alive "$OWNER" && lfail "$1: a process of $OWNER is alive after its power-off"
  figure "$1: web on $PEER ${MS} ms after the fault (D = $D_MS ms)"
}

freeze() { echo FROZEN >"$CGROOT/$1/freezer.state"; }
fence_race() {  # every LAN link cut, both nodes frozen at once for 1.25T, thawed together
  step "A fence race: every LAN link cut, both nodes frozen at once for 1.25T; each then sees the other silent for S"
  local a b i running
  A_ANN=$(count alpha 'announcing the fence'); B_ANN=$(count beta 'announcing the fence')
  A_BEFORE=$(count alpha 'power-fencing the peer'); B_BEFORE=$(count beta 'power-fencing the peer')
  lan_partition
  sleep 0.2
  freeze alpha; freeze beta
  RACE_MS=$((5 * IO_TIMEOUT_MS / 4))  # longer than S = T; with the last write up to R = T/2 before it, shorter than 2T (may fence: a write ok within 2T), and than the stand-in watchdog (2T)
  sleep "$((RACE_MS / 1000)).$(printf '%03d' $((RACE_MS % 1000)))"
  stall_both  # the first I/Os after the thaw queue up behind the stall, reads and writes together
  echo THAWED >"$CGROOT/alpha/freezer.state"; echo THAWED >"$CGROOT/beta/freezer.state"
  sleep 0.3
  unstall_both
  sleep $((2 * IO_TIMEOUT_MS / 1000 + 1))
  for ((i = 0; i < 300; i++)); do  # no round in flight on either node
    a=$(qstatus alpha "d['power_fence']['phase']" 2>/dev/null); b=$(qstatus beta "d['power_fence']['phase']" 2>/dev/null)
    case "$a/$b" in *announcing* | *probing* | *"powering off"* | *checking*) sleep 0.1 ;; *) break ;; esac
  done
  lan_heal
  A_ANN=$(($(count alpha 'announcing the fence') - A_ANN)); B_ANN=$(($(count beta 'announcing the fence') - B_ANN))
  A_F=$(($(count alpha 'power-fencing the peer') - A_BEFORE)); B_F=$(($(count beta 'power-fencing the peer') - B_BEFORE))
  [ "$A_F" -gt 0 ] && [ "$B_F" -gt 0 ] && lfail "fence race: both nodes started a fence of the other"
  alive alpha || alive beta || lfail "fence race: both nodes are down"
  [ "$(bmc_power alpha status "$NS_MGMT")" = off ] && [ "$(bmc_power beta status "$NS_MGMT")" = off ] &&
    lfail "fence race: both nodes are powered off"
  running=$(for n in alpha beta; do alive $n && printf '%s ' $n; done)
  figure "fence race: announced by alpha $A_ANN, beta $B_ANN; fences started by alpha $A_F, beta $B_F; running: $running"
  settle 90 || lfail "no settle after the fence race"
}

cluster_setup
start_node alpha
start_node beta
settle 90 || lfail "the cluster did not settle at its start"

step "castor fence-check: both devices checked against fence_ipmilan's metadata, both nodes on"
out=$(ip netns exec "$NS_B" "$CASTOR" fence-check --config "$dir/beta/castor.ini" 2>&1); rc=$?
echo "$out"
[ "$rc" = 0 ] || lfail "fence-check exited $rc"
[ "$(grep -c 'power: status: on' <<<"$out")" = 2 ] || lfail "fence-check did not report both nodes on"
[ "$BMC_POWER_WAIT" != 0 ] || ! grep -q "note: the agent waits power_wait" <<<"$out" ||
  lfail "fence-check noted a power_wait the harness sets to 0: $out"
# Without option.power_wait fence_ipmilan waits its default 2 s after the off: fence-check says what that costs.
sed -e '/^option.power_wait = /d' "$dir/beta/castor.ini" >"$dir/nowait.ini"
out=$("$CASTOR" fence-check --no-status --config "$dir/nowait.ini" 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$(grep -c 'note: the agent waits power_wait = 2 s after its off' <<<"$out")" = 2 ] ||
  lfail "fence-check did not note fence_ipmilan's default power_wait (exit $rc): $out"

if [ "${POWER_FENCE_ONLY:-}" = race ]; then  # the race alone (and its logs kept): for debugging it
  fence_race; mkdir -p "$KEEP" && cp "$dir"/*.log "$KEEP/" 2>/dev/null; echo "power_fence: race only: passed"; exit 0
fi

step "A bad option is refused, by fence-check and by quorumd, with the agent's metadata"
sed -e 's/^option.cipher = /option.ciper = /' -e "s|^socket = .*|socket = $dir/bad.sock|" "$dir/beta/castor.ini" >"$dir/bad.ini"
out=$("$CASTOR" fence-check --no-status --config "$dir/bad.ini" 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "option.ciper is not an option of fence_ipmilan" <<<"$out" && grep -q "did you mean 'cipher'" <<<"$out" ||
  lfail "fence-check of option.ciper: exit $rc: $out"
out=$(ip netns exec "$NS_B" "$QUORUMD" --config "$dir/bad.ini" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "option.ciper is not an option" <<<"$out" || lfail "quorumd started with option.ciper (exit $rc): $out"

step "The owner crashes (power still on): its peer powers it off and takes web over"
# At a random moment of the heartbeat cadence (0 to R = T/2 after this point): the harness's own steps take
# nearly the same time every run, which locked the crash to one phase of the writes and the benchmark to one
# point of the spread (the suspicion comes S after the last write, so the phase is up to R of the figure).
sleep "$(awk -v r="$RANDOM" -v io="$IO_TIMEOUT_MS" 'BEGIN { printf "%.3f", r / 32768 * io / 2000 }')"
failover crash kill_node
# POWER_FENCE_ONLY=crash: the crash alone (the benchmark's failover figure at other io_timeouts). At short
# io_timeouts (200 ms: D = 1.2 s) the dead time ends before the fence round does: the figure then says which
# decided, and the fence that follows must still be confirmed.
if [ "${POWER_FENCE_ONLY:-}" = crash ] && [ "$MS" -ge "$D_MS" ]; then
  for ((i = 0; i < 100; i++)); do [ "$(count "$PEER" "the peer's power is confirmed off")" -gt 0 ] && break; sleep 0.1; done
  [ "$(count "$PEER" "the peer's power is confirmed off")" -gt 0 ] || lfail "crash: no confirmed fence of $OWNER after D"
  grep -q 'peer DEAD.*heartbeat unchanged' "$dir/$PEER-svcmgr.log" || lfail "crash: web moved after D without a DEAD verdict"
  figure "crash: web on $PEER ${MS} ms after the fault (D = $D_MS ms decided first; the fence confirmed after)"
  echo "power_fence: crash only: passed"; exit 0
fi
expect_fenced crash
if [ "${POWER_FENCE_ONLY:-}" = crash ]; then  # POWER_FENCE_KEEP=1: the logs too (where the time went)
  [ -n "${POWER_FENCE_KEEP:-}" ] && mkdir -p "$KEEP" && cp "$dir"/*.log "$KEEP/" 2>/dev/null
  echo "power_fence: crash only: passed"; exit 0
fi
settle 90 || lfail "no settle after the crash"

step "The owner is frozen"
failover frozen freeze
expect_fenced frozen
settle 90 || lfail "no settle after the freeze"

step "The owner's path to the quorum disk stalls (disk-isolated; the LAN still hears it)"
failover isolated stall_disk
expect_fenced isolated
unstall_disk "$OWNER"
settle 90 || lfail "no settle after the isolation"

step "A shared storage stall (both paths for 2.5T: longer than S = T, shorter than the lease F = 3T) fences nobody"
OWNER=$(web_on)
A_BEFORE=$(count alpha 'power-fencing the peer'); B_BEFORE=$(count beta 'power-fencing the peer')
STALL_MS=$((5 * IO_TIMEOUT_MS / 2))
stall_both
sleep "$((STALL_MS / 1000)).$(printf '%03d' $((STALL_MS % 1000)))"
unstall_both
sleep $((3 * IO_TIMEOUT_MS / 1000 + 1))  # every read after the stall had its chance to suspect
[ "$(count alpha 'power-fencing the peer')" = "$A_BEFORE" ] || lfail "shared stall: alpha power-fenced beta"
[ "$(count beta 'power-fencing the peer')" = "$B_BEFORE" ] || lfail "shared stall: beta power-fenced alpha"
alive alpha && alive beta || lfail "shared stall: a node is down after it"
[ "$(web_on)" = "$OWNER" ] || lfail "shared stall: web moved from $OWNER to $(web_on)"
figure "shared stall: $STALL_MS ms, no fence, web stayed on $OWNER"
settle 90 || lfail "no settle after the shared stall"

step "The owner's BMC is unreachable when it crashes: the fence fails, the dead time D decides"
bmc_down "$(web_on)"
FAILED_BEFORE=$(count "$(peer_of "$(web_on)")" 'fence agent action ended.*failed')
failover fence_fail kill_node
[ "$(count "$PEER" 'powered off by a confirmed fence')" = "$FENCED_BEFORE" ] || lfail "fence_fail: a fence was confirmed"
# The dead time runs from the owner's last heartbeat change the peer saw, which is up to one renew interval
# R = T/2 before the kill (the owner writes every R): what the protocol promises is D after that write, so at
# least D - R after the kill. (A rehearsal saw 11983 ms against D = 12000 ms: the kill just before a write.)
# The verdict below is quorumd's: the heartbeat stood still for D.
R_MS=$((IO_TIMEOUT_MS / 2))
[ "$MS" -ge $((D_MS - R_MS)) ] ||
  lfail "fence_fail: web moved after $MS ms, before D - R = $((D_MS - R_MS)) ms, without a confirmed fence"
grep -q 'peer DEAD.*heartbeat unchanged' "$dir/$PEER-svcmgr.log" || lfail "fence_fail: no DEAD verdict on the dead time"
for ((i = 0; i < 200; i++)); do [ "$(count "$PEER" 'fence agent action ended.*failed')" -gt "$FAILED_BEFORE" ] && break; sleep 0.1; done
[ "$(count "$PEER" 'fence agent action ended.*failed')" -gt "$FAILED_BEFORE" ] || lfail "fence_fail: no failed fence logged"
figure "fence_fail: web on $PEER ${MS} ms after the crash (D = $D_MS ms: the failed fence fell back to it)"
# The BMC comes back only once no fence round of $PEER is in flight: an off still running would power $OWNER off
# while settle resets it.
for ((i = 0; i < 300; i++)); do
  case $(qstatus "$PEER" "d['power_fence']['phase']") in "powering off" | checking | delaying | announcing | probing | "") sleep 0.1 ;; *) break ;; esac
done
bmc_up "$OWNER"
settle 90 || lfail "no settle after the failed fence"

step "The owner crashes with its BMC unreachable: the admin confirms the off on the peer, web moves before D"
OWNER=$(web_on); PEER=$(peer_of "$OWNER")
NS_PEER=$([ "$PEER" = alpha ] && echo "$NS_A" || echo "$NS_B")
bmc_down "$OWNER"
t0=$(now_ms)
kill_node "$OWNER"
# Refused (exit 4) until the peer has seen the heartbeat stand still for S with its own disk working; then taken.
rc=4
for ((i = 0; i < 60 && rc != 0; i++)); do
  out=$(ip netns exec "$NS_PEER" "$CASTOR" fence "$OWNER" --confirm-off --yes --config "$dir/$PEER/castor.ini" 2>&1); rc=$?
  [ "$rc" = 0 ] || { [ "$rc" = 4 ] || lfail "castor fence --confirm-off: exit $rc: $out"; sleep 0.3; }
done
[ "$rc" = 0 ] && grep -q "declared dead" <<<"$out" || lfail "castor fence --confirm-off of a crashed $OWNER: exit $rc: $out"
for ((i = 0; i < 100; i++)); do [ "$(web_on)" = "$PEER" ] && break; sleep 0.1; done
MS=$(($(now_ms) - t0))
[ "$(web_on)" = "$PEER" ] || lfail "confirm-off: web did not move to $PEER"
[ "$MS" -lt "$D_MS" ] || lfail "confirm-off: web moved after $MS ms, not before D = $D_MS ms"
grep -q "peer DEAD.*an admin's confirmation" "$dir/$PEER-svcmgr.log" || lfail "confirm-off: no DEAD verdict on the admin's confirmation"
figure "confirm-off: web on $PEER ${MS} ms after the crash, the admin's confirmation taken (D = $D_MS ms)"
for ((i = 0; i < 300; i++)); do
  case $(qstatus "$PEER" "d['power_fence']['phase']") in "powering off" | checking | delaying | announcing | probing | "") sleep 0.1 ;; *) break ;; esac
done
bmc_up "$OWNER"
settle 90 || lfail "no settle after the confirmed off"

fence_race

step "castor fence NODE --confirm-off of a node that runs: quorumd refuses it (exit 4), nothing moves"
OWNER=$(web_on); PEER=$(peer_of "$OWNER")
out=$(ip netns exec "$([ "$PEER" = alpha ] && echo "$NS_A" || echo "$NS_B")" "$CASTOR" fence "$OWNER" --confirm-off \
        --yes --config "$dir/$PEER/castor.ini" 2>&1); rc=$?
[ "$rc" = 4 ] && grep -q "it is not off" <<<"$out" || lfail "castor fence $OWNER --confirm-off of a running node: exit $rc: $out"
[ "$(web_on)" = "$OWNER" ] && alive "$OWNER" || lfail "castor fence --confirm-off refused, yet web moved or $OWNER died"

step "castor fence NODE --yes from the peer"
FENCED_BEFORE=$(count "$PEER" 'powered off by a confirmed fence')
t0=$(now_ms)
out=$(ip netns exec "$([ "$PEER" = alpha ] && echo "$NS_A" || echo "$NS_B")" "$CASTOR" fence "$OWNER" --yes \
        --config "$dir/$PEER/castor.ini" 2>&1); rc=$?
echo "$out"
[ "$rc" = 0 ] && grep -q "powered off (confirmed)" <<<"$out" || lfail "castor fence $OWNER: exit $rc"
for ((i = 0; i < 100; i++)); do [ "$(web_on)" = "$PEER" ] && break; sleep 0.1; done
MS=$(($(now_ms) - t0))
expect_fenced "castor fence"
out=$(ip netns exec "$([ "$PEER" = alpha ] && echo "$NS_A" || echo "$NS_B")" "$CASTOR" status --json \
        --socket "$dir/$PEER/quorumd.sock" 2>/dev/null)
python3 -c "import json,sys; pf=json.loads(sys.argv[1])['power_fence']; l=pf['last']
assert l['confirmed'] and l['target']=='$OWNER' and l['agent']=='fence_ipmilan', l
assert [x['kind'] for x in pf['peer_levels']] == ['power', 'watchdog'], pf" "$out" || lfail "status: no last fence"
step "castor fence of a node already off: quorumd refuses, castor says why (exit 4)"
out=$(ip netns exec "$([ "$PEER" = alpha ] && echo "$NS_A" || echo "$NS_B")" "$CASTOR" fence "$OWNER" --yes \
        --config "$dir/$PEER/castor.ini" 2>&1); rc=$?
echo "$out"
[ "$rc" = 4 ] && grep -q "quorumd refused: $OWNER is already powered off" <<<"$out" || lfail "castor fence again: exit $rc: $out"
echo "power_fence: passed"
