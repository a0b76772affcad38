#!/bin/bash
# svcmgr and a service file CHANGED (review finding R3, issue 12, sibling of item 10): a service must always be
# probed and stopped with the definition it was started under.
# Part 1 (R3): a service file changed while svcmgr was down. svcmgr's start-up probes (and would stop) the service with the NEW definition and overwrites the
# saved copy of the old one before it is proven stopped. An instance started under the old definition that
# the new probe cannot see is then "not running": the entry is released and the peer starts the service
# while the old instance still runs here.
# Schedule: a runs web under v1 (marker web-v1-a). a's svcmgr is killed (its services keep running, as
# agents' processes, mounts and addresses do). The admin edits web.ini on both nodes to v2 (another marker,
# and now preferring b). a's svcmgr starts: probe with v2 says stopped, a releases, b starts web under v2:
# web-v1-a and web-v2-b both exist — the service runs on both nodes.
# Expected (fixed): svcmgr probes/stops with the saved copy of the definition the instance was started
# under (Pacemaker stops with the parameters of the last start) before it releases the entry.
# Part 2: a reload (SIGHUP) while web runs under v2 on b: v3 waits; a relocation stops v2 with v2's stop
# (its marker is gone) and a starts web under v3.
# Part 3: a's svcmgr down again while web runs there under v3; its saved copy is lost and the file becomes v4:
# the definition web runs under is unknown: a keeps its entry up and says so (orphaned), b starts nothing,
# until the admin stopped it by hand and ran `castor reset web`; then web starts under v4.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=25

dev_a=$(new_disk_loop) || die losetup; register_loop "$dev_a"
dev_b=$(new_disk_loop) || die losetup; register_loop "$dev_b"
expect_exit 0 "$CASTOR" init "$dev_a" --cluster rev3 --nodes a,b --io-timeout 200
mkdir -p "$dir/state"

webdef() {  # webdef VERSION NODES
  cat <<EOI
[service]
name = web
nodes = $2
failback = yes
monitor_interval = 1s
start_timeout = 5s
stop_timeout = 5s

[resource r]
agent = exec
shell = yes
start = echo "start \$CASTOR_NODE \$CASTOR_EPOCH $1" >> $dir/ledger && touch $dir/state/web-$1-\$CASTOR_NODE
stop = echo "stop \$CASTOR_NODE \$CASTOR_EPOCH $1" >> $dir/ledger; rm -f $dir/state/web-$1-\$CASTOR_NODE
monitor = test -e $dir/state/web-$1-\$CASTOR_NODE || exit 7
EOI
}
node_ini a "$dev_a"; node_ini b "$dev_b"
for n in a b; do webdef v1 "a, b" >"$dir/$n-services/web.ini"; done

say "a and b up: web starts on a under v1"
start_quorumd a; start_quorumd b
sleep 0.5
start_svcmgr a SV_a; start_svcmgr b SV_b
wait_file "$dir/state/web-v1-a" 30 || die "web did not start on a"

say "a's svcmgr is killed (web keeps running); web.ini edited on both nodes to v2 (prefers b)"
kill -KILL "$SV_a"; wait "$SV_a" 2>/dev/null
for n in a b; do webdef v2 "b, a" >"$dir/$n-services/web.ini"; done
kill -HUP "$SV_b"
sleep 0.5

say "a's svcmgr starts again"
start_svcmgr a SV_a
end=$((SECONDS + 20))
until [ -e "$dir/state/web-v2-b" ] || [ -e "$dir/state/web-v2-a" ] || ((SECONDS >= end)); do sleep 0.2; done
sleep 1
echo "ledger:"; cat "$dir/ledger"
ls "$dir/state"
if [ -e "$dir/state/web-v1-a" ] && { [ -e "$dir/state/web-v2-b" ] || [ -e "$dir/state/web-v2-a" ]; }; then
  show_logs
  fail "R3: web runs twice: the v1 instance on a was never stopped, and v2 started ($(ls "$dir/state" | tr '\n' ' '))"
fi
say "ok: the v1 instance was stopped before web started again"
grep -q "probing (and stopping) it with the saved copy" "$dir/a-svcmgr.log" || die "the probe with the saved copy is not logged"
grep -q "v2" "$dir/a-state/definitions/a/web.ini" || die "a's saved copy is not v2 after the v1 instance stopped"

say "reload while web runs on b under v2: v3 (prefers a) waits until web stops on b"
for n in a b; do webdef v3 "a, b" >"$dir/$n-services/web.ini"; done
kill -HUP "$SV_a" "$SV_b"
sleep 1.5
[ -e "$dir/state/web-v2-b" ] || die "web under v2 on b stopped on the reload alone"
[ -e "$dir/state/web-v3-a" ] || [ -e "$dir/state/web-v3-b" ] && die "web under v3 started while v2 runs"
"$CASTOR" relocate web --to a --wait=20 --socket "$dir/b-s.sock" || die "relocate to a failed"
wait_file "$dir/state/web-v3-a" 20
sleep 1
echo "ledger:"; cat "$dir/ledger"; ls "$dir/state"
[ -e "$dir/state/web-v2-b" ] && die "the v2 instance on b was not stopped with v2's definition ($(ls "$dir/state" | tr '\n' ' '))"
[ -e "$dir/state/web-v3-a" ] || die "web did not start on a under v3"
grep -q "^stop b [0-9]* v2$" "$dir/ledger" || die "no stop of v2 on b in the ledger"
say "ok: the reload waited, v2 was stopped with v2's definition, v3 started on a"

say "a's svcmgr killed while web runs there under v3; its saved copy lost; web.ini edited to v4"
kill -KILL "$SV_a"; wait "$SV_a" 2>/dev/null
rm -f "$dir/a-state/definitions/a/web.ini"
for n in a b; do webdef v4 "a, b" >"$dir/$n-services/web.ini"; done
kill -HUP "$SV_b"
start_svcmgr a SV_a
wait_field 100 a web state orphaned || die "web is not shown orphaned on a: '$(field a web state)'"
OUT=$("$CASTOR" status --socket "$dir/a-q.sock" --svcmgr-socket "$dir/a-s.sock")
echo "$OUT" | grep web
echo "$OUT" | grep -q 'the definition it runs under is unknown' || die "status does not say the definition is unknown"
# castor status --config takes both daemons' sockets from that castor.ini ([quorumd] and [svcmgr] socket).
OUT=$("$CASTOR" status --config "$SCRATCH/a.ini")
echo "$OUT" | grep -q 'the definition it runs under is unknown' ||
  die "status --config did not ask svcmgr on the [svcmgr] socket of that file: $OUT"
sleep 1.5  # longer than the dead time: nothing may change meanwhile
[ -e "$dir/state/web-v3-a" ] || die "the v3 instance was stopped (with which definition?)"
[ "$(field b web owner)" = a ] || die "b does not see web still owned by a: '$(field b web owner)'"
ls "$dir/state" | grep -q v4 && die "web started under v4 while the v3 instance may run ($(ls "$dir/state" | tr '\n' ' '))"
[ -e "$dir/a-state/definitions/a/web.ini" ] && die "a saved a copy of v4 while the v3 instance may run"
say "the admin stops it by hand and resets it: web starts under v4"
echo "stop a - v3 (by hand)" >>"$dir/ledger"; rm -f "$dir/state/web-v3-a"
expect_exit 0 "$CASTOR" reset web --socket "$dir/a-s.sock"
end=$((SECONDS + 20))
until ls "$dir/state" | grep -q v4 || ((SECONDS >= end)); do sleep 0.2; done
sleep 1
echo "ledger:"; cat "$dir/ledger"; ls "$dir/state"
[ "$(ls "$dir/state" | wc -l)" = 1 ] && ls "$dir/state" | grep -q '^web-v4-' || die "web does not run once under v4: $(ls "$dir/state" | tr '\n' ' ')"
grep -q "v4" "$dir/a-state/definitions/a/web.ini" || die "no saved copy of v4 on a after the reset"
say "ok: the unknown definition kept the entry up until the admin's reset"
