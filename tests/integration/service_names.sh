#!/bin/bash
# Names that become paths (review 14b, findings 4 and 5), end to end through the binaries:
#   - `castor reset NAME` and svcmgr's reset verb (sent raw, past the CLI) refuse a name that is not a service
#     name, e.g. ../../../../etc/castor/castor (svcmgr unlinks state_dir/definitions/NODE/NAME.ini on reset)
#   - castor check reports a service named 'tasks' (a file in every cgroup directory) as reserved; castor init
#     refuses a node named 'tasks' (castor/<node> is a cgroup)
#   - svcmgr with a service file named 'tasks' among its files: the file is rejected (a load error), the other
#     service starts, and quorumd has not fenced (before the fix the start-up probe of 'tasks' ended in a
#     stop_failed and a fence)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
qctl() { python3 "$(dirname "$0")/../lib/qctl.py" "$@"; }

say "castor check: a service named 'tasks' is reserved"
mkdir -m 0755 "$dir/check.d"
printf '[service]\nname = tasks\nnodes = a, b\n[resource r]\nagent = exec\nstart = /bin/true\nstop = /bin/true\n' \
  >"$dir/check.d/tasks.ini"
chmod 0644 "$dir/check.d/tasks.ini"
expect_exit 2 "$CASTOR" check "$dir/check.d" --nodes a,b
echo "$OUT" | grep -q "service name 'tasks' is reserved" || fail "castor check: $OUT"

say "castor init: a node named 'tasks' is refused"
DEV0=$(new_loop "$dir/other.img" 8) || die losetup
register_loop "$DEV0"
OUT=$("$CASTOR" init "$DEV0" --cluster names --nodes tasks,b 2>&1) && fail "castor init accepted a node named tasks: $OUT"
echo "$OUT" | grep -q "node name 'tasks' is reserved" || fail "castor init: $OUT"

one_node_disk names 200
exec_service a web "touch $dir/state/web" "rm -f $dir/state/web" "test -e $dir/state/web || exit 7"
exec_service a tasks "true" "true" "exit 7"
start_daemons a QP SP
wait_file "$dir/state/web" 30 || die "web did not start"
sleep 2  # the start-up probe of every loaded service is long done

say "the file 'tasks' is a load error; the node did not fence"
expect_exit 0 "$CASTOR" status --json --config "$dir/a.ini" --svcmgr-socket "$dir/a-s.sock"
echo "$OUT" | grep -q "service name 'tasks' is reserved" || die "no load error for tasks.ini: $OUT"
[ "$(qctl "$dir/a-q.sock" status fences)" = 0 ] || die "quorumd fenced"
kill -0 "$SP" 2>/dev/null || die "svcmgr is gone"

say "castor reset refuses a path as a service name"
victim="../../../../etc/castor/castor"
expect_exit 2 "$CASTOR" reset "$victim" --socket "$dir/a-s.sock"
echo "$OUT" | grep -q "is not a valid service name" || die "castor reset: $OUT"

say "svcmgr's reset verb refuses it too (sent past the CLI)"
OUT=$(qctl "$dir/a-s.sock" send reset "$victim")
echo "$OUT" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if (not r["ok"]) and "is not a valid service name" in r["error"] else 1)' ||
  die "svcmgr reset: $OUT"
OUT=$(qctl "$dir/a-s.sock" send reset web)
echo "$OUT" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["ok"] else 1)' || die "svcmgr reset web: $OUT"
say "ok: path-like names refused by reset; a reserved service name is a load error, not a fence"
