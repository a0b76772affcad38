#!/bin/bash
# Authenticated quorum-disk records (issue 14), end to end with the real CLI on a loop device:
# castor keygen (0600, never overwrites without --force); castor init --authenticate; castor dump verifies
# every record's tag; a block forged by a SAN writer without the key (a payload byte changed, the CRC32C
# recomputed) is shown as "bad authentication tag" -- while the same forgery on a CRC-only disk is believed;
# castor check refuses a 0644 authkey; quorumd refuses a flag/config mismatch.
. "$(dirname "$0")/../lib/common.sh"
need_root
command -v python3 >/dev/null || skip "needs python3 (the forger)"
make_scratch; dir=$SCRATCH
QUORUMD=${QUORUMD:-$BUILD/quorumd}

# forge DEV BLOCK OFFSET BYTE: what an attacker with write access to the SAN can do without the key --
# change one byte of a block and recompute its CRC32C (bytes 12..15, computed with them zero).
forge() {
  python3 - "$@" <<'EOP' || fail "forging block $2 of $1"
import os, struct, sys
dev, block, off, val = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
B = 4096
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF
fd = os.open(dev, os.O_RDWR)
blk = bytearray(os.pread(fd, B, block * B))
blk[off] = val
blk[12:16] = b"\0\0\0\0"
blk[12:16] = struct.pack("<I", crc32c(bytes(blk)))
os.pwrite(fd, bytes(blk), block * B)
os.fsync(fd)
os.close(fd)
EOP
  sync; blockdev --flushbufs "$1"
}

say "castor keygen writes a root-only 0600 key and never overwrites it without --force"
expect_exit 0 "$CASTOR" keygen "$dir/authkey"
echo "$OUT"
[ "$(stat -c '%a %u %s' "$dir/authkey")" = "600 0 32" ] || fail "keygen: $(stat -c '%a %u %s' "$dir/authkey")"
echo "$OUT" | grep -q "mode 0600" || fail "keygen does not say how to copy the key"
sum=$(sha256sum <"$dir/authkey")
expect_exit 4 "$CASTOR" keygen "$dir/authkey"
[ "$(sha256sum <"$dir/authkey")" = "$sum" ] || fail "keygen without --force changed the key"
cp -p "$dir/authkey" "$dir/authkey.old"
expect_exit 0 "$CASTOR" keygen --force "$dir/authkey"
[ "$(sha256sum <"$dir/authkey")" != "$sum" ] || fail "keygen --force kept the old key"
[ "$(stat -c %a "$dir/authkey")" = 600 ] || fail "keygen --force: mode $(stat -c %a "$dir/authkey")"

say "castor init --authenticate: every record tagged, the superblock flagged, the castor.ini hint printed"
dev=$(new_loop "$dir/q.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster demo --nodes alpha,beta --io-timeout 200 --authenticate --authkey "$dir/authkey"
echo "$OUT"
echo "$OUT" | grep -q "authenticate_disk = yes" || fail "init does not print authenticate_disk = yes"
expect_exit 0 "$CASTOR" dump "$dev" --authkey "$dir/authkey"
echo "$OUT"
echo "$OUT" | grep -q "records authenticated: tags verified with $dir/authkey" || fail "dump does not say the tags were verified"
[ "$(echo "$OUT" | grep -c '^  superblock.* valid  *tag ok; ')" = 2 ] || fail "expected both superblock copies valid with their tags"
echo "$OUT" | grep -q "All records valid or empty" || fail "dump found invalid records on a fresh authenticated disk"
expect_exit 0 "$CASTOR" dump "$dev" --json --authkey "$dir/authkey"
echo "$OUT" | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["authenticated"] and d["tags_verified"], d["tags"]
assert d["superblock"]["tag"]=="verified"
for n in d["nodes"]:
    assert n["epoch"]["tag"]=="verified", n["epoch"]
    assert all(t["tag"]=="verified" for t in n["service_table"])
' || fail "dump --json does not show every tag verified"

say "castor status from the disk verifies the tags with the key of castor.ini or --authkey"
expect_exit 0 "$CASTOR" status --device "$dev" --socket "$dir/no-quorumd.sock" --authkey "$dir/authkey"
echo "$OUT" | grep -q "records authenticated: tags verified with $dir/authkey" || fail "status does not verify the tags: $OUT"
expect_exit 0 "$CASTOR" status --json --device "$dev" --socket "$dir/no-quorumd.sock" --authkey "$dir/no-such-key"
echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["authenticated"] and not d["tags_verified"], d' \
  || fail "status --json without the key does not say the tags were not verified"

say "with another key every record is refused; without a key dump says the tags were not verified"
expect_exit 9 "$CASTOR" dump "$dev" --authkey "$dir/authkey.old"
echo "$OUT" | grep -q "superblock .*bad authentication tag" || fail "another key's dump does not refuse the tags: $OUT"
expect_exit 0 "$CASTOR" dump "$dev" --authkey "$dir/no-such-key"
echo "$OUT" | grep -q "tags were NOT verified" || fail "dump without the key does not say so: $OUT"

say "a forged epoch record (a byte changed, the CRC recomputed, no key) is shown as forged, not decoded"
# 4096-byte blocks: node 2's region starts at block 80; its epoch record is block 81 (floor at byte 64).
forge "$dev" 81 64 99
expect_exit 9 "$CASTOR" dump "$dev" --authkey "$dir/authkey"
echo "$OUT"
echo "$OUT" | grep -q "epoch .*corrupt.*bad authentication tag (forged, or written with another key)" \
  || fail "dump did not flag the forged epoch record"
echo "$OUT" | grep -q "floor 99" && fail "dump decoded the forged floor as if trusted"
expect_exit 9 "$CASTOR" dump "$dev" --json --authkey "$dir/authkey"
echo "$OUT" | python3 -c '
import json,sys
d=json.load(sys.stdin)
e=d["nodes"][1]["epoch"]
assert e["status"]=="corrupt" and "bad authentication tag" in e["error"] and "epoch_floor" not in e, e
assert d["nodes"][0]["epoch"]["tag"]=="verified"
assert d["invalid_records"]==1, d["invalid_records"]
' || fail "dump --json does not show the forged block as such"
# A forged service-table block (node 2, table block 0 = block 82): a request nobody with the key made.
forge "$dev" 82 100 1
expect_exit 9 "$CASTOR" dump "$dev" --authkey "$dir/authkey"
echo "$OUT" | grep -q "unknown (corrupt record at block 0: .*bad authentication tag" || fail "dump did not flag the forged table block"

say "the same forgery on a CRC-only disk is believed: the attack is real"
plain=$(new_loop "$dir/p.img" 8); register_loop "$plain"
expect_exit 0 "$CASTOR" init "$plain" --cluster demo --nodes alpha,beta --io-timeout 200
forge "$plain" 81 64 99
expect_exit 0 "$CASTOR" dump "$plain"
echo "$OUT" | grep -q "records not authenticated" || fail "dump of a CRC-only disk does not say so"
echo "$OUT" | grep -q "floor 99" || fail "the forgery on a CRC-only disk was not taken (the test would prove nothing)"

say "castor check: a root-only authkey passes; a 0644 one is refused"
mkdir -m 0755 "$dir/services.d"
printf '[quorumd]\ndevice = %s\nnode = alpha\nauthenticate_disk = yes\nauthkey = %s\n' "$dev" "$dir/authkey" >"$dir/castor.ini"
chmod 0644 "$dir/castor.ini"
expect_exit 0 "$CASTOR" check "$dir/services.d" --config "$dir/castor.ini"
echo "$OUT" | grep -q "authkey $dir/authkey: ok" || fail "check does not report the authkey: $OUT"
chmod 0644 "$dir/authkey"
expect_exit 2 "$CASTOR" check "$dir/services.d" --config "$dir/castor.ini"
echo "$OUT"
echo "$OUT" | grep -q "authkey $dir/authkey: mode 0644 gives group or others access" || fail "check did not refuse the 0644 key"
chmod 0600 "$dir/authkey"

say "a disk without the flag, read where castor.ini requires authenticated records: checked with the key (a cleared flag is a downgrade)"
printf '[quorumd]\ndevice = %s\nnode = alpha\nauthenticate_disk = yes\nauthkey = %s\n' "$plain" "$dir/authkey" >"$dir/req.ini"
expect_exit 9 "$CASTOR" dump "$plain" --config "$dir/req.ini"
echo "$OUT" | grep -q "a cleared flag is a downgrade" || fail "dump under authenticate_disk = yes trusted a disk without the flag: $OUT"
echo "$OUT" | grep -q "superblock .*bad authentication tag" || fail "dump under authenticate_disk = yes did not check the tags: $OUT"
echo "$OUT" | grep -q "floor 99" && fail "dump under authenticate_disk = yes decoded the forged floor as if trusted"

if [ -x "$QUORUMD" ]; then
  say "quorumd refuses a disk/config mismatch either way, and a key readable by others"
  base="device = $dev\nnode = alpha\nwatchdog_device = none\nallow_unsafe_no_watchdog = yes\nsocket = $dir/alpha.sock\nlock_memory = no\nrealtime = no\n"
  fresh=$(new_loop "$dir/f.img" 8); register_loop "$fresh"
  expect_exit 0 "$CASTOR" init "$fresh" --cluster demo --nodes alpha,beta --io-timeout 200 --authenticate --authkey "$dir/authkey"
  printf "[quorumd]\n${base//$dev/$fresh}authenticate_disk = no\n" >"$dir/no.ini"
  expect_exit 1 timeout 20 "$QUORUMD" --config "$dir/no.ini"
  echo "$OUT" | grep -q "set authenticate_disk = yes in \[quorumd\] and install the cluster's authkey" \
    || fail "quorumd did not refuse an authenticated disk with authenticate_disk = no: $OUT"
  printf "[quorumd]\n${base//$dev/$plain}authenticate_disk = yes\nauthkey = $dir/authkey\n" >"$dir/yes.ini"
  expect_exit 1 timeout 20 "$QUORUMD" --config "$dir/yes.ini"
  echo "$OUT" | grep -q "was initialised without authentication" || fail "quorumd ran a CRC-only disk with authenticate_disk = yes: $OUT"
  chmod 0640 "$dir/authkey"
  printf "[quorumd]\n${base//$dev/$fresh}authenticate_disk = yes\nauthkey = $dir/authkey\n" >"$dir/ro.ini"
  expect_exit 1 timeout 20 "$QUORUMD" --config "$dir/ro.ini"
  echo "$OUT" | grep -q "mode 0640 gives group or others access" || fail "quorumd loaded a 0640 key: $OUT"
  chmod 0600 "$dir/authkey"
fi
say "castor init --force over an authenticated disk: its epochs are read with the key, a forged floor is not carried"
# (review14c finding D: read with tags unchecked, a forged floor was laundered into a genuine, sealed one.)
dev2=$(new_loop "$dir/q2.img" 8); register_loop "$dev2"
expect_exit 0 "$CASTOR" init "$dev2" --cluster demo --nodes alpha,beta --io-timeout 200 --authenticate --authkey "$dir/authkey"
forge "$dev2" 81 64 99   # node 2's epoch floor, forged to 99 without the key
OUT=$("$CASTOR" init "$dev2" --cluster demo --nodes alpha,beta --io-timeout 200 --force 2>&1) \
  && fail "init --force without the key carried the epochs of an authenticated disk: $OUT"
echo "$OUT" | grep -q "records are authenticated: give --authenticate --authkey" || fail "init without the key does not say why: $OUT"
expect_exit 0 "$CASTOR" init "$dev2" --cluster demo --nodes alpha,beta --io-timeout 200 --force --authenticate --authkey "$dir/authkey"
echo "$OUT"
echo "$OUT" | grep -q "epoch record of node 2: its tag does not verify with the key (ignored)" || fail "init did not warn about the forged record: $OUT"
echo "$OUT" | grep -q "epoch floor 0 for both nodes" || fail "init carried the forged floor: $OUT"
say "ok"
