#!/bin/bash
# quorumd on the real kernel, as two hosts see one LUN: one backing file, two loop devices over it (direct
# I/O), node a on one and node b on the other; node b's path goes through a FUSE pass-through (bindfs) so
# its disk can be made to hang. io_timeout 200 ms: renew 100 ms, lease 600 ms, watchdog 400 ms, dead 1200 ms.
# Shows: kill -9 is declared dead after D (never sooner) and within D + R; a node whose disk turns
# read-only fences itself before its peer declares it dead; a frozen node is reset by its watchdog stand-in
# before its peer declares it dead; a disk stall below io_timeout costs nothing; a stall above it fences the
# stalled node, and its late writes harm nothing; a clean stop is seen as DOWN within two renew intervals.
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=${QUORUMD:-$BUILD/quorumd}
STANDIN=${STANDIN:-$BUILD/tests/watchdog_standin}
export CASTOR_TEST_WATCHDOG_STANDIN=1  # quorumd accepts the stand-in FIFO only with this (test-only) switch
QCTL="python3 $(dirname "$0")/../lib/qctl.py"
[ -x "$QUORUMD" ] && [ -x "$STANDIN" ] || skip "quorumd or the watchdog stand-in is not built"
command -v bindfs >/dev/null || fail "bindfs is missing (make deps installs it)"
make_scratch; dir=$SCRATCH
D=1200 R=100

show_logs() { for f in "$dir"/*.log "$dir"/*.out; do [ -e "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done; }
die() { show_logs; fail "$*"; }

# ---- one LUN, two paths ------------------------------------------------------------------------------
mkdir -p "$dir/real" "$dir/fuse"
truncate -s 8M "$dir/real/lun.img"
bindfs -f --no-allow-other "$dir/real" "$dir/fuse" >>"$dir/bindfs.log" 2>&1 &
BINDFS=$!; register_pid "$BINDFS"
for ((i = 0; i < 50; i++)); do mountpoint -q "$dir/fuse" && break; sleep 0.1; done
mountpoint -q "$dir/fuse" || die "bindfs did not mount"
register_mount "$dir/fuse"
dev_a=$(losetup -f --show --direct-io=on "$dir/real/lun.img") || die "losetup a"; register_loop "$dev_a"
dev_b=$(losetup -f --show --direct-io=on "$dir/fuse/lun.img") || die "losetup b"; register_loop "$dev_b"
register_undo "kill -CONT $BINDFS 2>/dev/null"  # a stopped FUSE daemon must run again before anything is undone
echo "node a: $dev_a over the file; node b: $dev_b over the same file through FUSE (bindfs pid $BINDFS)"
expect_exit 0 "$CASTOR" init "$dev_a" --cluster lun --nodes a,b --io-timeout 200
expect_exit 0 "$CASTOR" dump "$dev_b"   # b's path sees what a's path wrote

for n in a b; do
  dev_var=dev_$n
  cat >"$dir/$n.ini" <<EOI
[quorumd]
device = ${!dev_var}
node = $n
watchdog_device = $dir/$n.fifo
socket = $dir/$n.sock
lock_memory = no
realtime = no
EOI
done

# start_node NAME: quorumd in its own process group, with a stand-in hardware watchdog outside it that kills
# the whole group when petting stops for W = 400 ms.
start_node() {
  local n=$1 pid i
  [ -p "$dir/$n.fifo" ] || mkfifo "$dir/$n.fifo"
  setsid "$QUORUMD" --config "$dir/$n.ini" >>"$dir/$n.log" 2>&1 &
  pid=$!; register_pid "$pid"; eval "PID_$n=$pid"
  "$STANDIN" --fifo "$dir/$n.fifo" --timeout-ms 400 --pgid "$pid" --log "$dir/$n-watchdog.out" >>"$dir/$n-standin.log" 2>&1 &
  eval "WD_$n=$!"; register_pid "$!"
  for ((i = 0; i < 50; i++)); do
    $QCTL "$dir/$n.sock" status >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || die "quorumd $n exited at startup"
    sleep 0.1
  done
  die "quorumd $n did not answer"
}
stop_node() {  # stop_node NAME: kill -9 whatever is left of it and its stand-in
  local p w
  p=PID_$1; w=WD_$1
  kill -CONT "${!p}" 2>/dev/null; kill -KILL "${!p}" 2>/dev/null; wait "${!p}" 2>/dev/null
  kill -KILL "${!w}" 2>/dev/null; wait "${!w}" 2>/dev/null
  rm -f "$dir/$1-watchdog.out"
}
both_up() {
  $QCTL "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP"
  $QCTL "$dir/b.sock" wait-peer UP 5 || die "b does not see a UP"
}
# first_ms FILE SOURCE EVENT [TO]: time (ms) of the first matching line of a `qctl race` log
first_ms() { awk -v s="$2" -v e="$3" -v t="${4:-}" '$2 == s && $3 == e && (t == "" || $4 == t) { print $1; exit }' "$1"; }

start_node a
start_node b
both_up
"$CASTOR" status --socket "$dir/a.sock"

say "kill -9 of b: a declares it DEAD no sooner than D = ${D} ms after the last change it saw, within D + R of the kill"
$QCTL "$dir/a.sock" race "$dir/b.sock" "kill -KILL $PID_b" 4 >"$dir/race-kill.out"
cat "$dir/race-kill.out"
ms=$(first_ms "$dir/race-kill.out" a peer_changed DEAD)
[ -n "$ms" ] || die "a never declared b dead"
reason=$(grep -o 'unchanged for [0-9]*ms' "$dir/a.log" | tail -1 | grep -o '[0-9]*')
echo "[castor] kill -9 -> DEAD after ${ms} ms (D ${D} ms, R ${R} ms); heartbeat unchanged for ${reason} ms at the verdict"
[ "${reason:-0}" -ge "$D" ] || die "declared dead after only ${reason} ms without a change"
[ "$ms" -ge $((D - R)) ] || die "declared dead ${ms} ms after the kill: sooner than D - R"
[ "$ms" -le $((D + R + 100)) ] || die "declared dead ${ms} ms after the kill: later than D + R (+100 ms scheduling)"
stop_node b

say "restart b, then make its disk read-only (blockdev --setro): b fences itself before a declares it dead"
start_node b
both_up
$QCTL "$dir/a.sock" race "$dir/b.sock" "blockdev --setro $dev_b" 4 >"$dir/race-ro.out"
cat "$dir/race-ro.out"
fenced=$(first_ms "$dir/race-ro.out" b fenced)
dead=$(first_ms "$dir/race-ro.out" a peer_changed DEAD)
[ -n "$fenced" ] || die "b did not fence itself when its disk turned read-only"
[ -n "$dead" ] || die "a did not declare b dead"
echo "[castor] setro: b fenced after ${fenced} ms, a declared it DEAD after ${dead} ms"
[ "$fenced" -lt "$dead" ] || die "b fenced (${fenced} ms) no earlier than a's verdict (${dead} ms)"
grep -q "fired" "$dir/b-watchdog.out" 2>/dev/null && echo "b's watchdog stand-in fired too (it could not renew, so it stopped petting)"
blockdev --setrw "$dev_b"
stop_node b

say "restart b, freeze it (SIGSTOP, like a paused VM): its watchdog stand-in resets it before a declares it dead"
start_node b
both_up
$QCTL "$dir/a.sock" race "$dir/b.sock" "kill -STOP $PID_b" 4 >"$dir/race-stop.out"
dead=$(first_ms "$dir/race-stop.out" a peer_changed DEAD)
[ -n "$dead" ] || die "a never declared the frozen b dead"
grep -q "watchdog fired" "$dir/b-watchdog.out" || die "b's stand-in did not fire"
kill -0 "$PID_b" 2>/dev/null && die "b still exists at a's verdict: the watchdog did not reset it first"
echo "[castor] frozen b: reset by its watchdog, then declared DEAD by a after ${dead} ms"
stop_node b

say "restart b; a disk stall shorter than io_timeout (bindfs stopped 100 ms) costs nothing"
start_node b
both_up
fences_b=$($QCTL "$dir/b.sock" status fences)
inc_b=$($QCTL "$dir/b.sock" status incarnation)
for i in 1 2 3 4 5; do kill -STOP "$BINDFS"; sleep 0.1; kill -CONT "$BINDFS"; sleep 0.3; done
sleep 0.5
[ "$($QCTL "$dir/b.sock" status fences)" = "$fences_b" ] || die "a 100 ms stall made b fence"
[ "$($QCTL "$dir/b.sock" status incarnation)" = "$inc_b" ] || die "a 100 ms stall changed b's incarnation"
[ "$($QCTL "$dir/a.sock" status peer.view)" = '"UP"' ] || die "a 100 ms stall made a lose b"
grep -q "DEAD" "$dir/race-stall-short.out" 2>/dev/null && die "a declared b dead over a short stall"
echo "[castor] five 100 ms stalls: worst heartbeat write latency on b $($QCTL "$dir/b.sock" status write_latency_us.worst) us, no fence, no verdict"

say "a disk stall longer than io_timeout (bindfs stopped 3 s): b fences, a declares it dead; the late writes harm nothing"
$QCTL "$dir/a.sock" race "$dir/b.sock" "kill -STOP $BINDFS" 3 >"$dir/race-stall.out"
cat "$dir/race-stall.out"
fenced=$(first_ms "$dir/race-stall.out" b fenced)
dead=$(first_ms "$dir/race-stall.out" a peer_changed DEAD)
[ -n "$dead" ] || die "a did not declare the stalled b dead"
if [ -n "$fenced" ]; then
  [ "$fenced" -lt "$dead" ] || die "b fenced (${fenced} ms) no earlier than a's verdict (${dead} ms)"
fi
grep -q "watchdog fired" "$dir/b-watchdog.out" 2>/dev/null || [ -n "$fenced" ] || die "b neither fenced nor was reset"
echo "[castor] stall > io_timeout: b fenced at ${fenced:-?} ms (or reset by its watchdog), a's verdict at ${dead} ms"
kill -CONT "$BINDFS"   # b's writes that were stuck in FUSE now land, after its fence/reset
sleep 2
# The late writes land as a change of b's heartbeat at most; a never fences, and b's old incarnation
# never comes back to life: a sees it DEAD again, or sees b's next incarnation.
[ "$($QCTL "$dir/a.sock" status fences)" = 0 ] || die "a fenced itself"
[ "$($QCTL "$dir/a.sock" status lease.valid)" = true ] || die "a lost its lease"
view=$($QCTL "$dir/a.sock" status peer.view); inc=$($QCTL "$dir/a.sock" status peer.incarnation)
echo "after the late writes: a sees b $view (incarnation $inc)"
if kill -0 "$PID_b" 2>/dev/null; then
  [ "$inc" != "$inc_b" ] || [ "$view" = '"DEAD"' ] || die "a sees b's fenced incarnation alive"
fi
stop_node b

say "restart b; clean stop (SIGTERM): a sees DOWN within two renew intervals"
start_node b
both_up
$QCTL "$dir/a.sock" race "$dir/b.sock" "kill -TERM $PID_b" 3 >"$dir/race-term.out"
down=$(first_ms "$dir/race-term.out" a peer_changed DOWN)
[ -n "$down" ] || die "a never saw b DOWN"
echo "[castor] clean stop: DOWN seen after ${down} ms (2 R = $((2 * R)) ms)"
[ "$down" -le $((2 * R + 50)) ] || die "DOWN seen after ${down} ms, more than 2 R"
stop_node b
"$CASTOR" status --device "$dev_a" --socket "$dir/nowhere.sock"
echo "all quorumd fault checks passed"
