#!/bin/bash
# run-tests: lane castor-cluster (tests/run-tests: it makes the harness cluster under its default names)
# device_set (issue 17): the harness cluster (tests/cluster/harness.sh) on a set of three quorum devices
# (QUORUM_DEVICES=3: each device its own backing file, each node's path to it its own FUSE pass-through and
# loop device), io_timeout T = 200 ms, the disk alone (LAN=0: no LAN promise can hide a stalled set), web,
# ledger and LIGHT_SERVICES (4) light services:
#   (1) each of the three devices in turn is stalled for 10 T (both nodes' paths to it stopped), read-only
#       for 2 s, zeroed, overwritten with garbage (both node regions, while the cluster runs); a zeroed or
#       garbage device must be noticed and healed by the nodes themselves (each rewrites its region)
#   (2) one device fails for good (device_fail: both its bindfs killed, every I/O fails with ENOTCONN).
#   All along: no fence (no FENCED in the quorumd logs, castor status "fences" 0, the same quorumd process and
#   incarnation), no reset (no stand-in watchdog fired), no svcmgr stop or kill of every service, no failover
#   (each service's owner unchanged), no service restart (no service state change, no light service started
#   again), the ledger acknowledging records; while a device fails both nodes' `castor status` say WITHOUT
#   REDUNDANCY and name it FAILING, and say "redundant" again once it heals.
#   (3) a second device lost (stalled) while the failed one stays lost: no majority, both nodes fence as
#       when their one disk is lost (FENCED, services stopped, nobody declared dead, no service starts
#       while the set has no majority); the device resumes, the nodes boot again, the cluster comes back
#       on the two devices left (castor status: WITHOUT REDUNDANCY, the failed device named).
#   (4) castor disk replace of the failed device by a new one (its own file, FUSE paths and loop devices) on
#       alpha, then on beta, while the ledger writes: no new fence, no reset, no move, no restart; both nodes
#       on the new device, the set redundant again, and every record of both nodes valid on the new device.
# Then the torture checker (tests/cluster/torture_check.py) judges the whole run: 0 split-brains, 0 lost
# acknowledged ledger records, no double mount, clean filesystems.
# Prints what it measured ([castor] lines): per fault the smallest lease left and the longest time without an
# ok heartbeat write seen by castor status on either node, the worst per-device latency, the fence times.
# Needs root, network namespaces, the cgroup v1 freezer and bindfs; exits 77 (skipped) without them. About
# 2 minutes. On failure the nodes' logs are kept in $BUILD/test-logs/device_set/.
. "$(dirname "$0")/../cluster/prereqs.sh"  # root, namespaces, the freezer, bindfs: else skipped
export IO_TIMEOUT_MS=200 LAN=0 QUORUM_DEVICES=3 LIGHT_SERVICES=${LIGHT_SERVICES:-4}
. "$(dirname "$0")/../cluster/harness.sh"
T=$IO_TIMEOUT_MS
KEEP=$ROOT/$BUILD/test-logs/device_set
dump_state() {  # the evidence of a failure: both nodes' status, the logs
  mkdir -p "$KEEP"
  local n
  for n in alpha beta; do
    timeout 3 "$CASTOR" status --socket "$dir/$n/quorumd.sock" --svcmgr-socket "$dir/$n/svcmgr.sock" --json \
      >"$KEEP/$n-status.json" 2>&1
    timeout 3 "$CASTOR" status --socket "$dir/$n/quorumd.sock" --svcmgr-socket "$dir/$n/svcmgr.sock" \
      >"$KEEP/$n-status.txt" 2>&1
  done
  cp "$dir"/*.log "$dir"/*.out "$KEEP/" 2>/dev/null
}
dfail() { dump_state; fail "$* (logs in $KEEP)"; }
# A wrong status (a device not named, or named only now and then, while it fails) is a finding, not a reason to
# stop: it is noted, the run goes on (its fences, failovers and records are what matters most), and the test
# fails at the end.
findings=()
finding() { echo "FINDING: $*"; findings+=("$*"); }
figure() { echo "[castor] device_set $*"; }
mono_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
# Fences, resets and svcmgr stops of every service on NODE since the run began, or since mark_counts (step
# (4): step (3) fenced and reset both nodes on purpose).
declare -A since=()
fences_raw() { grep -c 'FENCED:' "$dir/$1-quorumd.log" 2>/dev/null; }
resets_raw() { grep -c 'watchdog fired' "$dir/$1-watchdog.out" 2>/dev/null; }
svc_kills_raw() { grep -c 'every service is killed\|lease at risk' "$dir/$1-svcmgr.log" 2>/dev/null; }
fences() { echo $(($(fences_raw "$1") - ${since[fences_$1]:-0})); }
resets() { echo $(($(resets_raw "$1") - ${since[resets_$1]:-0})); }
svc_kills() { echo $(($(svc_kills_raw "$1") - ${since[svc_kills_$1]:-0})); }
mark_counts() { local n k; for n in alpha beta; do for k in fences resets svc_kills; do since[${k}_$n]=$(${k}_raw $n); done; done; }
state_changes() { cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log 2>/dev/null | grep -c 'service state service='; }
light_starts() { grep -c '^start ' "$dir/svc-evidence.log" 2>/dev/null; }
acks() { grep -c '^ack ' "$dir/ledger.log" 2>/dev/null; }
where() { local w l n whole; read -r w l n whole <<<"$(view)"; echo "$w $l $n $whole"; }
settled() {
  local w l n whole; read -r w l n whole <<<"$(view)"
  [ "$w" != - ] && [ "$l" != - ] && [ "${n:-0}" -ge $((LIGHT_SERVICES + 2)) ] && [ "$whole" = 1 ] && fetch >/dev/null
}
settle() {  # settle SECONDS
  local end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    revive alpha; revive beta
    settled && return 0
    sleep 0.2
  done
  return 1
}
qget() {  # qget NODE EXPR: qstatus, tried up to 10 times
  local v i
  for ((i = 0; i < 10; i++)); do
    v=$(qstatus "$1" "$2") && [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.3
  done
  dfail "$1's quorumd did not answer castor status ($2)"
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
fault_no=0
fault_log() { fault_no=$((fault_no + 1)); echo "fault $fault_no $1 $2 web $(date +%H:%M:%S.%3N) $(mono_ms)" >>"$dir/faults.log"; }

# The sampler: every 100 ms, each node's lease left, the age of its last ok heartbeat write, and which
# devices it calls failing ("MONO_MS NODE LEASE_MS WRITE_AGE_MS FAILING REDUNDANT", FAILING e.g. "-1-").
cat >"$dir/sampler.py" <<'EOP'
import json, subprocess, sys, time
castor, d = sys.argv[1], sys.argv[2]
out = open(sys.argv[3], 'a', buffering=1)
while True:
    for n in ('alpha', 'beta'):
        try:
            st = json.loads(subprocess.run([castor, 'status', '--socket', f'{d}/{n}/quorumd.sock', '--json'],
                                           capture_output=True, timeout=2).stdout)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            continue
        if not st.get('ok'):
            continue
        lease = (st.get('lease') or {}).get('remaining_ms')
        age = ((st.get('channels') or {}).get('disk') or {}).get('last_ok_write_age_ms')
        failing = ''.join(str(x.get('index')) if x.get('failing') else '-' for x in st.get('devices') or [])
        out.write(f"{int(time.monotonic() * 1000)} {n} {lease} {age} {failing or '?'} {st.get('redundant')}\n")
    time.sleep(0.1)
EOP
# named FROM TO I: "NAMED SAMPLES" - of both nodes' samples in [FROM, TO] from the first one that names device I
# as failing on, how many name it and it alone
named() {
  python3 - "$dir/samples.log" "$1" "$2" "$3" <<'EOP'
import sys
lo, hi, i = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
want = ''.join(i if str(k) == i else '-' for k in range(3))
seen, named, n = {}, 0, 0
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) != 6 or not lo <= int(p[0]) <= hi:
        continue
    if p[4] == want:
        seen[p[1]] = True
    if seen.get(p[1]):
        n += 1
        named += p[4] == want
print(named, n)
EOP
}
# window FROM TO: "MIN_LEASE_MS MAX_WRITE_AGE_MS SAMPLES" over both nodes' samples in [FROM, TO]
window() {
  python3 - "$dir/samples.log" "$1" "$2" <<'EOP'
import sys
lo, hi = int(sys.argv[2]), int(sys.argv[3])
lease, age, n = None, None, 0
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) != 6 or not lo <= int(p[0]) <= hi:
        continue
    n += 1
    if p[2] not in ('None', 'null'):
        lease = int(p[2]) if lease is None else min(lease, int(p[2]))
    if p[3] not in ('None', 'null'):
        age = int(p[3]) if age is None else max(age, int(p[3]))
print(lease, age, n)
EOP
}

cluster_setup
start_node alpha
start_node beta
evidence_start
settle 60 || dfail "the cluster did not settle at its start"
python3 "$dir/sampler.py" "$CASTOR" "$dir" "$dir/samples.log" &
track_pid "$!"
sleep 1
read -r web0 ledger0 _ <<<"$(where)"
echo "cluster up on the set of three: web on $web0, ledger on $ledger0"
declare -A pid0 inc0
for n in alpha beta; do
  pid0[$n]=$(qget $n "d['pid']") inc0[$n]=$(qget $n "d['incarnation']")
  [ "$(qget $n "len(d.get('devices') or [])")" = 3 ] || dfail "$n's quorumd does not run on the set of three"
  [ "$(qget $n "d['redundant']")" = True ] || dfail "$n's set is not redundant at the start"
done
changes0=$(state_changes) starts0=$(light_starts)

# unchanged WHAT: nothing fenced, reset, stopped, moved or restarted since the start (same quorumds)
unchanged() {
  local n
  for n in alpha beta; do
    [ "$(fences $n)" = 0 ] || dfail "$1: $n fenced: $(grep 'FENCED:' "$dir/$n-quorumd.log" | tail -1)"
    [ "$(resets $n)" = 0 ] || dfail "$1: $n was reset (its watchdog fired)"
    [ "$(svc_kills $n)" = 0 ] || dfail "$1: $n's svcmgr stopped or killed every service: $(grep 'every service is killed\|lease at risk' "$dir/$n-svcmgr.log" | tail -1)"
    [ "$(qget $n "d['fences']")" = 0 ] || dfail "$1: castor status says $n fenced"
    [ "$(qget $n "d['pid']")" = "${pid0[$n]}" ] && [ "$(qget $n "d['incarnation']")" = "${inc0[$n]}" ] ||
      dfail "$1: $n's quorumd restarted or rejoined"
  done
  local w l c whole
  read -r w l c whole <<<"$(where)"
  [ "$w" = "$web0" ] && [ "$l" = "$ledger0" ] || dfail "$1: a service moved: web $web0 -> $w, ledger $ledger0 -> $l"
  [ "$c" = $((LIGHT_SERVICES + 2)) ] && [ "$whole" = 1 ] || dfail "$1: not every service runs, or a node does not see its peer UP ($c $whole)"
  [ "$(state_changes)" = "$changes0" ] ||
    dfail "$1: a service changed state (stopped, restarted or moved): $(cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log | grep 'service state service=' | tail -2)"
  [ "$(light_starts)" = "$starts0" ] || dfail "$1: a light service was started again"
}
# names_failing NODE I: the node's castor status says the set runs without redundancy and names device I
# (its own path to it) as FAILING, and no other device
names_failing() {
  local n=$1 i=$2 text path j
  eval "path=\$Q${i}_$n"
  text=$(status "$n" 2>/dev/null)
  echo "$text" | grep -q 'WITHOUT REDUNDANCY: 1 lost' || return 1
  echo "$text" | grep -q "^    $i $path: FAILING" || return 1
  for j in 0 1 2; do
    [ "$j" = "$i" ] && continue
    echo "$text" | grep -q "^    $j [^ ]*: ok" || return 1
  done
  [ "$(qstatus "$n" "(d['redundant'], [x['failing'] for x in d['devices']][$i])")" = "(False, True)" ]
}
invalid_copies() { qget "$1" "d['devices'][$2]['invalid_blocks']"; }  # invalid_copies NODE I
noticed_base=()
noticed() {  # noticed I: a node counted damaged copies of device I since noticed_mark
  [ "$(invalid_copies alpha "$1")" -gt "${noticed_base[0]}" ] || [ "$(invalid_copies beta "$1")" -gt "${noticed_base[1]}" ]
}
redundant() {  # redundant NODE: castor status says every device answers
  status "$1" 2>/dev/null | grep -q 'all answer (redundant)' && [ "$(qstatus "$1" "d['redundant']")" = True ]
}
wait_for() {  # wait_for MS CMD...: CMD true within MS; prints the ms it took (or fails with status 1)
  local t0 now; t0=$(mono_ms)
  while :; do
    "${@:2}" && { echo $(($(mono_ms) - t0)); return 0; }
    now=$(mono_ms); [ $((now - t0)) -ge "$1" ] && return 1
    sleep 0.1
  done
}
worst_age=0 worst_lease=
note_window() {  # note_window WHAT FROM TO
  local lease age n
  read -r lease age n <<<"$(window "$2" "$3")"
  figure "$1: smallest lease left $lease ms, longest without an ok heartbeat write $age ms ($n samples)"
  [ "$age" != None ] && [ "$age" -gt "$worst_age" ] && worst_age=$age
  [ "$lease" != None ] && { [ -z "$worst_lease" ] || [ "$lease" -lt "$worst_lease" ]; } && worst_lease=$lease
}
self_heal=()
declare -A heal

# ---------------------------------------------------------------------------------------------------------------
step "(1) each device in turn: stalled 10 T, read-only 2 s, zeroed, garbage"
for i in 0 1 2; do
  for kind in stall ro zero garbage; do
    acks0=$(acks)
    fault_log "device_${kind}_$i" "$web0"
    t0=$(mono_ms)
    case $kind in
      stall) device_stall "$i"; len=$((10 * T)); sleep_ms $((2 * T)) ;;
      ro) device_ro "$i"; len=2000; sleep_ms 500 ;;
      zero) noticed_base=("$(invalid_copies alpha "$i")" "$(invalid_copies beta "$i")"); device_zero "$i"; len=2000 ;;
      garbage) noticed_base=("$(invalid_copies alpha "$i")" "$(invalid_copies beta "$i")"); device_garbage "$i"; len=2000 ;;
    esac
    case $kind in
      stall | ro)
        for n in alpha beta; do
          wait_for 2000 names_failing "$n" "$i" >/dev/null ||
            finding "device $i $kind: $n's castor status does not name device $i as the one failing within 2 s: $(status "$n" | grep -A3 'quorum devices' | tr -s ' \n' ' ')"
        done ;;
      zero | garbage)
        # Damage is noticed (the damaged copies read are counted, the device is named failing while it
        # returns them) and repaired by the nodes themselves: each rewrites its region when a member returns
        # damaged copies, so it may already be whole again here.
        wait_for 3000 noticed "$i" >/dev/null ||
          finding "device $i $kind: neither node counted a damaged copy of device $i within 3 s" ;;
    esac
    left=$((t0 + len - $(mono_ms))); [ "$left" -gt 0 ] && sleep_ms "$left"
    tn=$(mono_ms)
    case $kind in
      stall) device_unstall "$i" ;;
      ro) device_rw "$i" ;;
      zero | garbage)
        # Healed by itself: no damaged copy read any more on either node for 2 s (within 10 s).
        healed=no
        for ((k = 0; k < 5; k++)); do
          a0=$(invalid_copies alpha "$i") b0=$(invalid_copies beta "$i")
          sleep 2
          a1=$(invalid_copies alpha "$i") b1=$(invalid_copies beta "$i")
          if [ "$a1" = "$a0" ] && [ "$b1" = "$b0" ]; then healed=yes; break; fi
        done
        self_heal+=("$kind/$i:$healed")
        [ "$healed" = yes ] || finding "device $i $kind: the nodes did not repair device $i within 10 s (damaged copies still read: +$((a1 - a0)) / +$((b1 - b0)) in 2 s)" ;;
    esac
    t1=$(mono_ms)
    read -r nm ns <<<"$(named "$t0" "$tn" "$i")"
    [ "$kind" = zero ] || [ "$kind" = garbage ] || { [ "${ns:-0}" -gt 0 ] && [ "$nm" = "$ns" ]; } ||
      finding "device $i $kind: from the first status naming device $i failing to the end of the fault, only $nm of $ns samples (both nodes, every ~100 ms) name it (and it alone)"
    for n in alpha beta; do
      ms=$(wait_for 5000 redundant "$n") ||
        { finding "device $i $kind: $n's castor status does not say redundant 5 s after the device healed: $(status "$n" | grep -A4 'quorum devices' | tr -s ' \n' ' ')"; ms=-; }
      heal[$n]=$ms
    done
    note_window "device $i $kind ($((tn - t0)) ms, named failing in $nm of $ns samples; redundant again $((t1 - tn)) + ${heal[alpha]} / ${heal[beta]} ms after it ended)" "$t0" "$(mono_ms)"
    [ "$(acks)" -gt "$acks0" ] || dfail "device $i $kind: the ledger acknowledged nothing"
    unchanged "device $i $kind"
    echo "settled 0" >>"$dir/faults.log"
  done
done
figure "(1) 12 single-device faults: 0 fences, 0 resets, 0 failovers, 0 restarts; worst: lease left $worst_lease ms, $worst_age ms without an ok heartbeat write (T = $T ms); zeroed / garbage device healed by itself: ${self_heal[*]}"
for n in alpha beta; do
  figure "(1) $n's worst per-device latency in the last minute: $(qget $n "', '.join('%d: %.1f ms' % (x['index'], x['worst_latency_us'] / 1000) for x in d['devices'])")"
done

# ---------------------------------------------------------------------------------------------------------------
FAILED_DEV=2
step "(2) device $FAILED_DEV fails for good (both its FUSE daemons killed: ENOTCONN)"
acks0=$(acks)
fault_log "device_fail_$FAILED_DEV" "$web0"
t0=$(mono_ms)
device_fail $FAILED_DEV
for n in alpha beta; do
  wait_for 2000 names_failing "$n" $FAILED_DEV >/dev/null ||
    finding "device $FAILED_DEV failed: $n's castor status does not name it: $(status "$n" | grep -A3 'quorum devices' | tr -s ' \n' ' ')"
done
sleep 3
read -r nm ns <<<"$(named "$t0" "$(mono_ms)" $FAILED_DEV)"
[ "${ns:-0}" -gt 0 ] && [ "$nm" = "$ns" ] || finding "device $FAILED_DEV failed: only $nm of $ns samples name it"
note_window "device $FAILED_DEV failed (3 s, named failing in $nm of $ns samples)" "$t0" "$(mono_ms)"
for n in alpha beta; do
  names_failing "$n" $FAILED_DEV || finding "device $FAILED_DEV failed: $n's status no longer names it after 3 s"
  figure "(2) $n says: $(status "$n" | grep "^    $FAILED_DEV ")"
done
[ "$(acks)" -gt "$acks0" ] || dfail "device $FAILED_DEV failed: the ledger acknowledged nothing"
unchanged "device $FAILED_DEV failed"
echo "settled 0" >>"$dir/faults.log"

# ---------------------------------------------------------------------------------------------------------------
SECOND=0
step "(3) a second device lost: device $SECOND stalls while device $FAILED_DEV stays failed (no majority)"
declare -A fenced_at
fault_log "device_stall_$SECOND+fail_$FAILED_DEV" "$web0"
t0=$(mono_ms) t0_wall=$(date +%s%3N)
device_stall $SECOND
for n in alpha beta; do
  wait_for 5000 bash -c "grep -q 'FENCED:' '$dir/$n-quorumd.log'" >/dev/null || dfail "(3) $n did not fence within 5 s of losing the majority"
  fenced_at[$n]=$(grep -m1 'FENCED:' "$dir/$n-quorumd.log" | cut -c1-23)
done
t_fenced=$(mono_ms)
# The set stays without a majority for 15 T (more than the dead time): nobody may start anything.
sleep_ms $((15 * T))
read -r w l c whole <<<"$(where)"
[ "$w" = - ] && [ "$l" = - ] || dfail "(3) a service runs while the set has no majority: web $w, ledger $l"
[ "$(light_starts)" = "$starts0" ] || dfail "(3) a light service started while the set has no majority"
for n in alpha beta; do
  ! grep -q 'peer changed .*to=DEAD' "$dir/$n-quorumd.log" || dfail "(3) $n declared its peer dead: $(grep 'peer changed .*to=DEAD' "$dir/$n-quorumd.log" | head -1)"
done
device_unstall $SECOND
t1=$(mono_ms)
settle 60 || dfail "(3) the cluster did not come back within 60 s of device $SECOND resuming"
t2=$(mono_ms)
echo "settled $((t2 - t0))" >>"$dir/faults.log"
read -r w l _ <<<"$(where)"
for n in alpha beta; do
  wait_for 3000 names_failing "$n" $FAILED_DEV >/dev/null ||
    finding "(3) after the restart $n's castor status does not name device $FAILED_DEV failed: $(status "$n" | grep -A3 'quorum devices' | tr -s ' \n' ' ')"
done
figure "(3) no majority: both fenced within $((t_fenced - t0)) ms (alpha ${fenced_at[alpha]#*T}, beta ${fenced_at[beta]#*T}), nobody declared dead, nothing ran for 15 T; back $((t2 - t1)) ms after device $SECOND resumed (web on $w, ledger on $l; device $FAILED_DEV still failed)"

# ---------------------------------------------------------------------------------------------------------------
NEW_DEV=3
step "(4) castor disk replace under load: the failed device $FAILED_DEV by a new one, on alpha, then on beta"
# What an admin does about a device that died: a new one, prepared by the first node's run, handed to each
# quorumd in turn, while the ledger writes. No fence, reset, move or restart; the set redundant again, the
# new device holding both nodes' records.
spare_device $NEW_DEV
read -r web0 ledger0 _ <<<"$(where)"
for n in alpha beta; do pid0[$n]=$(qget $n "d['pid']") inc0[$n]=$(qget $n "d['incarnation']"); done
changes0=$(state_changes) starts0=$(light_starts) acks0=$(acks)
# Step (3) fenced and reset both nodes on purpose: from here on unchanged's "no fence, no reset, no svcmgr
# stop" means none since now (castor status counts fences per quorumd process, and step (3)'s are gone: 0 is
# still what it must say).
mark_counts
fault_log "device_replace_${FAILED_DEV}_by_$NEW_DEV" "$web0"
t0=$(mono_ms)
"$CASTOR" disk replace "$Q2_alpha" "$Q3_alpha" --config "$dir/alpha/castor.ini" --wait 0 >"$dir/replace-alpha.out" 2>&1 ||
  dfail "(4) castor disk replace on alpha failed: $(cat "$dir/replace-alpha.out")"
grep -q "^Prepared $Q3_alpha as member $FAILED_DEV of generation 1 " "$dir/replace-alpha.out" ||
  dfail "(4) alpha's run did not prepare the new device as member $FAILED_DEV of generation 1: $(cat "$dir/replace-alpha.out")"
t_alpha=$(mono_ms)
"$CASTOR" disk replace "$Q2_beta" "$Q3_beta" --config "$dir/beta/castor.ini" --wait 30 >"$dir/replace-beta.out" 2>&1 ||
  dfail "(4) castor disk replace on beta failed: $(cat "$dir/replace-beta.out")"
grep -q "prepared already as member $FAILED_DEV of generation 1" "$dir/replace-beta.out" &&
  grep -q "^This node now uses $Q3_beta as member $FAILED_DEV" "$dir/replace-beta.out" ||
  dfail "(4) beta's run did not find the device prepared, or beta does not use it: $(cat "$dir/replace-beta.out")"
uses_new() {  # uses_new NODE: generation 1, nothing retiring, member 2 is the node's path to the new device
  local path; eval "path=\$Q${NEW_DEV}_$1"
  [ "$(qstatus "$1" "(d['device_set']['generation'], d['device_set']['retiring'], d['devices'][$FAILED_DEV]['path'])")" = "(1, False, '$path')" ]
}
for n in alpha beta; do
  wait_for 10000 uses_new $n >/dev/null || dfail "(4) $n does not use the new device 10 s after both runs: $(status $n | grep -A4 'quorum devices' | tr -s ' \n' ' ')"
done
t_both=$(mono_ms)
for n in alpha beta; do
  ms=$(wait_for 5000 redundant $n) || dfail "(4) $n's set is not redundant again 5 s after the replacement: $(status $n | grep -A4 'quorum devices' | tr -s ' \n' ' ')"
  heal[$n]=$ms
done
# The new device holds a whole copy: every record of both nodes valid (castor dump, from alpha's path) -- the
# nodes rewrote their regions on it, the blocks that have not changed since included.
"$CASTOR" dump --json "$Q3_alpha" >"$dir/dump-new.json" 2>"$dir/dump-new.err" ||
  dfail "(4) castor dump of the new device failed: $(tail -3 "$dir/dump-new.err")"
not_valid=$(python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
bad = [f\"{n.get('name')} {k}\" for n in d['nodes'] for k in ('heartbeat', 'epoch') if n[k]['status'] != 'valid']
bad += [f\"{n.get('name')} table {b['block']}\" for n in d['nodes'] for b in n['service_table'] if b['status'] != 'valid']
print(len(d['nodes']), len(bad), ', '.join(bad[:6]))" "$dir/dump-new.json")
[ "$not_valid" = "2 0 " ] || dfail "(4) the new device does not hold both nodes' records, all valid (nodes, not valid, first ones): $not_valid"
sleep 2
note_window "(4) replacement (alpha's run $((t_alpha - t0)) ms, both nodes on the new device $((t_both - t0)) ms after the first run)" "$t0" "$(mono_ms)"
[ "$(acks)" -gt "$acks0" ] || dfail "(4) the ledger acknowledged nothing during the replacement"
unchanged "(4) disk replace"
echo "settled 0" >>"$dir/faults.log"
figure "(4) castor disk replace of the failed device $FAILED_DEV under load: both nodes on the new device $((t_both - t0)) ms after the first run, redundant again (+${heal[alpha]} / +${heal[beta]} ms), $(($(acks) - acks0)) records acknowledged meanwhile; 0 fences, 0 resets, 0 moves, 0 restarts"

# ---------------------------------------------------------------------------------------------------------------
step "The evidence of the whole run (tests/cluster/torture_check.py)"
evidence_check 0 "$dir/summary.json"
rc=$?
figure "checker: $(python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
print(f\"{d['split_brains']} split-brains, {d['lost_records']} lost of {d['acknowledged_records']} acknowledged records, {d['mount_overlaps']} double mounts ({d['kernel_double_mounts']} in the kernel log), fsck {d['fsck']}\")" "$dir/summary.json")"
[ "$rc" = 0 ] || dfail "the checker found a problem"
if [ ${#findings[@]} -gt 0 ]; then
  printf 'FINDING: %s\n' "${findings[@]}"
  dfail "${#findings[@]} findings on what castor status says (above)"
fi
exit 0
