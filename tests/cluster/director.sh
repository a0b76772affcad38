#!/bin/bash
# The director (issue 18, the Ultra Monkey pattern) in the harness cluster, sourced by tests/cluster/harness.sh
# when DIRECTOR=1 (nothing of this exists otherwise).
#   Two real servers, each in a network namespace of its own ($CLUSTER_ID-rs1 192.0.2.21, $CLUSTER_ID-rs2
#   192.0.2.22) on the LAN bridge, each an HTTP server answering with its own name (tests/cluster/realserver.py),
#   started and killed by the harness (never by Castor).
#   A service `director` on both nodes: ocf:heartbeat:IPaddr2 (192.0.2.12) + lsb:haproxy, Debian's haproxy run
#   through its own /etc/init.d/haproxy, unmodified: roundrobin HTTP to the two real servers with health checks
#   (a real server that dies is taken out by HAProxy, not by Castor).
#   Both nodes share the machine's kernel, so its PID namespace, /etc and /run: the init script's pid file
#   (/run/haproxy.pid), run directory (/run/haproxy) and configuration (/etc/haproxy, /etc/default/haproxy)
#   would be one for both nodes, and `status` on the node that does not run HAProxy could see the other's.
#   A host has its own: each node gets, in its mount namespace (tests/cluster/director_node.sh, run by node.sh
#   before anything else), a fresh tmpfs over /run (as a host's /run at boot: the machine's directories,
#   empty) and its own copies of /etc/haproxy and /etc/default/haproxy bind-mounted over the machine's. The
#   machine's files are never changed and no HAProxy runs outside the nodes.
# Functions: director_setup (end of cluster_setup), director_node_hook NODE (a line of node.sh),
# realserver_kill / realserver_start NAME, director_fetch (the client's GET through the director's VIP),
# director_probe_start / director_probe_stop (the client's probe of the director: $dir/probe-director.log),
# director_owner NODE (where NODE's svcmgr says the director runs).
DIRECTOR_VIP=192.0.2.12
REALSERVERS="rs1 rs2"
RS_TOOL=$ROOT/tests/cluster/realserver.py
rs_addr() { case $1 in rs1) echo 192.0.2.21 ;; rs2) echo 192.0.2.22 ;; esac; }

# realserver_start NAME: NAME's HTTP server in its namespace (PID in RS_PID_NAME); returns once it answers.
realserver_start() {
  local n=$1 i
  ip netns exec "$CLUSTER_ID-$n" python3 "$RS_TOOL" --name "$n" --bind "$(rs_addr "$n")" >>"$dir/$n.log" 2>&1 &
  eval "RS_PID_$n=$!"
  track_pid "$!"
  for ((i = 0; i < 50; i++)); do
    [ "$(ip netns exec "$NS_C" curl -s --max-time 1 "http://$(rs_addr "$n")/" 2>/dev/null)" = "$n" ] && break
    sleep 0.1
  done
  [ "$i" -lt 50 ] || fail "real server $n does not answer"
  echo "start $n $(date +%s%N)" >>"$dir/realservers.log"
}
# realserver_kill NAME: NAME's HTTP server SIGKILLed (its namespace and address stay: a crashed daemon).
realserver_kill() {
  local p
  eval "p=\${RS_PID_$1:-}"
  [ -n "$p" ] || return 0
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  eval "RS_PID_$1="
  echo "kill $1 $(date +%s%N)" >>"$dir/realservers.log"
}

director_setup() {
  local i=1 n ns
  [ -x /etc/init.d/haproxy ] && [ -x /usr/sbin/haproxy ] || fail "haproxy is not installed (make deps installs it)"
  [ -f /etc/default/haproxy ] && [ -d /etc/haproxy ] || fail "no /etc/default/haproxy or /etc/haproxy (Debian's haproxy package)"
  step "The director: real servers rs1 192.0.2.21 and rs2 192.0.2.22 (namespaces of their own); service director = IPaddr2 $DIRECTOR_VIP + lsb:haproxy"
  for n in $REALSERVERS; do
    ns=$CLUSTER_ID-$n
    ip netns add "$ns" || fail "netns $ns"
    made_ns+=("$ns")
    ip -n "$NS_LAN" link add "dr$i" type veth peer name eth0 netns "$ns" || fail "veth for $ns"
    ip -n "$NS_LAN" link set "dr$i" master br0 && ip -n "$NS_LAN" link set "dr$i" up || fail "bridge port for $ns"
    ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up && ip -n "$ns" addr add "$(rs_addr "$n")/24" dev eth0 ||
      fail "address of $ns"
    realserver_start "$n"
    i=$((i + 1))
  done
  for n in alpha beta; do
    # This node's own /etc/haproxy (the package's error pages and this configuration) and /etc/default/haproxy.
    mkdir -p "$dir/$n/etc-haproxy"
    cp -a /etc/haproxy/errors "$dir/$n/etc-haproxy/" 2>/dev/null
    cat >"$dir/$n/etc-haproxy/haproxy.cfg" <<EOI
# The director on $n (tests/cluster/director.sh): roundrobin HTTP on the floating IP to the two real servers,
# each checked every 500 ms (out after 2 failed checks, back after 2 good ones). A request that finds its
# server dead before the checks notice is sent to the other at once (redispatch on every retry), after the
# retry's turn-around delay, min(timeout connect, 1 s): 200 ms; one whose server dies under it (reset, no
# answer) is tried again on the other (L7 retries: every request here is a GET).
global
	chroot /var/lib/haproxy
	stats socket /run/haproxy/admin.sock mode 660 level admin
	stats timeout 30s
	user haproxy
	group haproxy
	daemon

defaults
	mode http
	timeout connect 200ms
	timeout client 10s
	timeout server 10s
	retries 3
	option redispatch 1
	retry-on all-retryable-errors

frontend director
	bind $DIRECTOR_VIP:80
	default_backend realservers

backend realservers
	balance roundrobin
	option httpchk GET /
	default-server inter 500ms fall 2 rise 2
	server rs1 $(rs_addr rs1):80 check
	server rs2 $(rs_addr rs2):80 check
EOI
    cp /etc/default/haproxy "$dir/$n/default-haproxy"
    cat >"$dir/$n/services.d/director.ini" <<EOI
; The director (the Ultra Monkey pattern): a floating IP and HAProxy, Debian's init script as an LSB agent.
[service]
name = director
nodes = alpha, beta
monitor_interval = 2s

[resource ip]
agent = ocf:heartbeat:IPaddr2
param.ip = $DIRECTOR_VIP
param.cidr_netmask = 24
param.nic = eth0

[resource haproxy]
agent = lsb:haproxy
EOI
  done
}

# director_node_hook NODE: the line node.sh runs first: this node's own /run and HAProxy configuration.
director_node_hook() { echo "bash $ROOT/tests/cluster/director_node.sh $dir/$1 || exit 1"; }

director_fetch() { ip netns exec "$NS_C" curl -s --max-time 1 "http://$DIRECTOR_VIP/"; }
director_probe_start() {
  ip netns exec "$NS_C" python3 "$ROOT/tests/cluster/http_probe.py" --url "http://$DIRECTOR_VIP/" \
    --out "$dir/probe-director.log" &
  DIRECTOR_PROBE=$!
  track_pid "$!"
}
director_probe_stop() { [ -n "${DIRECTOR_PROBE:-}" ] && { kill -TERM "$DIRECTOR_PROBE" 2>/dev/null; wait "$DIRECTOR_PROBE" 2>/dev/null; }; DIRECTOR_PROBE=; }
# director_svc NODE EXPR: EXPR (python, over s = the director's entry in NODE's svcmgr status) printed
director_svc() {
  status "$1" --json 2>/dev/null | python3 -c "import json,sys
d=json.load(sys.stdin)
s=next((s for s in d.get('services',{}).get('services',[]) if s['name']=='director'), None)
print($2 if s else '')" 2>/dev/null
}
director_owner() { director_svc "$1" "s['owner'] if s['state']=='started' else ''"; }
