#!/bin/bash
# make bench: runs the benchmarks named in BENCH (default: all of them), into BENCH_OUT (default
# results/bench-<UTC timestamp>/), then bench/report.py prints the table and writes results.json,
# summary.md and the PNG plots there. Benchmarks print figures; none is a timed assertion.
#   BENCH=failover,sanlock,fence,powerfence,idle,scale,relocate,iotol,auth,stall   (a subset; powerfence:
#                                    failover with power fencing, bench/power_fence.sh, PFENCE_PROFILES; auth: the
#                                    CPU cost of authenticated disk records, bench/auth_cost.cc, also make
#                                    bench-auth; stall: the longest shared storage stall ridden through,
#                                    bench/shared_stall.sh, STALL_PROFILES="2000", STALL_SECONDS="10 30 60 90")
#   BENCH_PROFILES="200 1000 10000"  failover io_timeouts (ms); BENCH_RUNS=20 runs each (BENCH_RUNS_10000=N
#                                    for one profile); SANLOCK_PROFILES="1 10" (s), SANLOCK_RUNS=3;
#   FENCE_RUNS=3, FENCE_CASTOR_PROFILES="200 1000 2000"; IDLE_PROFILES="200 2000", IDLE_SECONDS=60;
#   SCALE_COUNTS="1 10 100 1000", SCALE_IO_TIMEOUT_MS=2000, SCALE_AGENT=exec|dummy (ocf:heartbeat:Dummy); RELOCATE_RUNS=10; IOTOL_PROFILES="200 1000 10000"
# sanlock's runs take minutes of waiting and almost no CPU: they run in the background beside the others
# (BENCH_SANLOCK_BG=0 runs them in turn instead).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "make bench needs root (loop devices, namespaces, cgroups, FUSE)"; exit 1; }
BENCH=${BENCH:-failover,sanlock,fence,powerfence,idle,scale,relocate,iotol,auth,stall}
has() { [[ ",$BENCH," == *",$1,"* ]]; }
mkdir -p "$BENCH_OUT"
say "results in $BENCH_OUT (BENCH=$BENCH)"
python3 - "$BENCH_OUT/meta.json" "$ROOT" <<'EOP'
import json, os, subprocess, sys, time
root = sys.argv[2]
g = lambda *a: subprocess.run(a, cwd=root, capture_output=True, text=True).stdout.strip()
m = dict(started=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), commit=g('git', 'rev-parse', 'HEAD'),
         dirty=bool(g('git', 'status', '--porcelain', '--untracked-files=no')), kernel=os.uname().release,
         cpus=os.cpu_count(), loadavg_start=open('/proc/loadavg').read().split()[:3],
         env={k: v for k, v in os.environ.items() if k.startswith(('BENCH', 'SANLOCK_', 'FENCE_', 'IDLE_', 'SCALE_', 'RELOCATE_', 'IOTOL_', 'IO_TIMEOUT', 'STALL_', 'LAN_', 'QUORUM_', 'BMC_', 'PFENCE_'))})
json.dump(m, open(sys.argv[1], 'w'), indent=1)
EOP
# bash reports every node process the harness SIGKILLs ("line N: PID Killed ..."): noise, filtered out
quiet() { grep -v --line-buffered -E ': line [0-9]+: +[0-9]+ Killed ' >&2; }
run() { say "== $*"; "$@" 2> >(quiet) || say "!! $2 failed"; }
SLPID=""
if has sanlock; then
  if [ "${BENCH_SANLOCK_BG:-1}" = 1 ]; then
    bash "$BENCH_DIR/sanlock_detect.sh" >"$BENCH_OUT/sanlock.out" 2>&1 &
    SLPID=$!
    say "sanlock detection runs in the background (pid $SLPID; its output: $BENCH_OUT/sanlock.out)"
  else
    run bash "$BENCH_DIR/sanlock_detect.sh"
  fi
fi
trap '[ -n "$SLPID" ] && kill -TERM "$SLPID" 2>/dev/null' EXIT
if has failover; then
  for io in ${BENCH_PROFILES:-200 1000 10000}; do
    [ "$io" = , ] || IO_TIMEOUT_MS=$io run bash "$BENCH_DIR/failover.sh"
  done
fi
has relocate && run bash "$BENCH_DIR/relocate.sh"
has fence && run bash "$BENCH_DIR/fence.sh"
has powerfence && run bash "$BENCH_DIR/power_fence.sh"
if has idle; then
  for io in ${IDLE_PROFILES:-200 2000}; do IO_TIMEOUT_MS=$io run bash "$BENCH_DIR/idle_cost.sh"; done
fi
has scale && run bash "$BENCH_DIR/scale.sh"
has iotol && run bash "$BENCH_DIR/io_tolerance.sh"
if has stall; then
  for io in ${STALL_PROFILES:-2000}; do IO_TIMEOUT_MS=$io run bash "$BENCH_DIR/shared_stall.sh"; done
fi
if has auth; then say "== auth_cost"; "$BUILD/bench/auth_cost" | tee "$BENCH_OUT/auth_cost.txt" >&2 || say "!! auth_cost failed"; fi
if [ -n "$SLPID" ]; then
  say "waiting for the sanlock runs to finish"
  wait "$SLPID"; SLPID=""
  cat "$BENCH_OUT/sanlock.out" >&2
fi
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); m['loadavg_end']=open('/proc/loadavg').read().split()[:3]; json.dump(m, open(sys.argv[1],'w'), indent=1)" "$BENCH_OUT/meta.json"
echo
/usr/bin/python3 "$BENCH_DIR/report.py" "$BENCH_OUT"
