#!/bin/bash
# castor simulate (issue 20) against a live two-node cluster: quorumd and svcmgr per node (io_timeout 200 ms),
# each node its own process group, one backing file seen through one loop device per node. Services: `web`
# (nodes a, b: starts on a) and `pinned` (nodes = a: its domain leaves b out). The simulation of killing a --
# asked on a and on b over the control sockets, and from a saved `castor status --json` -- predicts web on b
# after about the dead time plus its start, and pinned down until a returns; killing b moves nothing; bad
# input is refused with the documented exit codes. Then a really dies (kill -9 of its whole process group):
# web must start on b, within the predicted outage plus slack, and pinned must stay down, as predicted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
command -v python3 >/dev/null || skip "python3 missing"
make_scratch; dir=$SCRATCH
LOG_TAIL=25

dev_a=$(new_disk_loop) || die losetup; register_loop "$dev_a"
dev_b=$(new_disk_loop) || die losetup; register_loop "$dev_b"
expect_exit 0 "$CASTOR" init "$dev_a" --cluster sim --nodes a,b --io-timeout 200
mkdir -p "$dir/state"
for n in a b; do
  dev_var=dev_$n; node_ini "$n" "${!dev_var}"
  exec_service "$n" web "sleep 0.2; touch $dir/state/web-\$CASTOR_NODE" "rm -f $dir/state/web-\$CASTOR_NODE" \
    "test -e $dir/state/web-\$CASTOR_NODE || exit 7"
  cat >"$dir/$n-services/pinned.ini" <<EOI || die "writing pinned.ini"
[service]
name = pinned
nodes = a
monitor_interval = 1s

[resource r]
agent = exec
shell = yes
start = touch $dir/state/pinned-\$CASTOR_NODE
stop = rm -f $dir/state/pinned-\$CASTOR_NODE
monitor = test -e $dir/state/pinned-\$CASTOR_NODE || exit 7
EOI
done

# owner_is TENTHS NODE SERVICE OWNER: until NODE's svcmgr reports SERVICE started on OWNER
owner_is() {
  local i
  for ((i = 0; i < $1; i++)); do
    [ "$(field "$2" "$3" state)" = started ] && [ "$(field "$2" "$3" owner)" = "$4" ] && return 0
    sleep 0.1
  done
  return 1
}
# sim NODE OUT ARGS...: castor simulate ARGS on NODE (its castor.ini: sockets, services_dir), --json into OUT
sim() {
  local n=$1 out=$2
  shift 2
  "$CASTOR" simulate --config "$dir/$n.ini" --json "$@" >"$out" 2>"$out.err" ||
    die "castor simulate $* on $n exited $?: $(cat "$out.err")"
}
# pred FILE SERVICE KEY: a field of SERVICE's prediction in a --json output
pred() {
  python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
v=next(s for s in d['services'] if s['name']==sys.argv[2])[sys.argv[3]]
print('' if v is None else (str(v).lower() if isinstance(v,bool) else v))" "$1" "$2" "$3" ||
    die "no $3 of $2 in $1: $(cat "$1")"
}
top() { python3 -c "import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print('' if v is None else v)" "$1" "$2"; }

say "start a and b: web and pinned start on a"
node_script
start_node a
start_node b
owner_is 200 b web a || die "web did not start on a"
owner_is 100 b pinned a || die "pinned did not start on a"
owner_is 50 a web a || die "a does not report web started on a"
"$CASTOR" status --config "$dir/b.ini"

say "castor simulate --kill a, on b and on a: web to b after about D + start, pinned down until a returns"
sim b "$dir/kill-a.b.json" --kill a
sim a "$dir/kill-a.a.json" --kill a
"$CASTOR" simulate --config "$dir/a.ini" --kill a || die "the text output failed"
for f in "$dir/kill-a.b.json" "$dir/kill-a.a.json"; do
  [ "$(pred "$f" web owner_now)" = a ] || die "$f: web now: $(pred "$f" web owner_now)"
  [ "$(pred "$f" web owner_after)" = b ] || die "$f: web after: $(pred "$f" web owner_after)"
  [ "$(pred "$f" web moves)" = true ] || die "$f: web does not move"
  [ "$(pred "$f" web rule)" = "b: taking over from a" ] || die "$f: web's rule: $(pred "$f" web rule)"
  [ "$(pred "$f" pinned owner_after)" = "" ] || die "$f: pinned after: $(pred "$f" pinned owner_after)"
  [ "$(pred "$f" pinned outage)" = "until a returns" ] || die "$f: pinned's outage: $(pred "$f" pinned outage)"
done
D=$(top "$dir/kill-a.a.json" dead_ms)
[ "$D" = 1200 ] || die "the dead time at io_timeout 200 ms: '$D' (quorumd's formula gives 6 T)"
predicted=$(pred "$dir/kill-a.a.json" web outage_ms)
start_ms=$(field a web last_start_ms)
[ -n "$start_ms" ] && [ "$predicted" = $((D + start_ms)) ] ||
  die "a's prediction of web's outage: '$predicted', expected D $D + a's last start '$start_ms'"
# b never started web: its prediction has no start time, so no number, but says at least D
[ "$(pred "$dir/kill-a.b.json" web outage_ms)" = "" ] || die "b predicts a number without a start time"
pred "$dir/kill-a.b.json" web outage | grep -q "^more than ${D}ms" || die "b's outage text: $(pred "$dir/kill-a.b.json" web outage)"

say "the same from a saved castor status --json; --kill b moves nothing"
"$CASTOR" status --json --config "$dir/a.ini" >"$dir/status-a.json" || die "castor status --json"
"$CASTOR" simulate --from "$dir/status-a.json" --services "$dir/a-services" --json --kill a >"$dir/kill-a.saved.json" ||
  die "simulate --from failed"
for k in owner_after moves outage_ms rule; do
  [ "$(pred "$dir/kill-a.saved.json" web $k)" = "$(pred "$dir/kill-a.a.json" web $k)" ] || die "from the file, web's $k differs"
done
[ "$(top "$dir/kill-a.saved.json" source)" = "from $dir/status-a.json" ] || die "source: $(top "$dir/kill-a.saved.json" source)"
sim b "$dir/kill-b.json" --kill b
for s in web pinned; do
  [ "$(pred "$dir/kill-b.json" $s action)" = stays ] || die "killing b: $s: $(pred "$dir/kill-b.json" $s action)"
  [ "$(pred "$dir/kill-b.json" $s owner_after)" = a ] || die "killing b: $s after: $(pred "$dir/kill-b.json" $s owner_after)"
done

say "bad input: exit 2 for an unknown node or service, --to without --relocate, two events, a file that is no status; 3 for an unreadable file"
expect_exit 2 "$CASTOR" simulate --config "$dir/b.ini" --kill c
echo "$OUT" | grep -q "unknown node 'c'" || die "unknown node: $OUT"
expect_exit 2 "$CASTOR" simulate --config "$dir/b.ini" --fail nosuch
echo "$OUT" | grep -q "unknown service 'nosuch'" || die "unknown service: $OUT"
expect_exit 2 "$CASTOR" simulate --config "$dir/b.ini" --to a
expect_exit 2 "$CASTOR" simulate --config "$dir/b.ini" --kill a --standby b
expect_exit 2 "$CASTOR" simulate --from "$dir/a.ini" --services "$dir/a-services" --kill a
expect_exit 3 "$CASTOR" simulate --from "$dir/nosuch.json" --services "$dir/a-services" --kill a
echo "$OUT" | grep -q "cannot read $dir/nosuch.json" || die "unreadable file: $OUT"

say "kill -9 of node a: web goes where predicted, within the predicted outage; pinned stays down"
t0=$(date +%s%N)
kill -KILL -"$PID_a"
owner_is 100 b web b || die "web did not start on b"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "[castor] simulate --kill a predicted web on b after ${predicted} ms (D ${D} ms + start ${start_ms} ms); it started there after ${ms} ms"
# From a's last heartbeat change b saw (up to one renew interval before the kill) plus the start; the poll and
# the claim add a little; a loaded machine more.
((ms >= D - 100)) || die "web moved after ${ms} ms: before the dead time"
((ms <= predicted + 1500)) || die "web moved after ${ms} ms, predicted ${predicted} ms"
sleep 1
[ "$(field b pinned owner)" = "" ] || die "pinned runs on $(field b pinned owner)"
[ "$(field b pinned state)" != started ] || die "pinned is started"
[ -e "$dir/state/pinned-b" ] && die "pinned was started on b"
"$CASTOR" status --config "$dir/b.ini"
say "pass"
