#!/bin/bash
# Self-fence on disk loss: time from losing the disk to the node fencing itself, sbd beside Castor, on the
# same kind of disk (bench/disk.sh: a loop device over a FUSE pass-through) and the same faults:
#   setro (blockdev --setro: writes fail), eio (the FUSE daemon killed: all I/O fails), stall (the FUSE
#   daemon stopped: all I/O hangs).
# sbd (bench/sbd_lib.sh: no watchdog, debug mode, so the fence is its log line "Would have fenced"): at
# its defaults (sbd create: watchdog 5 s, loop 1 s, msgwait 10 s) and at `-1 1` (watchdog timeout 1 s).
# Castor: one quorumd with a stand-in watchdog (it fires at 2T, looser than W = T); the fence is its "FENCED" log line; io_timeouts
# from FENCE_CASTOR_PROFILES (ms, default "200 1000 2000"). Runs per point: FENCE_RUNS (default 3).
# A fault after which nothing fences within FENCE_CAP_S (default 30) is recorded as "no fence".
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/disk.sh"
. "$BENCH_DIR/sbd_lib.sh"
[ "$(id -u)" = 0 ] || { echo "fence needs root"; exit 1; }
RUNS=${FENCE_RUNS:-3}
CAP_S=${FENCE_CAP_S:-30}
CASTOR_PROFILES=${FENCE_CASTOR_PROFILES:-200 1000 2000}; CASTOR_PROFILES=${CASTOR_PROFILES//,/ }
FAULTS=${FENCE_FAULTS:-setro eio stall}; FAULTS=${FAULTS//,/ }
QUORUMD=$ROOT/$BUILD/quorumd CASTOR=$ROOT/$BUILD/castor STANDIN=$ROOT/$BUILD/tests/watchdog_standin
export CASTOR_TEST_WATCHDOG_STANDIN=1  # the stand-in watchdog is accepted only with this test-only switch
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-fence.XXXXXX")
QPID="" WDPID=""
cleanup() {
  set +e
  disk_resume
  sbd_stop
  for p in $QPID $WDPID; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  sbd_sink_stop
  disk_down
  mkdir -p "$BENCH_OUT/logs" && cp "$work/syslog.txt" "$BENCH_OUT/logs/fence-sbd-syslog.txt" 2>/dev/null
  for o in "$work"/ov.*; do [ -d "$o" ] && rm -rf "$o"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sbd ----------------------------------------------------------------------------------------------
sbd_sink_start "$work"
for profile in defaults "-1 1"; do
  opts=""; [ "$profile" = defaults ] || opts=$profile
  for fault in $FAULTS; do
    for ((run = 1; run <= RUNS; run++)); do
      disk_up "$work/disk" 16M || exit 1
      # shellcheck disable=SC2086
      sbd -d "$DISK_DEV" $opts create >>"$work/sbd-create.log" 2>&1 || { echo "sbd create failed" >&2; exit 1; }
      sbd -d "$DISK_DEV" allocate benchnode >>"$work/sbd-create.log" 2>&1  # its slot, before it starts (a 1 s watchdog leaves no time to allocate one)
      wd=$(sbd -d "$DISK_DEV" dump 2>/dev/null | awk -F: '/Timeout \(watchdog\)/ {print $2+0}')
      msgwait=$(sbd -d "$DISK_DEV" dump 2>/dev/null | awk -F: '/Timeout \(msgwait\)/ {print $2+0}')
      sbd_watch "$work" "$DISK_DEV:benchnode"
      [ -n "$SBD_PIDS" ] || { echo "sbd did not start" >&2; cat "$work/sbd-start.log" >&2; exit 1; }
      sleep 3  # its servant has read the disk a few times (loop timeout 1 s)
      t0=$(now_ms)
      disk_fault "$fault"
      got=""
      while [ $(( $(now_ms) - t0 )) -lt $((CAP_S * 1000)) ]; do
        got=$(awk -v t0="$t0" '$1 * 1000 >= t0 && /Would have fenced/ { printf "%d\n", $1 * 1000; exit }' "$work/syslog.txt")
        [ -n "$got" ] && break
        sleep 0.1
      done
      disk_resume; sbd_stop; sleep 0.2; disk_down
      if [ -n "$got" ]; then
        say "sbd ($profile: watchdog ${wd} s, msgwait ${msgwait} s) $fault run $run: fence logged $((got - t0)) ms after the disk loss"
        record fence "\"system\": \"sbd\", \"profile\": \"$profile\", \"watchdog_s\": $wd, \"fault\": \"$fault\", \"run\": $run, \"fenced\": true, \"fence_ms\": $((got - t0))"
      else
        say "sbd ($profile) $fault run $run: no fence within $CAP_S s"
        record fence "\"system\": \"sbd\", \"profile\": \"$profile\", \"watchdog_s\": $wd, \"fault\": \"$fault\", \"run\": $run, \"fenced\": false"
      fi
    done
  done
done

# --- Castor -------------------------------------------------------------------------------------------
for io in $CASTOR_PROFILES; do
  for fault in $FAULTS; do
    for ((run = 1; run <= RUNS; run++)); do
      disk_up "$work/disk" 16M || exit 1
      "$CASTOR" init "$DISK_DEV" --cluster fence --nodes a,b --io-timeout "$io" >>"$work/castor-init.log" 2>&1 ||
        { echo "castor init failed" >&2; exit 1; }
      cat >"$work/a.ini" <<EOI
[quorumd]
device = $DISK_DEV
node = a
watchdog_device = $work/a.fifo
socket = $work/a.sock
lock_memory = no
realtime = no
EOI
      [ -p "$work/a.fifo" ] || mkfifo "$work/a.fifo"
      : >"$work/a.log"
      setsid "$QUORUMD" --config "$work/a.ini" >>"$work/a.log" 2>&1 &
      QPID=$!
      "$STANDIN" --fifo "$work/a.fifo" --timeout-ms $((2 * io)) --pgid "$QPID" --log "$work/a-watchdog.out" >>"$work/a-standin.log" 2>&1 &
      WDPID=$!
      for ((i = 0; i < 100; i++)); do grep -q 'lease acquired' "$work/a.log" && break; sleep 0.1; done
      sleep $(( (io * 3 + 999) / 1000 ))  # a few renewals
      t0=$(now_ms)
      disk_fault "$fault"
      got=""
      while [ $(( $(now_ms) - t0 )) -lt $((CAP_S * 1000)) ]; do
        got=$(log_ms "$work/a.log" "$t0" 'FENCED')
        [ -n "$got" ] && break
        sleep 0.05
      done
      disk_resume
      for p in $QPID $WDPID; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
      QPID="" WDPID=""
      disk_down
      if [ -n "$got" ]; then
        say "castor (io_timeout $io ms) $fault run $run: FENCED $((got - t0)) ms after the disk loss"
        record fence "\"system\": \"castor\", \"profile\": \"io_timeout $io ms\", \"io_timeout_ms\": $io, \"fault\": \"$fault\", \"run\": $run, \"fenced\": true, \"fence_ms\": $((got - t0))"
      else
        say "castor (io_timeout $io ms) $fault run $run: no fence within $CAP_S s"
        record fence "\"system\": \"castor\", \"profile\": \"io_timeout $io ms\", \"io_timeout_ms\": $io, \"fault\": \"$fault\", \"run\": $run, \"fenced\": false"
      fi
    done
  done
done
