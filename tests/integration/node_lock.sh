#!/bin/bash
# The node lock of a set of quorum devices (issue 17): two real quorumd (nodes a and b, io_timeout 200 ms) on
# three loop devices. Node a's quorumd is stopped (SIGSTOP: frozen, its writes may still come) and a second
# quorumd of node a is started beside it, from a copy of castor.ini with another control socket (so the socket
# probe cannot catch it) and another state_dir (so the lock is not found through it): it must refuse before it
# writes anything, naming the lock (/run/castor/quorumd.UUID.node-1.lock), and exit. Once the frozen
# one is gone (killed, so its descriptors close), a new one takes the lock and the node rejoins.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/quorumd_test.sh"
need_quorumd

for i in 0 1 2; do d=$(new_loop "$dir/q$i.img" 8); register_loop "$d"; eval "Q$i=$d"; done
expect_exit 0 "$CASTOR" init "$Q0" "$Q1" "$Q2" --cluster lk --nodes a,b --io-timeout 200
for n in a b; do quorumd_ini $n lk "$Q0 $Q1 $Q2"; done
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
exit 0
