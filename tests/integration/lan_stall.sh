#!/bin/bash
# run-tests: lane castor-cluster (tests/run-tests: it makes the harness cluster under its default names)
# lan_stall (issue 15): a shared storage stall on the harness cluster (tests/cluster/harness.sh: io_timeout
# T = 200 ms, the LAN channel on both links), with the client probing web through the floating IP all along
# (tests/cluster/http_probe.py, every 100 ms):
#   (a) both nodes' quorum-disk paths stall for 30 T (6 s), the LAN up: nobody fences or is reset (castor
#       status "fences" 0 and the same quorumd process and incarnation on both nodes, no watchdog fired), web
#       and the ledger keep running where they were (no service state change, the ledger acknowledges records
#       during the stall), and the client's longest outage is at most 1 s (printed: it should be 0)
#   (b) the LAN cut first (both links), then the same stall: both nodes fence; once the stall ends and the
#       LAN is back, both services run again
#   (c) one node's path stalls (the node running web): that node fences, the other does not, and web fails
#       over to the other (the failover time printed)
# Then the torture checker (tests/cluster/torture_check.py) judges the whole run's evidence: 0 split-brains,
# 0 lost acknowledged ledger records, no filesystem mounted on both nodes, clean filesystems.
# Needs root, network namespaces, the cgroup v1 freezer and bindfs; exits 77 (skipped) without them. About
# 1-2 minutes. On failure the nodes' logs are kept in $BUILD/test-logs/lan_stall/. CASES=b,c runs only those.
. "$(dirname "$0")/../cluster/prereqs.sh"  # root, namespaces, the freezer, bindfs: else skipped
export IO_TIMEOUT_MS=200 LAN=1 LIGHT_SERVICES=0
. "$(dirname "$0")/../cluster/harness.sh"
T=$IO_TIMEOUT_MS
KEEP=$ROOT/$BUILD/test-logs/lan_stall
lfail() { mkdir -p "$KEEP" && cp "$dir"/*.log "$dir"/*.out "$KEEP/" 2>/dev/null; fail "$* (logs in $KEEP)"; }
figure() { echo "[castor] lan_stall $*"; }
mono_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }  # the probe's clock
fences() { grep -c 'FENCED:' "$dir/$1-quorumd.log" 2>/dev/null; }            # FENCED lines in NODE's logs
resets() { grep -c 'watchdog fired' "$dir/$1-watchdog.out" 2>/dev/null; }    # NODE's watchdog fired
svc_kills() { grep -c 'every service is killed\|lease at risk' "$dir/$1-svcmgr.log" 2>/dev/null; }  # svcmgr stopped all
state_changes() { cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log 2>/dev/null | grep -c 'service state service='; }
acks() { grep -c '^ack ' "$dir/ledger.log" 2>/dev/null; }
where() { local w l n whole; read -r w l n whole <<<"$(view)"; echo "$w $l $n $whole"; }
# settled: both nodes up and seeing each other, web and the ledger started, the page served
settled() { local w l n whole; read -r w l n whole <<<"$(view)"; [ "$w" != - ] && [ "$l" != - ] && [ "$whole" = 1 ] && fetch >/dev/null; }
settle() {  # settle SECONDS: reviving a node that was reset meanwhile, as its watchdog's reset would boot it
  local end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    revive alpha; revive beta
    settled && return 0
    sleep 0.2
  done
  return 1
}
sleep_until() { local left=$(( $1 - $(mono_ms) )); [ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"; }
# probe_figures FROM TO: "LONGEST_OUTAGE_MS FAILED PROBES" over the probes that began in [FROM, TO] (probe.log,
# monotonic ms); an outage lasts from its first failed probe to the next good one (which may be after TO).
probe_figures() {
  python3 - "$dir/probe.log" "$1" "$2" <<'EOP'
import sys
rs = [(int(a), b == 'ok') for a, b in (l.split() for l in open(sys.argv[1]) if len(l.split()) == 2)]
lo, hi = int(sys.argv[2]), int(sys.argv[3])
longest, start, failed, n = 0, None, 0, 0
for t, ok in rs:
    if t < lo:
        continue
    if t <= hi:
        n += 1
        failed += not ok
    if not ok and start is None and t <= hi:
        start = t
    elif ok and start is not None:
        longest, start = max(longest, t - start), None
    if t > hi and start is None:
        break
if start is not None:
    longest = max(longest, rs[-1][0] - start)
print(longest, failed, n)
EOP
}
# first_ok_after MS: the start of the first good probe after the first failed one at or after MS
first_ok_after() {
  python3 - "$dir/probe.log" "$1" <<'EOP'
import sys
seen_fail = False
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) != 2 or int(p[0]) < int(sys.argv[2]):
        continue
    if p[1] != 'ok':
        seen_fail = True
    elif seen_fail:
        print(p[0]); break
EOP
}
# log_ms_after FILE REGEX SINCE_MS: ms from SINCE_MS (wall clock, ms since the epoch) to the first line of a
# Castor log (ISO-8601 UTC stamps) at or after it that matches REGEX; empty if none.
log_ms_after() {
  python3 - "$@" <<'EOP'
import datetime, re, sys
since, rx = int(sys.argv[3]), re.compile(sys.argv[2])
for line in open(sys.argv[1], errors='replace'):
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ', line)
    if m and rx.search(line):
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc)
        if int(t.timestamp() * 1000) >= since:
            print(int(t.timestamp() * 1000) - since); break
EOP
}
# qget NODE EXPR: qstatus, tried up to 10 times (a loaded host may miss its 3 s once); fails if never answered
qget() {
  local v i
  for ((i = 0; i < 10; i++)); do
    v=$(qstatus "$1" "$2") && [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.3
  done
  lfail "$1's quorumd did not answer castor status ($2)"
}
fault_no=0
fault_log() { fault_no=$((fault_no + 1)); echo "fault $fault_no $1 $2 web $(date +%H:%M:%S.%3N) $(mono_ms)" >>"$dir/faults.log"; }

cluster_setup
start_node alpha
start_node beta
evidence_start
settle 60 || lfail "the cluster did not settle at its start"
for ((i = 0; i < 100; i++)); do
  [ "$(lan_links_up alpha)" = 2 ] && [ "$(lan_links_up beta)" = 2 ] && break
  sleep 0.1
done
[ "$(lan_links_up alpha)" = 2 ] && [ "$(lan_links_up beta)" = 2 ] ||
  lfail "both LAN links are not up on both nodes (alpha: $(lan_links_up alpha), beta: $(lan_links_up beta))"
sleep 1
read -r web0 ledger0 _ <<<"$(where)"
echo "cluster up: web on $web0, ledger on $ledger0, both LAN links up on both nodes"

# ---------------------------------------------------------------------------------------------------------------
declare -A pid0 inc0 f0 r0 k0 fenced_at  # per node
case_on() { [ -z "${CASES:-}" ] || [[ ",$CASES," == *",$1,"* ]]; }
if case_on a; then
step "(a) both quorum-disk paths stall for 30 T ($((30 * T)) ms), the LAN up"
for n in alpha beta; do
  pid0[$n]=$(qget $n "d['pid']") inc0[$n]=$(qget $n "d['incarnation']") f0[$n]=$(fences $n) r0[$n]=$(resets $n)
  k0[$n]=$(svc_kills $n)
  [ "$(qget $n "d['fences']")" = 0 ] || lfail "$n has fenced before the test"
done
changes0=$(state_changes) acks0=$(acks)
fault_log shared_stall_30T_lan_up "$web0"
t0=$(mono_ms)
stall_both
sleep_until $((t0 + 15 * T))
riding=""  # what each node says in the middle of the stall
for n in alpha beta; do
  riding+="$n:$(qstatus $n "(d.get('promises') or {}).get('riding_through_stall')") "
done
sleep_until $((t0 + 30 * T))
unstall_both
t1=$(mono_ms)
acks_during=$(( $(acks) - acks0 ))
sleep 2
read -r web1 ledger1 _ <<<"$(where)"
read -r outage failed probes <<<"$(probe_figures "$t0" "$((t1 + 2000))")"
figure "(a) shared stall of $((t1 - t0)) ms, LAN up: client's longest outage $outage ms ($failed of $probes probes failed); ledger records acknowledged during the stall: $acks_during; riding through mid-stall: $riding"
for n in alpha beta; do
  [ "$(fences $n)" = "${f0[$n]}" ] || lfail "(a) $n fenced during a shared stall with the LAN up"
  [ "$(resets $n)" = "${r0[$n]}" ] || lfail "(a) $n was reset (its watchdog fired) during a shared stall with the LAN up"
  [ "$(qget $n "d['fences']")" = 0 ] || lfail "(a) castor status says $n fenced"
  [ "$(qget $n "d['pid']")" = "${pid0[$n]}" ] && [ "$(qget $n "d['incarnation']")" = "${inc0[$n]}" ] ||
    lfail "(a) $n's quorumd restarted or rejoined (pid ${pid0[$n]} -> $(qget $n "d['pid']"))"
  [ "$(svc_kills $n)" = "${k0[$n]}" ] || lfail "(a) $n's svcmgr stopped or killed every service during the stall: $(grep 'every service is killed\|lease at risk' "$dir/$n-svcmgr.log" | tail -1)"
done
[ "$web1" = "$web0" ] && [ "$ledger1" = "$ledger0" ] ||
  lfail "(a) the services moved: web $web0 -> $web1, ledger $ledger0 -> $ledger1"
[ "$(state_changes)" = "$changes0" ] || lfail "(a) a service changed state during the stall (stopped or restarted)"
[ "$acks_during" -gt 0 ] || lfail "(a) the ledger acknowledged nothing during the stall"
[ "$outage" -le 1000 ] || lfail "(a) the client saw an outage of $outage ms"
echo "settled 0" >>"$dir/faults.log"
fi

# ---------------------------------------------------------------------------------------------------------------
if case_on b; then
step "(b) the LAN cut (both links), then both quorum-disk paths stall for 30 T"
settle 30 || lfail "(b) the cluster is not settled before the fault"
lan_partition
for ((i = 0; i < 100; i++)); do
  [ "$(lan_links_up alpha)" = 0 ] && [ "$(lan_links_up beta)" = 0 ] && break
  sleep 0.1
done
[ "$(lan_links_up alpha)" = 0 ] && [ "$(lan_links_up beta)" = 0 ] || lfail "(b) the LAN links are still up after the cut"
for n in alpha beta; do f0[$n]=$(fences $n); done
fault_log shared_stall_30T_lan_down "$(read -r w _ <<<"$(where)"; echo "$w")"
t0=$(mono_ms) t0_wall=$(date +%s%3N)
stall_both
sleep_until $((t0 + 30 * T))
unstall_both
lan_heal
t1=$(mono_ms)
for n in alpha beta; do
  [ "$(fences $n)" -gt "${f0[$n]}" ] || lfail "(b) $n did not fence during a shared stall with the LAN cut"
  fenced_at[$n]=$(log_ms_after "$dir/$n-quorumd.log" 'FENCED:' "$t0_wall")
done
settle 45 || lfail "(b) the cluster did not settle within 45 s after the stall"
t2=$(mono_ms)
echo "settled $((t2 - t0))" >>"$dir/faults.log"
read -r outage failed probes <<<"$(probe_figures "$t0" "$t2")"
read -r web1 ledger1 _ <<<"$(where)"
figure "(b) shared stall, LAN cut: alpha fenced ${fenced_at[alpha]} ms, beta ${fenced_at[beta]} ms after the stall began; settled $((t2 - t1)) ms after it ended (web on $web1, ledger on $ledger1); client's longest outage $outage ms"
fi

# ---------------------------------------------------------------------------------------------------------------
if case_on c; then
step "(c) one node's quorum-disk path stalls (the node running web)"
settle 30 || lfail "(c) the cluster is not settled before the fault"
sleep 1
read -r victim _ <<<"$(where)"
other=$(peer_of "$victim")
for n in alpha beta; do f0[$n]=$(fences $n) r0[$n]=$(resets $n); done
opid=$(qget "$other" "d['pid']")
fault_log disk_stall_one "$victim"
t0=$(mono_ms) t0_wall=$(date +%s%3N)
stall_disk "$victim"
for ((i = 0; i < 400; i++)); do
  read -r w _ <<<"$(where)"
  [ "$w" = "$other" ] && fetch >/dev/null && break
  sleep 0.05
done
t1=$(mono_ms)
read -r w _ <<<"$(where)"
[ "$w" = "$other" ] || lfail "(c) web did not fail over from $victim to $other within 20 s"
[ "$(fences "$victim")" -gt "${f0[$victim]}" ] || lfail "(c) $victim did not fence"
[ "$(fences "$other")" = "${f0[$other]}" ] && [ "$(resets "$other")" = "${r0[$other]}" ] &&
  [ "$(qget "$other" "d['pid']")" = "$opid" ] || lfail "(c) $other fenced or restarted, though only $victim's path stalled"
back=$(first_ok_after "$t0")
victim_fenced=$(log_ms_after "$dir/$victim-quorumd.log" 'FENCED:' "$t0_wall")
dead=$(log_ms_after "$dir/$other-quorumd.log" 'peer changed .*to=DEAD' "$t0_wall")
unstall_disk "$victim"
read -r outage failed probes <<<"$(probe_figures "$t0" "$t1")"
figure "(c) $victim's path stalled: $victim fenced after ${victim_fenced:-?} ms, $other declared it DEAD after ${dead:-?} ms, the client was served by $other again $(( ${back:-$t1} - t0 )) ms after the stall began (outage $outage ms)"
settle 45 || lfail "(c) the cluster did not settle after the failover"
echo "settled $(($(mono_ms) - t0))" >>"$dir/faults.log"
fi

# ---------------------------------------------------------------------------------------------------------------
step "The evidence of the whole run (tests/cluster/torture_check.py)"
evidence_check 0 "$dir/summary.json"
rc=$?
figure "checker: $(python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
print(f\"{d['split_brains']} split-brains, {d['lost_records']} lost of {d['acknowledged_records']} acknowledged records, {d['mount_overlaps']} double mounts ({d['kernel_double_mounts']} in the kernel log), fsck {d['fsck']}\")" "$dir/summary.json")"
[ "$rc" = 0 ] || lfail "the checker found a problem"
exit 0
