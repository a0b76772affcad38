#!/bin/bash
# Resource faults of one harness node (issue 18, "the nemesis at scale"), sourced by tests/cluster/harness.sh;
# tests/cluster/torture.sh injects them as the kinds slow_disk, cpu_starve and mem_pressure. Defines functions
# only; nothing exists until RESOURCE_FAULTS=1 and a node boots. Must never touch a cgroup it did not make,
# and must leave every node as it found it (no quota, no limit, every disk path running) when a fault ends.
#   RESOURCE_FAULTS=1: each node also joins a cpu cgroup and a memory cgroup of its own at boot (boot_node runs
#     rf_join_cmd), so that every process it starts, now or later, is in them; no quota and no limit except
#     during a fault. They are made under this shell's own cpu and memory cgroups (RF_CPUROOT, RF_MEMROOT:
#     the memory of this session may be accounted in a cgroup of its own: the nodes stay under it), named
#     CLUSTER_ID-demo/NODE as the freezer ones are, and removed by rf_cleanup (harness cleanup).
#   slow_disk NODE    the node's quorum-disk I/O slowed to up to T/2 (T = IO_TIMEOUT_MS) for SLOW_DISK_MS
#                     (10 s), not stopped. There is no device-mapper here (no dm-delay). Measured here: cgroup v1
#                     blkio throttling does delay a direct-I/O loop device (iops 10: each 4 KiB write 0.11 s), but it
#                     is a rate, not a latency: quorumd keeps several I/Os in flight every R = T/2 (the heartbeat
#                     write, its read-back, the peer's heartbeat, table reads), so a rate low enough to delay one
#                     I/O by T/2 queues the rest behind it without bound (a disk out of throughput, a different
#                     fault). So the node's FUSE path(s) to the quorum disk (its bindfs, as stall_disk) are
#                     duty-cycled: SIGSTOPped for T/2, then resumed until every FUSE request queued meanwhile is
#                     answered (the connection's "waiting" count in fusectl is 0: at least SLOW_DISK_OPEN_MS, 2 ms,
#                     at most T/2; "undrained" counts the resumes that ended with requests left; fusectl is
#                     mounted in $dir when the host has not mounted it), again and again (a few lines of Python
#                     at SCHED_FIFO, for a precise clock on a loaded machine: at normal priority its stops
#                     overshot by 30-40 ms). Every I/O then waits up to T/2 (the rest of the stop it arrives in,
#                     as many in flight as the node issues) plus its own service time; a fixed resume of a few
#                     ms is not enough on a loaded machine (measured: I/Os left over for the next stop reached T
#                     and timed out). quorumd's own write latencies during the fault (castor status:
#                     write_latency_us.last, one per heartbeat seq) and for 1 s before are logged to
#                     $dir/slow-disk-latency.log and summed up in faults.log ("detail N slow_disk NODE ...", with
#                     the cycles, the longest stop and the longest resume, and the heartbeat writes that failed:
#                     missed their deadline T, which the latencies, of the writes that completed, do not show).
#   cpu_starve NODE   the node's cpu cgroup quota cut to 5 % of one CPU (cfs_quota_us 5000 per 100000) for 5 s, then
#                     no quota; "detail N cpu_starve NODE ... throttled_periods P throttled_ms MS alive_after 0|1" in
#                     faults.log (alive_after 0: the node was reset meanwhile, its watchdog fired).
#   mem_pressure NODE the node's memory cgroup limit set to its usage + MEM_HEADROOM_MB (32 MiB), then a hog in the
#                     node (its freezer, cpu and memory cgroups) touches memory up to MEM_HOG_MARGIN_MB (4 MiB)
#                     below the limit, holds it for 5 s and exits; then the limit is lifted. What the kernel
#                     did is in faults.log ("detail N mem_pressure NODE usage U limit L hog H peak P failcnt F
#                     oom_kills K oom_victims NAMES hog_end done|killed alive_after 0|1"): failcnt counts the charges
#                     that hit the limit (reclaim instead), oom_kills the processes the memory cgroup's OOM killer
#                     killed (oom_victims: their names from the kernel log, "hog" for the hog, NAME:ARG for a process of the
#                     node, e.g. python3:http.server, web's server: its monitor then restarts web).
RESOURCE_FAULTS=${RESOURCE_FAULTS:-0}
SLOW_DISK_MS=${SLOW_DISK_MS:-10000}
SLOW_DISK_OPEN_MS=${SLOW_DISK_OPEN_MS:-2}
CPU_STARVE_MS=${CPU_STARVE_MS:-5000}
CPU_STARVE_PERCENT=${CPU_STARVE_PERCENT:-5}
MEM_PRESSURE_MS=${MEM_PRESSURE_MS:-5000}
MEM_HEADROOM_MB=${MEM_HEADROOM_MB:-32}
MEM_HOG_MARGIN_MB=${MEM_HOG_MARGIN_MB:-4}
# rf_root CONTROLLER: where this shell's CONTROLLER cgroup is (its v1 hierarchy's mount point + its own path)
rf_root() {
  local mnt path
  mnt=$(awk -v c="$1" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") {print $2; exit}' /proc/mounts)
  path=$(awk -F: -v c="$1" '("," $2 ",") ~ ("," c ",") {print $3; exit}' /proc/self/cgroup)
  [ -n "$mnt" ] && echo "$mnt${path%/}"
}
# Decided once, by the shell that made the cluster (the BMC's startcmd, FENCE=1, inherits them).
RF_CPUROOT=${RF_CPUROOT:-$(rf_root cpu)/$CLUSTER_ID-demo}
RF_MEMROOT=${RF_MEMROOT:-$(rf_root memory)/$CLUSTER_ID-demo}
export RESOURCE_FAULTS RF_CPUROOT RF_MEMROOT

# rf_join_cmd NODE: with RESOURCE_FAULTS=1, the node's cpu and memory cgroups (made if need be, with no quota and
# no limit: a node boots unconstrained) and the shell words that put the booting node's first process in them
# ("echo $$ >DIR/cgroup.procs && " each); nothing otherwise.
rf_join_cmd() {
  [ "$RESOURCE_FAULTS" = 1 ] || return 0
  local c
  for c in "$RF_CPUROOT/$1" "$RF_MEMROOT/$1"; do
    mkdir -p "$c" || fail "cgroup $c"
  done
  echo -1 >"$RF_CPUROOT/$1/cpu.cfs_quota_us"
  echo -1 >"$RF_MEMROOT/$1/memory.limit_in_bytes"
  # shellcheck disable=SC2016  # $$: the booting node's shell
  printf 'echo $$ >%s/cgroup.procs && echo $$ >%s/cgroup.procs && ' "$RF_CPUROOT/$1" "$RF_MEMROOT/$1"
}
rf_cleanup() {  # the harness's cleanup, once both nodes are killed: the cgroups rf_join_cmd made
  local c i
  for c in "$RF_CPUROOT" "$RF_MEMROOT"; do
    [ -d "$c" ] || continue
    for i in 1 2 3 4 5 6 7 8 9 10; do
      rmdir "$c/alpha" "$c/beta" 2>/dev/null
      [ -d "$c/alpha" ] || [ -d "$c/beta" ] || break
      sleep 0.1
    done
    rmdir "$c" 2>/dev/null
  done
}
rf_alive() { if alive "$1"; then echo 1; else echo 0; fi; }  # 0: the node was reset meanwhile
rf_need() { [ "$RESOURCE_FAULTS" = 1 ] && [ -d "$RF_CPUROOT/$1" ] && [ -d "$RF_MEMROOT/$1" ] || fail "$2 needs RESOURCE_FAULTS=1 (the node's cpu and memory cgroups)"; }

# rf_sample_latency NODE OUT MS: quorumd's status every 50 ms for MS ms: "MONO_MS SEQ LAST_US WORST_US LEASE_MS PHASE"
rf_sample_latency() {
  python3 - "$CASTOR" "$dir/$1/quorumd.sock" "$2" "$3" <<'EOP'
import json, subprocess, sys, time
castor, sock, out, ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
end = time.monotonic() + ms / 1000
with open(out, 'a') as f:
    while time.monotonic() < end:
        try:
            d = json.loads(subprocess.run([castor, 'status', '--socket', sock, '--json'], capture_output=True,
                                          timeout=2).stdout)
            w = d.get('write_latency_us') or {}
            f.write(f"{int(time.monotonic() * 1000)} {d.get('seq')} {w.get('last')} {w.get('worst')}"
                    f" {(d.get('lease') or {}).get('remaining_ms')} {d.get('phase', '?').replace(' ', '_')}\n")
        except (subprocess.TimeoutExpired, ValueError, OSError):
            f.write(f"{int(time.monotonic() * 1000)} none\n")
        f.flush()
        time.sleep(0.05)
EOP
}
# rf_latency_summary FILE FROM_MS TO_MS: "n N median_ms M p95_ms P max_ms X" over the distinct heartbeat writes
# (by seq) whose samples fall in [FROM_MS, TO_MS) of FILE
rf_latency_summary() {
  python3 - "$@" <<'EOP'
import sys
path, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {}
for line in open(path):
    r = line.split()
    if len(r) >= 3 and r[0].isdigit() and r[1] not in ('none', 'None') and r[2] != 'None' and t0 <= int(r[0]) < t1:
        seen.setdefault(r[1], int(r[2]))
v = sorted(seen.values())
if not v:
    print('n 0')
else:
    q = lambda p: v[min(len(v) - 1, (len(v) * p + 99) // 100 - 1)]
    print(f'n {len(v)} min_ms {v[0] / 1000:.1f} median_ms {v[(len(v) - 1) // 2] / 1000:.1f} p95_ms {q(95) / 1000:.1f} max_ms {v[-1] / 1000:.1f}')
EOP
}
rf_write_failures() { grep -c 'heartbeat write failed' "$dir/$1-quorumd.log" 2>/dev/null; }  # so far, in NODE's quorumd log
mono_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }

# rf_fuse_conns NODE: the fusectl folders (under RF_FUSECTL) of the node's FUSE paths to its quorum storage
# (a FUSE connection is named by its mount's device number: 0:N is N)
rf_fuse_conns() {
  local m mp dev
  for m in "${fuse_mounts[@]}"; do
    case $m in "$1" | "$1"_[0-9]*) ;; *) continue ;; esac
    [ "$QUORUM_DEVICES" = 1 ] && [ "$m" != "$1" ] && continue
    mp=$(fuse_mountpoint "$m")
    dev=$(awk -v p="$mp" '$5 == p {print $3; exit}' /proc/self/mountinfo)
    [ -n "$dev" ] && echo "$RF_FUSECTL/$((${dev%%:*} << 20 | ${dev##*:}))"
  done
}
# slow_disk NODE: the node's quorum-disk path(s) duty-cycled for SLOW_DISK_MS: stopped T/2, then resumed until the
# FUSE requests queued meanwhile are answered (the connection's "waiting" count is 0, read from fusectl; at least
# SLOW_DISK_OPEN_MS, at most T/2), so that an I/O waits up to T/2 and no longer, however loaded the machine is.
slow_disk() {
  local n=$1 stop_ms=$((IO_TIMEOUT_MS / 2)) out=$dir/slow-disk-latency.log t0 t1 t2 paths conns sampler cyc wf0
  paths=$(node_paths "$n" | tr '\n' ' ')
  RF_FUSECTL=/sys/fs/fuse/connections
  if [ -z "$(ls -A "$RF_FUSECTL" 2>/dev/null)" ]; then  # fusectl is not mounted on this host: a private mount
    RF_FUSECTL=$dir/fusectl
    mountpoint -q "$RF_FUSECTL" || { mkdir -p "$RF_FUSECTL" && mount -t fusectl fusectl "$RF_FUSECTL"; } || fail "mount fusectl"
  fi
  conns=$(rf_fuse_conns "$n" | tr '\n' ' ')
  echo "fault $f: $n's quorum disk slowed: its path stopped $stop_ms ms, resumed until drained, for $SLOW_DISK_MS ms"
  rf_sample_latency "$n" "$out" $((SLOW_DISK_MS + 1000)) &
  sampler=$!; track_pid "$sampler"
  t0=$(mono_ms); sleep 1; t1=$(mono_ms)
  wf0=$(rf_write_failures "$n")
  # The cycler resumes the paths when it ends, however it ends (SIGTERM from the cleanup too).
  python3 - "$stop_ms" "$SLOW_DISK_OPEN_MS" "$stop_ms" "$SLOW_DISK_MS" "$paths" "$conns" >"$dir/slow-disk-cycler.out" <<'EOP' &
import os, signal, sys, time
stop, open_min, open_max, total = (int(x) / 1000 for x in sys.argv[1:5])
pids = [int(p) for p in sys.argv[5].split()]
conns = [c + '/waiting' for c in sys.argv[6].split()]
def cont(*_):
    for p in pids:
        try: os.kill(p, signal.SIGCONT)
        except OSError: pass
def waiting():
    n = 0
    for c in conns:
        try: n += int(open(c).read())
        except (OSError, ValueError): pass
    return n
signal.signal(signal.SIGTERM, lambda *_: (cont(), sys.exit(0)))
try:  # the instrument, not the cluster: its clock must hold on a loaded machine (it sleeps nearly all the time)
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
except OSError:
    pass
end = time.monotonic() + total
opens, stops, capped = [], [], 0
try:
    while time.monotonic() < end:
        t = time.monotonic()
        for p in pids: os.kill(p, signal.SIGSTOP)
        time.sleep(min(stop, max(0, end - time.monotonic())))
        stops.append(time.monotonic() - t)
        cont()
        t = time.monotonic()
        time.sleep(open_min)
        while waiting() and time.monotonic() - t < open_max:
            time.sleep(0.0005)
        opens.append(time.monotonic() - t)
        capped += waiting() > 0
finally:
    cont()
    opens.sort(); stops.sort()
    ms = lambda v: f'{v * 1000:.1f}'
    if opens:
        print(f'cycles {len(opens)} stop_ms_max {ms(stops[-1])} open_ms_median {ms(opens[len(opens) // 2])}'
              f' open_ms_max {ms(opens[-1])} undrained {capped} conns {len(conns)}')
EOP
  cyc=$!; track_pid "$cyc"
  wait "$cyc"; t2=$(mono_ms)
  kill -CONT $paths 2>/dev/null
  wait "$sampler"
  [ "$RF_FUSECTL" = "$dir/fusectl" ] && umount "$RF_FUSECTL"
  echo "detail $f slow_disk $n stop_ms $stop_ms $(cat "$dir/slow-disk-cycler.out") latency_before $(rf_latency_summary "$out" "$t0" "$t1") latency_during $(rf_latency_summary "$out" "$t1" "$t2") write_failures $(($(rf_write_failures "$n") - wf0))" |
    tee -a "$dir/faults.log" | sed 's/^detail [0-9]* /  /'
}

# cpu_starve NODE: the node's CPU quota cut to CPU_STARVE_PERCENT % of one CPU for CPU_STARVE_MS
cpu_starve() {
  local n=$1 cg=$RF_CPUROOT/$1 period quota p0 t0 p1 t1
  rf_need "$n" cpu_starve
  period=$(cat "$cg/cpu.cfs_period_us"); quota=$((period * CPU_STARVE_PERCENT / 100))
  echo "fault $f: $n's CPU quota cut to $CPU_STARVE_PERCENT % ($quota of every $period us) for $CPU_STARVE_MS ms"
  read -r p0 t0 <<<"$(awk '/^nr_throttled/ {p = $2} /^throttled_time/ {t = $2} END {print p, t}' "$cg/cpu.stat")"
  echo "$quota" >"$cg/cpu.cfs_quota_us" || fail "cpu quota of $n"
  ms_sleep "$CPU_STARVE_MS"
  echo -1 >"$cg/cpu.cfs_quota_us"
  read -r p1 t1 <<<"$(awk '/^nr_throttled/ {p = $2} /^throttled_time/ {t = $2} END {print p, t}' "$cg/cpu.stat")"
  echo "detail $f cpu_starve $n quota_us $quota period_us $period throttled_periods $((p1 - p0)) throttled_ms $(((t1 - t0) / 1000000)) alive_after $(rf_alive "$n")" |
    tee -a "$dir/faults.log" | sed 's/^detail [0-9]* /  /'
}

# mem_pressure NODE: the node's memory limit near its usage, and a hog in the node up to a few MiB below it
mem_pressure() {
  local n=$1 mg=$RF_MEMROOT/$1 usage limit fail0 oom0 hog end k0 victims p
  rf_need "$n" mem_pressure
  usage=$(cat "$mg/memory.usage_in_bytes"); limit=$((usage + MEM_HEADROOM_MB * 1048576))
  fail0=$(cat "$mg/memory.failcnt"); oom0=$(awk '/^oom_kill / {print $2}' "$mg/memory.oom_control")
  echo "fault $f: $n's memory limited to its usage $((usage >> 20)) MiB + $MEM_HEADROOM_MB MiB; a hog fills it to $MEM_HOG_MARGIN_MB MiB below for $MEM_PRESSURE_MS ms"
  echo 0 >"$mg/memory.max_usage_in_bytes"
  read -r k0 _ </proc/uptime  # the kernel log's clock: its OOM kills from now on
  # What each process of the node runs (its first argument that is not an option: http.server,
  # ledger_writer.py, ...), to name what the OOM killer kills beside the hog.
  local -A what=()
  for p in $(cat "$mg/cgroup.procs"); do
    what[$p]=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | awk '{for (i = 2; i <= NF; i++) if ($i !~ /^-/) {n = split($i, a, "/"); print a[n]; exit}}')
  done
  echo "$limit" >"$mg/memory.limit_in_bytes" || fail "memory limit of $n"
  rm -f "$dir/mem-hog.out"
  cat >"$dir/mem_hog.py" <<'EOP'
import os, sys, time
mg, margin, ms = os.environ['HOG_MG'], int(os.environ['HOG_MARGIN']), int(os.environ['HOG_MS'])
room = int(open(mg + '/memory.limit_in_bytes').read()) - int(open(mg + '/memory.usage_in_bytes').read()) - margin
hog = b'h' * max(0, room)  # written, so every page is touched and charged
print('hog', len(hog), flush=True)
time.sleep(ms / 1000)
print('done', flush=True)
EOP
  # The hog joins the node's cgroups (its freezer one too: a reset of the node kills it) before it allocates.
  # shellcheck disable=SC2016  # the hog's own shell expands these
  HOG_MG=$mg HOG_MARGIN=$((MEM_HOG_MARGIN_MB * 1048576)) HOG_MS=$MEM_PRESSURE_MS \
    bash -c 'for c in "${@:2}"; do echo $$ >"$c/cgroup.procs" || exit 1; done; exec python3 "$1"' _ "$dir/mem_hog.py" \
    "$CGROOT/$n" "$RF_CPUROOT/$n" "$mg" >"$dir/mem-hog.out" 2>&1 &
  hog=$!; track_pid "$hog"
  wait "$hog"
  echo -1 >"$mg/memory.limit_in_bytes"
  if grep -q '^done' "$dir/mem-hog.out"; then end=done; else end=killed; fi
  # What the OOM killer of this memory cgroup killed (the kernel's "oom-kill:... oom_memcg=CGROUP ... task=NAME")
  victims=$(dmesg | awk -v t0="$k0" -F'[][]' '$2 + 0 >= t0 - 1' | grep -F "oom_memcg=${mg#/sys/fs/cgroup/memory}," |
    sed -n 's/.*,task=\([^,]*\),pid=\([0-9]*\),.*/\1 \2/p' | while read -r t p; do
      if [ "$p" = "$hog" ]; then t=hog; elif [ -n "${what[$p]:-}" ]; then t=$t:${what[$p]}; fi; echo "$t"; done |
    paste -sd, -)
  echo "detail $f mem_pressure $n usage_mb $((usage >> 20)) limit_mb $((limit >> 20)) hog_mb $(($(awk '/^hog/ {print $2}' "$dir/mem-hog.out") + 0 >> 20)) peak_mb $(($(cat "$mg/memory.max_usage_in_bytes") >> 20)) failcnt $(($(cat "$mg/memory.failcnt") - fail0)) oom_kills $(($(awk '/^oom_kill / {print $2}' "$mg/memory.oom_control") - oom0)) oom_victims ${victims:--} hog_end $end alive_after $(rf_alive "$n")" |
    tee -a "$dir/faults.log" | sed 's/^detail [0-9]* /  /'
}

# rf_placement: "SERVICE=NODE@EPOCH ..." for every service started, as its own node's svcmgr says (cluster_view.py's rule)
rf_placement() {
  python3 - "$CASTOR" "$dir" <<'EOP'
import json, subprocess, sys
castor, d = sys.argv[1], sys.argv[2]
where = {}
for n in ('alpha', 'beta'):
    try:
        st = json.loads(subprocess.run([castor, 'status', '--socket', f'{d}/{n}/quorumd.sock', '--svcmgr-socket',
                                        f'{d}/{n}/svcmgr.sock', '--json'], capture_output=True, timeout=5).stdout)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        continue
    for s in (st.get('services') or {}).get('services', []):
        if s.get('state') == 'started' and s.get('owner') == n:
            where.setdefault(s['name'], f"{n}@{s.get('epoch', 0)}")
print(' '.join(f'{k}={v}' for k, v in sorted(where.items())))
EOP
}
# rf_moves N BEFORE: "detail N moves M web W ledger L regrants R" in faults.log: how many services run on another
# node than before fault N (BEFORE: rf_placement then), whether web and ledger moved (0/1), and how many were
# granted anew meanwhile (a greater epoch: a failover, also one that failed back since, or a start after a fence).
rf_moves() {
  python3 - "$1" "$2" "$(rf_placement)" >>"$dir/faults.log" <<'EOP'
import sys
f, a, b = sys.argv[1], dict(x.split('=') for x in sys.argv[2].split()), dict(x.split('=') for x in sys.argv[3].split())
node = lambda v: v.split('@')[0]
epoch = lambda v: int(v.split('@')[1])
moved = {k for k in a if k in b and node(a[k]) != node(b[k])}
regranted = {k for k in a if k in b and epoch(b[k]) > epoch(a[k])}
print(f"detail {f} moves {len(moved)} web {int('web' in moved)} ledger {int('ledger' in moved)} regrants {len(regranted)}")
EOP
}
