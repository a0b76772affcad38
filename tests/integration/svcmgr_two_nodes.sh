#!/bin/bash
# svcmgr on the real kernel: two nodes (each quorumd + svcmgr, in its own process group and mount
# namespace so /run/castor-dummy is private to it, like two hosts), one backing file seen through one loop
# device per node. Services: `ledger` (exec resources appending "start|stop NODE EPOCH" to a shared log) and
# `dummy` (the real ocf:heartbeat:Dummy agent). Shows: autostart on the preferred node; relocate and back
# with --wait, the second request issued on the node that does not run it (it travels through the disk);
# intervals in the shared log never overlap and epochs grow; a monitor failure restarts in place, and past
# max_restarts the service relocates; standby of b asked on a (carried in a's heartbeat), and refused once b
# is dead; kill -9 of the owner's whole node moves its services to the peer within
# D + start time; a malformed service file gives a clear error.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || fail "resource-agents is missing (make deps installs it)"
make_scratch; dir=$SCRATCH
D=1200

show_logs() { for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -40 "$f"; }; done; echo "--- ledger"; cat "$dir/ledger" 2>/dev/null; }
die() { show_logs; fail "$*"; }

dev_a=$(new_disk_loop) || die losetup; register_loop "$dev_a"
dev_b=$(new_disk_loop) || die losetup; register_loop "$dev_b"
expect_exit 0 "$CASTOR" init "$dev_a" --cluster svc --nodes a,b --io-timeout 200
mkdir -p "$dir/state" /run/castor-dummy
register_undo "rmdir /run/castor-dummy 2>/dev/null"

for n in a b; do
  dev_var=dev_$n; node_ini $n "${!dev_var}"
  cat >"$dir/$n-services/ledger.ini" <<EOI
[service]
name = ledger
nodes = a, b
max_restarts = 1
restart_window = 60s
monitor_interval = 300ms
monitor_timeout = 2s
stop_timeout = 5s
start_timeout = 5s

[resource log]
agent = exec
shell = yes
start = echo "start \$CASTOR_NODE \$CASTOR_EPOCH" >> $dir/ledger && touch $dir/state/ledger-\$CASTOR_NODE
stop = echo "stop \$CASTOR_NODE \$CASTOR_EPOCH" >> $dir/ledger && rm -f $dir/state/ledger-\$CASTOR_NODE
monitor = test -e $dir/state/ledger-\$CASTOR_NODE || exit 7
EOI
  cat >"$dir/$n-services/stuck.ini" <<EOI
[service]
name = stuck
nodes = a, b
stop_timeout = 500ms

[resource hang]
agent = exec
shell = yes
start = touch $dir/state/stuck-\$CASTOR_NODE
monitor = test -e $dir/state/stuck-\$CASTOR_NODE || exit 7
stop = test -e $dir/state/stuck-hang && test -e $dir/state/stuck-\$CASTOR_NODE && exec /bin/sleep 30; rm -f $dir/state/stuck-\$CASTOR_NODE; exit 0
EOI
  cat >"$dir/$n-services/dummy.ini" <<EOI
[service]
name = dummy
nodes = b, a

[resource d]
agent = ocf:heartbeat:Dummy
param.state = /run/castor-dummy/dummy.state
monitor_interval = 1s
EOI
done
"$CASTOR" check "$dir/a-services" --nodes a,b || die "the test's own service files do not check"

node_script "mount -t tmpfs tmpfs /run/castor-dummy || exit 1"  # a private /run/castor-dummy, like a host's own /run
wait_for() {  # wait_for SECONDS NODE SERVICE STATE OWNER
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    [ "$(field "$2" "$3" state)" = "$4" ] && [ "$(field "$2" "$3" owner)" = "$5" ] && return 0
    sleep 0.1
  done
  return 1
}
check_ledger() {  # intervals never overlap; a new owner always has a larger epoch (a restart in place keeps it)
  python3 - "$dir/ledger" <<'EOP' || die "the ledger shows overlapping owners or a reused epoch"
import sys
running, last_epoch, last_node = None, 0, None
for n, line in enumerate(open(sys.argv[1]), 1):
    kind, node, epoch = line.split()
    epoch = int(epoch)
    if kind == 'start':
        if running is not None:
            sys.exit('line %d: %s starts epoch %d while %s still runs epoch %d' % (n, node, epoch, *running))
        if epoch < last_epoch or (epoch == last_epoch and node != last_node):
            sys.exit('line %d: %s starts with epoch %d, not above %d of %s' % (n, node, epoch, last_epoch, last_node))
        running, last_epoch, last_node = (node, epoch), epoch, node
    else:
        # A stop is idempotent (OCF): the same owner stopping again what it already stopped is fine.
        if running != (node, epoch) and not (running is None and (node, epoch) == (last_node, last_epoch)):
            sys.exit('line %d: %s stops epoch %d but the runner is %s' % (n, node, epoch, running))
        running = None
print('ledger: %d lines, no overlap, epochs increasing' % n)
EOP
}

say "start both nodes: ledger autostarts on a (preferred), dummy on b"
start_node a
start_node b
wait_for 20 a ledger started a || die "ledger did not start on a"
wait_for 20 a dummy started b || die "dummy did not start on b"
"$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock"
[ -e "$dir/state/ledger-a" ] || die "ledger's marker is not there"

say "relocate ledger to b (asked on a, which runs it), then back to a (asked on a, while b runs it)"
"$CASTOR" relocate ledger --to b --wait=20 --socket "$dir/a-s.sock" || die "relocate to b failed"
"$CASTOR" relocate ledger --to a --wait=20 --socket "$dir/a-s.sock" || die "relocate back to a failed"
wait_for 10 b ledger started a || die "b does not see ledger on a"
check_ledger

say "disable dummy (it runs on b; asked on a: the request travels through the disk), then enable it again"
"$CASTOR" disable dummy --wait=20 --socket "$dir/a-s.sock" || die "disable failed"
[ "$(field b dummy state)" = disabled ] || die "b does not see dummy disabled"
[ -e /proc/$PID_b ] || die "b is gone"
OUT=$("$CASTOR" enable dummy --wait=20 --socket "$dir/a-s.sock" --services "$dir/a-services") || die "enable failed: $OUT"
echo "$OUT"
echo "$OUT" | grep -q "validate-all dummy/d: ok" || die "enable did not run the agent's validate-all"
wait_for 10 a dummy started b || die "dummy did not come back on its preferred node b"

say "a monitor failure restarts in place; past max_restarts (1) ledger relocates to b"
rm -f "$dir/state/ledger-a"
for ((i = 0; i < 100; i++)); do [ "$(field a ledger restarts)" = 1 ] && [ "$(field a ledger state)" = started ] && break; sleep 0.1; done
[ "$(field a ledger restarts)" = 1 ] || die "no restart in place after a monitor failure"
[ "$(field a ledger owner)" = a ] || die "ledger moved after the first failure"
rm -f "$dir/state/ledger-a"
wait_for 20 a ledger started b || die "ledger did not relocate after max_restarts"
"$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock"
check_ledger

say "castor reset forgets a's failures of ledger (else a may not run it until restart_window passes)"
expect_exit 0 "$CASTOR" reset ledger --socket "$dir/a-s.sock"

say "standby b: its services move to a; unstandby; then both go back to b with relocate"
"$CASTOR" standby b --wait=20 --socket "$dir/b-s.sock" || die "standby b failed"
wait_for 10 a ledger started a && wait_for 10 a dummy started a || die "services did not move off the standby node"
"$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock"
"$CASTOR" unstandby b --socket "$dir/b-s.sock" || die "unstandby failed"
sleep 0.5
[ "$(field a dummy owner)" = a ] || die "dummy moved back by itself (failback = no)"
"$CASTOR" relocate dummy --to b --wait=20 --socket "$dir/a-s.sock" || die "relocate dummy to b failed"
"$CASTOR" relocate ledger --to b --wait=20 --socket "$dir/a-s.sock" || die "relocate ledger to b failed"
check_ledger

say "standby b asked on a (carried in a's heartbeat): b's services move to a; unstandby b from a too"
expect_exit 4 "$CASTOR" standby nosuch --socket "$dir/a-s.sock"
"$CASTOR" standby b --wait=20 --socket "$dir/a-s.sock" || die "standby b asked on a failed"
[ "$(field a ledger owner)" = a ] && [ "$(field a dummy owner)" = a ] || die "b's services did not move to a"
b_standby=$("$CASTOR" status --json --socket "$dir/b-q.sock" --svcmgr-socket "$dir/b-s.sock" | jq -r .standby)
[ "$b_standby" = true ] || die "b does not say it is in standby ($b_standby)"
grep -q '"standby b".*asked by the peer a' "$dir/b-state/history/b.jsonl" || die "b's history does not say a asked: $(tail -3 "$dir/b-state/history/b.jsonl")"
"$CASTOR" history "$dir/a-state/history" "$dir/b-state/history" --since 1m | grep standby
"$CASTOR" unstandby b --wait=20 --socket "$dir/a-s.sock" || die "unstandby b asked on a failed"
[ "$("$CASTOR" status --json --socket "$dir/b-q.sock" --svcmgr-socket "$dir/b-s.sock" | jq -r .standby)" = false ] || die "b still in standby"
"$CASTOR" relocate dummy --to b --wait=20 --socket "$dir/a-s.sock" || die "relocate dummy to b failed"
"$CASTOR" relocate ledger --to b --wait=20 --socket "$dir/a-s.sock" || die "relocate ledger to b failed"
check_ledger
"$CASTOR" standby a --socket "$dir/a-s.sock" >/dev/null || die "standby a failed"
expect_exit 4 "$CASTOR" standby b --socket "$dir/a-s.sock"   # both in standby would stop every service
echo "$OUT" | grep -q "a is in standby itself" || die "standby of b with a in standby: $OUT"
"$CASTOR" unstandby a --socket "$dir/a-s.sock" >/dev/null || die "unstandby a failed"

say "restart and freeze of a service b runs, asked on a (through the disk)"
before=$(grep -c "start b" "$dir/ledger")
"$CASTOR" restart ledger --wait=20 --socket "$dir/a-s.sock" || die "remote restart failed"
[ "$(grep -c "start b" "$dir/ledger")" -gt "$before" ] || die "b did not restart ledger"
[ "$(field a ledger owner)" = b ] || die "the restart moved ledger"
"$CASTOR" freeze dummy --socket "$dir/a-s.sock" >/dev/null || die "freeze failed"
wait_field 30 b dummy state frozen || die "b does not see dummy frozen"
"$CASTOR" relocate dummy --to a --wait=2 --socket "$dir/a-s.sock" >/dev/null 2>&1
[ "$(field b dummy owner)" = b ] || die "a frozen service moved"
"$CASTOR" unfreeze dummy --socket "$dir/b-s.sock" >/dev/null || die "unfreeze failed"
for ((i = 0; i < 30; i++)); do [ "$(field a dummy state)" != frozen ] && break; sleep 0.1; done
[ "$(field a dummy state)" != frozen ] || die "a still sees dummy frozen"
"$CASTOR" relocate dummy --to b --wait=20 --socket "$dir/a-s.sock" || die "dummy did not settle on b"
check_ledger

say "different definitions on the two nodes: shown in status, and moves are blocked"
cp "$dir/a-services/dummy.ini" "$dir/dummy.ini.good"
printf 'monitor_timeout = 15s\n' >>"$dir/a-services/dummy.ini"   # still valid, but not what b has
kill -HUP "$(cat "$dir/a-svcmgr.pid")"
sleep 1
OUT=$("$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock")
echo "$OUT" | grep -q "different service definitions" || die "the mismatch is not shown: $OUT"
# accepted, pending, and --wait says what it waits for when it gives up
OUT=$("$CASTOR" relocate ledger --to a --wait=3 --socket "$dir/a-s.sock" 2>&1)
rc=$?
[ $rc = 8 ] || die "relocate under different definitions: exit $rc, expected 8: $OUT"
echo "$OUT" | grep -q "pending while the two nodes hold different service definitions" || die "accepted without the reason: $OUT"
echo "$OUT" | grep -q "waiting: the two nodes hold different service definitions" || die "--wait gave up without the reason: $OUT"
[ "$(field a ledger owner)" = b ] || die "ledger moved although the definitions differ"
cp "$dir/dummy.ini.good" "$dir/a-services/dummy.ini"
kill -HUP "$(cat "$dir/a-svcmgr.pid")"
sleep 1
"$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock" | grep -q "different service definitions" &&
  die "the mismatch is still shown after the fix"
# the blocked relocation request was written to the disk; it stands, so ledger now comes to a: send it back
"$CASTOR" relocate ledger --to b --wait=20 --socket "$dir/a-s.sock" || die "relocate ledger to b failed"

say "kill -9 of node b (quorumd, svcmgr and its services): a takes over ledger and dummy"
t0=$(date +%s%N)
kill -KILL -"$PID_b"
rm -f "$dir/state/ledger-b" /run/castor-dummy/dummy.state  # b's host is gone with its state
echo "stop b $(tail -1 "$dir/ledger" | awk '$1=="start"{print $3}')" >>"$dir/ledger"  # b died: its interval ends now
wait_for 20 a ledger started a || die "a did not take over ledger"
t1=$(date +%s%N)
wait_for 20 a dummy started a || die "a did not take over dummy"
ms=$(((t1 - t0) / 1000000))
echo "[castor] kill -9 of the owner: ledger runs on the peer after ${ms} ms (D ${D} ms + start)"
[ "$ms" -le $((D + 2000)) ] || die "take-over took ${ms} ms"
check_ledger
"$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock"
expect_exit 4 "$CASTOR" standby b --socket "$dir/a-s.sock"   # b is dead here: it could not read the request
echo "$OUT" | grep -q "b is not up here (DEAD)" || die "standby of a dead peer: $OUT"

say "a malformed service file: castor check says where (exit 2); svcmgr reloaded with it keeps the old definition, nothing moves"
cp "$dir/a-services/ledger.ini" "$dir/ledger.ini.good"
printf '[service]\nname = ledger\nnodes = a, b\nrecovery = sometimes\n' >"$dir/a-services/ledger.ini"
expect_exit 2 "$CASTOR" check "$dir/a-services" --nodes a,b
echo "$OUT"
echo "$OUT" | grep -q "ledger.ini:4" || die "the error does not name file:line"
epoch=$(field a ledger epoch)
kill -HUP "$(cat "$dir/a-svcmgr.pid")"  # the svcmgr this test started for node a
sleep 1
OUT=$("$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock")
echo "$OUT"
echo "$OUT" | grep -q "definition error: .*ledger.ini:4" || die "status does not show the rejected file"
[ "$(field a ledger state)" = started ] && [ "$(field a ledger owner)" = a ] || die "ledger stopped or moved"
[ "$(field a ledger epoch)" = "$epoch" ] || die "ledger was restarted under a new epoch"
grep -q "old definition stays in force" "$dir/a-svcmgr.log" || die "the reload error is not logged"
cp "$dir/ledger.ini.good" "$dir/a-services/ledger.ini"
say "a lease-at-risk blip on a (its quorumd stopped 420 ms: past F-G = $((4 * D / 12)) ms, short of F = $((6 * D / 12)) ms): its services stop, then run again there"
wait_for 10 a ledger started a || die "ledger does not run on a"
qpid=$(ps -o pid=,comm= -g "$PID_a" | awk '$2=="quorumd"{print $1}')
[ -n "$qpid" ] || die "no quorumd in node a"
risk_before=$(grep -c "lease at risk" "$dir/a-svcmgr.log")
kill -STOP "$qpid"; sleep 0.42; kill -CONT "$qpid"
sleep 0.5
[ "$(grep -c "lease at risk" "$dir/a-svcmgr.log")" -gt "$risk_before" ] || die "the blip did not put the lease at risk"
[ "$(python3 "$(dirname "$0")/../lib/qctl.py" "$dir/a-q.sock" status fences)" = 0 ] || die "a fenced: the blip was too long"
wait_for 10 a ledger started a || die "ledger stayed stopped on a after the lease was renewed"
wait_for 10 a dummy started a || die "dummy stayed stopped on a after the lease was renewed"
wait_for 10 a stuck started a || die "stuck stayed stopped on a after the lease was renewed"
check_ledger

say "a stop that fails makes the node fence itself (the service must never run half-stopped)"
[ "$(field a stuck owner)" = a ] || die "stuck does not run on a"
touch "$dir/state/stuck-hang"  # from now on its stop hangs
"$CASTOR" disable stuck --socket "$dir/a-s.sock" >/dev/null
for ((i = 0; i < 50; i++)); do
  python3 "$(dirname "$0")/../lib/qctl.py" "$dir/a-q.sock" status fences 2>/dev/null | grep -q '^[1-9]' && break
  sleep 0.1
done
python3 "$(dirname "$0")/../lib/qctl.py" "$dir/a-q.sock" status last_fence | grep -q "stop of stuck failed" ||
  die "quorumd did not fence for the failed stop"
sleep 0.5
kill -0 "$(cat "$dir/a-svcmgr.pid")" 2>/dev/null && die "svcmgr kept running on a fenced node"
grep -q "a stop failed: fencing this node" "$dir/a-svcmgr.log" || die "the fence is not logged by svcmgr"
echo "all svcmgr two-node checks passed"
