#!/bin/bash
# Shared by the bench/*.sh scripts: where results go, how a measurement is recorded, clocks and log times.
# Each script appends one JSON object per measurement to $BENCH_OUT/<name>.jsonl; bench/report.py turns the
# folder into results.json, the printed table and the PNG plots. Benchmarks print figures: no assertions.
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${BUILD:-build}
BENCH_OUT=${BENCH_OUT:-$ROOT/results/bench-manual}
mkdir -p "$BENCH_OUT"
export CLUSTER_ID=${CLUSTER_ID:-bench}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# record NAME JSON-OBJECT-BODY: one measurement (the load average is added to every record)
record() {
  printf '{%s, "load1": %s}\n' "$2" "$(loadavg)" >>"$BENCH_OUT/$1.jsonl"
}

# log_ms FILE SINCE_MS REGEX: wall time (ms since the epoch) of the first line of a Castor log (lines start
# with an ISO-8601 UTC stamp, ms precision) at or after SINCE_MS that matches REGEX; empty if none.
log_ms() {
  python3 - "$@" <<'EOP'
import re, sys, datetime
f, since, rx = sys.argv[1], int(sys.argv[2]), re.compile(sys.argv[3])
try:
    lines = open(f, errors='replace')
except OSError:
    sys.exit(0)
for line in lines:
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ', line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc)
    ms = int(t.timestamp() * 1000)
    if ms >= since and rx.search(line):
        print(ms)
        break
EOP
}

# runs_for PROFILE_MS: BENCH_RUNS_<ms> if set, else BENCH_RUNS, else the default given as $2
runs_for() {
  local v="BENCH_RUNS_$1"
  echo "${!v:-${BENCH_RUNS:-$2}}"
}

# With the harness (tests/cluster/harness.sh) sourced and cluster_setup done, before start_node:
# trivial_services N: replace the demo services with N trivial exec services svc1..svcN (a file touched in
# the node's private /run; monitored every MONITOR_INTERVAL, default 10s, the svcmgr default), all
# preferring alpha.
trivial_services() {  # trivial_services N: svc1..svcN, each one exec resource (SCALE_AGENT=dummy: Debian's
  local n i          # ocf:heartbeat:Dummy instead, a real OCF agent run through its shell script)
  for n in alpha beta; do
    rm -f "$dir/$n/services.d/"*.ini
    for ((i = 1; i <= $1; i++)); do
      if [ "${SCALE_AGENT:-exec}" = dummy ]; then
        cat >"$dir/$n/services.d/svc$i.ini" <<EOI
[service]
name = svc$i
nodes = alpha, beta

[resource r]
agent = ocf:heartbeat:Dummy
param.state = /run/castor-node/svc$i.state
monitor_interval = ${MONITOR_INTERVAL:-10s}
EOI
      else
        cat >"$dir/$n/services.d/svc$i.ini" <<EOI
[service]
name = svc$i
nodes = alpha, beta

[resource r]
agent = exec
shell = yes
start = touch /run/castor-node/svc$i
stop = rm -f /run/castor-node/svc$i
monitor = test -e /run/castor-node/svc$i || exit 7
monitor_interval = ${MONITOR_INTERVAL:-10s}
EOI
      fi
    done
  done
}
# daemon_pid NODE quorumd|svcmgr: the daemon's PID in the node's cgroup
daemon_pid() {
  local p
  for p in $(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null); do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$2" ] && { echo "$p"; return; }
  done
}
# started_count NODE: how many services NODE's svcmgr reports started on NODE itself
started_count() {
  status "$1" --json 2>/dev/null | python3 -c "import json,sys
d=json.load(sys.stdin)
print(sum(1 for s in d.get('services',{}).get('services',[]) if s['state']=='started' and s['owner']=='$1'))" 2>/dev/null || echo 0
}
