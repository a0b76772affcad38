#!/bin/bash
# Idle cost over IDLE_SECONDS (default 60), Castor beside sanlock and sbd, all running at once:
#   Castor: the harness cluster at IO_TIMEOUT_MS (default 200) with 10 trivial exec services (IDLE_SERVICES)
#           running on alpha; quorumd and svcmgr of both nodes.
#   sanlock: two daemons ("hosts"), each on its own loop device over one file, watchdog off, a lockspace at
#           Castor's io_timeout when it is whole seconds (issue 19 compares the two at equal io_timeout), else at
#           sanlock's default 10 s (SANLOCK_IDLE_IO_S overrides), host 1 holding one resource lease.
#   sbd: two sbd daemons (inquisitor + servant), each on its own loop device over one file, defaults.
# Per daemon: CPU % (schedstat), the CPU of the children it reaped (svcmgr's agents), wakeups/s (context
# switches), RSS and PSS; per disk: reads and writes per second and bytes per second (bench/proc_sample.py).
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/sbd_lib.sh"
IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-200}
SECONDS_WINDOW=${IDLE_SECONDS:-60}
NSVC=${IDLE_SERVICES:-10}
if [ $((IO_TIMEOUT_MS % 1000)) = 0 ]; then SL_IO=${SANLOCK_IDLE_IO_S:-$((IO_TIMEOUT_MS / 1000))}; else SL_IO=${SANLOCK_IDLE_IO_S:-10}; fi
. "$ROOT/tests/cluster/harness.sh"
export SANLOCK_PRIVILEGED=0
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-idle.XXXXXX")
SL1="" SL2="" SLHOLD="" extra_loops=""
idle_cleanup() {
  set +e
  for p in $SLHOLD $SL1 $SL2; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  sbd_stop
  sbd_sink_stop
  for l in $extra_loops; do losetup -d "$l" 2>/dev/null; done
  for o in "$work"/ov.*; do [ -d "$o" ] && rm -rf "$o"; done
  rm -rf "$work"
  cleanup  # the harness's
}
trap idle_cleanup EXIT

cluster_setup >"$BENCH_OUT/idle-setup.log" 2>&1
trivial_services "$NSVC"
start_node alpha
start_node beta
for ((i = 0; i < 600; i++)); do [ "$(started_count alpha)" = "$NSVC" ] && break; sleep 0.2; done
[ "$(started_count alpha)" = "$NSVC" ] || fail "the $NSVC services did not start"

# sanlock: two hosts
truncate -s 64M "$work/sanlock.img"
sdev1=$(losetup -f --show --direct-io=on "$work/sanlock.img") && extra_loops+=" $sdev1"
sdev2=$(losetup -f --show --direct-io=on "$work/sanlock.img") && extra_loops+=" $sdev2"
for h in 1 2; do
  mkdir -p "$work/run$h"
  SANLOCK_RUN_DIR=$work/run$h sanlock daemon -D -w 0 -U root -G root >>"$work/sanlock$h.log" 2>&1 &
  eval "SL$h=$!"
  for ((i = 0; i < 50; i++)); do [ -S "$work/run$h/sanlock.sock" ] && break; sleep 0.1; done
done
SANLOCK_RUN_DIR=$work/run1 sanlock client init -s "LS:0:$sdev1:0" -o "$SL_IO" >/dev/null &&
  SANLOCK_RUN_DIR=$work/run1 sanlock client init -r "LS:RES:$sdev1:1048576" >/dev/null || fail "sanlock init"
SANLOCK_RUN_DIR=$work/run1 sanlock client add_lockspace -s "LS:1:$sdev1:0" -o "$SL_IO" >/dev/null &
j1=$!
SANLOCK_RUN_DIR=$work/run2 sanlock client add_lockspace -s "LS:2:$sdev2:0" -o "$SL_IO" >/dev/null &
j2=$!
wait "$j1" "$j2"
SANLOCK_RUN_DIR=$work/run1 setsid sanlock client command -r "LS:RES:$sdev1:1048576" -c /bin/sleep 100000 >/dev/null 2>&1 &
SLHOLD=$!

# sbd: two nodes
truncate -s 16M "$work/sbd.img"
bdev1=$(losetup -f --show --direct-io=on "$work/sbd.img") && extra_loops+=" $bdev1"
bdev2=$(losetup -f --show --direct-io=on "$work/sbd.img") && extra_loops+=" $bdev2"
sbd -d "$bdev1" create >/dev/null 2>&1 && sbd -d "$bdev1" allocate node1 >/dev/null 2>&1 &&
  sbd -d "$bdev1" allocate node2 >/dev/null 2>&1 || fail "sbd create"
sbd_sink_start "$work"
sbd_watch "$work" "$bdev1:node1" "$bdev2:node2"
set -- $SBD_PIDS
[ $# = 2 ] || fail "sbd did not start: $(cat "$work/sbd-start.log")"
sbd_a=$1 sbd_b=$2

sleep 15  # everything settled (sanlock's lockspace joins take ~20 s at io_timeout 10; the lease acquire after)
specs=()
for n in alpha beta; do
  specs+=("castor:quorumd-$n:$(daemon_pid "$n" quorumd)" "castor:svcmgr-$n:$(daemon_pid "$n" svcmgr)")
done
specs+=("sanlock:sanlock-host1:$SL1" "sanlock:sanlock-host2:$SL2" "sbd:sbd-node1:$sbd_a+tree" "sbd:sbd-node2:$sbd_b+tree")
if [ "$QUORUM_DEVICES" = 3 ]; then  # a set of three quorum devices (issue 17): each device of each node on its own
  for i in $QDEVS; do eval "specs+=(\"disk:castor:quorum$i-alpha:\$Q${i}_alpha\" \"disk:castor:quorum$i-beta:\$Q${i}_beta\")"; done
else
  specs+=("disk:castor:quorum-alpha:$Q_alpha" "disk:castor:quorum-beta:$Q_beta")
fi
specs+=("disk:sanlock:host1:$sdev1"
        "disk:sanlock:host2:$sdev2" "disk:sbd:node1:$bdev1" "disk:sbd:node2:$bdev2")
say "idle: ${SECONDS_WINDOW} s window; Castor io_timeout ${IO_TIMEOUT_MS} ms with $NSVC services; sanlock io_timeout ${SL_IO} s; sbd at its defaults"
SANLOCK_RUN_DIR=$work/run1 sanlock client status 2>/dev/null | grep -q '^r LS:RES' || say "warning: sanlock host 1 holds no resource"
python3 "$BENCH_DIR/proc_sample.py" "$SECONDS_WINDOW" "${specs[@]}" >"$work/idle.out" || fail "sampling"
while read -r line; do
  record idle "\"io_timeout_ms\": $IO_TIMEOUT_MS, \"sanlock_io_timeout_s\": $SL_IO, \"services\": $NSVC, ${line:1:${#line}-2}"
done <"$work/idle.out"
python3 - "$work/idle.out" <<'EOP' >&2
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d['kind'] == 'daemon':
        print('  %-8s %-16s cpu %7.4f %%  children %7.4f %%  wakeups %7.1f/s  rss %6.1f MiB  pss %6.1f MiB' % (
            d['system'], d['name'], d['cpu_pct'], d['children_cpu_pct'], d['wakeups_per_s'], d['rss_kib'] / 1024, d['pss_kib'] / 1024))
    else:
        print('  %-8s %-16s disk reads %6.2f/s (%7d B/s)  writes %6.2f/s (%7d B/s)' % (
            d['system'], d['name'], d['reads_per_s'], d['read_bytes_per_s'], d['writes_per_s'], d['write_bytes_per_s']))
EOP
