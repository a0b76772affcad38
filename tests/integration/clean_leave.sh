#!/bin/bash
# REVIEW FINDING R6 (issue 12 adversarial review; clean leave, DOWN): svcmgr exits (code 1) the moment
# quorumd tells it the node is leaving, before it stops anything: the "leaving" event sets leaving_ inside
# link_.process(), after the loop set leave_deadline for this turn, so the same turn finds
# now >= leave_deadline (still the zero TimePoint) and returns 1. quorumd then sees its service manager go
# away, kills the registered process groups (what is not a process — an address, a mount — stays), writes no
# DOWN and exits with the watchdog armed: every `castor leave` / SIGTERM of a node with svcmgr ends like a
# crash (a hardware watchdog resets the node; the peer waits the dead time). Safe, but the clean leave the
# design relies on (DOWN, immediate take-over, services stopped by their agents) never happens.
# Expected: web is stopped by its agent (ledger "stop"), quorumd exits 0 (DOWN written), svcmgr exits 0.
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=$BUILD/quorumd SVCMGR=$BUILD/svcmgr
[ -x "$SVCMGR" ] || skip "svcmgr not built"
make_scratch; dir=$SCRATCH
show_logs() { for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -12 "$f"; }; done; }
die() { show_logs; fail "$*"; }

truncate -s 8M "$dir/lun.img"
dev=$(losetup -f --show --direct-io=on "$dir/lun.img") || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster rev6 --nodes a,b --io-timeout 200
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
start = echo "start \$CASTOR_EPOCH" >> $dir/ledger && touch $dir/state/web
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
echo "quorumd exit $(cat "$dir/q.rc"), svcmgr exit $(cat "$dir/s.rc")"; cat "$dir/ledger"
grep -q "^stop 1" "$dir/ledger" && [ "$(cat "$dir/q.rc")" = 0 ] && [ "$(cat "$dir/s.rc")" = 0 ] ||
  { show_logs; fail "R6: the clean leave ended unclean (web not stopped by its agent, or no DOWN)"; }
say "ok: web stopped, DOWN written, both daemons exited 0"
