#!/bin/bash
# castor init / dump on real loop devices (512- and 4096-byte sectors), and the refusal to overwrite a
# filesystem: the filesystem must still be intact afterwards (fsck -n clean); --force then works.
. "$(dirname "$0")/../lib/common.sh"
need_root
make_scratch; dir=$SCRATCH

for ss in 512 4096; do
  say "sector size $ss: init then dump"
  dev=$(new_loop "$dir/q$ss.img" 8 "$ss"); register_loop "$dev"
  expect_exit 0 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta --io-timeout 200
  echo "$OUT"
  echo "$OUT" | grep -q "sectors   $ss bytes" || fail "init did not detect the $ss-byte sector size"
  expect_exit 0 "$CASTOR" dump "$dev"
  echo "$OUT"
  echo "$OUT" | grep -q "All records valid or empty" || fail "dump found invalid records"
  [ "$(echo "$OUT" | grep -c '^  superblock.* valid ')" = 2 ] || fail "expected both superblock copies valid"
  expect_exit 0 "$CASTOR" dump "$dev" --json
  echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["superblock"]["status"]=="valid"; assert d["superblock"]["timing_ms"]["dead"]==1200; assert d["sector_size"]=='"$ss"'; assert d["invalid_records"]==0' \
    || fail "dump --json is not what init wrote"
  echo "$OUT" | python3 -c '
import json,sys
d=json.load(sys.stdin)
for n in d["nodes"]:
    assert n["epoch"]["status"]=="valid" and n["epoch"]["epoch_floor"]==0, n["epoch"]
    assert len(n["service_table"])==34 and all(t["status"]=="valid" and t["services"]==[] for t in n["service_table"])
' || fail "init did not write valid epoch records and empty table blocks for both nodes"
  say "a second init on a Castor disk is refused without --force"
  expect_exit 4 "$CASTOR" init "$dev" --cluster other --nodes a,b
  echo "$OUT" | grep -q "demo" || fail "refusal does not name the existing cluster: $OUT"
done

say "a corrupted superblock is reported as corruption, and the backup still holds"
dev=$(new_loop "$dir/c.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta
printf '\xff' | dd of="$dev" bs=1 seek=200 conv=notrunc oflag=direct 2>/dev/null || printf '\xff' | dd of="$dev" bs=1 seek=200 conv=notrunc 2>/dev/null
sync; blockdev --flushbufs "$dev"
expect_exit 9 "$CASTOR" dump "$dev"
echo "$OUT"
echo "$OUT" | grep -q "superblock .*corrupt.*bad CRC" || fail "dump did not report the bad CRC"

say "a zeroed table block and a garbled epoch record (init writes both) are damage: unknown, not empty"
dev=$(new_loop "$dir/z.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta
# 4096-byte blocks: node 2's region starts at block 16 + 64 = 80; its epoch record is block 81, table block 5 is 80+2+5.
dd if=/dev/zero of="$dev" bs=4096 seek=87 count=1 conv=notrunc oflag=direct 2>/dev/null || fail "zeroing a table block"
printf 'garbage' | dd of="$dev" bs=1 seek=$((81 * 4096 + 100)) conv=notrunc 2>/dev/null || fail "garbling the epoch record"
sync; blockdev --flushbufs "$dev"
expect_exit 9 "$CASTOR" dump "$dev"
echo "$OUT"
echo "$OUT" | grep -q "unknown (corrupt record at block 5: .*zeroed" || fail "dump does not call the zeroed table block unknown"
echo "$OUT" | grep -q "epoch .*corrupt.*bad CRC" || fail "dump does not report the garbled epoch record"
expect_exit 9 "$CASTOR" dump "$dev" --json
echo "$OUT" | python3 -c '
import json,sys
d=json.load(sys.stdin)
t=d["nodes"][1]["service_table"][5]
assert t["status"]=="corrupt" and t["services"] is None and t["unknown"].startswith("unknown (corrupt record at block 5: "), t
assert d["nodes"][1]["epoch"]["status"]=="corrupt", d["nodes"][1]["epoch"]
assert d["nodes"][0]["service_table"][5]["status"]=="valid"
assert d["invalid_records"]==2, d["invalid_records"]
' || fail "dump --json does not show the damage as unknown"

QUORUMD=${QUORUMD:-$BUILD/quorumd}
if [ -x "$QUORUMD" ] && command -v python3 >/dev/null; then
  say "init --force on a Castor disk in use: refused (exit 10) while a node's heartbeat changes"
  dev=$(new_loop "$dir/live.img" 8); register_loop "$dev"
  expect_exit 0 "$CASTOR" init "$dev" --cluster live --nodes alpha,beta --io-timeout 200
  printf '[quorumd]\ndevice = %s\nnode = alpha\nwatchdog_device = none\nallow_unsafe_no_watchdog = yes\nsocket = %s\nlock_memory = no\nrealtime = no\n' \
    "$dev" "$dir/alpha.sock" >"$dir/alpha.ini"
  start_alpha() {
    "$QUORUMD" --config "$dir/alpha.ini" >>"$dir/alpha.log" 2>&1 &
    qpid=$!; register_pid "$qpid"
    local i
    for ((i = 0; i < 50; i++)); do
      [ "$(python3 "$(dirname "$0")/../lib/qctl.py" "$dir/alpha.sock" status phase 2>/dev/null)" = '"up"' ] && return 0
      sleep 0.1
    done
    cat "$dir/alpha.log"; fail "quorumd alpha did not come up"
  }
  start_alpha
  t0=$(date +%s%N)
  expect_exit 10 "$CASTOR" init "$dev" --cluster other --nodes a,b --io-timeout 200 --force
  echo "$OUT"
  echo "$OUT" | grep -q "watching both nodes' heartbeats for 1200ms" || fail "init did not say it was watching for the dead time"
  echo "$OUT" | grep -q "heartbeat of node 1 (alpha) .*changed" || fail "the refusal does not name the live node"
  echo "refused after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  kill -0 "$qpid" 2>/dev/null || fail "quorumd died: init wrote over its disk"
  expect_exit 0 "$CASTOR" dump "$dev"
  echo "$OUT" | grep -q "cluster live" || fail "the live disk was overwritten"

  say "both superblock copies wiped under the running node: init --force cannot know the dead time: refused (exit 9)"
  dd if=/dev/zero of="$dev" bs=4096 count=2 conv=notrunc oflag=direct 2>/dev/null || fail "wiping the superblocks"
  expect_exit 9 "$CASTOR" init "$dev" --cluster other --nodes a,b --io-timeout 200 --force
  echo "$OUT"
  echo "$OUT" | grep -q "no superblock copy gives its io_timeout" || fail "init did not say why it cannot watch"
  echo "$OUT" | grep -q -- "--watch 3600" || fail "the refusal does not say how to overwrite a dead disk"
  say "an explicit --watch shorter than 6 x the longest io_timeout is not enough"
  expect_exit 9 "$CASTOR" init "$dev" --cluster other --nodes a,b --io-timeout 200 --force --watch 60
  expect_exit 2 "$CASTOR" init "$dev" --cluster other --nodes a,b --io-timeout 200 --watch 3600
  kill -0 "$qpid" 2>/dev/null || fail "quorumd died: init wrote over its disk"

  say "the node killed; the admin zeroes the Castor header and heartbeats (no --watch 3600 in a test): plain init"
  kill -KILL "$qpid"; wait "$qpid" 2>/dev/null
  dd if=/dev/zero of="$dev" bs=4096 count=2 conv=notrunc oflag=direct 2>/dev/null || fail "wiping the superblocks"
  dd if=/dev/zero of="$dev" bs=4096 seek=16 count=1 conv=notrunc oflag=direct 2>/dev/null || fail "wiping heartbeat 1"
  dd if=/dev/zero of="$dev" bs=4096 seek=80 count=1 conv=notrunc oflag=direct 2>/dev/null || fail "wiping heartbeat 2"
  expect_exit 0 "$CASTOR" init "$dev" --cluster live --nodes alpha,beta --io-timeout 200
  echo "$OUT"
  start_alpha
  say "a clean leave (DOWN, then unchanged): init --force waits the disk's dead time (1.2 s), then overwrites"
  kill -TERM "$qpid"; wait "$qpid" 2>/dev/null
  t0=$(date +%s%N)
  expect_exit 0 "$CASTOR" init "$dev" --cluster live2 --nodes alpha,beta --io-timeout 200 --force
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "$OUT"
  echo "accepted after $ms ms"
  [ "$ms" -ge 1200 ] || fail "init --force did not watch the heartbeats for the dead time (1200 ms) first"
  expect_exit 0 "$CASTOR" dump "$dev"
  echo "$OUT" | grep -q "cluster live2" || fail "init --force did not write the new disk"
else
  echo "skipping the live-disk checks: $QUORUMD not built"
fi

say "mkfs.ext4 then castor init: refused, filesystem intact, --force works"
dev=$(new_loop "$dir/fs.img" 16); register_loop "$dev"
mkfs.ext4 -q -L castorfs "$dev" || fail mkfs
expect_exit 4 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta
echo "$OUT"
echo "$OUT" | grep -q "ext4" || fail "refusal does not say ext4"
fsck.ext4 -n "$dev" >/dev/null 2>&1 || fail "the filesystem was damaged by a refused init"
say "by label: LABEL=castorfs resolves to $dev and is refused the same way"
expect_exit 4 "$CASTOR" init LABEL=castorfs --cluster demo --nodes alpha,beta
expect_exit 0 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta --force
echo "$OUT"
blkid -p "$dev" 2>/dev/null | grep -q ext4 && fail "ext4 signature still present after --force"
expect_exit 0 "$CASTOR" dump "$dev"

say "mounted device: refused even with --force"
dev=$(new_loop "$dir/m.img" 16); register_loop "$dev"
mkfs.ext4 -q "$dev" || fail mkfs
mkdir -p "$dir/mnt"; mount "$dev" "$dir/mnt" || fail mount; register_mount "$dir/mnt"
expect_exit 5 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta --force
echo "$OUT"
umount "$dir/mnt"

say "read-only device: refused"
dev=$(new_loop "$dir/ro.img" 8); register_loop "$dev"
blockdev --setro "$dev"
expect_exit 6 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta
echo "$OUT"

say "too small, missing device, bad arguments"
dev=$(new_loop "$dir/small.img" 512K); register_loop "$dev"
expect_exit 7 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta
echo "$OUT"
expect_exit 3 "$CASTOR" init LABEL=no-such-label-here --cluster demo --nodes alpha,beta
expect_exit 2 "$CASTOR" init "$dev" --cluster demo --nodes alpha,alpha
expect_exit 2 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta --io-timeout 7
expect_exit 2 "$CASTOR" init "$dev" --cluster "bad name" --nodes alpha,beta
expect_exit 2 "$CASTOR" init "$dev" --bogus
expect_exit 0 "$CASTOR" --help
echo "$OUT" | grep -q "Exit codes" || fail "--help does not list exit codes"
echo "all init/dump checks passed"
