#!/bin/bash
# PostgreSQL under the nemesis (issue 18), short: the torture cluster with its db service (DB=1:
# tests/cluster/db.sh) and the client committing rows through the db address, then a handful of faults in
# this order: the db owner crashes, db is relocated, its postmaster is SIGKILLed, the pg disk stalls under
# the database for a few seconds, and the owner crashes again. The database's own evidence (read by
# tests/cluster/db_check.py from a copy of the disk image) must show every acknowledged commit, no row with
# an epoch older than one before it, no unknown epoch, a clean pg disk; and the rows must span more than one
# epoch (the database moved). Then the checker is shown a lost commit (the same disk image, with an ack log
# that has one more acknowledged seq than the database holds, then one whose epoch differs) and must fail.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
[ -x /usr/lib/postgresql/15/bin/postgres ] || skip "PostgreSQL 15 is not installed (make deps)"
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || skip "python3-psycopg2 is not installed (make deps)"
make_scratch
res=$SCRATCH/results
# A harness cluster of its own name (not the default one), so tests/run-tests runs it beside the suites of the
# default cluster (the castor-cluster lane), as power_fence and torture_fence are.
export CLUSTER_ID=${DB_SHORT_ID:-dbshort}
out=$(BUILD=$BUILD DB=1 LIGHT_SERVICES=${LIGHT_SERVICES:-4} FAULTS=5 SEED=${SEED:-20261203} ORDERED=1 KEEP_PGDISK=1 \
  ONLY=crash_db,relocate_db,kill_postmaster,pgdisk_stall,crash_db RESULTS=$res \
  bash "$(dirname "$0")/../cluster/torture.sh" 2>&1)
rc=$?
echo "$out" | grep -v '^[0-9]* \|^ack \|^start \|^stop \|^mount \|^umount \|Killed'
[ "$rc" = 0 ] || fail "the torture run with the db service failed (exit $rc)"
[ -f "$res/summary.json" ] || fail "the torture run wrote no summary"
python3 - "$res/summary.json" <<'EOP' || fail "the db run's evidence is not what it must be"
import json, sys
d = json.load(open(sys.argv[1]))
db = d.get('db') or {}
want = {'crash_db', 'relocate_db', 'kill_postmaster', 'pgdisk_stall'}
problems = []
if want - set(d['faults']):
    problems.append(f"fault kinds not injected: {sorted(want - set(d['faults']))}")
if not db.get('acknowledged'):
    problems.append('no commit was acknowledged')
if db.get('lost') != 0 or db.get('found') != db.get('acknowledged'):
    problems.append(f"lost commits: {db.get('lost')} (found {db.get('found')} of {db.get('acknowledged')})")
if db.get('epoch_regressions') != 0 or db.get('unknown_epochs'):
    problems.append(f"epochs: {db.get('epoch_regressions')} regressions, unknown {db.get('unknown_epochs')}")
if len(db.get('epochs_in_rows') or []) < 3:
    problems.append(f"the rows name only the epochs {db.get('epochs_in_rows')}: the database did not move twice")
if db.get('fsck') != 'clean':
    problems.append('the pg disk is not clean')
print('db evidence:', json.dumps({k: db.get(k) for k in ('acknowledged', 'found', 'lost', 'rows', 'failed_transactions',
      'indoubt_transactions', 'epochs_in_rows', 'epoch_regressions', 'fsck', 'recovery_ms_on_copy')}))
for p in problems:
    print('PROBLEM:', p)
sys.exit(1 if problems else 0)
EOP

say "the checker must catch a lost commit: one more acknowledged seq than the database holds"
[ -f "$res/pgdisk.img" ] && [ -f "$res/db-acks.log" ] || fail "KEEP_PGDISK=1 kept no disk image or ack log"
last=$(awk '$1 == "ack" {s = $2; e = $3; n = $4} END {print s, e, n}' "$res/db-acks.log")
read -r seq epoch node <<<"$last"
[ -n "$seq" ] || fail "no ack in the kept ack log"
check() {  # check ACKS: db_check.py on the kept image; prints its verdict, returns its status
  python3 "$(dirname "$0")/../cluster/db_check.py" --image "$res/pgdisk.img" --acks "$1" --out "$SCRATCH/neg.json"
}
cp "$res/db-acks.log" "$SCRATCH/acks-extra.log"
echo "ack $((seq + 1000)) $epoch $node 0" >>"$SCRATCH/acks-extra.log"
check "$SCRATCH/acks-extra.log" && fail "db_check.py passed an ack log with a commit the database does not hold"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['lost'] == 1 and $((seq + 1000)) in d['lost_examples'] else 1)" \
  "$SCRATCH/neg.json" || fail "db_check.py did not name the one lost commit: $(cat "$SCRATCH/neg.json")"
say "... and a commit acknowledged with another epoch than the row has"
sed "s/^ack $seq $epoch /ack $seq $((epoch + 1)) /" "$res/db-acks.log" >"$SCRATCH/acks-epoch.log"
check "$SCRATCH/acks-epoch.log" && fail "db_check.py passed an ack whose epoch the row does not have"
say "... while the true ack log passes on the same image"
check "$res/db-acks.log" || fail "db_check.py failed the true ack log on the kept image"
rm -f "$res/pgdisk.img"
ip netns list | grep -q "^${CLUSTER_ID:-castor}-" && fail "the db run left network namespaces behind"
exit 0
