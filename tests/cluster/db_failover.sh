#!/bin/bash
# A benchmark (issue 18): how long PostgreSQL on the harness cluster (DB=1, tests/cluster/db.sh) is away
# when the node that runs it loses power, split into Castor's part and PostgreSQL's own.
#   RUNS=N (default 5) times: the db owner is killed (kill_node: a power cut), and from the client namespace
#   the database is asked through its floating IP every 100 ms until it answers again; then the dead node
#   boots again and the cluster settles before the next run. pgbench (Debian's, TPC-B-like, 4 clients) runs
#   through the VIP all along, in back-to-back 2-second runs (a pgbench client whose server died aborts
#   and never reconnects; the next run connects to whoever holds the address).
# Printed per run, then the median of each column:
#   failover  crash -> the peer's svcmgr starts the service (it claimed db with a new epoch: Castor's part,
#             the dead time and the claim), from the peer's svcmgr log
#   fs / pgsql  the Filesystem start (journal replay) and the pgsql agent's start (PostgreSQL's crash recovery
#             and the agent's wait for it; the agent polls once a second), as svcmgr logged them
#   recovery  PostgreSQL's own crash recovery, from its log: "database system was interrupted" to "ready to
#             accept connections"
#   answers   crash -> a query through the VIP answers again (the client's view: all of the above)
#   tps       pgbench's committed transactions per second in the 10 s before the crash; tx and failed in the
#             failover (from the crash until 5 s after the database answered again): transactions committed,
#             and transactions failed (pgbench's failed count plus its aborted clients, each with at most one
#             transaction in flight)
# Prints figures only, never asserts timings. CLUSTER_ID, IO_TIMEOUT_MS, BUILD as for the harness; RESULTS=DIR
# keeps the logs (both svcmgrs', PostgreSQL's, pgbench's runs.log and bench.log).
RUNS=${RUNS:-5}
export DB=1
LIGHT_SERVICES=${LIGHT_SERVICES:-0}
. "$(dirname "$0")/harness.sh"
now_ms() { date +%s%3N; }

cluster_setup >/dev/null
start_node alpha
start_node beta
for ((i = 0; i < 300; i++)); do db_answers && break; sleep 0.2; done
db_answers || fail "db does not answer through $DB_VIP"
ip netns exec "$NS_C" "$PGBIN/pgbench" -i -s 1 -q -h "$DB_VIP" -U postgres postgres >"$dir/pgbench-init.log" 2>&1 ||
  fail "pgbench -i (see $dir/pgbench-init.log)"
# The load: back-to-back pgbench runs, each logged as "seg START_MS END_MS TX FAILED ABORTED"
cat >"$dir/bench.sh" <<EOB
while [ ! -e $dir/bench.stop ]; do
  s=\$(date +%s%3N)
  out=\$("$PGBIN/pgbench" -n -c 4 -j 2 -T 2 -h $DB_VIP -U postgres postgres 2>&1)
  e=\$(date +%s%3N)
  tx=\$(echo "\$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
  failed=\$(echo "\$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  aborted=\$(echo "\$out" | grep -c 'aborted in command')
  echo "seg \$s \$e \${tx:-0} \${failed:-0} \$aborted" >>$dir/bench.log
  [ -z "\$tx" ] && sleep 0.1
done
EOB
ip netns exec "$NS_C" bash "$dir/bench.sh" &
track_pid "$!"; BENCH=$!
sleep 12

for ((r = 1; r <= RUNS; r++)); do
  owner=$(db_owner)
  [ -n "$owner" ] || { sleep 2; owner=$(db_owner); }
  [ -n "$owner" ] || fail "run $r: no node runs db"
  eval "wd=\$WD_$owner"
  t0=$(now_ms)
  kill_node "$owner"; kill -KILL "$wd" 2>/dev/null
  for ((i = 0; i < 1200; i++)); do db_answers && break; sleep 0.1; done
  t1=$(now_ms)
  echo "run $r $owner $t0 $t1" >>"$dir/runs.log"
  sleep 5
  revive "$owner"
  for ((i = 0; i < 300; i++)); do
    read -r _ _ _ whole <<<"$(view)"
    [ "$whole" = 1 ] && db_answers && break
    sleep 0.2
  done
  sleep 8  # the load back to its pace before the next crash
done
touch "$dir/bench.stop"; wait "$BENCH" 2>/dev/null
if [ -n "${RESULTS:-}" ]; then  # RESULTS=DIR: the logs the figures come from, kept
  mkdir -p "$RESULTS" && cp "$dir"/*.log "$dir/pglog/postgresql.log" "$RESULTS/" 2>/dev/null
fi

python3 - "$dir" "$IO_TIMEOUT_MS" <<'EOP'
import datetime, re, statistics, sys
d, t_ms = sys.argv[1], sys.argv[2]

def iso_ms(s):  # 2026-12-03T22:55:51.570Z -> epoch ms
    return int(datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)

def pg_ms(s):  # 2026-12-03 22:55:51.570 UTC -> epoch ms
    return int(datetime.datetime.strptime(s, '%Y-%m-%d %H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)

runs = [l.split() for l in open(f'{d}/runs.log')]
svc = {}
for n in ('alpha', 'beta'):
    svc[n] = [l for l in open(f'{d}/{n}-svcmgr.log') if 'service=db' in l]
pglog = open(f'{d}/pglog/postgresql.log').read().splitlines()
segs = [tuple(int(x) for x in l.split()[1:]) for l in open(f'{d}/bench.log') if l.startswith('seg ')]
rows = []
for _, r, owner, t0, t1 in runs:
    t0, t1 = int(t0), int(t1)
    peer = 'beta' if owner == 'alpha' else 'alpha'
    def first(pattern, lines, after):
        for l in lines:
            if re.search(pattern, l):
                t = iso_ms(l.split()[0])
                if t >= after:
                    return t, l
        return None, None
    tc, _ = first(r'starting service service=db', svc[peer], t0)
    _, lfs = first(r'resource=fs action=start ', svc[peer], t0)
    _, lpg = first(r'resource=pgsql action=start ', svc[peer], t0)
    el = lambda l: int(re.search(r'elapsed=(\d+)ms', l).group(1)) if l else None
    rec, ti = None, None
    for l in pglog:
        m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC', l)
        if not m or pg_ms(m.group(1)) < t0:
            continue
        if ti is None and ('was interrupted' in l or 'not properly shut down' in l):
            ti = pg_ms(m.group(1))
        if ti is not None and 'ready to accept connections' in l:
            rec = pg_ms(m.group(1)) - ti
            break
    before = [s for s in segs if s[1] <= t0 and s[0] >= t0 - 10000]
    tps = sum(s[2] for s in before) / max(1, sum(s[1] - s[0] for s in before) / 1000) if before else None
    during = [s for s in segs if s[1] > t0 and s[0] < t1 + 5000]
    rows.append({'run': int(r), 'from': owner, 'failover': None if tc is None else tc - t0, 'fs': el(lfs),
                 'pgsql': el(lpg), 'recovery': rec, 'answers': t1 - t0, 'tps': None if tps is None else round(tps),
                 'tx': sum(s[2] for s in during), 'failed': sum(s[3] + s[4] for s in during)})
cols = ['failover', 'fs', 'pgsql', 'recovery', 'answers', 'tps', 'tx', 'failed']
print(f'db failover benchmark: {len(rows)} power cuts of the db owner (io_timeout {t_ms} ms); times in ms')
print('run  from   ' + ''.join(f'{c:>10}' for c in cols))
for x in rows:
    print(f"{x['run']:>3}  {x['from']:<6} " + ''.join(f"{'-' if x[c] is None else x[c]:>10}" for c in cols))
med = {c: statistics.median([x[c] for x in rows if x[c] is not None]) if any(x[c] is not None for x in rows) else None
       for c in cols}
print('median      ' + ''.join(f"{'-' if med[c] is None else round(med[c]):>10}" for c in cols))
print(f"[castor] db failover: node failover (crash -> started on the peer by Castor) median {med['failover']} ms;"
      f" PostgreSQL's start by the pgsql agent median {med['pgsql']} ms (its own crash recovery {med['recovery']} ms);"
      f" the database answers through the VIP again after {med['answers']} ms (median); pgbench {med['tps']} tps"
      f" before, {med['failed']} failed transactions per failover (median)")
EOP
