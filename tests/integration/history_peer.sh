#!/bin/bash
# history_peer (issue 20): castor history --peer HOST reads the peer's event history over a real ssh. A real
# sshd (openssh-server) runs as root on 127.0.0.1 on a free port, with a host key, an authorized_keys file and
# its pid file in the test's directory; the client key may only run the admin guide's forced-command wrapper
# (docs/admin-guide.md section 8, taken from the guide itself), which runs this build's castor with the
# "peer" node's castor.ini. Two nodes' history files (alpha here, beta the peer) are written as svcmgr writes
# them (NODE.jsonl and NODE.jsonl.1 in STATE_DIR/history). Checked: the merged timeline holds both nodes'
# records in time order; --service and --since filter the peer's too; with beta's files also copied to alpha,
# each record once, and --local leaves the copies out; the wrapper refuses any other command; a failing peer
# (no sshd on the port, a key it refuses, a peer that hangs, an answer over 16 MiB) is exit 1 with a message
# naming the host and alpha's records still shown; an option-injection host is refused with exit 2 and runs
# nothing. About 45 s (the hanging peer waits out the 30 s timeout).
. "$(dirname "$0")/../lib/common.sh"
need_root  # sshd runs as root (its privilege separation, and root's login as on a real node)
[ -x /usr/sbin/sshd ] || skip "openssh-server missing (/usr/sbin/sshd; make deps installs it)"
for c in ssh ssh-keygen python3; do command -v "$c" >/dev/null || skip "$c missing"; done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $CASTOR in /*) ;; *) CASTOR=$PWD/$CASTOR ;; esac
[ -x "$CASTOR" ] || skip "$CASTOR not built"
make_scratch; dir=$SCRATCH
die() {
  echo "--- sshd.log (last 30 lines)"; tail -30 "$dir/sshd.log" 2>/dev/null
  fail "$*"
}

say "two nodes' history files: alpha's (this node) and beta's (the peer), both rotated once"
mkdir -p "$dir/alpha/history" "$dir/beta/history" && chmod 0700 "$dir/alpha/history" "$dir/beta/history" || fail mkdir
for n in alpha beta; do
  printf '[quorumd]\nnode = %s\n\n[svcmgr]\nstate_dir = %s\n' "$n" "$dir/$n" >"$dir/$n.ini" && chmod 0644 "$dir/$n.ini" ||
    fail "writing $n.ini"
done
NOW_NS=$(date +%s%N)
# record NODE FILE MINUTES_AGO EVENT KIND SERVICE EPOCH DESC REASON: one line as svcmgr writes it
record() {
  python3 -c 'import json, sys
n, f, ago, ev, kind, svc, ep, desc, why, now = sys.argv[1:]
r = {"wall_ns": int(now) - int(float(ago) * 60e9), "node": n, "event": ev, "kind": kind, "service": svc,
     "epoch": int(ep), "subject": "", "desc": desc, "reason": why}
open(f, "a").write(json.dumps(r, separators=(",", ":")) + "\n")' "$1" "$dir/$1/history/$2" "${@:3}" "$NOW_NS" ||
    fail "writing a record"
}
record alpha alpha.jsonl.1 180 service_started resource web 3 started ""
record alpha alpha.jsonl.1 120 service_started resource db 2 started ""
record alpha alpha.jsonl 50 node_dead node "" 0 "beta lost" "heartbeat unchanged for 1.2s"
record alpha alpha.jsonl 45 service_claimed resource web 4 "claimed at epoch 4" "beta dead"
record alpha alpha.jsonl 30 service_started resource web 4 started ""
record alpha alpha.jsonl 10 service_stopped resource db 2 stopped "admin request"
record beta beta.jsonl.1 150 service_stopped resource web 3 stopped "relocation"
record beta beta.jsonl.1 55 service_failed resource web 3 "monitor failed" "exit 7"
record beta beta.jsonl 40 node_up node "" 0 "alpha up" ""
record beta beta.jsonl 35 admin_request admin web 4 "relocate web to beta" "root"
record beta beta.jsonl 20 service_started resource db 3 started ""
record beta beta.jsonl 5 service_stopped resource web 4 stopped "admin request"
chmod 0600 "$dir"/alpha/history/* "$dir"/beta/history/*

# check OUT SINCE_MINUTES SERVICE FILES...: OUT (castor history --json) holds exactly the records of FILES
# at or after SINCE_MINUTES ago ("" = all) of SERVICE ("" = all), each once, in time order
check() {
  python3 - "$NOW_NS" "$@" <<'EOF'
import json, sys
now, out, since, service, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
got = [json.loads(l) for l in open(out) if l.strip()]
want = []
for f in files:
    for l in open(f):
        r = json.loads(l)
        if since and r["wall_ns"] < now - int(since) * 60 * 10**9: continue
        if service and r["service"] != service: continue
        want.append(r)
want.sort(key=lambda r: (r["wall_ns"], r["node"]))
if got != want:
    print("got:"); [print(" ", r) for r in got]
    print("want:"); [print(" ", r) for r in want]
    sys.exit("castor history's records are not the expected ones")
print("  %d record(s) as expected: %s" % (len(got), ", ".join("%s/%s" % (r["node"], r["event"]) for r in got)))
EOF
}
A=("$dir"/alpha/history/alpha.jsonl*) B=("$dir"/beta/history/beta.jsonl*)

say "sshd on 127.0.0.1, a free port in 20000-29999; the client key may run the admin guide's wrapper only"
port=$(free_port) && [ -n "$port" ] || fail "no free port in 20000-29999"
ssh-keygen -q -t ed25519 -N '' -C castor-test-host -f "$dir/host_key" || fail "ssh-keygen (host key)"
ssh-keygen -q -t ed25519 -N '' -C castor-history@alpha -f "$dir/client_key" || fail "ssh-keygen (client key)"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$dir/other_key" || fail "ssh-keygen (a key beta does not know)"
# The wrapper as the guide gives it (its only block that starts "#!/bin/sh"), running this build's castor
# with beta's castor.ini instead of /usr/sbin/castor with /etc/castor/castor.ini.
python3 - "$ROOT/docs/admin-guide.md" >"$dir/castor-history-only" <<'EOF' || fail "no castor-history-only wrapper in the admin guide"
import sys
lines = open(sys.argv[1]).read().split("\n")
for i, l in enumerate(lines):
    if l.strip() == "```" and i + 1 < len(lines) and lines[i + 1] == "#!/bin/sh":
        end = lines.index("```", i + 1)
        print("\n".join(lines[i + 1:end]))
        sys.exit(0)
sys.exit(1)
EOF
grep -q '^exec /usr/sbin/castor history --json --local "\$@"$' "$dir/castor-history-only" ||
  fail "the guide's wrapper does not end in exec /usr/sbin/castor history --json --local \"\$@\""
sed -i "s|^exec /usr/sbin/castor history |exec $CASTOR history --config $dir/beta.ini |" "$dir/castor-history-only"
chmod 0755 "$dir/castor-history-only" || fail chmod
echo "command=\"$dir/castor-history-only\",restrict,from=\"127.0.0.1\" $(cat "$dir/client_key.pub")" >"$dir/authorized_keys"
chmod 0600 "$dir/authorized_keys"
cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
# The test's directory is under /tmp (writable by all, sticky): StrictModes would refuse the key file.
StrictModes no
PermitRootLogin forced-commands-only
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers root
Subsystem sftp /bin/false
EOF
if [ ! -d /run/sshd ]; then  # sshd's privilege separation directory (the package makes it at boot)
  mkdir -m 0755 /run/sshd || fail "mkdir /run/sshd"
  register_undo "rmdir /run/sshd 2>/dev/null"
fi
/usr/sbin/sshd -t -f "$dir/sshd_config" || fail "sshd -t refuses the test's sshd_config"
start_sshd() {
  rm -f "$dir/sshd.pid"
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$dir/sshd.log" 2>&1 &
  SSHD_PID=$!
  register_pid "$SSHD_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$dir/sshd.pid" ] && return 0
    kill -0 "$SSHD_PID" 2>/dev/null || die "sshd exited at start"
    sleep 0.1
  done
  die "sshd did not write its pid file"
}
start_sshd
echo "  sshd pid $SSHD_PID on 127.0.0.1:$port"
echo "beta $(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"
cat >"$dir/ssh_config" <<EOF
Host beta
  HostName 127.0.0.1
  Port $port
  User root
  HostKeyAlias beta
  IdentityFile $dir/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
EOF
export CASTOR_SSH="ssh -F $dir/ssh_config"
hist() { "$CASTOR" history --config "$dir/alpha.ini" "$@"; }

say "the wrapper: castor history --json --local runs, anything else is refused"
ssh -F "$dir/ssh_config" beta castor history --json --local >"$dir/direct.out" 2>"$dir/direct.err" ||
  die "castor history --json --local over ssh exited $?: $(cat "$dir/direct.err")"
check "$dir/direct.out" "" "" "${B[@]}" || die "beta's own records over ssh"
for bad in "castor status" "castor history --json --local $dir/alpha/history" "castor history --json --local --config /etc/passwd" \
  "castor history --json --local --since 1h;id" "castor history --json --local --since" "castor history --json" \
  "castor history --json --local --service \$(id)" "id" ""; do
  rc=0
  ssh -F "$dir/ssh_config" beta "$bad" >"$dir/bad.out" 2>"$dir/bad.err" || rc=$?
  [ "$rc" = 2 ] && grep -q "castor-history-only: refused" "$dir/bad.err" && [ ! -s "$dir/bad.out" ] ||
    die "the wrapper let '$bad' through (exit $rc): $(cat "$dir/bad.out" "$dir/bad.err")"
done
echo "  9 other commands refused by the forced command"

say "castor history --peer beta: both nodes' records, one timeline"
hist --peer beta --json >"$dir/merged.out" 2>"$dir/merged.err" || die "castor history --peer beta exited $?: $(cat "$dir/merged.err")"
[ ! -s "$dir/merged.err" ] || die "castor history --peer beta said: $(cat "$dir/merged.err")"
check "$dir/merged.out" "" "" "${A[@]}" "${B[@]}" || die "the merged timeline"
expect_exit 0 hist --peer beta
echo "$OUT" | grep -q "^12 record(s) from 2 file(s) and beta (6 read over ssh)$" || die "the table's summary line: $OUT"
echo "$OUT" | grep -q "beta .*admin_request .*web .*relocate web to beta (root)" || die "beta's admin request in the table: $OUT"
echo "$OUT" | sed 's/^/  /'

say "--service and --since filter the peer's records too"
hist --peer beta --json --service web >"$dir/web.out" 2>"$dir/web.err" || die "--service web exited $?: $(cat "$dir/web.err")"
check "$dir/web.out" "" web "${A[@]}" "${B[@]}" || die "--service web"
hist --peer beta --json --since 1h >"$dir/hour.out" 2>"$dir/hour.err" || die "--since 1h exited $?: $(cat "$dir/hour.err")"
check "$dir/hour.out" 60 "" "${A[@]}" "${B[@]}" || die "--since 1h"
hist --peer beta --json --since 42m --service web >"$dir/both.out" 2>"$dir/both.err" || die "--since 42m --service web: $(cat "$dir/both.err")"
check "$dir/both.out" 42 web "${A[@]}" "${B[@]}" || die "--since 42m --service web"
# A local time with a space in it: sent to the peer as seconds (no space for its shell to split on).
since=$(date -d "@$((NOW_NS / 1000000000 - 25 * 60))" '+%Y-%m-%d %H:%M:%S')
hist --peer beta --json --since "$since" >"$dir/abs.out" 2>"$dir/abs.err" || die "--since '$since': $(cat "$dir/abs.err")"
check "$dir/abs.out" 25 "" "${A[@]}" "${B[@]}" || die "--since '$since'"

say "beta's files also copied to alpha: each record once; --local leaves the copies out"
cp -p "$dir"/beta/history/beta.jsonl* "$dir/alpha/history/" || fail "copying beta's files"
hist --peer beta --json >"$dir/dup.out" 2>"$dir/dup.err" || die "with copies: exit $?: $(cat "$dir/dup.err")"
check "$dir/dup.out" "" "" "${A[@]}" "${B[@]}" || die "with beta's files copied over, a record twice"
expect_exit 0 hist --peer beta
echo "$OUT" | grep -q "^12 record(s) from 4 file(s) and beta (6 read over ssh)$" || die "the summary with copies: $OUT"
hist --json --local >"$dir/local.out" 2>"$dir/local.err" || die "--local exited $?: $(cat "$dir/local.err")"
check "$dir/local.out" "" "" "${A[@]}" || die "--local read more than alpha's own files"
# Only the copy of beta's older file, and beta's newer records over ssh.
rm "$dir/alpha/history/beta.jsonl" || fail rm
hist --peer beta --json --local >"$dir/ll.out" 2>"$dir/ll.err" || die "--local --peer: $(cat "$dir/ll.err")"
check "$dir/ll.out" "" "" "${A[@]}" "${B[@]}" || die "--local --peer"
expect_exit 2 hist --local "$dir/beta/history"
rm "$dir/alpha/history/beta.jsonl.1" || fail rm

say "an option for ssh as the host is refused, and nothing runs"
for host in "-oProxyCommand=touch $dir/injected" "-oProxyCommand=x" "-v" "beta gamma" $'beta\n-oProxyCommand=x' ""; do
  expect_exit 2 hist --peer "$host"
  echo "$OUT" | grep -q "^castor history: --peer" || die "--peer '$host': no reason given: $OUT"
done
[ ! -e "$dir/injected" ] || die "a ProxyCommand given as the host ran"
echo "  $(hist --peer -oProxyCommand=x 2>&1)"

say "a failing peer: exit 1, the host named with the end of ssh's stderr, alpha's records still shown"
# expect_peer_failure WHAT PATTERN ARGS...: castor history --peer with ARGS fails as said
expect_peer_failure() {
  local what=$1 pattern=$2
  shift 2
  local rc=0
  hist --json "$@" >"$dir/fail.out" 2>"$dir/fail.err" || rc=$?
  [ "$rc" = 1 ] || die "$what: exit $rc, expected 1: $(cat "$dir/fail.err")"
  grep -q "castor history: the peer beta could not be read" "$dir/fail.err" || die "$what: the host is not named: $(cat "$dir/fail.err")"
  tr '\n' ' ' <"$dir/fail.err" | grep -Eq "$pattern" || die "$what: no '$pattern' in: $(cat "$dir/fail.err")"
  check "$dir/fail.out" "" "" "${A[@]}" >/dev/null || die "$what: alpha's records not shown as they are"
  echo "  $what: exit 1; $(head -c 600 "$dir/fail.err" | tr '\n' ' ')"
}
closed=$(free_port) && [ -n "$closed" ] || fail "no free port"
CASTOR_SSH="ssh -F $dir/ssh_config -p $closed" expect_peer_failure "no sshd on the port" "exited 255.*Connection refused" --peer beta
sed "s|/client_key$|/other_key|" "$dir/ssh_config" >"$dir/ssh_config_other" || fail sed
CASTOR_SSH="ssh -F $dir/ssh_config_other" expect_peer_failure "a key beta does not know" \
  "exited 255.*Permission denied" --peer beta
CASTOR_SSH="castor-no-such-ssh" expect_peer_failure "no such ssh program" "not found in PATH" --peer beta
CASTOR_SSH="ssh -F $dir/ssh_config -p $closed" expect_exit 1 hist --peer beta
echo "$OUT" | grep -q "^6 record(s) from 2 file(s); beta could not be read$" ||
  die "the summary of a peer not read: $OUT"
# A peer whose castor has no history: its castor's own message comes back.
mv "$dir/beta/history" "$dir/beta/history.away" || fail mv
expect_peer_failure "no history on the peer" "exited 3.*no event history there" --peer beta
mv "$dir/beta/history.away" "$dir/beta/history" || fail mv
# An answer over 16 MiB: two files of 9 MiB each (svcmgr's never pass 4 MiB and one batch).
mkdir -p "$dir/big/history" && mv "$dir"/beta/history/* "$dir/big/history/" || fail mv
python3 - "$dir/beta/history" "$NOW_NS" <<'EOF' || fail "writing big files"
import json, sys
d, now = sys.argv[1], int(sys.argv[2])
for name, base in (("beta.jsonl.1", 0), ("beta.jsonl", 1)):
    with open(d + "/" + name, "w") as f:
        i, size = 0, 0
        while size < 9 << 20:
            r = {"wall_ns": now - 10**12 + (base * 10**7 + i) * 1000, "node": "beta", "event": "service_started",
                 "kind": "resource", "service": "web", "epoch": 4, "subject": "", "desc": "x" * 100, "reason": ""}
            line = json.dumps(r, separators=(",", ":")) + "\n"
            f.write(line); size += len(line); i += 1
EOF
expect_peer_failure "an answer over 16 MiB" "more than 16 MiB: stopped" --peer beta
rm -f "$dir"/beta/history/* && mv "$dir"/big/history/* "$dir/beta/history/" || fail mv
# A peer that hangs (a proxy that never speaks): stopped at 30 s.
cat >"$dir/ssh_config_slow" <<EOF
Host beta
  ProxyCommand /bin/sleep 120
  BatchMode yes
  UserKnownHostsFile $dir/known_hosts
EOF
start=$SECONDS
CASTOR_SSH="ssh -F $dir/ssh_config_slow" expect_peer_failure "a peer that hangs" "did not finish within 30 s: stopped" --peer beta
[ $((SECONDS - start)) -le 40 ] || die "the hanging peer took $((SECONDS - start)) s"
# sshd stopped.
kill "$SSHD_PID" && wait "$SSHD_PID" 2>/dev/null
expect_peer_failure "sshd stopped" "exited 255.*Connection refused" --peer beta
# And back: the same command works again (the failures left nothing behind).
start_sshd
hist --peer beta --json >"$dir/again.out" 2>"$dir/again.err" || die "after sshd's restart: exit $?: $(cat "$dir/again.err")"
check "$dir/again.out" "" "" "${A[@]}" "${B[@]}" || die "after sshd's restart"

echo "[castor] history_peer: castor history --peer over a real sshd (forced-command key, the admin guide's wrapper): 12 records of two nodes in time order, --service/--since on the peer's, copies shown once, --local without them; no sshd, a refused key, no ssh, no history there, >16 MiB and a hung peer: exit 1 naming beta, alpha's records shown; 6 injection hosts refused (exit 2), nothing run"
