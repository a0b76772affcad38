#!/bin/bash
# The db service's start after its node died (issue 18), on one machine where both harness nodes share the
# kernel's PIDs: the dead node's postmaster.pid stays on the shared disk, and its PID may by then belong to
# another live process of the user postgres. PostgreSQL alone then refuses to start ("lock file ... already
# exists"); ocf:heartbeat:pgsql's start (the agent the db service and etc/services.d/postgresql.ini use)
# finds no server answering on its socket and removes the file first, as a real cluster's takeover needs.
# Here, with no cluster: a data directory in a scratch folder, its postmaster and children SIGKILLed, the
# pid file pointed at a live process of postgres; pg_ctl must refuse, the agent's start must succeed and
# the server answer; its stop must end it.
. "$(dirname "$0")/../lib/common.sh"
need_root
PGBIN=/usr/lib/postgresql/15/bin
AGENT=/usr/lib/ocf/resource.d/heartbeat/pgsql
[ -x "$PGBIN/postgres" ] || skip "PostgreSQL 15 is not installed (make deps)"
[ -x "$AGENT" ] || skip "resource-agents (pgsql) is not installed (make deps)"
getent passwd postgres >/dev/null || skip "no user postgres"
make_scratch; d=$SCRATCH
chmod 0755 "$d"
mkdir -p "$d/sock" && chown postgres: "$d" "$d/sock"
pgdata=$d/pgdata
runuser -u postgres -- "$PGBIN/initdb" -D "$pgdata" -U postgres --auth-local=trust --no-instructions >"$d/initdb.log" 2>&1 ||
  fail "initdb: $(tail -3 "$d/initdb.log")"
printf "listen_addresses = ''\nunix_socket_directories = '%s'\n" "$d/sock" >>"$pgdata/postgresql.conf"
pgctl() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -l "$d/pg.log" "$@"; }
register_undo "runuser -u postgres -- '$PGBIN/pg_ctl' -D '$pgdata' -m immediate stop >/dev/null 2>&1"
pgctl -w start >/dev/null || fail "PostgreSQL does not start: $(tail -3 "$d/pg.log")"

say "the node dies: its postmaster and every child SIGKILLed at once, postmaster.pid left behind"
pm=$(head -1 "$pgdata/postmaster.pid")
kids=$(pgrep -P "$pm")
# shellcheck disable=SC2086
kill -STOP "$pm" $kids; kill -KILL "$pm" $kids
for ((i = 0; i < 50; i++)); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
[ -f "$pgdata/postmaster.pid" ] || fail "no stale postmaster.pid to test with"
say "its PID now belongs to another live process of postgres"
runuser -u postgres -- sleep 600 &
runner=$!
register_pid "$runner"
for ((i = 0; i < 50; i++)); do other=$(pgrep -u postgres -x sleep -P "$runner"); [ -n "$other" ] && break; other=$(pgrep -u postgres -x sleep | head -1); [ -n "$other" ] && break; sleep 0.1; done
[ -n "$other" ] || fail "no postgres process to lend its PID"
register_undo "kill $other 2>/dev/null"
sed -i "1s/.*/$other/" "$pgdata/postmaster.pid"

say "PostgreSQL alone refuses to start over it"
pgctl -w -t 10 start >/dev/null 2>&1 && fail "pg_ctl started over a postmaster.pid naming a live process"
grep -q 'lock file "postmaster.pid" already exists' "$d/pg.log" || fail "pg_ctl refused for another reason: $(tail -3 "$d/pg.log")"

say "ocf:heartbeat:pgsql's start removes it and starts the server (crash recovery included)"
export OCF_ROOT=/usr/lib/ocf OCF_RESKEY_pgdata=$pgdata OCF_RESKEY_config=$pgdata/postgresql.conf \
  OCF_RESKEY_socketdir=$d/sock OCF_RESKEY_pgctl=$PGBIN/pg_ctl OCF_RESKEY_psql=$PGBIN/psql OCF_RESKEY_logfile=$d/pg.log \
  OCF_RESKEY_pgdb=postgres
"$AGENT" start >"$d/agent.log" 2>&1 || fail "the pgsql agent's start failed: $(tail -5 "$d/agent.log")"
[ "$(head -1 "$pgdata/postmaster.pid")" != "$other" ] || fail "postmaster.pid still names the other process"
[ "$("$PGBIN/psql" -h "$d/sock" -U postgres -d postgres -Atqc 'SELECT 1')" = 1 ] || fail "the server does not answer"
grep -q 'database system was interrupted' "$d/pg.log" || fail "no crash recovery in the server's log"
kill -0 "$other" || fail "the process that holds the old PID was harmed"
"$AGENT" stop >>"$d/agent.log" 2>&1 || fail "the pgsql agent's stop failed"
"$AGENT" monitor >/dev/null 2>&1; rc=$?
[ "$rc" = 7 ] || fail "monitor after stop: $rc, not 7 (not running)"
exit 0
