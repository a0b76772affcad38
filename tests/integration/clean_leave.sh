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
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=12

one_node_disk rev6 200
exec_service a web "echo \"start \$CASTOR_EPOCH\" >> $dir/ledger && touch $dir/state/web" \
  "echo \"stop \$CASTOR_EPOCH\" >> $dir/ledger; rm -f $dir/state/web" "test -e $dir/state/web || exit 7"
start_daemons a QP SP
wait_file "$dir/state/web" 30 || die "web did not start"
say "SIGTERM to quorumd: a clean leave"
kill -TERM $QP || die "no quorumd"
wait $QP; qrc=$?; wait $SP; src=$?
echo "quorumd exit $qrc, svcmgr exit $src"; cat "$dir/ledger"
grep -q "^stop 1" "$dir/ledger" && [ "$qrc" = 0 ] && [ "$src" = 0 ] ||
  { show_logs; fail "R6: the clean leave ended unclean (web not stopped by its agent, or no DOWN)"; }
say "ok: web stopped, DOWN written, both daemons exited 0"
