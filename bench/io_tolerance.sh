#!/bin/bash
# I/O tolerance: the largest disk stall that causes no failover, per io_timeout (IOTOL_PROFILES, ms,
# default "200 1000 10000"). Two quorumd nodes on one backing file: a through a plain loop device, b through
# a loop device over a FUSE pass-through (bench/disk.sh) whose daemon we SIGSTOP for S then SIGCONT (every
# I/O of b hangs meanwhile, then lands late). Stalls S = f x io_timeout for f in IOTOL_FRACTIONS (default
# "0.5 1 1.5 2 2.5 3"), in order; after each we wait out the dead time and read both logs:
#   failover   b fenced itself (FENCED), or a declared b DEAD: b's services would move
#   stop       b's lease was at risk ("lease at risk": svcmgr stops every service; no move)
# After the first failover the scan bisects once between the last clean stall and it.
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/disk.sh"
[ "$(id -u)" = 0 ] || { echo "io_tolerance needs root"; exit 1; }
PROFILES=${IOTOL_PROFILES:-200 1000 10000}; PROFILES=${PROFILES//,/ }
FRACTIONS=${IOTOL_FRACTIONS:-0.5 1 1.5 2 2.5 3}; FRACTIONS=${FRACTIONS//,/ }
QUORUMD=$ROOT/$BUILD/quorumd CASTOR=$ROOT/$BUILD/castor STANDIN=$ROOT/$BUILD/tests/watchdog_standin
export CASTOR_TEST_WATCHDOG_STANDIN=1  # the stand-in watchdog is accepted only with this test-only switch
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-iotol.XXXXXX")
QA="" QB="" WA="" WB="" DEV_A=""
stop_node() {  # stop_node a|b
  local q w
  if [ "$1" = a ]; then q=$QA w=$WA; QA="" WA=""; else q=$QB w=$WB; QB="" WB=""; fi
  for p in $q $w; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
cleanup() {
  set +e
  disk_resume
  stop_node a; stop_node b
  [ -n "$DEV_A" ] && losetup -d "$DEV_A" 2>/dev/null
  disk_down
  mkdir -p "$BENCH_OUT/logs" && cp "$work"/*.log "$BENCH_OUT/logs/" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_node() {  # start_node a|b IO_MS
  local n=$1 dev
  if [ "$n" = a ]; then dev=$DEV_A; else dev=$DISK_DEV; fi
  cat >"$work/$n.ini" <<EOI
[quorumd]
device = $dev
node = $n
watchdog_device = $work/$n.fifo
socket = $work/$n.sock
lock_memory = no
realtime = no
EOI
  [ -p "$work/$n.fifo" ] || mkfifo "$work/$n.fifo"
  setsid "$QUORUMD" --config "$work/$n.ini" >>"$work/iotol-$n.log" 2>&1 &
  local q=$!
  "$STANDIN" --fifo "$work/$n.fifo" --timeout-ms $((2 * $2)) --pgid "$q" --log "$work/$n-watchdog.out" >>"$work/$n-standin.log" 2>&1 &
  if [ "$n" = a ]; then QA=$q WA=$!; else QB=$q WB=$!; fi
}
both_up() {  # both logs say the peer is UP (since SINCE_MS)
  local i
  for ((i = 0; i < 600; i++)); do
    [ -n "$(log_ms "$work/iotol-a.log" "$1" 'peer changed .*to=UP')" ] && [ -n "$(log_ms "$work/iotol-b.log" "$1" 'peer changed .*to=UP')" ] && return 0
    sleep 0.1
  done
  return 1
}

# trial IO_MS STALL_MS: 0 = nothing happened, 1 = services stopped only, 2 = failover (fence or DEAD)
trial() {
  local io=$1 s=$2 t0 fenced dead risk
  t0=$(now_ms)
  kill -STOP "$DISK_FUSE_PID"
  sleep "$(awk -v s="$s" 'BEGIN {printf "%.3f", s / 1000}')"
  kill -CONT "$DISK_FUSE_PID"
  sleep "$(awk -v d="$((7 * io))" 'BEGIN {printf "%.3f", d / 1000 + 0.5}')"  # past the dead time 6T
  fenced=$(log_ms "$work/iotol-b.log" "$t0" 'FENCED')
  dead=$(log_ms "$work/iotol-a.log" "$t0" 'peer changed .*to=DEAD')
  risk=$(log_ms "$work/iotol-b.log" "$t0" 'lease at risk')
  TRIAL_WHAT="fence=${fenced:+yes} dead=${dead:+yes} at_risk=${risk:+yes}"
  if [ -n "$fenced" ] || [ -n "$dead" ]; then return 2; fi
  [ -n "$risk" ] && return 1
  return 0
}

for io in $PROFILES; do
  disk_up "$work/disk" 16M || exit 1
  DEV_A=$(losetup -f --show --direct-io=on "$work/disk/real/lun.img") || exit 1
  "$CASTOR" init "$DEV_A" --cluster iotol --nodes a,b --io-timeout "$io" >>"$work/init.log" 2>&1 || { echo "castor init failed" >&2; exit 1; }
  t=$(now_ms); start_node a "$io"; start_node b "$io"
  both_up "$t" || { echo "the nodes did not see each other UP" >&2; exit 1; }
  sleep "$(( (2 * io + 999) / 1000 ))"
  say "io tolerance at io_timeout $io ms: stalls of $FRACTIONS x T"
  best_ok=0 best_nostop=0 first_fail=""
  for f in $FRACTIONS; do
    s=$(awk -v f="$f" -v io="$io" 'BEGIN {printf "%d", f * io}')
    trial "$io" "$s"; r=$?
    say "  stall $s ms ($f T): $([ $r = 0 ] && echo 'nothing' || { [ $r = 1 ] && echo 'services stopped, no failover' || echo FAILOVER; }) ($TRIAL_WHAT)"
    record io_tolerance "\"io_timeout_ms\": $io, \"stall_ms\": $s, \"fraction\": $f, \"result\": $r"
    if [ $r = 2 ]; then first_fail=$s; break; fi
    best_ok=$s
    [ $r = 0 ] && best_nostop=$s
  done
  if [ -n "$first_fail" ]; then  # one bisection step between the last clean stall and the first failover
    stop_node b; stop_node a
    t=$(now_ms); start_node a "$io"; start_node b "$io"
    if both_up "$t"; then
      sleep "$(( (2 * io + 999) / 1000 ))"
      s=$(( (best_ok + first_fail) / 2 ))
      trial "$io" "$s"; r=$?
      say "  stall $s ms: $([ $r = 0 ] && echo 'nothing' || { [ $r = 1 ] && echo 'services stopped, no failover' || echo FAILOVER; }) ($TRIAL_WHAT)"
      record io_tolerance "\"io_timeout_ms\": $io, \"stall_ms\": $s, \"fraction\": $(awk -v s="$s" -v io="$io" 'BEGIN {printf "%.3f", s / io}'), \"result\": $r"
      if [ $r = 2 ]; then first_fail=$s; else best_ok=$s; [ $r = 0 ] && [ "$s" -gt "$best_nostop" ] && best_nostop=$s; fi
    fi
  fi
  say "  => largest stall without failover: $best_ok ms; without stopping services: $best_nostop ms; smallest failover seen: ${first_fail:-none}"
  record io_tolerance_summary "\"io_timeout_ms\": $io, \"max_no_failover_ms\": $best_ok, \"max_no_stop_ms\": $best_nostop, \"min_failover_ms\": ${first_fail:-null}"
  stop_node b; stop_node a
  losetup -d "$DEV_A"; DEV_A=""
  disk_down
done
