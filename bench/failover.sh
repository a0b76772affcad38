#!/bin/bash
# Failover, end to end, on the harness cluster (tests/cluster/harness.sh) at one io_timeout (IO_TIMEOUT_MS):
# SIGKILL every process of the node running `web` (kill_node: a power cut, NIC down), and time from the kill
# to the first HTTP reply through the floating IP, as the client sees it. Split from the survivor's logs:
#   detection  kill -> the survivor's quorumd declares the peer DEAD
#   takeover   DEAD -> svcmgr starts web (claim written, peer's entry re-read, owned written)
#   start      web starting -> started (the agents: Filesystem, IPaddr2, the HTTP server)
#   reply      started -> first reply at the client (gratuitous ARP, the client's next attempt)
# Then the killed node is restarted and the next run kills the survivor. Runs: runs_for $IO_TIMEOUT_MS 20.
. "$(dirname "$0")/lib.sh"
IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-200}
RUNS=$(runs_for "$IO_TIMEOUT_MS" 20)
. "$ROOT/tests/cluster/harness.sh"
cluster_setup >"$BENCH_OUT/failover-setup.log" 2>&1

peer_view() {  # peer_view NODE: the peer's view in NODE's quorumd (UP, DEAD, ...)
  status "$1" --json 2>/dev/null | python3 -c "import json,sys
print(json.load(sys.stdin)['peer']['view'])" 2>/dev/null
}
wait_for() {  # wait_for SECONDS COMMAND...: poll every 100 ms
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.1; done
}
web_owner() { local o; o=$(owner alpha); [ -n "$o" ] || o=$(owner beta); echo "$o"; }
has_owner() { [ -n "$(web_owner)" ]; }
both_up() { [ "$(peer_view alpha)" = UP ] && [ "$(peer_view beta)" = UP ]; }

start_node alpha
start_node beta
wait_for 120 has_owner || fail "web did not start"
wait_for 120 both_up || fail "the nodes do not see each other UP"
say "failover: io_timeout ${IO_TIMEOUT_MS} ms, $RUNS runs"

deadline_s=$(( 6 * IO_TIMEOUT_MS / 1000 + 30 ))
for ((run = 1; run <= RUNS; run++)); do
  victim=$(web_owner)
  [ -n "$victim" ] || fail "web runs nowhere before run $run"
  survivor=alpha; [ "$victim" = alpha ] && survivor=beta
  eval "wd=\$WD_$victim vpid=\$PID_$victim"
  sleep 1  # quiet before the kill
  t0=$(now_ms)
  kill_node "$victim"
  kill -KILL "$wd" 2>/dev/null  # its stand-in watchdog goes with the host
  t_reply=$(ip netns exec "$NS_C" python3 "$BENCH_DIR/http_probe.py" "http://$VIP/" 25 "$deadline_s") || t_reply=""
  sleep 0.3  # let the log lines land
  qlog=$dir/$survivor-quorumd.log slog=$dir/$survivor-svcmgr.log
  t_dead=$(log_ms "$qlog" "$t0" 'peer changed .*to=DEAD')
  t_starting=$(log_ms "$slog" "$t0" 'service state service=web .*to=starting')
  t_started=$(log_ms "$slog" "$t0" 'service state service=web .*to=started')
  if [ -z "$t_reply" ]; then
    say "run $run: no reply within ${deadline_s} s"
    record failover "\"io_timeout_ms\": $IO_TIMEOUT_MS, \"run\": $run, \"ok\": false"
  else
    d() { if [ -n "$1" ] && [ -n "$2" ]; then echo $(( $2 - $1 )); else echo null; fi; }
    total=$((t_reply - t0))
    say "run $run: $victim killed; reply from $survivor after $total ms (detect $(d "$t0" "$t_dead"), takeover $(d "$t_dead" "$t_starting"), start $(d "$t_starting" "$t_started"), reply $(d "$t_started" "$t_reply"))"
    record failover "\"io_timeout_ms\": $IO_TIMEOUT_MS, \"run\": $run, \"ok\": true, \"victim\": \"$victim\", \"total_ms\": $total, \"detect_ms\": $(d "$t0" "$t_dead"), \"takeover_ms\": $(d "$t_dead" "$t_starting"), \"start_ms\": $(d "$t_starting" "$t_started"), \"reply_ms\": $(d "$t_started" "$t_reply")"
  fi
  # The killed node comes back; the next run kills whichever node runs web then.
  wait "$vpid" "$wd" 2>/dev/null
  start_node "$victim"
  wait_for $((deadline_s + 30)) both_up || fail "$victim did not rejoin"
  wait_for $((deadline_s + 30)) has_owner || fail "web runs nowhere after run $run"
done
mkdir -p "$BENCH_OUT/logs/failover-$IO_TIMEOUT_MS" && cp "$dir"/*.log "$BENCH_OUT/logs/failover-$IO_TIMEOUT_MS/" 2>/dev/null
