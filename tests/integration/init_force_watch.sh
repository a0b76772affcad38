#!/bin/bash
# Review finding R7 (issue 12 adversarial review, item 9), fixed: `castor init --force` on a Castor disk whose
# superblock does not decode watches the heartbeats for a fixed 12 s ("the default dead time") — but the
# disk's nodes may run with any io_timeout up to 600 s (renew T/2 up to 300 s), so a live node that renews
# less often than every 12 s is not seen and its disk is wiped under it. Every disk made by an older
# `castor init` reads as "no valid superblock" to this build (its W = 2T fails the new formula), so this is
# the upgrade path. After the wipe the live node's table blocks are valid and EMPTY (init wrote them) and its
# heartbeat is another cluster's: a new-cluster peer reads its services as known-free and claims them
# while the old node still runs them (and keeps its lease: its writes complete ok).
# Schedule: node a runs quorumd with io_timeout 120 s; both superblock copies are damaged (magic intact);
# init --force watches 12 s, sees no change, wipes — quorumd a still runs with 359 s of lease left.
# Expected: init --force refuses (or keeps watching) a magic-bearing disk whose dead time it cannot know for
# less than the longest possible renew interval; here: not done within 30 s. The fix: the io_timeout is read
# from the raw field of any superblock copy whose CRC holds (older formula included); when no copy gives it
# (here both fail their CRC) init refuses with exit 9 unless --watch >= 3600 s (6 x the longest io_timeout).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons
make_scratch; dir=$SCRATCH
one_node_disk long 120000 quorumd
dev=$DEV
start_quorumd a QA
sleep 1
kill -0 $QA || fail "quorumd a did not start"
say "both superblock copies damaged (block size 4096: the backup is block 1); init --force"
printf 'X' | dd of="$dir/lun.img" bs=1 seek=200 conv=notrunc status=none
printf 'X' | dd of="$dir/lun.img" bs=1 seek=$((4096 + 200)) conv=notrunc status=none
timeout 30 "$CASTOR" init "$dev" --cluster new --nodes a,b --io-timeout 200 --force
rc=$?
kill -0 $QA || fail "quorumd a died"
[ "$rc" = 0 ] && fail "R7: init --force wiped the disk under a live quorumd (io_timeout 120 s, lease valid)"
[ "$rc" = 9 ] || fail "init --force: exit $rc, not 9 (refused: io_timeout unknown)"
say "ok: init --force did not wipe a disk whose live node it could not have seen (exit $rc)"
