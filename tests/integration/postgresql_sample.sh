#!/bin/bash
# The sample etc/services.d/postgresql.ini (issue 18) through the real CLI, on files only: castor check
# --agents accepts it with the nodes alpha,beta (every key valid, Filesystem, IPaddr2 and pgsql installed
# and root's), and refuses it, naming file:line, once its agent is misspelt or a node is unknown — so the
# sample stays what svcmgr would run.
. "$(dirname "$0")/../lib/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (castor check refuses files not owned by root)"
[ -x "$CASTOR" ] || skip "castor is not built"
[ -x /usr/lib/ocf/resource.d/heartbeat/pgsql ] || skip "resource-agents (pgsql) is not installed (make deps)"
sample=$(dirname "$0")/../../etc/services.d/postgresql.ini
[ -f "$sample" ] || fail "no sample $sample"
make_scratch; dir=$SCRATCH
chmod 0755 "$dir"
mkdir -m 0755 "$dir/services.d"
put() { cat >"$dir/services.d/postgresql.ini" && chmod 0644 "$dir/services.d/postgresql.ini"; }
check() { expect_exit "$1" "$CASTOR" check "$dir/services.d" --nodes alpha,beta --agents; }

say "the sample as shipped: valid, its agents installed"
put <"$sample"
check 0
echo "$OUT"
echo "$OUT" | grep -qx "postgresql: ok (3 resources, nodes alpha,beta)" || fail "castor check: $OUT"
grep -q '^agent = ocf:heartbeat:pgsql$' "$sample" || fail "the sample does not run ocf:heartbeat:pgsql"

say "a misspelt agent: refused, naming the line"
sed 's/heartbeat:pgsql$/heartbeat:pgsqlx/' "$sample" | put
check 2
echo "$OUT"
echo "$OUT" | grep -q "postgresql.ini:[0-9]*: resource 'pgsql': OCF agent .*/heartbeat/pgsqlx" || fail "castor check: $OUT"

say "a node the cluster does not have: refused"
sed 's/^nodes = alpha, beta/nodes = alpha, gamma/' "$sample" | put
check 2
echo "$OUT" | grep -q "unknown node 'gamma'" || fail "castor check: $OUT"
exit 0
