#!/bin/bash
# castor disk replace on a set of three quorum devices initialised with --authenticate (issue 17): two real
# quorumd (nodes a and b, io_timeout 200 ms) on three loop devices and a spare, the key in castor.ini. The tool
# reads the set's superblocks with the cluster key and writes NEW's and the raised members' with it, so both
# nodes take NEW and every superblock verifies with the key (castor dump --authkey); a castor.ini that does
# not say authenticate_disk = yes is refused with the reason, and nothing is written.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/quorumd_test.sh"
need_quorumd

expect_exit 0 "$CASTOR" keygen "$dir/authkey"
for i in 0 1 2 3; do d=$(new_loop "$dir/q$i.img" 8); register_loop "$d"; eval "Q$i=$d"; done
expect_exit 0 "$CASTOR" init "$Q0" "$Q1" "$Q2" --cluster it --nodes a,b --io-timeout 200 --authenticate --authkey "$dir/authkey"
for n in a b; do
  quorumd_ini $n it "$Q0 $Q1 $Q2" "authenticate_disk = yes" "authkey = $dir/authkey"
  setsid "$QUORUMD" --config "$dir/$n.ini" >>"$dir/$n.log" 2>&1 &
  pid=$!; register_pid "$pid"
done
both_up || die "the two nodes did not see each other UP"
node_locks_undo "$dir/a-qstate"

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
