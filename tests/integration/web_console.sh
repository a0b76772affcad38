#!/bin/bash
# castor-web (issue 20): the web console of node a of a real two-node cluster (quorumd and svcmgr on a loop
# device, io_timeout 200 ms), run as an unprivileged user of its own that reads the daemons through their
# status sockets (status_group) and acts through svcmgr's operator group; HTTPS with a self-signed
# certificate, logins checked by PAM (a PAM service file of this test's, pam_unix) and an admin group.
# Checked: the daemons' sockets (a status-group member reads but cannot act or leave; an operator may
# relocate), castor-web refusing to serve as root, what the API serves (the view, /metrics through promtool),
# every refusal (an action without a session, with a forged session, without the CSRF header; a login of a
# user outside the admin group, a wrong password, a login over plain HTTP), slow clients that cannot stall
# it; then headless Chromium (tests/lib/web_browser.py) loads the page, logs in, relocates web by a click,
# sees it move, keeps a screenshot ($BUILD/test-logs/web_console.png), and measures how long a failover
# takes to show on the open page.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
WEB=$BUILD/castor-web
[ -x "$WEB" ] || skip "castor-web not built"
for c in chromium chromedriver openssl curl python3 useradd chpasswd; do command -v $c >/dev/null || skip "$c missing"; done
/usr/bin/python3 -c "import selenium" 2>/dev/null || skip "python3-selenium missing (Debian's, for /usr/bin/python3: make deps)"
[ -e /lib/x86_64-linux-gnu/security/pam_unix.so ] || [ -e /usr/lib/x86_64-linux-gnu/security/pam_unix.so ] || skip "pam_unix missing"
make_scratch; dir=$SCRATCH
chmod 0711 "$dir"  # castor-web's user reaches the sockets in it (it lists nothing)
LOG_TAIL=30
LOGS_DIR=$(cd "$BUILD" && pwd)/test-logs
mkdir -p "$LOGS_DIR"

# Users and groups of this run (names end in the PID: nothing of the host's is touched), removed at exit.
id=$$
G_STATUS=cwst$id G_OPER=cwop$id G_ADMIN=cwad$id U_WEB=cwweb$id U_ADMIN=cwadm$id U_PLAIN=cwusr$id U_READ=cwrd$id
PAM_SERVICE=castor-web-test$id
for g in "$G_STATUS" "$G_OPER" "$G_ADMIN"; do
  groupadd "$g" || die "groupadd $g"
  register_undo "groupdel $g 2>/dev/null"
done
add_user() {  # add_user NAME GROUPS [PASSWORD]
  useradd -M -d /nonexistent -s /usr/sbin/nologin ${2:+-G "$2"} "$1" || die "useradd $1"
  register_undo "userdel $1 2>/dev/null"
  [ -z "${3:-}" ] || echo "$1:$3" | chpasswd || die "chpasswd $1"
}
ADMIN_PW="pw-$RANDOM-$RANDOM" PLAIN_PW="pw2-$RANDOM"
# register_undo runs its commands last-in first-out: the users go before their groups.
add_user "$U_WEB" "$G_STATUS,$G_OPER"  # not in shadow: logins are checked by castor-web's PAM helper, which keeps root
add_user "$U_ADMIN" "$G_ADMIN" "$ADMIN_PW"
add_user "$U_PLAIN" "" "$PLAIN_PW"
add_user "$U_READ" "$G_STATUS"
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >/etc/pam.d/$PAM_SERVICE || die "pam.d"
register_undo "rm -f /etc/pam.d/$PAM_SERVICE"

dev=$(new_disk_loop) || die losetup; register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster webui --nodes a,b --io-timeout 200
mkdir -p "$dir/state"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/web.key" -out "$dir/web.crt" -days 2 -subj /CN=localhost \
  >"$dir/openssl.out" 2>&1 || die "openssl: $(cat "$dir/openssl.out")"
chmod 0600 "$dir/web.key"
for n in a b; do
  node_ini "$n" "$dev"
  sed -i -e "/^\[quorumd\]/a status_group = $G_STATUS" \
         -e "/^\[svcmgr\]/a status_group = $G_STATUS\noperator_group = $G_OPER" "$dir/$n.ini"
  exec_service "$n" web "sleep 0.2; touch $dir/state/web-\$CASTOR_NODE" "rm -f $dir/state/web-\$CASTOR_NODE" \
    "test -e $dir/state/web-\$CASTOR_NODE || exit 7"
done
cat >>"$dir/a.ini" <<EOI
[web]
listen = 127.0.0.1
certificate = $dir/web.crt
private_key = $dir/web.key
pam_service = $PAM_SERVICE
admin_group = $G_ADMIN
user = $U_WEB
EOI

say "castor check validates [web], the key's mode and the groups"
"$CASTOR" check "$dir/a-services" --nodes a,b --config "$dir/a.ini" >"$dir/check.out" 2>&1 || die "castor check: $(cat "$dir/check.out")"
grep -q "^web: ok (https on 127.0.0.1:7630, as $U_WEB)" "$dir/check.out" || die "castor check says: $(cat "$dir/check.out")"
chmod 0644 "$dir/web.key"
"$CASTOR" check "$dir/a-services" --nodes a,b --config "$dir/a.ini" >"$dir/check2.out" 2>&1 && die "castor check took a key others can read"
grep -q "private_key.*readable by root only" "$dir/check2.out" || die "castor check says: $(cat "$dir/check2.out")"
chmod 0600 "$dir/web.key"
sed "s/^admin_group = .*/admin_group = nosuchgroup$id/" "$dir/a.ini" >"$dir/a-badgroup.ini"
"$CASTOR" check "$dir/a-services" --nodes a,b --config "$dir/a-badgroup.ini" >"$dir/check3.out" 2>&1 && die "castor check took a missing group"
grep -q "admin_group: no group named 'nosuchgroup$id'" "$dir/check3.out" || die "castor check says: $(cat "$dir/check3.out")"
echo "castor check: $(grep '^web:' "$dir/check.out"); a key others can read and a missing group refused"

say "a and b up, web starts on one of them"
start_daemons a QA SA; start_daemons b QB SB
for ((i = 0; i < 300; i++)); do ls "$dir"/state/web-* >/dev/null 2>&1 && break; sleep 0.1; done
wait_field 50 a web state started || die "web not reported started on a's svcmgr"

say "the status sockets: a status-group member reads, cannot act or leave; an operator may act"
# The test users run a copy of qctl.py in the scratch folder: the checkout may be where they cannot read
# (a clean clone under root's home or a private /tmp folder, as CI's is).
install -m 0644 "$(dirname "$0")/../lib/qctl.py" "$dir/qctl.py" || die "copying qctl.py"
sock_as() {  # sock_as USER SOCKET REQUEST: the reply's JSON
  runuser -u "$1" -- /usr/bin/python3 "$dir/qctl.py" "$2" send $3 2>&1
}
out=$(sock_as "$U_READ" "$dir/a-s.sock" services); grep -q '"ok": *true' <<<"$out" || die "a reader's services: $out"
out=$(sock_as "$U_READ" "$dir/a-s.sock" "relocate web b"); grep -q 'permission denied' <<<"$out" || die "a reader relocated: $out"
out=$(sock_as "$U_READ" "$dir/a-q.sock" status); grep -q '"ok": *true' <<<"$out" || die "a reader's quorumd status: $out"
out=$(sock_as "$U_READ" "$dir/a-q.sock" leave); grep -q 'permission denied' <<<"$out" || die "a reader made quorumd leave: $out"
out=$(sock_as "$U_WEB" "$dir/a-q.sock" "table-peer"); grep -q 'permission denied' <<<"$out" || die "an operator read table-peer: $out"
out=$(sock_as "$U_PLAIN" "$dir/a-s.sock" services); grep -qi 'permission' <<<"$out" || die "a stranger connected: $out"
# A reader that floods pipelined requests is dropped after its burst, and quorumd keeps its lease (review 20b:
# such a flood fenced a node).
runuser -u "$U_READ" -- /usr/bin/python3 - "$dir/a-q.sock" <<'EOF' || die "the reader's flood"
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
frame = struct.pack('<IH', 6, 1) + b'status'
t0 = time.time()
for _ in range(20):
    try:
        s.sendall(frame * 500)
    except (BrokenPipeError, ConnectionResetError):
        break
s.settimeout(5)
replies, buf = 0, b''
while True:
    try:
        c = s.recv(65536)
    except ConnectionResetError:
        break
    if not c:
        break
    buf += c
while len(buf) >= 6:
    n = struct.unpack('<I', buf[:4])[0]; buf = buf[6 + n:]; replies += 1
print("flood of 10000 pipelined status requests: %d answered, then disconnected after %.2f s" % (replies, time.time() - t0))
assert replies <= 21, replies
EOF
out=$(python3 "$(dirname "$0")/../lib/qctl.py" "$dir/a-q.sock" status lease.valid); [ "$out" = true ] || die "quorumd lost its lease after the flood: $out"
ls -l "$dir/a-s.sock" "$dir/a-q.sock" | sed 's/^/  /'
echo "reader: services and status yes, relocate and leave no; a stranger cannot connect"

say "castor-web refuses to serve as root"
sed '/^user = /d' "$dir/a.ini" >"$dir/a-nouser.ini"
"$WEB" --config "$dir/a-nouser.ini" --port 0 >"$dir/norootweb.out" 2>&1 && die "castor-web served as root: $(cat "$dir/norootweb.out")"
grep -q "refusing to serve as root" "$dir/norootweb.out" || die "no reason given: $(cat "$dir/norootweb.out")"

say "castor-web up (HTTPS), and a second one on plain HTTP"
start_web() {  # start_web CONFIG NAME VAR [NETNS]: its URL into VAR
  ${4:+ip netns exec "$4"} "$WEB" --config "$1" --port 0 >"$dir/$2.log" 2>&1 &  # port 0: one the kernel picks, printed
  register_pid $!
  LAST_WEB_PID=$!
  local u=""
  for ((i = 0; i < 100; i++)); do
    u=$(sed -n 's/^castor-web: the console is at //p' "$dir/$2.log")
    [ -n "$u" ] && break
    sleep 0.1
  done
  [ -n "$u" ] || die "castor-web ($2) did not start: $(cat "$dir/$2.log")"
  printf -v "$3" %s "$u"
}
start_web "$dir/a.ini" web URL
sed -e '/^certificate = /d' -e '/^private_key = /d' "$dir/a.ini" >"$dir/a-plain.ini"
start_web "$dir/a-plain.ini" web-plain PLAIN_URL
echo "HTTPS: $URL  plain: $PLAIN_URL"
web_pid=$(pgrep -o -f "castor-web --config $dir/a.ini ")
[ "$(stat -c %U /proc/"$web_pid")" = "$U_WEB" ] || die "castor-web runs as $(stat -c %U /proc/"$web_pid"), not $U_WEB"
grep -q "^Groups:.*\b$(getent group shadow | cut -d: -f3)\b" /proc/"$web_pid"/status && die "castor-web holds the shadow group"
helper=$(pgrep -P "$web_pid" -f "castor-web --config $dir/a.ini ")
[ -n "$helper" ] && [ "$(stat -c %U /proc/"$helper")" = root ] || die "no PAM helper as root under castor-web ($helper)"
[ "$(ls /proc/"$helper"/fd | wc -l)" -le 4 ] || die "the PAM helper holds more than its socket: $(ls -l /proc/"$helper"/fd)"
echo "castor-web runs as $U_WEB (pid $web_pid, not in shadow); its PAM helper (pid $helper) is root and holds $(ls /proc/"$helper"/fd | wc -l) descriptors"

CURL=(curl -sk --max-time 10)
for ((i = 0; i < 50; i++)); do
  "${CURL[@]}" "$URL"api/view >"$dir/view.json" && grep -q '"name":"web"' "$dir/view.json" && break
  sleep 0.1
done
python3 - "$dir/view.json" <<'EOF' || die "the view: $(head -c 600 "$dir/view.json")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["quorumd"]["node"]["name"] == "a", v.get("quorumd_error")
assert v["quorumd"]["peer"]["name"] == "b"
assert [s["name"] for s in v["svcmgr"]["services"]] == ["web"], v.get("svcmgr_error")
print("view: node a, peer %s, web %s on %s" % (v["quorumd"]["peer"]["view"], v["svcmgr"]["services"][0]["state"], v["svcmgr"]["services"][0]["owner"]))
EOF
"${CURL[@]}" "$URL"metrics >"$dir/metrics.prom" || die "GET /metrics"
grep -q '^castor_service_state{node="a",service="web",state="started"} 1' "$dir/metrics.prom" || die "/metrics: $(head -20 "$dir/metrics.prom")"
if command -v promtool >/dev/null; then
  promtool check metrics <"$dir/metrics.prom" >"$dir/promtool.out" 2>&1 || die "promtool: $(cat "$dir/promtool.out")"
  echo "/metrics: $(grep -c -v '^#' "$dir/metrics.prom") samples, promtool clean"
fi
hdrs=$("${CURL[@]}" -D - -o /dev/null "$URL")
grep -qi '^content-security-policy:' <<<"$hdrs" || die "no CSP on the page: $hdrs"
grep -qi '^strict-transport-security:' <<<"$hdrs" || die "no HSTS over HTTPS: $hdrs"

say "a console bound to a non-loopback address answers its server_names only (DNS rebinding)"
ns=castor-web-$$
ip netns add "$ns" || die "ip netns add"
register_undo "ip netns delete $ns"
ip -n "$ns" link set lo up && ip -n "$ns" addr add 192.0.2.77/32 dev lo || die "the namespace's address"
sed -e '/^certificate = /d' -e '/^private_key = /d' -e 's/^listen = .*/listen = 192.0.2.77\nserver_names = Console.Castor.Test, 192.0.2.77/' \
  "$dir/a.ini" >"$dir/a-named.ini"
"$CASTOR" check "$dir/a-services" --nodes a,b --config "$dir/a-named.ini" >"$dir/check-named.out" 2>&1 || die "castor check: $(cat "$dir/check-named.out")"
grep -q "server_names is not set" "$dir/check-named.out" && die "castor check warns although server_names is set"
start_web "$dir/a-named.ini" web-named NAMED_URL "$ns"
named() { ip netns exec "$ns" curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
[ "$(named -H 'Host: console.castor.test:7630' "$NAMED_URL"api/view)" = 200 ] || die "the server name is refused"
[ "$(named "$NAMED_URL"api/view)" = 200 ] || die "the numeric address (a server name) is refused"
[ "$(named -H 'Host: rebound.attacker.example' "$NAMED_URL"api/view)" = 403 ] || die "another name is answered"
[ "$(named -H 'Host: localhost' "$NAMED_URL"api/view)" = 403 ] || die "localhost is answered on a non-loopback console"
sed -i '/^server_names = /d' "$dir/a-named.ini"
"$CASTOR" check "$dir/a-services" --nodes a,b --config "$dir/a-named.ini" >"$dir/check-named.out" 2>&1
grep -q "192.0.2.77 is not loopback and server_names is not set" "$dir/check-named.out" || die "castor check does not warn: $(cat "$dir/check-named.out")"
# Stopped now: the daemons' budget for the console's user (20 requests a second, issue 20's review) is one
# uid's, and a third console polling beside the other two would spend it.
kill -TERM "$LAST_WEB_PID"; wait "$LAST_WEB_PID" 2>/dev/null
echo "non-loopback console: its server names 200, another name and localhost 403; castor check warns without server_names"

say "refusals"
status_of() { "${CURL[@]}" -o "$dir/body" -w '%{http_code}' "$@"; }
expect_http() {  # expect_http CODE WHAT CURL-ARGS...
  local code=$1 what=$2; shift 2
  local got
  got=$(status_of "$@")
  [ "$got" = "$code" ] || die "$what: HTTP $got, expected $code: $(cat "$dir/body")"
  echo "$what: $got $(head -c 120 "$dir/body")"
}
ACTION='{"verb":"relocate","service":"web","node":"b"}'
JSON=(-H 'Content-Type: application/json')
expect_http 401 "action without a session" -X POST "${JSON[@]}" -d "$ACTION" "$URL"api/action
forged=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
expect_http 401 "action with a forged session" "${JSON[@]}" -X POST -b "castor_session=$forged" -H "X-Castor-CSRF: $forged" -d "$ACTION" "$URL"api/action
# Both refusals take the same time (no oracle telling a right password from a wrong one), as any refusal does.
for who in "$U_ADMIN:nope" "$U_PLAIN:$PLAIN_PW"; do
  t=$("${CURL[@]}" -o "$dir/body" -w '%{http_code} %{time_total}' "${JSON[@]}" -X POST \
      -d "{\"user\":\"${who%%:*}\",\"password\":\"${who#*:}\"}" "$URL"api/login)
  [ "${t%% *}" = 401 ] || die "a login of ${who%%:*} with ${who#*:}: HTTP $t: $(cat "$dir/body")"
  python3 -c "import sys; t=float('${t#* }'); sys.exit(0 if 2.9 <= t < 6 else 1)" || die "a refused login of ${who%%:*} took ${t#* } s, not the fixed 3 s"
  echo "refused login of ${who%%:*} ($([ "${who%%:*}" = "$U_ADMIN" ] && echo 'a wrong password' || echo 'the right password, not in the admin group')): 401 after ${t#* } s"
done
expect_http 403 "login over plain HTTP" "${JSON[@]}" -X POST -d "{\"user\":\"$U_ADMIN\",\"password\":\"$ADMIN_PW\"}" "$PLAIN_URL"api/login
expect_http 415 "a cross-site form post (text/plain) to the login" -H 'Content-Type: text/plain' -X POST \
  -d "{\"user\":\"$U_ADMIN\",\"password\":\"$ADMIN_PW\"}" "$URL"api/login
expect_http 403 "a login from another origin" "${JSON[@]}" -H 'Origin: https://evil.example' -X POST \
  -d "{\"user\":\"$U_ADMIN\",\"password\":\"$ADMIN_PW\"}" "$URL"api/login
expect_http 403 "a read under another Host name (DNS rebinding)" -H 'Host: evil.example' "$URL"api/view
expect_http 403 "a read under a name that starts like loopback" -H 'Host: 127.attacker.example' "$URL"api/view
expect_http 200 "a read under 127.0.0.2 (loopback)" -H 'Host: 127.0.0.2' "$URL"api/view
expect_http 200 "login of the admin" "${JSON[@]}" -c "$dir/cookies" -X POST -d "{\"user\":\"$U_ADMIN\",\"password\":\"$ADMIN_PW\"}" "$URL"api/login
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$dir/body")
expect_http 403 "action with the session but without the CSRF header" "${JSON[@]}" -b "$dir/cookies" -X POST -d "$ACTION" "$URL"api/action
expect_http 403 "action with the session and a wrong CSRF header" "${JSON[@]}" -b "$dir/cookies" -H "X-Castor-CSRF: $forged" -X POST -d "$ACTION" "$URL"api/action
expect_http 400 "an action the console does not offer (reset)" "${JSON[@]}" -b "$dir/cookies" -H "X-Castor-CSRF: $csrf" -X POST \
  -d '{"verb":"reset","service":"web"}' "$URL"api/action
expect_http 400 "a service name with a space (a second argument smuggled in)" "${JSON[@]}" -b "$dir/cookies" -H "X-Castor-CSRF: $csrf" \
  -X POST -d '{"verb":"disable","service":"web b"}' "$URL"api/action
expect_http 200 "the session" -b "$dir/cookies" "$URL"api/session
grep -q "\"user\":\"$U_ADMIN\"" "$dir/body" || die "the session does not name the user: $(cat "$dir/body")"
grep -q "login refused.*$U_PLAIN.*not in the admin group\|$U_PLAIN.*not in the admin group" "$dir/web.log" ||
  die "the refused login is not logged with its reason: $(tail -5 "$dir/web.log")"

say "slow clients cannot stall the console"
python3 - "$URL" "$PLAIN_URL" <<'EOF' || die "slow clients"
import socket, ssl, subprocess, sys, time, urllib.parse
https, plain = sys.argv[1], sys.argv[2]
def addr(u):
    p = urllib.parse.urlparse(u)
    return p.hostname, p.port
slow, trickled = [], []
for _ in range(60):  # TLS connections that never finish their handshake
    slow.append(socket.create_connection(addr(https)))
for _ in range(60):  # plain HTTP requests trickled a header line at a time (slowloris)
    s = socket.create_connection(addr(plain)); s.sendall(b"GET /api/view HTTP/1.1\r\nHost: x\r\n")
    slow.append(s); trickled.append(s)
opened = time.time()
for u in (https, plain):
    for _ in range(5):
        r = subprocess.run(["curl", "-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", u + "api/view"],
                           capture_output=True, text=True)
        code, took = r.stdout.split()
        assert code == "200", (u, r.stdout, r.stderr)
        assert float(took) < 2.0, ("a request took %s s beside 120 slow clients" % took)
print("10 requests beside 120 stalled clients: all 200, %.2f s in all" % (time.time() - opened))
# The slow ones keep trickling; the request deadline (10 s, handshake included) closes every one of them.
alive = set(range(len(slow)))
while time.time() - opened < 13:
    for i in list(alive):
        if slow[i] in trickled:
            try:
                slow[i].sendall(b"X-Slow: 1\r\n")
            except OSError:
                alive.discard(i)
    time.sleep(1)
for i in list(alive):
    s = slow[i]
    s.settimeout(1)
    try:
        if s.recv(4096) == b"":
            alive.discard(i)
    except OSError:
        alive.discard(i)
print("%d of %d slow connections closed by the console within 13 s" % (len(slow) - len(alive), len(slow)))
assert not alive, "%d slow connections still open" % len(alive)
EOF

say "the page in headless Chromium"
owner=$(field a web owner)
other=$([ "$owner" = a ] && echo b || echo a)
# The failover the page must show: node b (the one the browser relocates web to, when web is on a) is killed.
kill_b="kill -KILL $QB $SB"
if [ "$owner" = b ]; then
  # web on b: relocate to a first from the CLI, so that the browser relocates it a -> b, then b dies.
  expect_exit 0 "$CASTOR" relocate web --to a --wait --socket "$dir/a-s.sock"
  wait_field 100 a web owner a || die "web did not move to a"
fi
/usr/bin/python3 "$(dirname "$0")/../lib/web_browser.py" "$URL" "$U_ADMIN" "$ADMIN_PW" web "$dir/a-s.sock" \
  "$LOGS_DIR/web_console.png" "$kill_b" 2>&1 | tee "$dir/browser.out"
[ "${PIPESTATUS[0]}" = 0 ] || die "the browser test failed"
grep -q "castor-web: action.*$U_ADMIN.*relocate web b.*accepted" "$dir/web.log" || die "the relocate is not in castor-web's log"
# svcmgr's history names the operator's uid for the request that came through the console.
grep -q "relocate web b.*asked by uid $(id -u "$U_WEB")" "$dir"/a-state/history/a.jsonl ||
  die "svcmgr's history does not say who asked: $(grep relocate "$dir"/a-state/history/a.jsonl | tail -2)"
# The standby of b clicked on a's console: asked by the operator on a, acted on by b.
grep -q '"standby b".*asked by uid' "$dir"/a-state/history/a.jsonl || die "a's history has no standby b asked by the console"
grep -q '"standby b".*asked by the peer a' "$dir"/b-state/history/b.jsonl || die "b's history does not say a asked its standby"
say "five failed logins from one address: the next is refused without asking PAM, even with the right password"
tries=()
for i in 1 2 3 4 5; do
  "${CURL[@]}" -o /dev/null "${JSON[@]}" -X POST -d "{\"user\":\"$U_ADMIN\",\"password\":\"wrong$i\"}" "$URL"api/login &
  tries+=($!)
done
wait "${tries[@]}"
expect_http 429 "the right password after five failures" "${JSON[@]}" -X POST -d "{\"user\":\"$U_ADMIN\",\"password\":\"$ADMIN_PW\"}" "$URL"api/login
grep -q "login refused without asking PAM: too many failures" "$dir/web.log" || die "the throttle is not logged"
echo "[castor] web console: $(grep -h 'page usable\|failover:' "$dir/browser.out" | tr '\n' ' ')"
say "pass"
