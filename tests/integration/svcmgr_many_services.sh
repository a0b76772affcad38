#!/bin/bash
# svcmgr with services in more than one service-table block (issue 12, item 1): two nodes (each quorumd +
# svcmgr in its own process group and mount namespace, like two hosts; one backing file seen through one
# loop device per node; io_timeout 200 ms), 40 light exec services preferred on node a — 31 entries fit in
# a 4096-byte table block, so each node's entries fill blocks 0 and 1. Each service appends
# "start|stop NODE EPOCH" to its own ledger outside the nodes and keeps a marker file while it runs.
# Shows: a crash of a (its quorumd, svcmgr and services killed) moves all 40 to b; when a comes back it
# leaves every one on b (failback = no) — the old code read only block 0 of the peer's table, so the 9
# entries of b in block 1 looked free and a started those services a second time; a relocation to a of
# all 40, asked on a (the requests travel in a's entries, 9 of them in block 1), moves every one; no
# ledger ever shows two nodes running a service, and epochs grow.
# Then (issue 12, item 10) service files removed while svcmgr was down: one is stopped with the saved copy
# of its definition and released; one without a saved copy stays up, shown as orphaned, until the admin
# stopped it by hand and ran `castor reset`. Before that (items 2 and 3), garbage over one of a's table
# blocks: b shows those services' peer side as "unknown (corrupt record at block 1)" and starts none of
# them; a then crashes with its epoch record garbled too: b takes none of them (no new epoch without a's
# floor, not even over a decoded entry) until a is back.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
N=40

LOG_TAIL=30
die() { show_logs; [ -n "${KEEP_LOGS:-}" ] && cp -r "$dir" "$KEEP_LOGS"; fail "$*"; }

dev_a=$(new_disk_loop) || die losetup; register_loop "$dev_a"
dev_b=$(new_disk_loop) || die losetup; register_loop "$dev_b"
expect_exit 0 "$CASTOR" init "$dev_a" --cluster many --nodes a,b --io-timeout 200
mkdir -p "$dir/ledger" "$dir/state"

for n in a b; do
  dev_var=dev_$n; node_ini $n "${!dev_var}"
  for ((i = 1; i <= N; i++)); do
    s=$(printf 's%02d' "$i")
    cat >"$dir/$n-services/$s.ini" <<EOI
[service]
name = $s
nodes = a, b
monitor_interval = 1s
start_timeout = 5s
stop_timeout = 5s

[resource r]
agent = exec
shell = yes
start = echo "start \$CASTOR_NODE \$CASTOR_EPOCH" >> $dir/ledger/$s && touch $dir/state/$s-\$CASTOR_NODE
stop = echo "stop \$CASTOR_NODE \$CASTOR_EPOCH" >> $dir/ledger/$s; rm -f $dir/state/$s-\$CASTOR_NODE
monitor = test -e $dir/state/$s-\$CASTOR_NODE || exit 7
EOI
  done
done
"$CASTOR" check "$dir/a-services" --nodes a,b >/dev/null || die "the test's own service files do not check"

node_script
# count NODE STATE OWNER: how many services node NODE's svcmgr reports in STATE on OWNER
count() {
  "$CASTOR" status --json --socket "$dir/$1-q.sock" --svcmgr-socket "$dir/$1-s.sock" 2>/dev/null | python3 -c "import json,sys
d=json.load(sys.stdin)
print(sum(1 for s in d.get('services',{}).get('services',[]) if s['state']=='$2' and s['owner']=='$3'))" 2>/dev/null || echo 0
}
wait_count() {  # wait_count SECONDS NODE STATE OWNER
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    [ "$(count "$2" "$3" "$4")" = "$N" ] && return 0
    sleep 0.2
  done
  return 1
}
both_running() {  # prints the services with a marker on both nodes
  local i s
  for ((i = 1; i <= N; i++)); do
    s=$(printf 's%02d' "$i")
    [ -e "$dir/state/$s-a" ] && [ -e "$dir/state/$s-b" ] && echo "$s"
  done
}
check_ledgers() {  # per service: intervals never overlap; a new owner always has a larger epoch
  python3 - "$dir/ledger" <<'EOP' || die "a ledger shows two nodes running a service, or a reused epoch"
import os, sys
bad, lines = [], 0
for name in sorted(os.listdir(sys.argv[1])):
    running, last_epoch, last_node = None, 0, None
    for n, line in enumerate(open(os.path.join(sys.argv[1], name)), 1):
        lines += 1
        kind, node, epoch = line.split()
        epoch = int(epoch)
        if kind == 'start':
            if running is not None:
                bad.append('%s:%d: %s starts epoch %d while %s still runs epoch %d' % (name, n, node, epoch, *running))
            elif epoch < last_epoch or (epoch == last_epoch and node != last_node):
                bad.append('%s:%d: %s starts with epoch %d, not above %d of %s' % (name, n, node, epoch, last_epoch, last_node))
            running, last_epoch, last_node = (node, epoch), epoch, node
        else:
            # A stop by the runner; a stop without an epoch (0: svcmgr's start-up stop of what its probe found
            # running) by the node that runs it; or a repeated stop by the owner that just stopped (idempotent).
            if running == (node, epoch) or (epoch == 0 and running is not None and running[0] == node):
                pass
            elif not (running is None and (node in (last_node, None)) and epoch in (last_epoch, 0)):
                bad.append('%s:%d: %s stops epoch %d but the runner is %s' % (name, n, node, epoch, running))
            running = None
if bad:
    print('\n'.join(bad))
    sys.exit(1)
print('ledgers: %d services, %d lines, no overlap, epochs increasing' % (len(os.listdir(sys.argv[1])), lines))
EOP
}

say "start both nodes: all $N services start on a (preferred); a's entries fill table blocks 0 and 1"
start_node a
sleep 0.5
start_node b
wait_count 60 a started a || die "not all services started on a: $(count a started a) of $N"
wait_count 10 b started a || die "b does not see all services on a: $(count b started a) of $N"
check_ledgers

crash_a() {  # kill -9 of node a's process group; its host is gone with its services: their intervals end now
  local i s last
  kill -KILL -"$PID_a"
  wait "$PID_a" 2>/dev/null
  for ((i = 1; i <= N; i++)); do
    s=$(printf 's%02d' "$i")
    last=$(tail -1 "$dir/ledger/$s")
    set -- $last
    [ "$1" = start ] && [ "$2" = a ] && echo "stop a $3" >>"$dir/ledger/$s"
    rm -f "$dir/state/$s-a"
  done
}

say "crash of a (quorumd, svcmgr, services): b takes all $N"
crash_a
wait_count 30 b started b || die "b did not take all services: $(count b started b) of $N"
check_ledgers

say "restart a: it must leave all $N on b (b's entries in block 1 included), none may run twice"
start_node a
end=$((SECONDS + 8))
twice=""
while ((SECONDS < end)); do
  twice=$(both_running)
  [ -n "$twice" ] && break
  sleep 0.1
done
[ -z "$twice" ] || die "services run on both nodes after a came back: $(echo $twice)"
wait_count 10 a started b || die "a does not see every service on b: $(count a started b) of $N"
[ -z "$(both_running)" ] || die "services run on both nodes: $(both_running | tr '\n' ' ')"
check_ledgers
"$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock" | tail -12

relocate_all_to_a() {
  local i
  for ((i = 1; i <= N; i++)); do
    "$CASTOR" relocate "$(printf 's%02d' "$i")" --to a --socket "$dir/a-s.sock" >/dev/null || die "relocate s$i refused"
  done
  wait_count 60 a started a || die "not every relocation was seen: $(count a started a) of $N on a"
  wait_count 10 b started a || die "b does not see every service on a: $(count b started a) of $N"
  [ -z "$(both_running)" ] || die "services run on both nodes: $(both_running | tr '\n' ' ')"
  check_ledgers
}

say "relocate all $N to a, asked on a (the requests travel in a's entries, blocks 0 and 1)"
relocate_all_to_a

say "garbage over a's table block 1 (its 9 last entries) while a runs all $N: b says unknown, starts none of them"
# Region of node 1 = blocks 16..79 of 4096 bytes; its table starts at region block 2: table block 1 = block 19.
dd if=/dev/urandom of="$dir/lun.img" bs=4096 seek=19 count=1 conv=notrunc,fsync status=none || die "dd"
unknown_count() {
  "$CASTOR" status --json --socket "$dir/b-q.sock" --svcmgr-socket "$dir/b-s.sock" 2>/dev/null | python3 -c "import json,sys
d=json.load(sys.stdin)
print(sum(1 for s in d.get('services',{}).get('services',[]) if s.get('peer_entry')=='unknown (corrupt record at block 1)'))" 2>/dev/null || echo 0
}
for ((i = 0; i < 50; i++)); do [ "$(unknown_count)" = 9 ] && break; sleep 0.1; done
[ "$(unknown_count)" = 9 ] || die "b does not show the 9 entries of a's corrupt block as unknown: $(unknown_count)"
OUT=$("$CASTOR" status --socket "$dir/b-q.sock" --svcmgr-socket "$dir/b-s.sock")
echo "$OUT" | grep -m2 "unknown (corrupt record at block 1)" || die "castor status does not say unknown: $OUT"
sleep 1.5  # longer than the dead time
[ -z "$(ls "$dir"/state/*-b 2>/dev/null)" ] || die "b started services while a's block was corrupt: $(ls "$dir"/state/*-b)"
[ "$(count a started a)" = "$N" ] || die "a stopped services: $(count a started a) of $N still started"

say "a crashes with its epoch record garbled too: b takes none of its $N services while a's floor is unknown"
# Node 1's epoch record is region block 1 = block 17. Without a's floor nothing bounds the epochs a may
# have granted (a decoded entry may have been rewritten low after its block was lost): b takes no new epoch
# from such a read, for an unknown entry or a decoded one; it waits until a's floor reads again.
dd if=/dev/urandom of="$dir/lun.img" bs=4096 seek=17 count=1 conv=notrunc,fsync status=none || die "dd"
crash_a
sleep 3  # well past the dead time (D = 1.2 s) and several table reads
[ "$(count b started b)" = 0 ] || die "b took services while a's epoch record does not decode: $(count b started b)"
[ -z "$(ls "$dir"/state/*-b 2>/dev/null)" ] || die "b started services without a's floor: $(ls "$dir"/state/*-b)"
[ "$(unknown_count)" = 9 ] || die "b does not show the 9 entries as unknown: $(unknown_count)"
check_ledgers

say "a comes back (its damaged blocks rewritten, the 9 entries gone): all $N run again, each on one node"
# The 9 start on a (preferred) — or on b, if b reads a's rewritten, empty block before it sees a's new
# heartbeat: a's entries then say "no entry", which is free. Either way above every floor, never twice.
start_node a
end=$((SECONDS + 30))
while ((SECONDS < end)); do
  [ $(($(count a started a) + $(count a started b))) = "$N" ] && break
  [ -n "$(both_running)" ] && break
  sleep 0.2
done
[ -z "$(both_running)" ] || die "services run on both nodes: $(both_running | tr '\n' ' ')"
[ $(($(count a started a) + $(count a started b))) = "$N" ] ||
  die "not all run again: a runs $(count a started a), b runs $(count a started b)"
check_ledgers
relocate_all_to_a

restart_svcmgr_a() {  # svcmgr of a alone is killed and started again (its quorumd and services stay)
  kill -KILL "$(cat "$dir/a-svcmgr.pid")"
  sleep 0.3
  "$@"
  setsid "$SVCMGR" --config "$dir/a.ini" >>"$dir/a-svcmgr.log" 2>&1 &
  echo $! >"$dir/a-svcmgr.pid"; register_pid "$!"
}
ledger_last() { tail -1 "$dir/ledger/$1"; }

say "s01's file removed while a's svcmgr is down: a stops it with the saved copy of its definition and releases it"
[ -e "$dir/a-state/definitions/a/s01.ini" ] || die "no saved copy of s01's definition under $dir/a-state"
restart_svcmgr_a rm "$dir/a-services/s01.ini"
for ((i = 0; i < 100; i++)); do [ ! -e "$dir/state/s01-a" ] && [ "$(field b s01 owner)" = "" ] && break; sleep 0.1; done
[ -e "$dir/state/s01-a" ] && die "s01 still runs on a: its stop did not run"
[ "$(field b s01 owner)" = "" ] || die "b still sees s01 owned by $(field b s01 owner)"
case $(ledger_last s01) in "stop a "*) ;; *) die "s01's ledger does not end with a's stop: $(ledger_last s01)" ;; esac
grep -q "stopping it with the saved copy" "$dir/a-svcmgr.log" || die "the stop from the saved copy is not logged"
wait_field 50 a s01 name "" || die "a still lists s01"
[ -e "$dir/a-state/definitions/a/s01.ini" ] && die "the saved copy of s01 was kept after it was released"

say "s02's file and its saved copy removed while a's svcmgr is down: its entry stays up, status says orphaned"
restart_svcmgr_a rm "$dir/a-services/s02.ini" "$dir/a-state/definitions/a/s02.ini"
wait_field 100 a s02 state orphaned || die "s02 is not shown orphaned on a: '$(field a s02 state)'"
OUT=$("$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock")
echo "$OUT" | grep s02
echo "$OUT" | grep -q 'orphaned: definition removed; stop it by hand, then `castor reset s02`' || die "status does not say what to do"
sleep 1.5  # longer than the dead time: nothing may change meanwhile
[ -e "$dir/state/s02-a" ] || die "s02 was stopped (without a definition?)"
[ "$(field b s02 owner)" = a ] || die "b does not see s02 still owned by a: '$(field b s02 owner)'"
[ ! -e "$dir/state/s02-b" ] || die "b started s02 while a may still run it"
expect_exit 4 "$CASTOR" relocate s02 --to b --socket "$dir/a-s.sock"
# The admin stops it by hand, then tells svcmgr.
epoch=$(ledger_last s02 | awk '{print $3}')
echo "stop a $epoch" >>"$dir/ledger/s02"; rm -f "$dir/state/s02-a"
expect_exit 0 "$CASTOR" reset s02 --socket "$dir/a-s.sock"
for ((i = 0; i < 100; i++)); do [ "$(field b s02 owner)" = "" ] && [ "$(field a s02 name)" = "" ] && break; sleep 0.1; done
[ "$(field b s02 owner)" = "" ] || die "b still sees s02 owned by $(field b s02 owner) after the reset"
[ "$(field a s02 name)" = "" ] || die "a still lists s02 after the reset"
[ -z "$(both_running)" ] || die "services run on both nodes: $(both_running | tr '\n' ' ')"
check_ledgers

echo "[castor] $N services over 2 table blocks: crash, take-over, return and relocation without a double start"
echo "all svcmgr many-services checks passed"
