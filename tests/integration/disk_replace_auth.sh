#!/bin/bash
# castor disk replace on a set of three quorum devices initialised with --authenticate (issue 17): two real
# quorumd (nodes a and b, io_timeout 200 ms) on three loop devices and a spare, the key in castor.ini. The tool
# reads the set's superblocks with the cluster key and writes NEW's and the raised members' with it, so both
# nodes take NEW and every superblock verifies with the key (castor dump --authkey); a castor.ini that does
# not say authenticate_disk = yes is refused with the reason, and nothing is written.
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=${QUORUMD:-$BUILD/quorumd}
[ -x "$QUORUMD" ] || skip "$QUORUMD not built"
command -v python3 >/dev/null || skip "python3 not installed (the control client)"
make_scratch; dir=$SCRATCH
qctl() { python3 "$(dirname "$0")/../lib/qctl.py" "$@"; }
die() { local f; for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; fail "$*"; }
# field NODE EXPR: a value of NODE's quorumd status (d: its JSON)
field() { qctl "$dir/$1.sock" status | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }

expect_exit 0 "$CASTOR" keygen "$dir/authkey"
for i in 0 1 2 3; do d=$(new_loop "$dir/q$i.img" 8); register_loop "$d"; eval "Q$i=$d"; done
expect_exit 0 "$CASTOR" init "$Q0" "$Q1" "$Q2" --cluster it --nodes a,b --io-timeout 200 --authenticate --authkey "$dir/authkey"
for n in a b; do
  cat >"$dir/$n.ini" <<EOI
[quorumd]
device = $Q0 $Q1 $Q2
node = $n
cluster = it
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $dir/$n.sock
lock_memory = no
realtime = no
state_dir = $dir/$n-qstate
authenticate_disk = yes
authkey = $dir/authkey
EOI
  setsid "$QUORUMD" --config "$dir/$n.ini" >>"$dir/$n.log" 2>&1 &
  pid=$!; register_pid "$pid"
done
for ((i = 0; i < 100; i++)); do
  [ "$(field a "(d.get('peer') or {}).get('view')" 2>/dev/null)" = UP ] &&
    [ "$(field b "(d.get('peer') or {}).get('view')" 2>/dev/null)" = UP ] && break
  sleep 0.1
done
[ $i -lt 100 ] || die "the two nodes did not see each other UP"
uuid=$(ls "$dir"/a-qstate/life.*.node-1); uuid=${uuid##*/life.}; uuid=${uuid%.node-1}
register_undo "rm -f /run/castor/quorumd.$uuid.node-1.lock /run/castor/quorumd.$uuid.node-2.lock"  # the node locks

say "a castor.ini without authenticate_disk = yes: refused with the reason, NEW untouched"
grep -v '^authenticate_disk' "$dir/a.ini" >"$dir/a-noauth.ini"
before=$(sha256sum <"$Q3")
expect_exit 4 "$CASTOR" disk replace "$Q1" "$Q3" --config "$dir/a-noauth.ini"
echo "$OUT"
echo "$OUT" | grep -q "authenticate_disk = no but .* records are authenticated" || fail "no reason given: $OUT"
[ "$(sha256sum <"$Q3")" = "$before" ] || fail "a refused replace wrote NEW"

say "castor disk replace $Q1 -> $Q3 on a, then on b: both take NEW, no fence"
expect_exit 0 "$CASTOR" disk replace "$Q1" "$Q3" --config "$dir/a.ini" --wait 10
echo "$OUT"
echo "$OUT" | grep -q "Prepared $Q3 as member 1 of generation 1" || fail "NEW not prepared: $OUT"
expect_exit 0 "$CASTOR" disk replace "$Q1" "$Q3" --config "$dir/b.ini" --wait 10
echo "$OUT"
echo "$OUT" | grep -q "now uses $Q3 as member 1" || fail "b did not take NEW: $OUT"
for n in a b; do
  for ((i = 0; i < 50; i++)); do
    [ "$(field $n "str(d['device_set']['generation']) + ' ' + str(d['device_set']['retiring']) + ' ' + d['devices'][1]['path']")" = "1 False $Q3" ] && break
    sleep 0.1
  done
  [ $i -lt 50 ] || die "$n does not run generation 1 with $Q3 as member 1: $(qctl "$dir/$n.sock" status)"
  grep -q FENCED "$dir/$n.log" && die "$n fenced itself during the replacement"
done

say "every superblock of the set verifies with the key; NEW carries both nodes' heartbeats"
for d in "$Q0" "$Q2" "$Q3"; do
  expect_exit 0 "$CASTOR" dump "$d" --authkey "$dir/authkey"
  [ "$(echo "$OUT" | grep -c '^  superblock.* valid  *tag ok; ')" = 2 ] || fail "$d: superblocks not both valid with their tags: $OUT"
  echo "$OUT" | grep -q 'generation 1' || fail "$d: not at generation 1: $(echo "$OUT" | grep -i generation)"
done
expect_exit 0 "$CASTOR" dump "$Q3" --authkey "$dir/authkey"
[ "$(echo "$OUT" | grep -c '^  heartbeat.* valid  *tag ok')" = 2 ] || fail "NEW does not carry both heartbeats with their tags: $OUT"
exit 0
