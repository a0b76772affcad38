#!/bin/bash
# castor status --prometheus (issue 20): the metrics of two real nodes (quorumd and svcmgr on a loop device,
# io_timeout 200 ms) with one service, checked by Prometheus's own linter (`promtool check metrics`, from
# Debian's prometheus package) and by their values: the service started on one node with its owner, epoch
# and start duration, the heartbeat write histogram counting writes, the peer UP; then svcmgr and quorumd of
# one node stopped in turn: castor_svcmgr_up and castor_quorumd_up say 0 and the command still exits 0 with
# valid metrics (what node_exporter's textfile collector needs), never a reading of the disk in their place.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
command -v promtool >/dev/null || skip "promtool missing (Debian: prometheus)"
command -v python3 >/dev/null || skip "python3 missing"
make_scratch; dir=$SCRATCH
LOG_TAIL=25

dev=$(new_disk_loop) || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster metrics --nodes a,b --io-timeout 200
mkdir -p "$dir/state"
node_ini a "$dev"; node_ini b "$dev"
for n in a b; do
  exec_service "$n" web "sleep 0.2; touch $dir/state/web-\$CASTOR_NODE" "rm -f $dir/state/web-\$CASTOR_NODE" \
    "test -e $dir/state/web-\$CASTOR_NODE || exit 7"
done

# metrics NODE: castor status --prometheus on NODE into $dir/NODE.prom (exit status checked: 0)
metrics() {
  "$CASTOR" status --prometheus --config "$dir/$1.ini" >"$dir/$1.prom" 2>"$dir/$1.prom.err" ||
    die "castor status --prometheus on $1 exited $?: $(cat "$dir/$1.prom.err")"
}
# lint NODE: promtool check metrics on NODE's last metrics
lint() {
  promtool check metrics <"$dir/$1.prom" >"$dir/$1.lint" 2>&1 || { cat "$dir/$1.prom"; die "promtool on $1: $(cat "$dir/$1.lint")"; }
}
# value NODE SERIES: the value of the one sample whose name and labels are exactly SERIES ("" when absent)
value() { awk -v s="$2" '$1 == s { print $2 }' "$dir/$1.prom"; }
expect() {  # expect NODE SERIES VALUE
  local v
  v=$(value "$1" "$2")
  [ "$v" = "$3" ] || { cat "$dir/$1.prom"; die "on $1: $2 is '$v', expected '$3'"; }
}

say "a and b up, web starts on one of them"
start_daemons a QA SA; start_daemons b QB SB
for ((i = 0; i < 300; i++)); do ls "$dir"/state/web-* >/dev/null 2>&1 && break; sleep 0.1; done
owner=$(ls "$dir"/state/ 2>/dev/null | sed -n 's/^web-//p' | head -1)
[ -n "$owner" ] || die "web did not start"
wait_field 50 "$owner" web state started || die "web not reported started on $owner"
other=$([ "$owner" = a ] && echo b || echo a)
sleep 0.5  # a few more heartbeats, and the peer's view of the service
for n in a b; do
  metrics "$n"; lint "$n"
  expect "$n" "castor_quorumd_up{node=\"$n\"}" 1
  expect "$n" "castor_svcmgr_up{node=\"$n\"}" 1
  expect "$n" "castor_lease_valid{node=\"$n\"}" 1
  expect "$n" "castor_peer_view{node=\"$n\",peer=\"$([ "$n" = a ] && echo b || echo a)\",view=\"UP\"}" 1
  expect "$n" "castor_service_state{node=\"$n\",service=\"web\",state=\"started\"}" 1
  expect "$n" "castor_service_owner_info{node=\"$n\",service=\"web\",owner=\"$owner\"}" 1
  expect "$n" "castor_timing_seconds{node=\"$n\",parameter=\"io_timeout\"}" 0.2
  writes=$(value "$n" "castor_heartbeat_write_latency_seconds_count{node=\"$n\"}")
  inf=$(value "$n" "castor_heartbeat_write_latency_seconds_bucket{node=\"$n\",le=\"+Inf\"}")
  [ -n "$writes" ] && [ "$writes" -ge 3 ] || die "$n: heartbeat writes counted: '$writes'"
  [ "$inf" = "$writes" ] || die "$n: the +Inf bucket ($inf) is not the count ($writes)"
  echo "$n: $(grep -c -v '^#' "$dir/$n.prom") samples, promtool clean, $writes heartbeat writes in the histogram"
done
epoch=$(value "$owner" "castor_service_epoch{node=\"$owner\",service=\"web\"}")
[ -n "$epoch" ] && [ "$epoch" -ge 1 ] || die "web's epoch on $owner: '$epoch'"
expect "$other" "castor_service_epoch{node=\"$other\",service=\"web\"}" "$epoch"
took=$(value "$owner" "castor_service_last_start_duration_seconds{node=\"$owner\",service=\"web\"}")
python3 -c "import sys; sys.exit(0 if 0.2 <= float('$took') < 10 else 1)" 2>/dev/null ||
  die "web's last start duration on $owner: '$took' (its start sleeps 0.2 s)"
echo "web on $owner, epoch $epoch, started in $took s"

say "svcmgr of $other stopped: castor_svcmgr_up 0, still exit 0 and promtool clean"
sv_other=$([ "$other" = a ] && echo "$SA" || echo "$SB")
kill -TERM "$sv_other"; wait "$sv_other" 2>/dev/null
metrics "$other"; lint "$other"
expect "$other" "castor_svcmgr_up{node=\"$other\"}" 0
expect "$other" "castor_quorumd_up{node=\"$other\"}" 1
grep -q '^castor_service_' "$dir/$other.prom" && die "service series without svcmgr"

say "quorumd of $other stopped too: castor_quorumd_up 0, the node named from its config"
q_other=$([ "$other" = a ] && echo "$QA" || echo "$QB")
kill -TERM "$q_other"; wait "$q_other" 2>/dev/null
metrics "$other"; lint "$other"
expect "$other" "castor_quorumd_up{node=\"$other\"}" 0
expect "$other" "castor_svcmgr_up{node=\"$other\"}" 0
grep -q "quorumd is not running here" "$dir/$other.prom.err" || die "no reason on stderr: $(cat "$dir/$other.prom.err")"
[ "$(grep -c -v '^#' "$dir/$other.prom")" = 2 ] || die "more than the two up series: $(cat "$dir/$other.prom")"

say "the owner sees its peer DOWN after the clean leave"
for ((i = 0; i < 30; i++)); do
  metrics "$owner"
  [ "$(value "$owner" "castor_peer_view{node=\"$owner\",peer=\"$other\",view=\"DOWN\"}")" = 1 ] && break
  sleep 0.1
done
lint "$owner"
expect "$owner" "castor_peer_view{node=\"$owner\",peer=\"$other\",view=\"DOWN\"}" 1
expect "$owner" "castor_peer_view{node=\"$owner\",peer=\"$other\",view=\"UP\"}" 0
expect "$owner" "castor_service_state{node=\"$owner\",service=\"web\",state=\"started\"}" 1
expect "$owner" "castor_service_last_stop_duration_seconds{node=\"$owner\",service=\"web\"}" ""
echo "[castor] metrics: promtool clean on both nodes; a daemon down is castor_*_up 0 with exit 0"
say "pass"
