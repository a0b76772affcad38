#!/bin/bash
# castor check and castor.ini's [lan] section (issue 15), through the real CLI, on files only (no device,
# namespace or network is touched): the links are printed; with a link the authkey file is checked (a
# missing or 0644 key is refused, the LAN being always authenticated); a bad [lan] is refused naming
# file:line; without a link, no key is asked for.
. "$(dirname "$0")/../lib/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (castor check refuses files not owned by root)"
[ -x "$CASTOR" ] || skip "castor is not built"
make_scratch; dir=$SCRATCH
chmod 0755 "$dir"
mkdir -m 0755 "$dir/services.d"

ini() {  # ini [LAN LINES...] -> $dir/castor.ini with [quorumd] and the given [lan] lines
  { printf '[quorumd]\ndevice = /dev/null\nnode = alpha\nauthkey = %s/authkey\n[lan]\n' "$dir"
    printf '%s\n' "$@"; } >"$dir/castor.ini"
  chmod 0644 "$dir/castor.ini"
}
check() { expect_exit "$1" "$CASTOR" check "$dir/services.d" --config "$dir/castor.ini"; }

say "without a link: no LAN, no key asked for"
ini "port = 5406"
check 0
echo "$OUT"
echo "$OUT" | grep -q "^lan:" && fail "check prints a LAN that is off: $OUT"
echo "$OUT" | grep -q "authkey" && fail "check asks for a key nothing needs: $OUT"

say "two links: printed; the key is required and checked"
ini "link1_local = 192.168.10.1" "link1_peer = 192.168.10.2" "link2_local = fd00:2::1" "link2_peer = fd00:2::2" \
    "interval_ms = 100" "max_storage_stall_s = 60"
check 2
echo "$OUT"
echo "$OUT" | grep -qF "$dir/authkey" || fail "check does not name the missing key: $OUT"
echo "$OUT" | grep -qF "(needed by the LAN channel)" || fail "check does not say what needs the key: $OUT"
expect_exit 0 "$CASTOR" keygen "$dir/authkey"
check 0
echo "$OUT"
echo "$OUT" | grep -qx "lan: link1 192.168.10.1 -> 192.168.10.2" || fail "link1 not printed: $OUT"
echo "$OUT" | grep -qx "lan: link2 fd00:2::1 -> fd00:2::2" || fail "link2 not printed: $OUT"
echo "$OUT" | grep -qx "lan: UDP port 5406, interval 100 ms, max storage stall 60 s" || fail "settings not printed: $OUT"
echo "$OUT" | grep -qF "authkey $dir/authkey: ok (root-only; for the LAN channel)" || fail "key not reported: $OUT"

say "a key group or others can read is refused"
chmod 0644 "$dir/authkey"
check 2
echo "$OUT" | grep -qF "authkey $dir/authkey: mode 0644 gives group or others access" || fail "0644 key accepted: $OUT"
chmod 0600 "$dir/authkey"

say "a bad [lan] is refused, naming file:line"
ini "link2_local = 10.1.0.1" "link2_peer = 10.1.0.2"
check 2
echo "$OUT"
echo "$OUT" | grep -qF "$dir/castor.ini:6: link2_local without link1" || fail "link2 without link1 not named: $OUT"
ini "link1_local = 192.168.10.1" "link1_peer = node-b.example.com"
check 2
echo "$OUT" | grep -qF "$dir/castor.ini:7: key 'link1_peer' in [lan]: 'node-b.example.com' is not a numeric IPv4 or IPv6 address" ||
  fail "a host name accepted: $OUT"
ini "link1_local = 192.168.10.1" "link1_peer = 192.168.10.2" "prot = 5406"
check 2
echo "$OUT" | grep -qF "$dir/castor.ini:8: unknown key 'prot' in [lan] (did you mean 'port'?)" || fail "typo not named: $OUT"
echo "ok"
