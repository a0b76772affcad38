#!/bin/bash
# quorumd's service tables and epoch records on a real disk (a loop device, io_timeout 200 ms), driven over
# the control socket with no svcmgr (issue 12): a fresh cluster is clean (every own block rewritten at
# start); table-peer sees every table block (40 services over two blocks); a block corrupted under a
# running node is reported by its peer with the reason and healed by the scrub within scrub_interval; own
# blocks and the epoch record found corrupt at start are rewritten (the floor rebuilt) once the node holds
# a lease; a node whose table holds owned entries never writes DOWN (SIGTERM: exit 3, the peer waits for
# DEAD); the test-only broken builds read_block0 and down_while_owned show what the fixes prevent.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/quorumd_test.sh"
need_quorumd

# q SOCK 'VERB ARGS' PYEXPR: sends one request, prints PYEXPR evaluated on the JSON reply `r`
q() {
  local out
  out=$(qctl "$1" send $2) || return 1
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$out" "$3"
}
show_logs() { for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done; }
die() { show_logs; fail "$*"; }
# until_true SECONDS CMD...: retries CMD every 100 ms until it succeeds
until_true() {
  local n=$(($1 * 10)) i
  shift
  for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

start_node() {  # start_node NAME INI [ENV=VALUE...]: sets PID_<NAME>
  local name=$1 ini=$2 pid i
  shift 2
  env "$@" setsid "$QUORUMD" --config "$ini" >>"$dir/$name.log" 2>&1 &
  pid=$!; register_pid "$pid"; eval "PID_$name=$pid"
  for ((i = 0; i < 50; i++)); do
    qctl "$dir/$name.sock" status >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || die "quorumd $name exited at startup"
    sleep 0.1
  done
  die "quorumd $name did not answer"
}
write_ini() {  # write_ini NAME SCRUB_S FILE
  cat >"$3" <<EOF
[quorumd]
device = $dev
node = $1
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $dir/$1.sock
scrub_interval_s = $2
lock_memory = no
realtime = no
EOF
}

dev=$(new_loop "$dir/q.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster tb --nodes a,b --io-timeout 200
BS=4096
# Node b's region: after the 16-block header area and node a's 64 blocks; block 1 the epoch record, 2.. the table.
B_REGION=$((16 + 64))
garbage() {  # garbage REGION_BLOCK: random bytes over one block of b's region, under the running cluster
  dd if=/dev/urandom of="$dev" bs=$BS seek=$((B_REGION + $1)) count=1 oflag=direct conv=notrunc status=none ||
    die "dd over b's region block $1"
}
write_ini a 60 "$dir/a.ini"
write_ini b 3 "$dir/b.ini"
write_ini b 60 "$dir/b-slow-scrub.ini"

say "a fresh cluster: each node rewrites its own empty/damaged blocks once it holds a lease, so both are clean"
start_node a "$dir/a.ini"
start_node b "$dir/b.ini"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP"
qctl "$dir/b.sock" wait-peer UP 5 || die "b does not see a UP"
clean() { [ "$(q "$dir/$1.sock" table-peer 'len(r["corrupt_blocks"]) == 0 and r["peer_epoch_floor"] is not None')" = True ]; }
until_true 2 clean a || die "a still sees corrupt blocks of b: $(qctl "$dir/a.sock" send table-peer)"
until_true 2 clean b || die "b still sees corrupt blocks of a: $(qctl "$dir/b.sock" send table-peer)"
[ "$(qctl "$dir/a.sock" status corrupt_blocks)" = "[]" ] || die "a reports own corrupt blocks: $(qctl "$dir/a.sock" status corrupt_blocks)"
echo "[castor] fresh cluster clean: no corrupt block on either side, floors $(qctl "$dir/a.sock" status floor)/$(qctl "$dir/b.sock" status floor)"

say "40 services on b (two table blocks): a's table-peer sees all 40 (issue 12 item 1)"
for ((k = 0; k < 40; k++)); do
  OUT=$(qctl "$dir/b.sock" send table-set "svc$k" owned 2 $((k + 1)) $((k + 1)) 0 0 0)
  echo "$OUT" | grep -q '"ok": true' || die "table-set svc$k: $OUT"
done
n=$(q "$dir/a.sock" table-peer 'len(r["entries"])')
[ "$n" = 40 ] || die "a's table-peer lists $n of b's 40 services"
[ "$(q "$dir/a.sock" table-peer '"svc39" in [e["name"] for e in r["entries"]]')" = True ] || die "svc39 (block 1) is missing"
[ "$(q "$dir/a.sock" table-peer 'r["peer_epoch_floor"]')" = 40 ] || die "b's floor is not 40: $(qctl "$dir/a.sock" send table-peer)"
[ "$(qctl "$dir/b.sock" status floor)" = 40 ] || die "b's status floor is not 40"
[ "$(q "$dir/b.sock" table-own 'r["own_epoch_floor"]')" = 40 ] || die "b's table-own floor is not 40"
# a saw epoch 40 in b's table: its own floor follows (written at its next pump).
until_true 2 eval '[ "$(qctl "$dir/a.sock" status floor)" = 40 ]' || die "a's floor did not follow what it saw"
echo "[castor] table-peer: 40 of 40 services over 2 blocks, peer floor 40"

say "garbage over b's table block 1 under the running cluster: a reports it, b's scrub heals it within 3 s"
scrubs=$(qctl "$dir/b.sock" status scrub.scrubs)
until_true 5 eval '[ "$(qctl "$dir/b.sock" status scrub.scrubs)" != "$scrubs" ]' || die "b never scrubs"
garbage 3   # region block 3 = table block 1
t0=$(date +%s%N)
reply=$(qctl "$dir/a.sock" send table-peer)
echo "$reply" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("corrupt_blocks:", r["corrupt_blocks"], "entries:", len(r["entries"]))'
[ "$(q "$dir/a.sock" table-peer '[c["block"] for c in r["corrupt_blocks"]]')" = "[1]" ] ||
  die "a does not report b's block 1 as corrupt: $reply"
q "$dir/a.sock" table-peer 'r["corrupt_blocks"][0]["reason"]' | grep -Eq "CRC|magic" || die "no reason given: $reply"
until_true 5 eval '[ "$(q "$dir/a.sock" table-peer "len(r[\"corrupt_blocks\"]), len(r[\"entries\"])")" = "(0, 40)" ]' ||
  die "b's scrub did not heal block 1: $(qctl "$dir/a.sock" send table-peer)"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "[castor] corrupt peer block reported, healed by the scrub after ${ms} ms (scrub interval 3000 ms)"
[ "$ms" -le 5000 ] || die "healed only after ${ms} ms (scrub interval 3000 ms, + 2 s for polling a loaded machine)"

say "b killed; its table block 0 and its epoch record corrupted; b restarts: both rewritten, the floor rebuilt"
kill -KILL "$PID_b"; wait "$PID_b" 2>/dev/null
qctl "$dir/a.sock" wait-peer DEAD 5 || die "a does not see b DEAD"
garbage 1   # the epoch record
garbage 2   # table block 0
start_node b "$dir/b-slow-scrub.ini"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP again"
grep -q "own epoch record does not decode: floor rebuilt" "$dir/b.log" || die "b did not rebuild its floor"
grep -q "own service table block does not decode" "$dir/b.log" || die "b did not notice its corrupt block 0"
until_true 2 grep -q "own table block rewritten (it was corrupt at start) block=0" "$dir/b.log" ||
  die "b did not rewrite its block 0"
until_true 2 eval '[ "$(qctl "$dir/b.sock" status corrupt_blocks)" = "[]" ]' || die "b still reports corrupt own blocks"
# The floor: block 0's entries (epochs 1..31) are lost; svc31..39 (epochs 32..40) remain, and a's floor is 40.
[ "$(qctl "$dir/b.sock" status floor)" = 40 ] || die "b's rebuilt floor is $(qctl "$dir/b.sock" status floor), not 40"
[ "$(q "$dir/a.sock" table-peer 'len(r["corrupt_blocks"]), len(r["entries"]), r["peer_epoch_floor"]')" = "(0, 9, 40)" ] ||
  die "a's view of b after the repair: $(qctl "$dir/a.sock" send table-peer)"
echo "[castor] own corrupt table block 0 and epoch record rewritten at start; floor rebuilt to 40; a sees 9 services, no corrupt block"

say "b's table holds owned entries; a service manager says every service stopped: no DOWN (issue 12 item 4)"
# A stand-in svcmgr: subscribes as the service manager, waits for the leave, claims everything stopped.
python3 - "$dir/b.sock" "$PID_b" >"$dir/svcmgr-standin.out" 2>&1 <<'EOP' &
import json, os, signal, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
def send(t): b = t.encode(); s.sendall(struct.pack('<IH', len(b), 1) + b)
def recv():
    h = b''
    while len(h) < 6:
        c = s.recv(6 - len(h))
        if not c: return None
        h += c
    n, _ = struct.unpack('<IH', h); body = b''
    while len(body) < n: body += s.recv(n - len(body))
    return json.loads(body)
send('subscribe service-manager'); assert recv()['ok']
os.kill(int(sys.argv[2]), signal.SIGTERM)
while True:
    e = recv()
    if e is None: sys.exit('closed before the leave started')
    if e.get('event') == 'leaving': break
send('services-stopped')
while True:
    e = recv()
    if e is None: sys.exit('closed without a reply')
    if 'event' not in e: print(json.dumps(e)); break
EOP
STANDIN_SVC=$!
wait "$PID_b"; rc=$?
wait "$STANDIN_SVC"
cat "$dir/svcmgr-standin.out"
[ "$rc" = 3 ] || die "b exited $rc after services-stopped with owned entries, expected 3 (left without DOWN)"
grep -q "not writing DOWN" "$dir/svcmgr-standin.out" || die "services-stopped was not refused"
qctl "$dir/a.sock" wait-peer DEAD 5 || die "a did not wait for DEAD"
grep -q 'to=DOWN' "$dir/a.log" && die "a saw b DOWN"
echo "[castor] services-stopped with owned entries in the table: refused, exit 3, no DOWN"
start_node b "$dir/b-slow-scrub.ini"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP again"

say "b's table holds owned entries and no svcmgr is connected: SIGTERM must not write DOWN (issue 12 item 4)"
kill -TERM "$PID_b"
wait "$PID_b"; rc=$?
[ "$rc" = 3 ] || die "b exited $rc after SIGTERM with owned entries, expected 3 (left without DOWN)"
grep -q "may be up here" "$dir/b.log" || die "b did not say why it left without DOWN"
qctl "$dir/a.sock" wait-peer DEAD 5 || die "a did not wait for DEAD"
grep -q 'to=DOWN' "$dir/a.log" && die "a saw b DOWN"
echo "[castor] SIGTERM with owned entries: exit 3, no DOWN; a declared b DEAD"

say "the broken build down_while_owned writes DOWN anyway (what the check prevents)"
start_node b "$dir/b-slow-scrub.ini" CASTOR_TEST_BUG=down_while_owned
grep -q "CASTOR_TEST_BUG=down_while_owned" "$dir/b.log" || die "the test bug is not logged"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP again"
ms=$(qctl "$dir/a.sock" kill-and-wait "$PID_b" SIGTERM DOWN 5) || die "the broken build did not write DOWN"
wait "$PID_b"; rc=$?
[ "$rc" = 0 ] || die "the broken build exited $rc"
echo "[castor] down_while_owned: DOWN written ${ms} ms after SIGTERM with 9 owned entries (the fixed build refuses)"

say "b back; a restarted with the broken build read_block0: it misses b's services in block 1"
start_node b "$dir/b-slow-scrub.ini"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP again"
OUT=$(qctl "$dir/a.sock" send leave)
echo "$OUT" | grep -q '"left": true' || die "a (empty table) could not leave cleanly: $OUT"
wait "$PID_a"; rc=$?
[ "$rc" = 0 ] || die "a exited $rc after a clean leave with an empty table"
start_node a "$dir/a.ini" CASTOR_TEST_BUG=read_block0
grep -q "CASTOR_TEST_BUG=read_block0" "$dir/a.log" || die "the test bug is not logged"
qctl "$dir/a.sock" wait-peer UP 5 || die "a does not see b UP"
n=$(q "$dir/a.sock" table-peer 'len(r["entries"])')
[ "$n" = 0 ] || die "read_block0 saw $n entries"
n=$(q "$dir/b.sock" table-own 'len(r["entries"])')
echo "[castor] read_block0: a sees 0 of b's $n services (they live in block 1)"
echo "all quorumd table-block checks passed"
