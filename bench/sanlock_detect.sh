#!/bin/bash
# sanlock's detection, for the side-by-side with Castor (bench/failover.sh gives Castor's figure: kill ->
# peer DEAD -> service claimed). Two sanlock "hosts" on one machine: two daemons, each with its own
# SANLOCK_RUN_DIR and its own loop device over one backing file (as two hosts see one LUN), watchdog off
# (-w 0), unprivileged (SANLOCK_PRIVILEGED=0: as root it otherwise fails on memlock limits). Host 1 holds a
# resource lease (sanlock client command ... sleep); we SIGKILL host 1's daemon and time until host 2's
# acquire of that resource succeeds (polled every 200 ms). The lockspace carries io_timeout (init -o, and
# add_lockspace -o for each host); sanlock lets another host take a dead host's lease after
# host_dead_seconds = 8 * io_timeout + 60 (id_renewal_fail 8 * io_timeout + the 60 s watchdog fire time).
# Profiles: SANLOCK_PROFILES (io_timeout in seconds, default "1 10"); runs: SANLOCK_RUNS (default 3).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "sanlock_detect needs root"; exit 1; }
command -v sanlock >/dev/null || { echo "sanlock is not installed (apt-get install sanlock)"; exit 1; }
PROFILES=${SANLOCK_PROFILES:-1 10}
PROFILES=${PROFILES//,/ }
RUNS=${SANLOCK_RUNS:-3}
export SANLOCK_PRIVILEGED=0
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-sanlock.XXXXXX")
# What is running now (a PID is forgotten once waited for, so cleanup never signals a reused PID).
DAEMON_1="" DAEMON_2="" holder="" dev1="" dev2=""
cleanup() {
  set +e
  for p in $holder $DAEMON_1 $DAEMON_2; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for l in $dev1 $dev2; do losetup -d "$l" 2>/dev/null; done
  cp "$work"/*.log "$BENCH_OUT/logs/" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$BENCH_OUT/logs"

start_daemon() {  # start_daemon HOST: its own run dir; sets DAEMON_<HOST>
  mkdir -p "$work/run$1"
  rm -f "$work/run$1/sanlock.sock" "$work/run$1/sanlock.pid"  # a killed daemon leaves them behind
  SANLOCK_RUN_DIR=$work/run$1 sanlock daemon -D -w 0 -U root -G root >>"$work/sanlock-host$1.log" 2>&1 &
  eval "DAEMON_$1=$!"
  for ((i = 0; i < 50; i++)); do [ -S "$work/run$1/sanlock.sock" ] && return 0; sleep 0.1; done
  echo "sanlock daemon $1 did not start" >&2; return 1
}
sl() { local h=$1; shift; SANLOCK_RUN_DIR=$work/run$h sanlock client "$@"; }

for io in $PROFILES; do
  truncate -s 0 "$work/lun.img"; truncate -s 64M "$work/lun.img"
  dev1=$(losetup -f --show --direct-io=on "$work/lun.img") || exit 1
  dev2=$(losetup -f --show --direct-io=on "$work/lun.img") || exit 1
  start_daemon 2
  sl 2 init -s "LS:0:$dev2:0" -o "$io" >/dev/null || { echo "lockspace init failed" >&2; exit 1; }
  sl 2 init -r "LS:RES:$dev2:1048576" >/dev/null || { echo "resource init failed" >&2; exit 1; }
  sl 2 add_lockspace -s "LS:2:$dev2:0" -o "$io" >/dev/null || { echo "host 2 add_lockspace failed" >&2; exit 1; }
  say "sanlock io_timeout ${io} s: $RUNS runs (host_dead_seconds = $((8 * io + 60)) s)"
  acquired=$(cat "$work/sanlock-host1.log" 2>/dev/null | grep -c 'cmd_acquire .* result 0')
  for ((run = 1; run <= RUNS; run++)); do
    start_daemon 1
    t=$(now_ms)
    sl 1 add_lockspace -s "LS:1:$dev1:0" -o "$io" >/dev/null || { echo "host 1 add_lockspace failed" >&2; exit 1; }
    join_ms=$(( $(now_ms) - t ))
    SANLOCK_RUN_DIR=$work/run1 setsid sanlock client command -r "LS:RES:$dev1:1048576" -c /bin/sleep 100000 \
      >>"$work/holder.log" 2>&1 &
    holder=$!
    held() { [ "$(grep -c 'cmd_acquire .* result 0' "$work/sanlock-host1.log")" -gt "$acquired" ]; }
    for ((i = 0; i < 300; i++)); do held && break; sleep 0.1; done
    held || { echo "host 1 did not acquire the resource" >&2; exit 1; }
    acquired=$((acquired + 1))
    t0=$(now_ms)
    kill -KILL "$DAEMON_1"
    got=""
    while [ $(( $(now_ms) - t0 )) -lt $(( (8 * io + 120) * 1000 )) ]; do
      if sl 2 command -r "LS:RES:$dev2:1048576" -c /bin/true >/dev/null 2>&1; then got=$(now_ms); break; fi
      sleep 0.2
    done
    kill -KILL "$holder" 2>/dev/null; wait "$holder" "$DAEMON_1" 2>/dev/null; holder="" DAEMON_1=""
    if [ -n "$got" ]; then
      say "run $run: host 2 acquired the resource $((got - t0)) ms after host 1's daemon was killed (host 1 joined in $join_ms ms)"
      record sanlock_detect "\"io_timeout_ms\": $((io * 1000)), \"run\": $run, \"ok\": true, \"takeover_ms\": $((got - t0)), \"join_ms\": $join_ms"
    else
      say "run $run: host 2 never acquired the resource"
      record sanlock_detect "\"io_timeout_ms\": $((io * 1000)), \"run\": $run, \"ok\": false"
    fi
  done
  kill -KILL "$DAEMON_2"; wait "$DAEMON_2" 2>/dev/null; DAEMON_2=""
  losetup -d "$dev1"; losetup -d "$dev2"; dev1="" dev2=""
  rm -rf "$work/run1" "$work/run2"
done
