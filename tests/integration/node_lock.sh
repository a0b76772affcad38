#!/bin/bash
# The node lock of a set of quorum devices (issue 17): two real quorumd (nodes a and b, io_timeout 200 ms) on
# three loop devices; node a's path to member 0 is a FUSE pass-through (bindfs) that can be stopped.
#   (1) Node a's quorumd is stopped (SIGSTOP: frozen) and a second quorumd of node a is started beside it, from
#       a copy of castor.ini with another control socket (so the socket probe cannot catch it) and another
#       state_dir (so the lock is not found through it): it must refuse before it writes anything, naming the
#       lock (/run/castor/quorumd.UUID.node-1.lock), and exit. Once the frozen one is gone (killed, so its
#       descriptors close), a new one takes the lock and the node rejoins.
#   (2) Member 0 stalls on a's path, and a's quorumd leaves cleanly (SIGTERM): its DOWN completes on members 1
#       and 2, but its writes to member 0 are still in the kernel, and the process waits for them (io_destroy,
#       D state). The lock must stay held until they have landed: a new quorumd of node a is refused meanwhile,
#       and starts once the path resumes. (Before the lock was declared ahead of the devices in QuorumDaemon, it
#       was released first, and the new process started with the old life's writes still to land.)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/quorumd_test.sh"
need_quorumd

command -v bindfs >/dev/null || skip "bindfs not installed (a path that can stall)"
mkdir -p "$dir/m0" "$dir/m1" "$dir/m2" "$dir/a-m0"
for i in 0 1 2; do d=$(new_loop "$dir/m$i/q.img" 8); register_loop "$d"; eval "Q$i=$d"; done
expect_exit 0 "$CASTOR" init "$Q0" "$Q1" "$Q2" --cluster lk --nodes a,b --io-timeout 200
bindfs -f --no-allow-other "$dir/m0" "$dir/a-m0" >>"$dir/bindfs.log" 2>&1 &
FUSE=$!
register_undo "kill -CONT $FUSE 2>/dev/null; umount '$dir/a-m0' 2>/dev/null || umount -l '$dir/a-m0'; kill $FUSE 2>/dev/null; wait $FUSE 2>/dev/null"
for ((i = 0; i < 50; i++)); do [ -e "$dir/a-m0/q.img" ] && break; sleep 0.1; done
A0=$(losetup -f --show --direct-io=on "$dir/a-m0/q.img") || fail "losetup over the FUSE path"
register_loop "$A0"
quorumd_ini a lk "$A0 $Q1 $Q2"
quorumd_ini b lk "$Q0 $Q1 $Q2"
start() {  # start NODE INI: a quorumd in the background; its PID in $pid
  setsid "$QUORUMD" --config "$2" >>"$dir/$1.log" 2>&1 &
  pid=$!
  register_pid "$pid"
}
start a "$dir/a.ini"; first=$pid
start b "$dir/b.ini"
both_up || die "the two nodes did not see each other UP"
lifefile=$(ls "$dir"/a-qstate/life.*.node-1) || die "node a has no life file"
uuid=${lifefile##*/life.}; uuid=${uuid%.node-1}
lock=/run/castor/quorumd.$uuid.node-1.lock
[ -f "$lock" ] || die "no node lock $lock"
node_locks_undo "$dir/a-qstate"
life=$(cat "$lifefile")

say "a's quorumd frozen; a second quorumd of node a (another socket, another state_dir) beside it: refused"
kill -STOP "$first"
sed -e "s|^socket = .*|socket = $dir/a2.sock|" -e "s|^state_dir = .*|state_dir = $dir/a2-qstate|" "$dir/a.ini" >"$dir/a2.ini"
start a2 "$dir/a2.ini"; second=$pid
for ((i = 0; i < 50; i++)); do kill -0 "$second" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$second" 2>/dev/null; then
  die "the second quorumd of node a is still running 5 s after its start, beside the frozen one"
fi
wait "$second"; rc=$?
[ "$rc" != 0 ] || die "the second quorumd of node a exited 0"
grep -q "another quorumd of node a holds $lock" "$dir/a2.log" || die "the refusal does not name the lock: $(tail -5 "$dir/a2.log")"
[ "$(cat "$lifefile")" = "$life" ] || die "the refused quorumd took a life number"
[ ! -e "$dir/a2.sock" ] || die "the refused quorumd bound its control socket"
[ ! -e "$dir/a2-qstate" ] || die "the refused quorumd wrote a life file: $(ls "$dir/a2-qstate")"
echo "refused (exit $rc): $(grep -o 'another quorumd.*' "$dir/a2.log" | head -1 | cut -c1-160)"

say "the frozen quorumd killed: a new one takes the lock and node a rejoins"
kill -KILL "$first"; wait "$first" 2>/dev/null
start a "$dir/a.ini"
both_up || die "node a did not rejoin after the frozen quorumd was gone"
[ "$(cat "$lifefile")" -gt "$life" ] || die "the new quorumd did not take a higher life"
third=$pid

say "member 0 stalls on a's path; a leaves cleanly (SIGTERM) with writes to it still in the kernel: lock held"
kill -STOP "$FUSE"
sleep 0.5  # a few heartbeats of a held on member 0
kill -TERM "$third"
for ((i = 0; i < 50; i++)); do grep -q "DOWN written" "$dir/a.log" && break; sleep 0.1; done
[ $i -lt 50 ] || { kill -CONT "$FUSE"; die "a did not write DOWN on the two members left within 5 s"; }
sleep 0.5
kill -0 "$third" 2>/dev/null || { kill -CONT "$FUSE"; die "a's quorumd exited with writes to the stalled member still held"; }
echo "a's quorumd after DOWN: state $(awk '{print $3}' "/proc/$third/stat"), waiting in $(cat "/proc/$third/wchan" 2>/dev/null)"
# The new quorumd reaches member 0 by b's path (a's is stalled: its start-up reads would wait there first).
sed -e "s|^device = .*|device = $Q0 $Q1 $Q2|" -e "s|^socket = .*|socket = $dir/a3.sock|" "$dir/a.ini" >"$dir/a3.ini"
start a3 "$dir/a3.ini"; fourth=$pid
for ((i = 0; i < 50; i++)); do kill -0 "$fourth" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$fourth" 2>/dev/null; then
  kill -CONT "$FUSE"
  die "a second quorumd of node a runs while the first still has writes in the kernel (the lock went before them)"
fi
grep -q "another quorumd of node a holds $lock" "$dir/a3.log" || { kill -CONT "$FUSE"; die "not refused on the lock"; }
kill -CONT "$FUSE"
for ((i = 0; i < 100; i++)); do kill -0 "$third" 2>/dev/null || break; sleep 0.1; done
[ $i -lt 100 ] || die "a's quorumd did not exit once the path resumed"
start a "$dir/a.ini"
both_up || die "node a did not rejoin after its stalled writes landed"
exit 0
