#!/bin/bash
# A quorumd paused for longer than the dead time while `castor init --force` re-initialises its disk (init
# watched the dead time and saw no heartbeat change, as it must) resumes: it fences (its lease ran out),
# then must NOT rejoin with the old superblock in memory — that would write the old cluster's records onto
# the new disk, and the new cluster's node would see it UNKNOWN forever. Fixed: before a rejoin quorumd
# re-reads the superblock and exits (critical log, exit 3 = kQuorumdExitUnclean) when the cluster UUID or
# node set changed. Without the fix quorumd rejoins and its heartbeat block holds the old cluster's UUID.
# Second part: a running (not paused) quorumd re-reads the superblock every scrub_interval too, and exits the
# same way when another cluster's superblock appears under it (here copied over by hand).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons
make_scratch; dir=$SCRATCH
one_node_disk old 200 quorumd
dev=$DEV
start_quorumd a QA
wait_lease a 50 || { cat "$dir/a-quorumd.log"; fail "quorumd a did not come up"; }
say "quorumd a paused (SIGSTOP) for longer than the dead time; castor init --force makes a new cluster"
kill -STOP $QA
expect_exit 0 "$CASTOR" init "$dev" --cluster new --nodes a,b --io-timeout 200 --force
echo "$OUT"
new_uuid=$(echo "$OUT" | sed -n 's/.*cluster   new (UUID \([0-9a-f-]*\)).*/\1/p')
[ -n "$new_uuid" ] || fail "no new UUID in the init output"
say "quorumd a resumes: it must exit instead of rejoining the new disk as the old cluster"
kill -CONT $QA
rc=
for ((i = 0; i < 100; i++)); do
  if ! kill -0 $QA 2>/dev/null; then wait $QA; rc=$?; break; fi
  sleep 0.1
done
[ -n "$rc" ] || { kill -KILL $QA; wait $QA 2>/dev/null; cat "$dir/a-quorumd.log"; "$CASTOR" dump "$dev"; fail "quorumd a still runs 10 s after resuming over a re-initialised disk"; }
grep -q "re-initialised" "$dir/a-quorumd.log" || { cat "$dir/a-quorumd.log"; fail "no log line says the disk was re-initialised"; }
[ "$rc" = 3 ] || { cat "$dir/a-quorumd.log"; fail "quorumd a exited with $rc, not 3 (unclean)"; }
expect_exit 0 "$CASTOR" dump "$dev"
echo "$OUT"
echo "$OUT" | grep -q "cluster new" || fail "the new disk is gone"
say "ok: quorumd a exited (code $rc) and left the new disk valid"

say "a running quorumd (scrub_interval_s = 1) whose superblock is replaced by another cluster's: exits"
dev2=$(new_loop "$dir/lun2.img" 8); register_loop "$dev2"
other=$(new_loop "$dir/other.img" 8); register_loop "$other"
expect_exit 0 "$CASTOR" init "$dev2" --cluster old2 --nodes a,b --io-timeout 200
expect_exit 0 "$CASTOR" init "$other" --cluster other --nodes c,d --io-timeout 200
sed -e "s|^device = .*|device = $dev2|" -e "s|a-q.sock|a2-q.sock|" "$dir/a.ini" >"$dir/a2.ini"
echo "scrub_interval_s = 1" >>"$dir/a2.ini"
"$QUORUMD" --config "$dir/a2.ini" >>"$dir/a2.log" 2>&1 & QB=$!; register_pid $QB
sleep 1.5
kill -0 $QB 2>/dev/null || { cat "$dir/a2.log"; fail "quorumd a (second disk) did not start"; }
dd if="$other" of="$dev2" bs=4096 count=2 iflag=direct oflag=direct conv=notrunc status=none || fail "copying the other superblocks"
rc=
for ((i = 0; i < 50; i++)); do
  if ! kill -0 $QB 2>/dev/null; then wait $QB; rc=$?; break; fi
  sleep 0.1
done
[ -n "$rc" ] || { kill -KILL $QB; wait $QB 2>/dev/null; cat "$dir/a2.log"; fail "quorumd still runs 5 s after its superblock became another cluster's"; }
grep -q "re-initialised under this running node" "$dir/a2.log" || { cat "$dir/a2.log"; fail "no log line says the disk was re-initialised"; }
[ "$rc" = 3 ] || { cat "$dir/a2.log"; fail "quorumd exited with $rc, not 3"; }
say "ok: the running quorumd exited (code $rc) within a scrub interval"
