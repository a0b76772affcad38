#!/bin/bash
# castor drill (issue 20): a planned failover drill on two real nodes (quorumd and svcmgr on a loop device,
# io_timeout 200 ms). web is a real HTTP server (python3 -m http.server on 127.0.0.1) with
# `probe = http://127.0.0.1:PORT/`; ledger has no probe; pinned may run on a only. Checked: the drill refuses
# while a service is frozen (and says why, exit 4); then it moves web and ledger to b and back, one at a
# time, measures web's outage from its probe (some probes failed, the outage shorter than the move), says
# ledger has no probe, leaves pinned alone with the reason, and every service ends where it began; the JSON
# report says the same; and with b's quorumd gone (the peer DOWN) it refuses again.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 missing"
make_scratch; dir=$SCRATCH
LOG_TAIL=25

dev=$(new_disk_loop) || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster drill --nodes a,b --io-timeout 200
mkdir -p "$dir/state" "$dir/www"
echo "castor drill page" >"$dir/www/index.html"
port=$(free_port)
[ -n "$port" ] || die "no free port in 20000-29999"
for n in a b; do
  node_ini "$n" "$dev"
  cat >"$dir/$n-services/web.ini" <<EOI
[service]
name = web
nodes = a, b
monitor_interval = 1s
probe = http://127.0.0.1:$port/

[resource http]
agent = exec
shell = yes
start = /usr/bin/python3 -m http.server $port --bind 127.0.0.1 --directory $dir/www >/dev/null 2>&1 & echo \$! >$dir/state/web-\$CASTOR_NODE.pid; for i in \$(seq 50); do /usr/bin/python3 -c 'import socket; socket.create_connection(("127.0.0.1", $port), 0.2)' 2>/dev/null && exit 0; sleep 0.1; done; exit 1
stop = kill \$(cat $dir/state/web-\$CASTOR_NODE.pid) 2>/dev/null; rm -f $dir/state/web-\$CASTOR_NODE.pid; exit 0
monitor = test -e $dir/state/web-\$CASTOR_NODE.pid && kill -0 \$(cat $dir/state/web-\$CASTOR_NODE.pid) 2>/dev/null || exit 7
EOI
  exec_service "$n" ledger "touch $dir/state/ledger-\$CASTOR_NODE" "rm -f $dir/state/ledger-\$CASTOR_NODE" \
    "test -e $dir/state/ledger-\$CASTOR_NODE || exit 7"
  exec_service "$n" pinned "touch $dir/state/pinned" "rm -f $dir/state/pinned" "test -e $dir/state/pinned || exit 7"
  sed -i 's/^nodes = a, b$/nodes = a/' "$dir/$n-services/pinned.ini"
done
expect_exit 0 "$CASTOR" check "$dir/a-services" --nodes a,b

say "a and b up; every service started"
start_daemons a QA SA; start_daemons b QB SB
for s in web ledger pinned; do wait_field 150 a "$s" state started || die "$s not started"; done
web_home=$(field a web owner) ledger_home=$(field a ledger owner)
echo "web on $web_home, ledger on $ledger_home, pinned on $(field a pinned owner)"
curl -s --max-time 2 "http://127.0.0.1:$port/" | grep -q "castor drill page" || die "web does not answer"
sleep 0.5  # a few heartbeats: the lease and the peer's view settle

say "refused while a service is frozen"
expect_exit 0 "$CASTOR" freeze ledger --socket "$dir/a-s.sock"
wait_field 50 a ledger state frozen || die "ledger not frozen"
"$CASTOR" drill --config "$dir/a.ini" >"$dir/refused.out" 2>&1
rc=$?
cat "$dir/refused.out"
[ "$rc" = 4 ] || die "drill while ledger is frozen exited $rc, expected 4 (refused)"
grep -q "service ledger is frozen" "$dir/refused.out" || die "the refusal does not say why"
expect_exit 0 "$CASTOR" unfreeze ledger --socket "$dir/a-s.sock"
wait_field 50 a ledger state started || die "ledger not started after unfreeze"

say "the drill"
"$CASTOR" drill --config "$dir/a.ini" --timeout 30 >"$dir/drill.out" 2>"$dir/drill.err"
rc=$?
cat "$dir/drill.err" "$dir/drill.out"
[ "$rc" = 0 ] || die "castor drill exited $rc"
grep -Eq "^  web +$web_home -> [ab] +[0-9.]+ s +[0-9.]+ s \\([0-9]+ of [0-9]+ probes failed, http://127.0.0.1:$port/\\)" "$dir/drill.out" ||
  grep -Eq "^  web +$web_home -> [ab] +[0-9.]+ s +none seen" "$dir/drill.out" || die "no measured move of web in the report"
grep -Eq "^  ledger +$ledger_home -> [ab] .*no probe" "$dir/drill.out" || die "ledger's move is not reported as unprobed"
grep -q "not moved: pinned: b is not in its nodes" "$dir/drill.out" || die "pinned is not reported as left alone"
grep -q "4 moves, 4 completed; every service is back where it was" "$dir/drill.out" || die "no result line"
[ "$(field a web owner)" = "$web_home" ] && [ "$(field a ledger owner)" = "$ledger_home" ] || die "not back home"

say "the JSON report"
"$CASTOR" drill --config "$dir/a.ini" --timeout 30 --service web --json >"$dir/drill.json" 2>"$dir/drill-json.err" ||
  die "castor drill --json: $(cat "$dir/drill-json.err")"
/usr/bin/python3 - "$dir/drill.json" "$web_home" <<'EOF' || die "the JSON report: $(cat "$dir/drill.json")"
import json, sys
r = json.load(open(sys.argv[1])); home = sys.argv[2]
assert r["ok"] and r["cluster"] == "drill" and r["io_timeout_ms"] == 200, r
moves = r["moves"]
assert [(m["service"], m["from"]) for m in moves] == [("web", home), ("web", moves[0]["to"])], moves
for m in moves:
    assert m["ok"] and m["started_after_ms"] > 0 and m["probe"].startswith("http://"), m
    # The probe sees the server go away at the stop and come back after the start: an outage no longer
    # than the move itself (plus a probe period), and probes counted.
    assert 0 <= m["outage_ms"] <= m["started_after_ms"] + 1500, m
    assert m["probes"] >= 1, m
    print("web %s -> %s: started after %d ms, outage %d ms (%d of %d probes failed)" % (
        m["from"], m["to"], m["started_after_ms"], m["outage_ms"], m["failed_probes"], m["probes"]))
EOF
[ "$(field a web owner)" = "$web_home" ] || die "web not back home after the JSON drill"

say "refused with the peer down"
kill -TERM "$SB"; wait "$SB" 2>/dev/null
kill -TERM "$QB"; wait "$QB" 2>/dev/null
for ((i = 0; i < 50; i++)); do [ "$("$CASTOR" status --json --config "$dir/a.ini" 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["peer"]["view"])' 2>/dev/null)" = DOWN ] && break; sleep 0.1; done
"$CASTOR" drill --config "$dir/a.ini" >"$dir/refused2.out" 2>&1
rc=$?
[ "$rc" = 4 ] || die "drill with the peer down exited $rc: $(cat "$dir/refused2.out")"
grep -q "the peer b is DOWN, not UP" "$dir/refused2.out" || die "the refusal does not name the peer: $(cat "$dir/refused2.out")"
echo "[castor] drill: $(grep -E '^  web ' "$dir/drill.out" | head -2 | sed 's/  */ /g' | tr '\n' ';')"
say "pass"
