#!/bin/bash
# Two quorumd instances (nodes a and b) on one quorum disk (a loop device, io_timeout 200 ms, so the dead
# time is 1200 ms): startup refusals, each sees the other UP over the control socket, the control socket
# survives malformed input, kill -9 is declared DEAD about 6 x io_timeout later, SIGTERM is seen as DOWN at
# once, a frozen node fences itself (killing its services' cgroups) and rejoins with a new
# incarnation, the watchdog stand-in kills a frozen node and is disarmed by a clean leave.
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=${QUORUMD:-$BUILD/quorumd}
STANDIN=${STANDIN:-$BUILD/tests/watchdog_standin}
export CASTOR_TEST_WATCHDOG_STANDIN=1  # quorumd accepts the stand-in FIFO only with this (test-only) switch
[ -x "$QUORUMD" ] || skip "$QUORUMD not built"
[ -x "$STANDIN" ] || skip "$STANDIN not built"
"$CASTOR" --help 2>&1 | grep -q "init DEVICE" || skip "castor init not built yet"
command -v python3 >/dev/null || skip "python3 not installed (the control client)"
make_scratch; dir=$SCRATCH

qctl() { python3 "$(dirname "$0")/../lib/qctl.py" "$@"; }

show_logs() {
  local f
  for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done
}
die() { show_logs; fail "$*"; }

# start_node NAME [EXTRA ARGS...]: runs quorumd in its own process group (pgid = pid); sets PID_<NAME>
start_node() {
  local name=$1 pid
  shift
  setsid "$QUORUMD" --config "$dir/$name.ini" "$@" >>"$dir/$name.log" 2>&1 &
  pid=$!
  register_pid "$pid"
  eval "PID_$name=$pid"
  # setsid(1) calls setsid() after the fork returned to us: under load ps may look before it did.
  local g
  for ((g = 0; g < 50; g++)); do [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] && break; sleep 0.02; done
  [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] || die "quorumd $name is not its own process group leader"
  local i
  for ((i = 0; i < 50; i++)); do
    [ -S "$dir/$name.sock" ] && qctl "$dir/$name.sock" status >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || die "quorumd $name exited at startup"
    sleep 0.1
  done
  die "quorumd $name did not answer on its control socket"
}

# ---- the disk and the configs -----------------------------------------------------------------------
dev=$(new_loop "$dir/q.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster it --nodes a,b --io-timeout 200
for n in a b; do
  cat >"$dir/$n.ini" <<EOF
; quorumd test config for node $n
[quorumd]
device = $dev
node = $n
cluster = it
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $dir/$n.sock
lock_memory = no
realtime = no
EOF
done

say "startup refusals"
expect_exit 2 "$QUORUMD"
expect_exit 2 "$QUORUMD" --config "$dir/a.ini" --bogus
expect_exit 1 "$QUORUMD" --config "$dir/nonexistent.ini"
expect_exit 1 "$QUORUMD" --config "$dir/a.ini" --node c --socket "$dir/x.sock"
echo "$OUT" | grep -q "not a member of cluster 'it'" || fail "unknown node not explained: $OUT"
sed 's/^cluster = it/cluster = other/' "$dir/a.ini" >"$dir/bad-cluster.ini"
expect_exit 1 "$QUORUMD" --config "$dir/bad-cluster.ini" --socket "$dir/x.sock"
echo "$OUT" | grep -q "belongs to cluster 'it'" || fail "cluster mismatch not explained: $OUT"
{ cat "$dir/a.ini"; echo "io_timeout_ms = 300"; } >"$dir/bad-timeout.ini"
expect_exit 1 "$QUORUMD" --config "$dir/bad-timeout.ini" --socket "$dir/x.sock"
echo "$OUT" | grep -q "300.*says 200" || fail "io_timeout mismatch does not give both values: $OUT"
grep -v allow_unsafe "$dir/a.ini" >"$dir/no-allow.ini"
expect_exit 1 "$QUORUMD" --config "$dir/no-allow.ini" --socket "$dir/x.sock"
echo "$OUT" | grep -q "allow_unsafe_no_watchdog" || fail "watchdog none accepted without allow_unsafe_no_watchdog"
{ cat "$dir/a.ini"; echo "colour = blue"; echo "[extra]"; } >"$dir/unknown.ini"
expect_exit 1 "$QUORUMD" --config "$dir/unknown.ini"
echo "$OUT" | grep -q "unknown.ini:11: unknown key 'colour'" || fail "unknown key not reported with file:line: $OUT"
echo "$OUT" | grep -q "unknown.ini:12: unknown section \[extra\]" || fail "unknown section not reported: $OUT"
[ -e "$dir/x.sock" ] && fail "a refused start left its socket behind"

say "two nodes see each other UP"
start_node a
start_node b
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP"
qctl "$dir/b.sock" wait-peer UP 5 || die "b does not see a UP"
qctl "$dir/a.sock" status
[ "$(qctl "$dir/a.sock" status phase)" = '"up"' ] || die "a is not up"
[ "$(qctl "$dir/a.sock" status lease.valid)" = true ] || die "a holds no lease"
[ "$(qctl "$dir/a.sock" status peer.incarnation)" = "$(qctl "$dir/b.sock" status incarnation)" ] ||
  die "a does not report b's incarnation"
say "a second quorumd on the same socket is refused"
expect_exit 1 "$QUORUMD" --config "$dir/a.ini"
echo "$OUT" | grep -q "already listening" || fail "second instance not refused clearly: $OUT"

say "malformed control input gets an error reply and is disconnected; quorumd carries on"
OUT=$(qctl "$dir/a.sock" raw "701101000100")  # length 70000 > 64 KiB
echo "$OUT"
echo "$OUT" | grep -q '"ok": false' && echo "$OUT" | tail -1 | grep -q closed || die "oversized frame not refused"
OUT=$(qctl "$dir/a.sock" raw "0500000009006162636465")  # version 9
echo "$OUT" | grep -q "version 9" && echo "$OUT" | tail -1 | grep -q closed || die "bad version not refused: $OUT"
OUT=$(qctl "$dir/a.sock" raw "07000000010073740a61747573")  # a newline in the request
echo "$OUT" | tail -1 | grep -q closed || die "multi-line request not refused: $OUT"
OUT=$(qctl "$dir/a.sock" send frobnicate)
echo "$OUT" | grep -q "unknown verb" || die "unknown verb not refused: $OUT"
[ "$(qctl "$dir/a.sock" status phase)" = '"up"' ] || die "a did not survive malformed input"

say "kill -9 of b: a declares it DEAD after the dead time (1200 ms)"
ms=$(qctl "$dir/a.sock" kill-and-wait "$PID_b" SIGKILL DEAD 10) || die "a never declared b dead"
wait "$PID_b" 2>/dev/null
echo "declared DEAD ${ms} ms after kill -9 (dead time 1200 ms, renew interval 100 ms)"
[ "$ms" -ge 1000 ] && [ "$ms" -le 2500 ] || die "DEAD after ${ms} ms, expected about 1200-1400"

say "b restarts with the watchdog stand-in: a sees it UP with a new incarnation"
old_inc=$(qctl "$dir/a.sock" status peer.incarnation)
mkfifo "$dir/b.fifo"
start_node b --watchdog "$dir/b.fifo"
"$STANDIN" --fifo "$dir/b.fifo" --timeout-ms 400 --pgid "$PID_b" --log "$dir/b-watchdog.out" >>"$dir/b-standin.log" 2>&1 &
STANDIN_b=$!; register_pid "$STANDIN_b"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see the restarted b UP"
[ "$(qctl "$dir/a.sock" status peer.incarnation)" != "$old_inc" ] || die "b came back with the same incarnation"
sleep 0.5
grep -q "armed by the first pet" "$dir/b-watchdog.out" || die "b never petted its watchdog"

say "SIGTERM to b: clean leave, a sees DOWN at once, the stand-in is disarmed"
ms=$(qctl "$dir/a.sock" kill-and-wait "$PID_b" SIGTERM DOWN 5) || die "a never saw b DOWN"
echo "DOWN seen ${ms} ms after SIGTERM"
[ "$ms" -le 600 ] || die "DOWN seen only after ${ms} ms"
wait "$PID_b"; rc=$?
[ "$rc" = 0 ] || die "b exited $rc after SIGTERM, expected 0"
wait "$STANDIN_b"
grep -q "disarmed" "$dir/b-watchdog.out" || die "clean leave did not disarm the watchdog stand-in"
grep -q "fired" "$dir/b-watchdog.out" && die "the watchdog stand-in fired on a clean leave"

say "a frozen for longer than its lease fences (killing its services' cgroups) and rejoins"
# A service's process: in node a's Castor cgroup (as svcmgr puts it), in a session of its own, and
# registered (compatibility) - the fence kills the cgroups.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then vcg=/sys/fs/cgroup/castor/a/victim
else vcg=/sys/fs/cgroup/freezer/castor/a/victim; fi
mkdir -p "$vcg" || die "mkdir $vcg"
register_undo "rmdir '$vcg' 2>/dev/null"
setsid sh -c "echo \$\$ >$vcg/cgroup.procs && exec sleep 600" &
victim=$!; register_pid "$victim"
for ((i = 0; i < 50; i++)); do grep -qx "$victim" "$vcg/cgroup.procs" && break; sleep 0.02; done
OUT=$(qctl "$dir/a.sock" send register-pgid "$victim")
echo "$OUT" | grep -q '"registered": true' || die "register-pgid refused: $OUT"
inc_before=$(qctl "$dir/a.sock" status incarnation)
kill -STOP "$PID_a"; sleep 1; kill -CONT "$PID_a"
for ((i = 0; i < 30; i++)); do
  [ "$(qctl "$dir/a.sock" status fences)" = 1 ] && [ "$(qctl "$dir/a.sock" status phase)" = '"up"' ] && break
  sleep 0.1
done
[ "$(qctl "$dir/a.sock" status fences)" = 1 ] || die "a did not fence after being frozen past its lease"
[ "$(qctl "$dir/a.sock" status phase)" = '"up"' ] || die "a did not rejoin after fencing"
[ "$(qctl "$dir/a.sock" status incarnation)" != "$inc_before" ] || die "a rejoined with its old incarnation"
qctl "$dir/a.sock" status last_fence
wait "$victim" 2>/dev/null
kill -0 "$victim" 2>/dev/null && die "the service's process survived the fence"
grep -q "cgroups killed (SIGKILL) processes=1" "$dir/a.log" || die "the kill is not logged"

say "b frozen with the watchdog stand-in: the stand-in kills it, a declares it DEAD"
rm -f "$dir/b-watchdog.out"
start_node b --watchdog "$dir/b.fifo"
"$STANDIN" --fifo "$dir/b.fifo" --timeout-ms 400 --pgid "$PID_b" --log "$dir/b-watchdog.out" >>"$dir/b-standin.log" 2>&1 &
STANDIN_b=$!; register_pid "$STANDIN_b"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP again"
ms=$(qctl "$dir/a.sock" kill-and-wait "$PID_b" SIGSTOP DEAD 10) || die "a never declared the frozen b dead"
echo "frozen b declared DEAD after ${ms} ms"
wait "$STANDIN_b"
grep -q "watchdog fired" "$dir/b-watchdog.out" || die "the stand-in did not fire for a frozen quorumd"
cat "$dir/b-watchdog.out"
kill -0 "$PID_b" 2>/dev/null && die "the stand-in did not kill b's process group"

say "'leave' over the control socket: the reply comes once DOWN is written; exit 0"
OUT=$(qctl "$dir/a.sock" send leave)
echo "$OUT"
echo "$OUT" | grep -q '"left": true' || die "leave reply: $OUT"
wait "$PID_a"; rc=$?
[ "$rc" = 0 ] || die "a exited $rc after leave, expected 0"
[ -e "$dir/a.sock" ] && die "a left its control socket behind"
show_logs
echo "all quorumd two-node checks passed"
