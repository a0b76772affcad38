#!/bin/bash
# REVIEW FINDING R8 (issue 12 adversarial review, item 4): DOWN is written while a registered service process
# group still has a process. quorumd's "services-stopped" handler checks only its table (may_write_down); the
# path without a service manager also refuses while groups_.any_alive(), this one does not. A stop that
# returns ok but leaves a process behind (here the start action's `sleep 1000 &`, whose group svcmgr
# registered) is believed: DOWN is written, the watchdog disarmed, and the peer starts the service at once
# while that process still runs (and may still write the shared data).
# Expected: no DOWN while a registered group is alive (kill it and leave without DOWN, as the other path).
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=$BUILD/quorumd SVCMGR=$BUILD/svcmgr
[ -x "$SVCMGR" ] || skip "svcmgr not built"
make_scratch; dir=$SCRATCH
show_logs() { for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -12 "$f"; }; done; }
die() { show_logs; fail "$*"; }

truncate -s 8M "$dir/lun.img"
dev=$(losetup -f --show --direct-io=on "$dir/lun.img") || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster rev8 --nodes a,b --io-timeout 200
mkdir -p "$dir/a-services" "$dir/state"
cat >"$dir/a.ini" <<EOI
[quorumd]
device = $dev
node = a
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $dir/a-q.sock
lock_memory = no
realtime = no

[svcmgr]
services_dir = $dir/a-services
socket = $dir/a-s.sock
quorumd_socket = $dir/a-q.sock
state_dir = $dir/a-state
EOI
cat >"$dir/a-services/web.ini" <<EOI
[service]
name = web
nodes = a, b
monitor_interval = 1s

[resource r]
agent = exec
shell = yes
start = touch $dir/state/web; sleep 1000 & echo \$! > $dir/state/pid
stop = echo "stop \$CASTOR_EPOCH" >> $dir/ledger; rm -f $dir/state/web
monitor = test -e $dir/state/web || exit 7
EOI
( $QUORUMD --config "$dir/a.ini" >>"$dir/a-quorumd.log" 2>&1; echo $? >"$dir/q.rc" ) & QP=$!; register_pid $QP
sleep 0.3
( $SVCMGR --config "$dir/a.ini" >>"$dir/a-svcmgr.log" 2>&1; echo $? >"$dir/s.rc" ) & SP=$!; register_pid $SP
end=$((SECONDS + 30))
until [ -e "$dir/state/web" ] || ((SECONDS >= end)); do sleep 0.2; done
[ -e "$dir/state/web" ] || die "web did not start"
say "SIGTERM to quorumd: a clean leave"
kill -TERM $(pgrep -P $QP) || die "no quorumd"
wait $QP; wait $SP
alive=no; kill -0 "$(cat "$dir/state/pid")" 2>/dev/null && alive=yes
kill "$(cat "$dir/state/pid")" 2>/dev/null
echo "quorumd exit $(cat "$dir/q.rc"); the service's leftover process alive after the leave: $alive"
if [ "$(cat "$dir/q.rc")" = 0 ] && [ "$alive" = yes ]; then
  grep -i "group\|DOWN" "$dir/a-quorumd.log" | tail -5
  fail "R8: DOWN written (clean leave) while a registered process group of the service still ran"
fi
say "ok: no DOWN while a service process was left"
