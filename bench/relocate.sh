#!/bin/bash
# Planned relocation on the harness cluster (IO_TIMEOUT_MS, default 200): `castor relocate web --to OTHER
# --wait` timed from the command's start until web is started on the target (its svcmgr's log), back and
# forth RELOCATE_RUNS times (default 10); the CLI's own return time is recorded too.
# The agents' own time (every stop and start action of web's resources, their "elapsed" in svcmgr's logs)
# is subtracted: what is left is Castor's own cost (the ownership writes and reads through the disk, the
# peer noticing the hand-over, svcmgr's scheduling, the CLI's 50 ms status polls).
. "$(dirname "$0")/lib.sh"
IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-200}
RUNS=${RELOCATE_RUNS:-10}
. "$ROOT/tests/cluster/harness.sh"
cluster_setup >"$BENCH_OUT/relocate-setup.log" 2>&1

wait_for() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.1; done; }
web_owner() { local o; o=$(owner alpha); [ -n "$o" ] || o=$(owner beta); echo "$o"; }
has_owner() { [ -n "$(web_owner)" ]; }
peer_up() { status "$1" --json 2>/dev/null | grep -q '"view":"UP"'; }
# agents_ms SINCE_MS: the sum of web's agent actions (start, stop) in both nodes' svcmgr logs since then
agents_ms() {
  cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log | python3 -c "
import re, sys, datetime
since = int(sys.argv[1]); total = 0
for line in sys.stdin:
    m = re.match(r'(\S+)Z .*agent action service=web .*action=(start|stop) .*elapsed=([0-9.]+)(us|ms|s)\b', line)
    if not m: continue
    t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc)
    if t.timestamp() * 1000 < since: continue
    total += float(m.group(3)) * {'us': 0.001, 'ms': 1, 's': 1000}[m.group(4)]
print(int(total))" "$1"
}

start_node alpha
start_node beta
wait_for 120 has_owner || fail "web did not start"
wait_for 60 peer_up alpha && wait_for 60 peer_up beta || fail "the nodes do not see each other"
sleep 2
say "relocate: io_timeout ${IO_TIMEOUT_MS} ms, $RUNS relocations of web"
for ((run = 1; run <= RUNS; run++)); do
  from=$(web_owner); to=alpha; [ "$from" = alpha ] && to=beta
  t0=$(now_ms)
  "$CASTOR" relocate web --to "$to" --wait=60 --socket "$dir/$from/svcmgr.sock" >/dev/null || { say "run $run: relocate failed"; continue; }
  t1=$(now_ms)
  sleep 0.5
  # The CLI returns when the source's svcmgr shows the service "started" on the target, and it shows a
  # service the peer owns as started as soon as the peer's entry says owned: the target may still be
  # running its start actions. So "done" is the target's own log line "to=started".
  t_started=$(log_ms "$dir/$to-svcmgr.log" "$t0" 'service state service=web .*to=started')
  [ -n "$t_started" ] || t_started=$t1
  done_at=$(( t_started > t1 ? t_started : t1 ))
  agents=$(agents_ms "$t0")
  say "run $run: $from -> $to: the CLI returned after $((t1 - t0)) ms, web started on $to after $((t_started - t0)) ms; agents $agents ms; Castor $((done_at - t0 - agents)) ms"
  record relocate "\"io_timeout_ms\": $IO_TIMEOUT_MS, \"service\": \"web\", \"run\": $run, \"cli_ms\": $((t1 - t0)), \"total_ms\": $((done_at - t0)), \"agents_ms\": $agents, \"castor_ms\": $((done_at - t0 - agents)), \"cli_early_ms\": $((t_started - t1))"
  sleep 1
done
mkdir -p "$BENCH_OUT/logs/relocate" && cp "$dir"/*-svcmgr.log "$BENCH_OUT/logs/relocate/" 2>/dev/null
