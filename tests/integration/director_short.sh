#!/bin/bash
# run-tests: lane castor-cluster (tests/run-tests: it makes the harness cluster under its default names)
# director_short (issue 18): the director of the Ultra Monkey pattern on the harness cluster (DIRECTOR=1,
# tests/cluster/director.sh): service `director` = ocf:heartbeat:IPaddr2 192.0.2.12 + lsb:haproxy, Debian's
# haproxy run through its own /etc/init.d/haproxy (unmodified; each node has its own /run and /etc/haproxy),
# balancing HTTP over two real servers in namespaces of their own (rs1 192.0.2.21, rs2 192.0.2.22).
#   (a) the director starts on one node and the client, through 192.0.2.12, gets answers from both real servers
#   (b) the LSB contract as Debian's script keeps it, run in each node's namespaces: `status` 0 on the owner
#       (HAProxy's pid file in the owner's /run only), 3 "not running" on the other node (and svcmgr does not
#       call it started there); start when started 0, stop when stopped 0 (on the non-owner), as the
#       classification Castor applies to them expects (lib/agent/agent_result.cc)
#   (c) real server rs1's HTTP server killed: every request through the VIP is still answered (by rs2 once
#       HAProxy's checks took rs1 out), and Castor does nothing: the same owner, epoch and restart count, no
#       failure recorded, no state change of the director in either svcmgr log; rs1 back, both answer again
#   (d) the owner crashes (kill_node): the director answers through the VIP from the peer (time printed)
#   (e) castor relocate director back to the first node: answers from there (time printed)
# Needs root, network namespaces, the cgroup v1 freezer, bindfs and haproxy; exits 77 (skipped) without them.
# About a minute. On failure the nodes' logs are kept in $BUILD/test-logs/director_short/.
. "$(dirname "$0")/../cluster/prereqs.sh"  # root, namespaces, the freezer, bindfs: else skipped
[ -x /etc/init.d/haproxy ] && [ -x /usr/sbin/haproxy ] || skip "haproxy is not installed (make deps installs it)"
export IO_TIMEOUT_MS=200 LAN=1 LIGHT_SERVICES=0 DIRECTOR=1
. "$(dirname "$0")/../cluster/harness.sh"
KEEP=${KEEP_LOGS_DIR:-$ROOT/$BUILD/test-logs/director_short}
dfail() { mkdir -p "$KEEP" && cp "$dir"/*.log "$dir"/*.out "$KEEP/" 2>/dev/null; fail "$* (logs in $KEEP)"; }
figure() { echo "[castor] director_short $*"; }
changes() { cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log 2>/dev/null | grep -c 'service state service=director '; }
# in_node NODE CMD...: CMD in NODE's network and mount namespaces (its /run, its /etc/haproxy), as the agents run
# (through the node's first process, its node.sh: any other process of its cgroup may be gone by then)
in_node() { local p; eval "p=\$PID_$1"; nsenter -t "$p" -m -n -- "${@:2}"; }
lsb() {  # lsb NODE ACTION: Debian's init script in NODE, with the environment Castor gives agents; prints the exit code
  in_node "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /etc/init.d/haproxy "$2" >>"$dir/lsb-calls.log" 2>&1
  echo $?
}
# answers N: N requests through the director's VIP, 100 ms apart, each given 500 ms; prints how many each real server answered
# and how many failed, as "rs1=A rs2=B fail=F"
answers() {
  local i a rs1=0 rs2=0 bad=0
  for ((i = 0; i < $1; i++)); do
    a=$(ip netns exec "$NS_C" curl -s --max-time 0.5 "http://$DIRECTOR_VIP/")  # as the torture probe waits
    case $a in rs1) rs1=$((rs1 + 1)) ;; rs2) rs2=$((rs2 + 1)) ;; *) bad=$((bad + 1)) ;; esac
    sleep 0.1
  done
  echo "rs1=$rs1 rs2=$rs2 fail=$bad"
}
mono_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }  # the probe's clock
# back_after T0: "MS OUTAGE_MS" from the client's probe of the director (probe-director.log, every 100 ms, each
# given 500 ms): MS from T0 (monotonic ms) to the first good probe after the first failed one at or after T0,
# OUTAGE_MS from that failed probe to it; "- -" if no probe failed after T0
back_after() {
  python3 - "$dir/probe-director.log" "$1" <<'EOP'
import sys
t0, fail = int(sys.argv[2]), None
for l in open(sys.argv[1]):
    w = l.split()
    if len(w) != 2 or int(w[0]) < t0:
        continue
    if w[1] != 'ok' and fail is None:
        fail = int(w[0])
    elif w[1] == 'ok' and fail is not None:
        print(int(w[0]) - t0, int(w[0]) - fail)
        break
else:
    print('- -')
EOP
}
# wait_owner NODE SECONDS: until NODE's svcmgr says the director runs on NODE and it answers through the VIP
wait_owner() {
  local end=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ "$(director_owner "$1")" = "$1" ] && [ -n "$(director_fetch)" ] && return 0
    sleep 0.05
  done
  return 1
}

cluster_setup
start_node alpha
start_node beta

step "(a) the director starts; the client gets answers from both real servers through $DIRECTOR_VIP"
owner=
for ((i = 0; i < 600; i++)); do
  owner=$(director_owner alpha)
  [ -n "$owner" ] && [ -n "$(director_fetch)" ] && break
  owner=
  sleep 0.1
done
[ -n "$owner" ] || dfail "the director did not start within 60 s"
other=$(peer_of "$owner")
seen=$(answers 10)
echo "director on $owner; 10 requests: $seen"
[[ "$seen" == *"fail=0" ]] || dfail "requests through the VIP failed: $seen"
[[ "$seen" != *"rs1=0"* ]] && [[ "$seen" != *"rs2=0"* ]] || dfail "not both real servers answered: $seen"

step "(b) the LSB contract of Debian's script, in each node: status on $owner 0, on $other 3; start when started 0, stop when stopped 0"
[ -n "$(in_node "$owner" cat /run/haproxy.pid 2>/dev/null)" ] || dfail "no /run/haproxy.pid in $owner's /run"
in_node "$other" test -e /run/haproxy.pid && dfail "$other's /run has a haproxy.pid: the nodes share it"
[ -e /run/haproxy.pid ] && dfail "the machine's /run has a haproxy.pid (HAProxy ran outside the nodes)"
rc=$(lsb "$owner" status); [ "$rc" = 0 ] || dfail "status on the owner $owner exited $rc, not 0 (running)"
rc=$(lsb "$other" status); [ "$rc" = 3 ] || dfail "status on $other (not running HAProxy) exited $rc, not 3 (not running)"
echo "status: $owner 0 (running), $other 3 (not running)"
[ "$(director_svc "$other" "s['owner']")" = "$owner" ] || dfail "$other's svcmgr does not say the director runs on $owner"
c0=$(changes)
rc=$(lsb "$owner" start); [ "$rc" = 0 ] || dfail "start when started on $owner exited $rc, not 0"
rc=$(lsb "$other" stop); [ "$rc" = 0 ] || dfail "stop when stopped on $other exited $rc, not 0"
rc=$(lsb "$other" status); [ "$rc" = 3 ] || dfail "status on $other after its stop exited $rc, not 3"
[ "$(changes)" = "$c0" ] || dfail "the director's state changed after the script's start/stop by hand"
echo "start when started: 0; stop when stopped: 0"
# Castor's own probe of lsb:haproxy at start (before either node ran it): 3, graded not running, on both nodes
for n in alpha beta; do
  grep -q "svcmgr .*node=$n agent action service=director resource=haproxy action=probe result=\"LSB_STATUS_NOT_RUNNING (3)\" severity=not_running" \
    "$dir/$n-svcmgr.log" || dfail "$n's svcmgr did not grade its probe of lsb:haproxy as not running (LSB 3)"
done
echo "Castor's probes of lsb:haproxy at start: LSB_STATUS_NOT_RUNNING (3), not_running, on both nodes"

step "(c) real server rs1's HTTP server killed: HAProxy takes it out, Castor does nothing"
before="$(director_svc "$owner" "s['owner'], s['epoch'], s['restarts'], s.get('last_failure', {}).get('reason', '')")"
c0=$(changes)
realserver_kill rs1
seen=$(answers 40)  # 4 s, more than two monitor intervals of the director (2 s)
echo "rs1 down, 40 requests: $seen"
[[ "$seen" == *"fail=0" ]] || dfail "requests through the VIP failed while rs1 was down: $seen"
[[ "$seen" == "rs1=0 "* ]] || {
  # a request or two may still reach rs1's namespace before HAProxy's checks notice (then redispatched: no
  # answer from rs1 can come, its server is dead)
  dfail "rs1 answered while its server was dead: $seen"; }
after="$(director_svc "$owner" "s['owner'], s['epoch'], s['restarts'], s.get('last_failure', {}).get('reason', '')")"
[ "$before" = "$after" ] || dfail "Castor acted on the director while rs1 was down: (owner, epoch, restarts, failure) $before -> $after"
[ "$(changes)" = "$c0" ] || dfail "the director's state changed while rs1 was down (svcmgr logs)"
echo "director (owner, epoch, restarts, last failure) before and after: $after"
realserver_start rs1
sleep 1.5  # HAProxy's checks take it back (rise 2 x 500 ms)
seen=$(answers 10)
echo "rs1 back, 10 requests: $seen"
[[ "$seen" == *"fail=0" ]] && [[ "$seen" != *"rs1=0"* ]] || dfail "rs1 not back in the rotation: $seen"

step "(d) the owner $owner crashes: the director answers again from $other"
director_probe_start  # the client's probe of the VIP from now on (tests/cluster/http_probe.py)
sleep 1
t0=$(mono_ms)
eval "p=\$WD_$owner"
kill_node "$owner"; kill -KILL "$p" 2>/dev/null
wait_owner "$other" 30 || dfail "the director does not answer from $other within 30 s of $owner's crash"
sleep 0.5
read -r took outage <<<"$(back_after "$t0")"
[ "$took" != - ] || dfail "the client's probe saw no outage at the owner's crash (is it probing?)"
seen=$(answers 10)
echo "answers again from $other $took ms after the crash (the client's outage: $outage ms); 10 requests: $seen"
[[ "$seen" == *"fail=0" ]] && [[ "$seen" != *"rs1=0"* ]] && [[ "$seen" != *"rs2=0"* ]] || dfail "after the failover: $seen"
rc=$(lsb "$other" status); [ "$rc" = 0 ] || dfail "status on the new owner $other exited $rc, not 0"
figure "failover after a crash of the owner: the director answers again through its VIP $took ms after the crash, the client's outage $outage ms (io_timeout $IO_TIMEOUT_MS ms, dead time $((6 * IO_TIMEOUT_MS)) ms)"

step "(e) $owner boots again; castor relocate director --to $owner"
eval "reap \$PID_$owner \$WD_$owner"
start_node "$owner"
for ((i = 0; i < 300; i++)); do [ "$(director_svc "$owner" "s['owner']")" = "$other" ] && break; sleep 0.1; done
[ "$i" -lt 300 ] || dfail "$owner did not come back and see the director on $other within 30 s"
rc=$(lsb "$owner" status); [ "$rc" = 3 ] || dfail "status on $owner after its reboot (a fresh /run) exited $rc, not 3"
t0=$(mono_ms)
"$CASTOR" relocate director --to "$owner" --wait=30 --socket "$dir/$other/svcmgr.sock" >/dev/null || dfail "castor relocate director --to $owner"
wait_owner "$owner" 30 || dfail "the director does not answer from $owner after the relocation"
sleep 0.5
read -r took outage <<<"$(back_after "$t0")"
[ "$took" != - ] || dfail "the client's probe saw no outage at the relocation (is it probing?)"
director_probe_stop
seen=$(answers 10)
echo "relocated to $owner: answers again $took ms after castor relocate began (the client's outage: $outage ms); 10 requests: $seen"
[[ "$seen" == *"fail=0" ]] && [[ "$seen" != *"rs1=0"* ]] && [[ "$seen" != *"rs2=0"* ]] || dfail "after the relocation: $seen"
rc=$(lsb "$other" status); [ "$rc" = 3 ] || dfail "status on $other after the relocation exited $rc, not 3"
figure "relocate: the director answers from the other node $took ms after castor relocate began, the client's outage $outage ms"

# Nothing of HAProxy outlives the nodes: once both are reset, no haproxy runs in either node's namespaces.
kill_node alpha; kill_node beta
for ns in $NS_A $NS_B; do
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = haproxy ] && dfail "a haproxy (pid $p) outlived the reset of $ns"
  done
done
echo "PASS director_short"
exit 0
