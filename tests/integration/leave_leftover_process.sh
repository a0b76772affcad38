#!/bin/bash
# REVIEW FINDING R8 (issue 12 adversarial review, item 4): DOWN is written while a registered service process
# group still has a process. quorumd's "services-stopped" handler checks only its table (may_write_down); the
# path without a service manager also refuses while groups_.any_alive(), this one does not. A stop that
# returns ok but leaves a process behind (here the start action's `sleep 1000 &`, whose group svcmgr
# registered) is believed: DOWN is written, the watchdog disarmed, and the peer starts the service at once
# while that process still runs (and may still write the shared data).
# Expected: no DOWN while a registered group is alive (kill it and leave without DOWN, as the other path).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=12

one_node_disk rev8 200
exec_service a web "touch $dir/state/web; sleep 1000 & echo \$! > $dir/state/pid" \
  "echo \"stop \$CASTOR_EPOCH\" >> $dir/ledger; rm -f $dir/state/web" "test -e $dir/state/web || exit 7"
start_daemons a QP SP
wait_file "$dir/state/web" 30 || die "web did not start"
say "SIGTERM to quorumd: a clean leave"
kill -TERM $QP || die "no quorumd"
wait $QP; qrc=$?; wait $SP
# A zombie is dead (killed by the service's cgroup stop): PID 1 of a container may reap it late.
pid=$(cat "$dir/state/pid"); alive=no
if kill -0 "$pid" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; then
  alive=yes
fi
kill "$(cat "$dir/state/pid")" 2>/dev/null
echo "quorumd exit $qrc; the service's leftover process alive after the leave: $alive"
if [ "$qrc" = 0 ] && [ "$alive" = yes ]; then
  grep -i "group\|DOWN" "$dir/a-quorumd.log" | tail -5
  fail "R8: DOWN written (clean leave) while a registered process group of the service still ran"
fi
say "ok: no DOWN while a service process was left"
