#!/bin/bash
# Alerts (issue 20): castor.ini's [alert NAME] programs run by svcmgr on two real nodes (quorumd and svcmgr
# on a loop device, io_timeout 200 ms, dead time 1.2 s) with Pacemaker's own alert_file.sh.sample, unchanged,
# as one alert, a program that records Castor's keys as another, and a program that hangs (timeout 1 s) as a
# third. Each kind an admin watches is seen with the sample's own wording: the peer up (member) and dead
# (lost), a service started, failed (monitor: not running), recovering and started again, relocated by the
# admin (stopped on one node, started and relocated on the other), taken over after a crash, and the
# service definitions differing between the nodes. Each event is reported once, by the node that saw it.
# The hanging alert never slows anything: the takeover after the crash still comes within 3 s (the dead
# time 1.2 s and the start; alerts that blocked would add their timeout and kill grace, 3 s), and the
# hanging programs are killed at their timeout (logged as failed).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
SAMPLE=/usr/share/pacemaker/alerts/alert_file.sh.sample
[ -x "$SAMPLE" ] || skip "$SAMPLE missing (Debian: pacemaker-common, from pacemaker-cli-utils)"
make_scratch; dir=$SCRATCH
LOG_TAIL=25

dev=$(new_disk_loop) || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster alerts --nodes a,b --io-timeout 200
mkdir -p "$dir/state" "$dir/keys"
cat >"$dir/keys.sh" <<EOF2
#!/bin/sh
# one file per event: Castor's keys and Pacemaker's, for the checks below
f=$dir/keys/\$CASTOR_ALERT_REPORTER.\$CRM_alert_node_sequence
env | grep -E '^(CRM_alert|CASTOR_ALERT)_' | sort >\$f
EOF2
printf '#!/bin/sh\nexec sleep 60\n' >"$dir/hang.sh"
chmod 0755 "$dir/keys.sh" "$dir/hang.sh"
for n in a b; do
  node_ini "$n" "$dev"
  cat >>"$dir/$n.ini" <<EOF2

[alert file]
program = $SAMPLE
recipient = $dir/$n-alerts.log

[alert keys]
program = $dir/keys.sh

[alert hang]
program = $dir/hang.sh
kinds = node, resource
timeout_s = 1
EOF2
  exec_service "$n" web "touch $dir/state/web-\$CASTOR_NODE" "rm -f $dir/state/web-\$CASTOR_NODE" \
    "test -e $dir/state/web-\$CASTOR_NODE || exit 7"
done
expect_exit 0 "$CASTOR" check "$dir/a-services" --config "$dir/a.ini"
echo "$OUT" | grep -q "^alert hang: ok" || fail "castor check does not list the alerts: $OUT"
# An alert program others could replace: castor check says so, svcmgr would disable it.
cp "$dir/hang.sh" "$dir/open.sh"; chmod 0777 "$dir/open.sh"
{ cat "$dir/a.ini"; printf '[alert open]\nprogram = %s\n' "$dir/open.sh"; } >"$dir/open.ini"
expect_exit 2 "$CASTOR" check "$dir/a-services" --config "$dir/open.ini"
echo "$OUT" | grep -q "\[alert open\].*svcmgr disables this alert" || fail "castor check passed an open alert program: $OUT"
# A recipient file in a directory others may write to: root appending there could be sent anywhere by a symlink.
mkdir -m 0777 "$dir/pub"; chmod 0777 "$dir/pub"
{ cat "$dir/a.ini"; printf '[alert pub]\nprogram = %s\nrecipient = %s\n' "$SAMPLE" "$dir/pub/alerts.log"; } >"$dir/pub.ini"
expect_exit 2 "$CASTOR" check "$dir/a-services" --config "$dir/pub.ini"
echo "$OUT" | grep -q "\[alert pub\].*the recipient" || fail "castor check passed a recipient in an open directory: $OUT"
printf '[alert bad]\nprogram = /bin/true\nkinds = everything\n' >>"$dir/open.ini"
expect_exit 2 "$CASTOR" check "$dir/a-services" --config "$dir/open.ini"
echo "$OUT" | grep -q "'everything' is not a kind" || fail "castor check passed a bad kind: $OUT"

# seen NODE TEXT [SECONDS]: NODE's alert_file.sh.sample log has a line containing TEXT (waits up to SECONDS, default 10)
seen() {
  local i
  for ((i = 0; i < ${3:-10} * 10; i++)); do
    grep -qF "$2" "$dir/$1-alerts.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $1-alerts.log:"; cat "$dir/$1-alerts.log" 2>/dev/null
  die "no alert on $1 says: $2"
}
count() { grep -cF "$2" "$dir/$1-alerts.log" 2>/dev/null; }
owner_now() { ls "$dir"/state/ 2>/dev/null | sed -n 's/^web-//p' | head -1; }

say "a and b up: node_up on each, web started on one"
start_daemons a QA SA; start_daemons b QB SB
for ((i = 0; i < 300; i++)); do [ -n "$(owner_now)" ] && break; sleep 0.1; done
owner=$(owner_now); [ -n "$owner" ] || die "web did not start"
other=$([ "$owner" = a ] && echo b || echo a)
seen "$owner" "Resource operation 'start' for 'web' on '$owner': OK"
seen a "Node 'b' is now 'member'"
seen b "Node 'a' is now 'member'"
# Reported by the node that ran it, and by it alone.
[ "$(count "$other" "for 'web'")" = 0 ] || die "$other reported $owner's start: $(cat "$dir/$other-alerts.log")"
k=$(grep -l '^CASTOR_ALERT_EVENT=service_started$' "$dir"/keys/* | head -1)
[ -n "$k" ] || die "no service_started in the keys alert"
grep -q "^CASTOR_ALERT_REPORTER=$owner$" "$k" && grep -q '^CASTOR_ALERT_SERVICE=web$' "$k" &&
  grep -q '^CASTOR_ALERT_EPOCH=[1-9]' "$k" && grep -q '^CRM_alert_rsc=web$' "$k" || die "keys of service_started: $(cat "$k")"
echo "start on $owner, node up on both, Castor's keys: $(grep -c . "$k") variables"

say "web's monitor fails on $owner: failed (not running), recovering, started again, all on $owner"
rm -f "$dir/state/web-$owner"
seen "$owner" "Resource operation 'monitor' for 'web' on '$owner': not running"
seen "$owner" "Resource operation 'start' for 'web' on '$owner': recovering"
for ((i = 0; i < 100; i++)); do [ "$(count "$owner" "Resource operation 'start' for 'web' on '$owner': OK")" -ge 2 ] && break; sleep 0.1; done
[ "$(count "$owner" "Resource operation 'start' for 'web' on '$owner': OK")" -ge 2 ] || die "web did not start again"

say "the admin relocates web to $other: stopped on $owner, started and relocated on $other"
"$CASTOR" relocate web --to "$other" --wait=20 --socket "$dir/$owner-s.sock" >/dev/null || die "relocate failed"
seen "$owner" "Resource operation 'stop' for 'web' on '$owner': OK"
seen "$other" "Resource operation 'start' for 'web' on '$other': OK"
seen "$other" "Resource operation 'start' for 'web' on '$other': relocated from $owner"
[ "$(count "$owner" "relocated")" = 0 ] || die "$owner reported the relocation too"

say "the definitions differ: web.ini changed on $owner alone (SIGHUP): definitions_differ on both"
sv_owner=$([ "$owner" = a ] && echo "$SA" || echo "$SB")
sed -i 's/^monitor_interval = 1s/monitor_interval = 2s/' "$dir/$owner-services/web.ini"
kill -HUP "$sv_owner"
seen "$owner" "Attribute 'castor-definitions' on node '$owner' was updated to 'differ'"
seen "$other" "Attribute 'castor-definitions' on node '$other' was updated to 'differ'"
sed -i 's/^monitor_interval = 2s/monitor_interval = 1s/' "$dir/$owner-services/web.ini"
kill -HUP "$sv_owner"
seen "$owner" "Attribute 'castor-definitions' on node '$owner' was updated to 'match'"

say "$other crashes (kill -9 of both daemons): $owner reports it lost and takes web over, the hanging alerts killed"
# web now runs on $other (relocated above): the crash moves it back to $owner.
q_other=$([ "$other" = a ] && echo "$QA" || echo "$QB"); s_other=$([ "$other" = a ] && echo "$SA" || echo "$SB")
t0=$(date +%s%N)
kill -KILL "$q_other" "$s_other"
for ((i = 0; i < 100; i++)); do [ -e "$dir/state/web-$owner" ] && break; sleep 0.05; done
[ -e "$dir/state/web-$owner" ] || die "web not taken over by $owner"
took=$((($(date +%s%N) - t0) / 1000000))
# Alerts that blocked would add their 1 s timeout and 2 s kill grace: 4.2 s at least.
[ "$took" -le 3000 ] || die "takeover took $took ms with the alerts running (dead time 1200 ms; blocking alerts would add 3 s)"
seen "$owner" "Node '$other' is now 'lost'"
seen "$owner" "Resource operation 'start' for 'web' on '$owner': relocated from $other"
k=$(grep -l '^CASTOR_ALERT_EVENT=node_dead$' "$dir"/keys/"$owner".* | head -1)
[ -n "$k" ] && grep -q "^CRM_alert_node=$other$" "$k" && grep -q "^CASTOR_ALERT_REASON=." "$k" || die "node_dead keys: $(cat "$k" 2>/dev/null)"
svlog="$dir/$owner-svcmgr.log"
for ((i = 0; i < 50; i++)); do grep -q 'alert failed.*alert=hang.*timed out' "$svlog" && break; sleep 0.1; done
grep -q 'alert failed.*alert=hang.*timed out' "$svlog" || die "the hanging alert was not reported timed out"
pgrep -f "$dir/hang.sh" >/dev/null && { sleep 3; pgrep -f "$dir/hang.sh" >/dev/null; } && die "hanging alert programs outlived their timeout"
say "$owner's svcmgr stopped (SIGTERM): web stopped and released, and the stop's alert still sent before it exits"
stops_before=$(count "$owner" "Resource operation 'stop' for 'web' on '$owner': OK")
log_before=$(wc -l <"$dir/$owner-svcmgr.log")
kill -TERM "$sv_owner"
for ((i = 0; i < 100; i++)); do kill -0 "$sv_owner" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sv_owner" 2>/dev/null && die "$owner's svcmgr did not exit 10 s after SIGTERM"
# Every stop svcmgr made on its way out (the last one just before it exits) has its alert.
stops=$(tail -n +$((log_before + 1)) "$dir/$owner-svcmgr.log" | grep -c "service state service=web from=stopping to=stopped")
alerted=$(($(count "$owner" "Resource operation 'stop' for 'web' on '$owner': OK") - stops_before))
[ "$stops" -ge 1 ] && [ "$alerted" = "$stops" ] ||
  die "$stops stop(s) of web at svcmgr's exit, $alerted alerted (alerts killed with svcmgr?)"
for n in a b; do echo "--- $n's alerts (alert_file.sh.sample, unchanged):"; cat "$dir/$n-alerts.log"; done

say "castor history on $owner: why web moved, from $owner's own records, then with $other's file copied over"
expect_exit 0 "$CASTOR" history --config "$dir/$owner.ini"
hist=$OUT
for want in "node_dead .*$other: lost" "service_relocated +web +[0-9]+ +relocated from $other" "service_claimed +web" \
  "admin_request .*relocate web" "service_failed +web" "service_recovering +web"; do
  echo "$hist" | grep -Eq "$want" || { echo "$hist"; die "castor history on $owner lacks: $want"; }
done
# The takeover's claim carries a higher epoch than the one web ran under on $other (the fencing token).
claim=$(echo "$hist" | awk '$4 == "service_claimed" && $5 == "web" { e = $6 } END { print e }')
cp "$dir/$other-state/history/$other.jsonl" "$dir/$owner-state/history/"
expect_exit 0 "$CASTOR" history --config "$dir/$owner.ini" --service web
both=$OUT
echo "$both"
echo "$both" | grep -Eq "^[0-9-]+ [0-9:.]+ +$other +service_started +web" || die "the merged history lacks $other's start of web"
echo "$both" | grep -q "node_dead" && die "--service web shows a node event"
other_epoch=$(echo "$both" | awk -v o="$other" '$3 == o && $4 == "service_claimed" { e = $6 } END { print e }')
[ -n "$claim" ] && [ -n "$other_epoch" ] && [ "$claim" -gt "$other_epoch" ] ||
  die "the takeover's claim (epoch '$claim') is not above $other's (epoch '$other_epoch')"
# Time order across the two files: the lines' timestamps never go back.
echo "$both" | awk '$1 ~ /^[0-9][0-9][0-9][0-9]-/ { t = $1 " " $2; if (t < last) bad = 1; last = t } END { exit bad }' ||
  die "the merged history is not in time order"
expect_exit 0 "$CASTOR" history --config "$dir/$owner.ini" --service web --json --since 10m
echo "$OUT" | python3 -c "import json,sys; rs=[json.loads(l) for l in sys.stdin]; assert rs and all(r['service']=='web' for r in rs)" ||
  die "--json lines: $OUT"
expect_exit 2 "$CASTOR" history --config "$dir/$owner.ini" --since yesterday
echo "[castor] history: castor history on $owner explains the takeover (node_dead, claim at epoch $claim above $other's $other_epoch, relocated), merged with $other's copied file in time order"
echo "[castor] alerts: Pacemaker's alert_file.sh.sample unchanged saw node member/lost, start/stop/monitor/recovering, definitions differ/match; takeover $took ms after the crash with hanging alerts (timeout 1 s) beside it"
say "pass"
