#!/bin/bash
# svcmgr never runs a saved definition copy it cannot trust (review14b finding 1). svcmgr stops a service
# whose file was removed while it was down with the saved copy in state_dir/definitions/NODE/NAME.ini, as root.
# Part 1: that directory is made writable by others and the copy replaced (its stop line creates a 'pwned'
# file): svcmgr must refuse the copy (not root's alone), never run it, and keep the service orphaned.
# Part 2: a copy only root can change, but not the definition the entry was written under (its digest is
# not the entry's): not used either.
# Without the fixes, svcmgr runs the planted stop line (the 'pwned' file appears).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=25

one_node_disk copyguard 200
exec_service a web "touch $dir/state/web" "rm -f $dir/state/web" "test -e $dir/state/web || exit 7"
start_daemons a QP SP
wait_file "$dir/state/web" 30 || die "web did not start"
copy="$dir/a-state/definitions/a/web.ini"
wait_file "$copy" 10 || die "no saved copy of web"

planted() {  # planted MARK: web's definition with a stop line that leaves MARK
  cat <<EOI
[service]
name = web
nodes = a, b
monitor_interval = 1s

[resource r]
agent = exec
shell = yes
start = touch $dir/state/web
stop = touch $1; rm -f $dir/state/web
monitor = test -e $dir/state/web || exit 7
EOI
}
# settle MARK: until web is orphaned on a or MARK appears (the planted stop ran), at most 10 s, then 1 s more.
settle() {
  local i
  for ((i = 0; i < 100; i++)); do
    [ -e "$1" ] || [ "$(field a web state)" = orphaned ] && break
    sleep 0.1
  done
  sleep 1
}
# restart_expect_unused MARK WHY: svcmgr started again must not run the planted copy (no MARK; WHY says what
# running it would mean) and must keep web orphaned and running on a.
restart_expect_unused() {
  start_svcmgr a SP
  settle "$1"
  [ -e "$1" ] && die "$2"
  [ "$(field a web state)" = orphaned ] || die "web is not orphaned on a: '$(field a web state)'"
  [ -e "$dir/state/web" ] || die "web was stopped (with which definition?)"
}

say "svcmgr killed (web keeps running); the store made writable by others, the copy replaced; web.ini removed"
kill -KILL "$SP"; wait "$SP" 2>/dev/null
chmod 0777 "$dir/a-state/definitions/a"
planted "$dir/pwned" >"$copy.new" && mv "$copy.new" "$copy" || fail "planting the copy"
mv "$dir/a-services/web.ini" "$dir/web.ini.removed" || fail "removing web.ini"
restart_expect_unused "$dir/pwned" "svcmgr ran the stop line of a copy others could change"
grep -q "saved copy of a removed service's definition is unusable" "$dir/a-svcmgr.log" || die "the refusal is not logged"
grep -q "definitions/a is writable by" "$dir/a-svcmgr.log" || die "the log does not say why the copy was refused"
say "ok: the copy in a directory others can write to was refused, nothing ran"

say "svcmgr killed again; the store root's alone, the copy root's but another definition than the entry's"
kill -KILL "$SP"; wait "$SP" 2>/dev/null
chmod 0700 "$dir/a-state/definitions/a"
planted "$dir/pwned2" >"$copy.new" && chmod 0600 "$copy.new" && mv "$copy.new" "$copy" || fail "writing the copy"
restart_expect_unused "$dir/pwned2" "svcmgr stopped web with a copy that is not the definition its entry was written under"
grep -q "is not the one its entry was written under" "$dir/a-svcmgr.log" || die "the digest mismatch is not logged"
say "ok: a copy whose digest is not the entry's was not used"
