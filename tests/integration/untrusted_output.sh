#!/bin/bash
# Output that cannot lock the admin out (issue 14): a failing exec agent's monitor prints bytes that are not
# UTF-8, an ANSI colour escape, a C1 CSI and a line whose last character the 512-byte cap cuts in two; a
# service file whose name carries an escape sequence is rejected (its text shows up in load_errors).
# Expected: svcmgr's replies stay valid JSON; `castor status --json` is valid, ASCII-only JSON;
# `castor status` prints no raw control character (the escape shows as \x1B), only valid UTF-8; the
# service verbs (freeze, unfreeze, disable --wait) keep working.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
make_scratch; dir=$SCRATCH
LOG_TAIL=20

one_node_disk utf8 200
cat >"$dir/mon.sh" <<EOI || fail "writing mon.sh"
#!/bin/sh
test -e $dir/state/noisy || exit 7
test -e $dir/state/noisy-fail || exit 0
printf 'first line\n'
printf '\377\376 bad \033[31m red \302\2332J '
head -c 490 /dev/zero | tr '\000' z
printf '\342\202\254\n'
exit 1
EOI
chmod 755 "$dir/mon.sh"
exec_service a noisy "touch $dir/state/noisy" "rm -f $dir/state/noisy" "$dir/mon.sh"
# A rejected file whose name and 'name' value carry an escape sequence (a load error quotes both).
printf '[service]\nname = ev\033[31mil\nnodes = a, b\n' >"$dir/a-services/ev"$'\033'"[2Jil.ini" || fail "writing evil.ini"

start_daemons a QP SP
wait_file "$dir/state/noisy" 30 || die "noisy did not start"
say "the monitor starts failing with hostile output"
touch "$dir/state/noisy-fail"
st=(status --config "$dir/a.ini" --svcmgr-socket "$dir/a-s.sock")
for ((i = 0; i < 100; i++)); do
  "$CASTOR" "${st[@]}" --json 2>/dev/null | grep -q '"last_failure"' && break
  sleep 0.2
done
rm -f "$dir/state/noisy-fail"

say "castor status --json: valid, ASCII-only JSON with the failure in it"
"$CASTOR" "${st[@]}" --json >"$dir/status.json" 2>"$dir/status.err" || die "castor status --json failed: $(cat "$dir/status.err")"
python3 - "$dir/status.json" <<'EOP' || die "castor status --json is not clean"
import json, sys
raw = open(sys.argv[1], 'rb').read()
bad = [b for b in raw if b >= 0x80 or (b < 0x20 and b != 0x0a)]
assert not bad, f"non-ASCII or control bytes in --json output: {bad[:10]}"
d = json.loads(raw)
svcs = d['services']['services']
noisy = next(s for s in svcs if s['name'] == 'noisy')
reason = noisy['last_failure']['reason']
assert 'bad  [31m red  2J' in reason, reason
assert '\ufffd\ufffd bad' in reason, reason
assert not any(0x80 <= ord(c) <= 0x9f or ord(c) < 0x20 for c in reason), repr(reason)
assert '\u20ac' not in reason and reason.endswith('z'), repr(reason[-10:])  # cut whole, not in two
errors = d['services']['load_errors']
assert errors and any('\x1b' in e for e in errors), errors  # the JSON carries the text; the CLI escapes it
print("json ok:", repr(reason[:40]), "...")
EOP

say "castor status: no raw control character, escapes shown escaped"
"$CASTOR" "${st[@]}" >"$dir/status.txt" 2>"$dir/status.err" || die "castor status failed: $(cat "$dir/status.err")"
python3 - "$dir/status.txt" <<'EOP' || { cat -v "$dir/status.txt"; die "castor status prints raw control characters"; }
import sys
raw = open(sys.argv[1], 'rb').read()
text = raw.decode('utf-8')  # strict: raises on invalid UTF-8
bad = [hex(ord(c)) for c in text if (ord(c) < 0x20 and c != '\n') or 0x7f <= ord(c) <= 0x9f]
assert not bad, f"raw control characters printed: {bad[:10]}"
assert '\\x1B[31m' in text or '\\x1B[2J' in text, "the load error's escape is not shown escaped"
assert 'bad  [31m red' in text, "the agent's failure is not shown"
print("text ok")
EOP

say "the service verbs keep working"
expect_exit 0 "$CASTOR" freeze noisy --socket "$dir/a-s.sock"
expect_exit 0 "$CASTOR" unfreeze noisy --socket "$dir/a-s.sock"
expect_exit 0 "$CASTOR" disable noisy --wait=20 --socket "$dir/a-s.sock"
"$CASTOR" "${st[@]}" >/dev/null || die "castor status fails after the verbs"
say "ok: hostile agent output and file names shown escaped; every verb works"
