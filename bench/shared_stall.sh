#!/bin/bash
# Shared storage stall ridden through (issue 15): on the harness cluster (tests/cluster/harness.sh, the LAN
# channel on both links, max_storage_stall_s LAN_MAX_STALL_S, default 120) at IO_TIMEOUT_MS (default 2000),
# both nodes' quorum-disk paths stall at once (both FUSE daemons SIGSTOPped) for S seconds, for each S in
# STALL_SECONDS (default "10 30 60 90"), in order, the LAN up, the client probing web all along. After each
# stall and 3 T more: the fences (FENCED in either quorumd log), the resets (a stand-in watchdog fired), the
# svcmgr kills (a svcmgr that killed every service itself, its lease as quorumd last told it having run
# out), the lease-at-risk stops (svcmgr stopped every service), the client's longest outage and whether web
# still ran where it did. Stops at the first stall that fenced or reset a node. Records stall_ride per stall
# and stall_ride_summary: the longest stall with 0 fences and 0 resets (the issue's "ridden through with 0
# resets"), and the longest with the services untouched as well (no svcmgr kill, no risk stop).
. "$(dirname "$0")/lib.sh"
export IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-2000} LAN=1
STALLS=${STALL_SECONDS:-10 30 60 90}; STALLS=${STALLS//,/ }
. "$ROOT/tests/cluster/harness.sh"
cluster_setup >"$BENCH_OUT/shared_stall-setup.log" 2>&1
T=$IO_TIMEOUT_MS

wait_for() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.2; done; }
web_owner() { local o; o=$(owner alpha); [ -n "$o" ] || o=$(owner beta); echo "$o"; }
ready() {  # web runs, both nodes see each other UP and both LAN links up
  [ -n "$(web_owner)" ] && [ "$(qstatus alpha "d['peer']['view']")" = UP ] && [ "$(qstatus beta "d['peer']['view']")" = UP ] &&
    [ "$(lan_links_up alpha)" = 2 ] && [ "$(lan_links_up beta)" = 2 ]
}
count() { cat "$dir"/alpha-$1 "$dir"/beta-$1 2>/dev/null | grep -c "$2"; }
mono_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
longest_outage() {  # longest_outage FROM_MS: the longest run of failed probes since then (probe.log, monotonic ms)
  python3 - "$dir/probe.log" "$1" <<'EOP'
import sys
longest, start = 0, None
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) != 2 or int(p[0]) < int(sys.argv[2]):
        continue
    if p[1] != 'ok' and start is None:
        start = int(p[0])
    elif p[1] == 'ok' and start is not None:
        longest, start = max(longest, int(p[0]) - start), None
print(longest if start is None else -1)
EOP
}

start_node alpha
start_node beta
ip netns exec "$NS_C" python3 "$ROOT/tests/cluster/http_probe.py" --url "http://$VIP/" --out "$dir/probe.log" &
track_pid "$!"
wait_for 180 ready || fail "the cluster did not come up with both LAN links"
say "shared stall: io_timeout $T ms, max_storage_stall ${LAN_MAX_STALL_S} s, stalls of $STALLS s"
best=0 untouched=0 touched_seen="" first_bad=""
for S in $STALLS; do
  wait_for 120 ready || fail "the cluster is not ready before the stall of $S s"
  sleep $(( (2 * T + 999) / 1000 ))
  web0=$(web_owner) f0=$(count quorumd.log 'FENCED:') r0=$(count watchdog.out 'watchdog fired')
  k0=$(count svcmgr.log 'every service is killed') s0=$(count svcmgr.log 'stopping every service reason="lease at risk') t0=$(mono_ms)
  stall_both
  sleep "$S"
  unstall_both
  sleep "$(( (3 * T + 999) / 1000 ))"
  fences=$(( $(count quorumd.log 'FENCED:') - f0 )) resets=$(( $(count watchdog.out 'watchdog fired') - r0 ))
  kills=$(( $(count svcmgr.log 'every service is killed') - k0 ))
  stops=$(( $(count svcmgr.log 'stopping every service reason="lease at risk') - s0 ))
  outage=$(longest_outage "$t0") web1=$(web_owner)
  moved=false; [ "$web1" = "$web0" ] || moved=true
  say "  stall $S s: $fences fences, $resets resets, $kills svcmgr kills, $stops risk stops, client's longest outage $outage ms, web $web0 -> ${web1:-nowhere}"
  record stall_ride "\"io_timeout_ms\": $T, \"stall_s\": $S, \"fences\": $fences, \"resets\": $resets, \"svc_kills\": $kills, \"risk_stops\": $stops, \"outage_ms\": $outage, \"web_moved\": $moved, \"max_storage_stall_s\": $LAN_MAX_STALL_S"
  [ "$fences" = 0 ] && [ "$resets" = 0 ] || { first_bad=$S; break; }
  best=$S
  if [ "$kills" = 0 ] && [ "$stops" = 0 ]; then [ -z "$touched_seen" ] && untouched=$S; else touched_seen=1; fi
done
say "  => longest shared stall ridden through with 0 fences and 0 resets: $best s${first_bad:+ (not the stall of $first_bad s)}; with the services untouched too: $untouched s"
record stall_ride_summary "\"io_timeout_ms\": $T, \"max_ridden_s\": $best, \"max_untouched_s\": $untouched, \"first_fenced_s\": ${first_bad:-null}, \"max_storage_stall_s\": $LAN_MAX_STALL_S"
mkdir -p "$BENCH_OUT/logs/shared_stall-$T" && cp "$dir"/*.log "$dir"/*.out "$BENCH_OUT/logs/shared_stall-$T/" 2>/dev/null
exit 0
