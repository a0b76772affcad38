#!/bin/bash
# Alerts of a set of quorum devices (issues 20 and 17): two real nodes (quorumd and svcmgr, io_timeout 200 ms)
# on three loop devices, castor.ini's [alert file] running Pacemaker's alert_file.sh.sample unchanged.
# Member 2 made read-only (blockdev --setro) for 2 s: each node's svcmgr reports castor-quorum-device-2 'lost'
# (quorumd's device_changed event: the member fails, the set runs without redundancy) and then 'ok' once it
# takes writes again; members 0 and 1 are never reported; nothing else happens (no fence, no failover). The
# set's metrics (castor status --prometheus: each member up, member 2's failed writes counted) pass promtool.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
SAMPLE=/usr/share/pacemaker/alerts/alert_file.sh.sample
[ -x "$SAMPLE" ] || skip "$SAMPLE missing (Debian: pacemaker-common, from pacemaker-cli-utils)"
make_scratch; dir=$SCRATCH
LOG_TAIL=25

for i in 0 1 2; do mkdir -p "$dir/m$i"; d=$(new_loop "$dir/m$i/q.img" 8) || die losetup; register_loop "$d"; eval "Q$i=$d"; done
expect_exit 0 "$CASTOR" init "$Q0" "$Q1" "$Q2" --cluster alertset --nodes a,b --io-timeout 200
register_undo "blockdev --setrw $Q2 2>/dev/null"
for n in a b; do
  node_ini "$n" "$Q0 $Q1 $Q2"
  printf '\n[alert file]\nprogram = %s\nrecipient = %s\nkinds = quorum, node\n' "$SAMPLE" "$dir/$n-alerts.log" >>"$dir/$n.ini"
done
start_daemons a QA SA; start_daemons b QB SB
wait_lease a 50 && wait_lease b 50 || die "the nodes did not get their leases"
# The node locks of this cluster's set (/run/castor/quorumd.UUID.node-N.lock) go at the end.
lifefile=$(ls "$dir"/a-qstate/life.*.node-1 2>/dev/null) && { uuid=${lifefile##*/life.}; uuid=${uuid%.node-1};
  register_undo "rm -f /run/castor/quorumd.$uuid.node-1.lock /run/castor/quorumd.$uuid.node-2.lock"; }
for n in a b; do
  for ((i = 0; i < 50; i++)); do grep -q "is now 'member'" "$dir/$n-alerts.log" 2>/dev/null && break; sleep 0.1; done
done

seen() {  # seen NODE TEXT: NODE's alert log has TEXT within 10 s
  local i
  for ((i = 0; i < 100; i++)); do grep -qF "$2" "$dir/$1-alerts.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "--- $1-alerts.log:"; cat "$dir/$1-alerts.log" 2>/dev/null
  die "no alert on $1 says: $2"
}
say "member 2 read-only for 2 s: castor-quorum-device-2 lost, then ok, on both nodes"
blockdev --setro "$Q2" || die "setro"
for n in a b; do seen "$n" "Attribute 'castor-quorum-device-2' on node '$n' was updated to 'lost'"; done
sleep 2
blockdev --setrw "$Q2"
for n in a b; do seen "$n" "Attribute 'castor-quorum-device-2' on node '$n' was updated to 'ok'"; done
# The metrics of a set (the device series), checked by Prometheus's linter, with member 2 back.
if command -v promtool >/dev/null; then
  "$CASTOR" status --prometheus --config "$dir/a.ini" >"$dir/a.prom" || die "castor status --prometheus exited $?"
  promtool check metrics <"$dir/a.prom" >"$dir/a.lint" 2>&1 || { cat "$dir/a.prom"; die "promtool: $(cat "$dir/a.lint")"; }
  for i in 0 1 2; do grep -q "^castor_quorum_device_up{node=\"a\",device=\"[^\"]*\",index=\"$i\"} 1$" "$dir/a.prom" ||
    die "member $i not up in the metrics: $(grep quorum_device_up "$dir/a.prom")"; done
  grep -q '^castor_quorum_device_io_total{node="a",device="[^"]*",index="2",op="write",result="failed"} [1-9]' "$dir/a.prom" ||
    die "member 2's failed writes not counted: $(grep 'index="2",op="write"' "$dir/a.prom")"
  echo "metrics of the set: promtool clean, $(grep -c '^castor_quorum_device' "$dir/a.prom") device samples"
fi
grep -q "castor-quorum-device-[01]" "$dir"/a-alerts.log "$dir"/b-alerts.log && die "a member that never failed was reported"
grep -q "is now 'lost'" "$dir"/a-alerts.log "$dir"/b-alerts.log && die "a node was reported lost"
grep -q "FENCED" "$dir"/a-quorumd.log "$dir"/b-quorumd.log && die "a node fenced"
for n in a b; do echo "--- $n's alerts:"; cat "$dir/$n-alerts.log"; done
echo "[castor] alerts_devices: a member read-only for 2 s reported lost then ok by both nodes' alert_file.sh.sample; nothing else"
say "pass"
