#!/bin/bash
# castor relocate --wait returns when the service is *started* on its target (issue 19), asked on either
# node: two real nodes (quorumd and svcmgr on a loop device, io_timeout 200 ms) and `slow`, an exec service
# whose start takes 1.5 s and ends by writing its state file. The target's heartbeat carries which of its
# claims are started (HeartbeatRecord::started_mark); before it did, the source's svcmgr reported the
# service started as soon as the target's entry said owned, and --wait returned while the start still ran.
# Checked each way: when --wait returns, the state file is there and the target's own svcmgr says started;
# meanwhile the source's status showed it starting on the target.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=25

dev=$(new_disk_loop) || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster rwait --nodes a,b --io-timeout 200
mkdir -p "$dir/state"
for n in a b; do
  node_ini "$n" "$dev"
  exec_service "$n" slow "sleep 1.5; touch $dir/state/slow-\$CASTOR_NODE" "rm -f $dir/state/slow-\$CASTOR_NODE" \
    "test -e $dir/state/slow-\$CASTOR_NODE || exit 7"
  # picky cannot start on b: a relocation to b comes back to a
  exec_service "$n" picky "test \$CASTOR_NODE = a || { echo 'ocf-exit-reason:not on b'; exit 1; }; touch $dir/state/picky-\$CASTOR_NODE" \
    "rm -f $dir/state/picky-\$CASTOR_NODE" "test -e $dir/state/picky-\$CASTOR_NODE || exit 7"
done

say "a and b up; slow starts on a (its preferred node)"
start_daemons a QA SA; start_daemons b QB SB
wait_field 100 a slow owner a && wait_field 50 a slow state started || die "slow did not start on a"

move() {  # move TARGET ASKED-ON: relocate with --wait, then check the target really runs it
  local to=$1 on=$2 from seen_starting=0
  from=$([ "$to" = a ] && echo b || echo a)
  ( for ((i = 0; i < 60; i++)); do
      [ "$(field "$from" slow state)" = starting ] && [ "$(field "$from" slow owner)" = "$to" ] && { echo seen; break; }
      sleep 0.05
    done >"$dir/watch-$to" ) &
  local watcher=$! t0 t1
  t0=$(date +%s%N)
  "$CASTOR" relocate slow --to "$to" --wait=30 --socket "$dir/$on-s.sock" >"$dir/relocate.out" 2>&1 ||
    die "relocate slow --to $to (asked on $on): $(cat "$dir/relocate.out")"
  t1=$(date +%s%N)
  [ -e "$dir/state/slow-$to" ] || die "--wait returned before slow's start on $to finished (no state file)"
  [ "$(field "$to" slow state)" = started ] || die "$to's own svcmgr says slow is $(field "$to" slow state)"
  wait "$watcher"
  [ -s "$dir/watch-$to" ] && seen_starting=1
  [ "$seen_starting" = 1 ] || die "$from never showed slow starting on $to (the start takes 1.5 s)"
  echo "relocate slow -> $to asked on $on: --wait returned after $(((t1 - t0) / 1000000)) ms, the start done; $from showed it starting on $to meanwhile"
}
say "relocate to b asked on a (the source), then back to a asked on b (the source again), then asked on the target"
move b a
move a b
move b b

say "picky cannot start on b: relocate --wait says it went back to a, long before its 30 s wait"
wait_field 100 a picky owner a && wait_field 50 a picky state started || die "picky did not start on a"
t0=$(date +%s%N)
"$CASTOR" relocate picky --to b --wait=30 --socket "$dir/a-s.sock" >"$dir/relocate.out" 2>&1 && die "relocate picky --to b succeeded: $(cat "$dir/relocate.out")"
t1=$(date +%s%N)
grep -q "went back to a" "$dir/relocate.out" || die "relocate picky --to b: $(cat "$dir/relocate.out")"
[ $(((t1 - t0) / 1000000)) -lt 20000 ] || die "relocate picky --to b took $(((t1 - t0) / 1000000)) ms to say so"
echo "relocate picky -> b: $(tail -1 "$dir/relocate.out") after $(((t1 - t0) / 1000000)) ms"
say "pass"
