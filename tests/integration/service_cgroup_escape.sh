#!/bin/bash
# Issue 14, "a cgroup per service": a service whose start leaves a daemon that double-forks and one that
# calls setsid (both leave the agent's process group, as start-stop-daemon --background and most init
# scripts do) is fully stopped by `castor disable`: no process of it is left, and its cgroup is removed.
# Before the fix both sleeps survived the stop (only the process group was tracked). Also: the service
# file's tasks_max and memory_max are in the service's cgroup while it runs.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=12

live() {  # live PID: exists and is not a zombie (a container's PID 1 may reap late)
  kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

one_node_disk cgesc 200
exec_service a web "touch $dir/state/web; ( (sleep 1000 >/dev/null 2>&1 & echo \$! >>$dir/state/pids) & ); setsid sleep 1000 >/dev/null 2>&1 & echo \$! >>$dir/state/pids; sleep 0.2" \
  "rm -f $dir/state/web" "test -e $dir/state/web || exit 7"
sed -i 's/^nodes = a, b$/nodes = a, b\ntasks_max = 50\nmemory_max = 256M/' "$dir/a-services/web.ini"
start_daemons a QP SP
wait_file "$dir/state/web" 30 || die "web did not start"
sleep 0.5
mapfile -t pids <"$dir/state/pids"
for p in "${pids[@]}"; do register_pid "$p"; done
[ "${#pids[@]}" = 2 ] || die "expected 2 daemon pids, got: ${pids[*]}"
for p in "${pids[@]}"; do live "$p" || die "daemon $p is not running"; done

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  cg=/sys/fs/cgroup/castor/a/web; tasks=$cg/pids.max; mem=$cg/memory.max
else
  cg=/sys/fs/cgroup/freezer/castor/a/web; tasks=/sys/fs/cgroup/pids/castor/a/web/pids.max
  mem=/sys/fs/cgroup/memory/castor/a/web/memory.limit_in_bytes
fi
for p in "${pids[@]}"; do grep -qx "$p" "$cg/cgroup.procs" || fail "daemon $p is not in the service's cgroup $cg"; done
[ "$(cat "$tasks")" = 50 ] || fail "tasks_max not applied: $tasks = $(cat "$tasks")"
[ "$(cat "$mem")" = 268435456 ] || fail "memory_max not applied: $mem = $(cat "$mem")"

say "castor disable web: every process of it must be gone"
"$CASTOR" disable web --socket "$dir/a-s.sock" >/dev/null || die disable
end=$((SECONDS + 15))
while ((SECONDS < end)); do
  [ -e "$dir/state/web" ] && { sleep 0.2; continue; }
  left=""; for p in "${pids[@]}"; do live "$p" && left+=" $p"; done
  [ -z "$left" ] && break
  sleep 0.2
done
[ -e "$dir/state/web" ] && fail "web was not stopped"
[ -z "$left" ] || fail "processes of the stopped service still run:$left (they escaped its process group)"
# The empty cgroup is removed once svcmgr's drain check sees it empty (every 20 ms): give it a moment.
for _ in $(seq 50); do [ -d "$cg" ] || break; sleep 0.1; done
[ -d "$cg" ] && fail "the stopped service's cgroup $cg was not removed"
kill -TERM $QP; wait $QP 2>/dev/null; wait $SP 2>/dev/null
say "ok: a double-forked and a setsid daemon were stopped with their service; its limits were applied"
