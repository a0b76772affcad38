#!/bin/bash
# Review finding R5 (issue 12 adversarial review, item 3 / item 9), fixed: `castor init --force` over a Castor disk
# writes both epoch records with floor 0, so CASTOR_EPOCH starts again at 1 for every service: the fencing
# token goes BACKWARDS across a re-init. A re-init is the normal way to change io_timeout — and this very
# round makes every disk of an older init unusable (its superblock's watchdog W = 2T fails the new formula),
# so the upgrade itself re-inits and resets every epoch. A resource that remembers the highest token it saw
# (the point of a fencing token) then refuses the new owner, or takes a late write of the old one (epoch 2)
# over the new owner's (epoch 1).
# Schedule: web runs with epoch 1, is disabled and enabled (epoch 2); both daemons leave; the admin runs
# `castor init --force` (nothing runs: the watch passes); the daemons start again: web starts with epoch 1.
# Expected (fixed): init --force carries the highest epoch it can read of the old disk (both floors, all
# entries) into the new epoch records, so epochs keep growing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH

one_node_disk rev5 200
dev=$DEV
exec_service a web "echo \"start \$CASTOR_EPOCH\" >> $dir/ledger && touch $dir/state/web" \
  "echo \"stop \$CASTOR_EPOCH\" >> $dir/ledger; rm -f $dir/state/web" "test -e $dir/state/web || exit 7"
wait_start() {  # wait_start N: until the ledger has N starts
  local end=$((SECONDS + 30))
  until [ "$(grep -c start "$dir/ledger" 2>/dev/null)" = "$1" ] || ((SECONDS >= end)); do sleep 0.2; done
  [ "$(grep -c start "$dir/ledger" 2>/dev/null)" = "$1" ] || die "web did not start (start $1)"
}
say "web starts (epoch 1), is disabled and enabled again (epoch 2)"
start_daemons a QP SP
wait_start 1
"$CASTOR" disable web --socket "$dir/a-s.sock" >/dev/null || die disable
sleep 1.5
"$CASTOR" enable web --socket "$dir/a-s.sock" >/dev/null || die enable
wait_start 2
say "both daemons leave; castor init --force; the daemons start again"
kill -TERM $QP; wait $QP 2>/dev/null; wait $SP 2>/dev/null; echo "svcmgr exit $?" >>"$dir/a-svcmgr.log"
expect_exit 0 "$CASTOR" init "$dev" --cluster rev5 --nodes a,b --io-timeout 200 --force
echo "$OUT"
echo "$OUT" | grep -q "epoch floor 2 for both nodes" || die "init --force did not say it carries the old epoch 2"
start_daemons a QP SP
wait_start 3
cat "$dir/ledger"
last=$(grep start "$dir/ledger" | tail -1 | cut -d' ' -f2)
before=$(grep start "$dir/ledger" | sed -n 2p | cut -d' ' -f2)
((last > before)) || fail "R5: CASTOR_EPOCH went backwards across castor init --force: $before before, $last after"
say "ok: epochs keep growing across a re-init ($before, then $last)"
