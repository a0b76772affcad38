#!/bin/bash
# The BMCs of the harness cluster (issue 16: power fencing), sourced by tests/cluster/harness.sh after itself when
# FENCE=1. Each node gets a baseboard management controller that the REAL fence agents talk to: one ipmi_sim
# (Debian's openipmi) per node, each in a network namespace of its own on a management network, with an IPMI
# user whose password is in a root-only file. Nothing here is a stand-in agent: fence_ipmilan -> ipmitool ->
# IPMI 2.0 (lanplus, RMCP+) over UDP 623 -> ipmi_sim.
#
#   Management network: a bridge br0 in $CLUSTER_ID-mgmt (203.0.113.0/24, no route out); each node has eth2 on it
#   (alpha 203.0.113.1, beta .2), each BMC its own namespace and address ($CLUSTER_ID-bmc-alpha 203.0.113.11,
#   $CLUSTER_ID-bmc-beta .12), and the management namespace itself is the admin's workstation (.254).
#
#   Power: ipmi_sim's `startcmd` is a wrapper generated here ($dir/bmc/NODE-power.sh). ipmi_sim runs it on a
#   power on and reports the power on for exactly as long as that process lives. The wrapper boots the node as
#   start_node always did (boot_node: the node in its cgroup, its stand-in watchdog outside it) and stays in
#   the foreground. A power off is ipmi_sim sending it SIGTERM (at ipmi_sim's next one-second tick: with no VM
#   connected to its serial port there is no graceful shutdown to wait for; poweroff_wait 0, kill_wait 0 so
#   ipmi_sim never SIGKILLs the wrapper half-way): the wrapper kills the node exactly as kill_node does (freezer,
#   SIGKILL of every process, its mounts dropped, its NICs down), its stand-in watchdog with it, waits until the
#   node's cgroup is empty, and only then exits — so "power is off" is never reported while a process of the
#   node lives. A power on after that boots a new incarnation (quorumd starts fresh). A node that died by itself
#   (kill_node: a crash; its watchdog fired) keeps its power on, as a host does; start_node then resets it
#   (SIGUSR1 to the wrapper: the reset button, which ipmi_sim cannot press without a VM).
#
# Functions:
#   bmc_setup                 the management network and both BMCs (called by cluster_setup with FENCE=1)
#   bmc_power NODE on|off|status [FROM_NS]   ipmitool from the PEER node's namespace (as the real peer would), or
#                             FROM_NS; prints on/off for status; fails if the BMC does not answer
#   bmc_down NODE / bmc_up NODE   the BMC unreachable / reachable again (its port on the management switch cut:
#                             silent, as a pulled cable)
#   bmc_fence_options NODE    the fence_ipmilan options (stdin key=value) the PEER needs to fence NODE, without
#                             the password (its file: bmc_password_file NODE)
#   bmc_fence_ini NODE        the same as a castor.ini [fence NODE] section (settle_ms = $FENCE_SETTLE_MS if set)
#   bmc_start_node NODE       start_node with FENCE=1: power on through the BMC (the admin's station), or reset
#   bmc_cleanup               the BMCs and what their wrappers started, by PID (the harness's cleanup calls it)
# Needs ipmi_sim (openipmi), ipmitool and fence_ipmilan (fence-agents); bmc_setup installs them if missing.
NS_MGMT=$CLUSTER_ID-mgmt
BMC_DIR=$dir/bmc
BMC_USER=fence          # the IPMI user (admin privilege) the peer fences with
BMC_PORT=623            # the standard RMCP port: each BMC has an address of its own
BMC_ADMIN=203.0.113.254 # the admin's station on the management network (in $NS_MGMT)
# IPMI 2.0 cipher suite 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128): ipmi_sim 2.0.33 does not offer 17 and does
# not answer ipmitool's cipher suite query, which then costs 10 s per call; naming the suite skips the query.
BMC_CIPHER=3
# BMC_IMPL: ipmi_sim (default: Debian's openipmi; it acts on a power off at its next one-second tick and says "on"
# until then) or pyghmi (tests/cluster/bmc_pyghmi.py on Debian's python3-pyghmi: the off is done when answered,
# as a hard power-off on a real BMC). The same wrapper, network, user and fence_ipmilan either way.
BMC_IMPL=${BMC_IMPL:-ipmi_sim}
BMC_POWER_TIMEOUT=${BMC_POWER_TIMEOUT:-4}  # fence_ipmilan power_timeout: bounds each ipmitool call and the wait for "off"
# fence_ipmilan power_wait: its own wait after the off, before it asks for the status (0 here; the agent's default is
# 2 s, what an admin gets without the option: BMC_POWER_WAIT=2 measures that).
BMC_POWER_WAIT=${BMC_POWER_WAIT:-0}
PID_alpha=${PID_alpha:-} WD_alpha=${WD_alpha:-} PID_beta=${PID_beta:-} WD_beta=${WD_beta:-}

bmc_addr() { if [ "$1" = alpha ]; then echo 203.0.113.11; else echo 203.0.113.12; fi; }
mgmt_addr() { if [ "$1" = alpha ]; then echo 203.0.113.1; else echo 203.0.113.2; fi; }
bmc_ns() { echo "$CLUSTER_ID-bmc-$1"; }
node_ns() { echo "$CLUSTER_ID-$1"; }
bmc_password_file() { echo "$BMC_DIR/$1.passwd"; }  # root-only (0600): the password of NODE's BMC

bmc_need() {  # bmc_need COMMAND PACKAGE: installs PACKAGE with apt-get if COMMAND is missing
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "bmc: installing $2"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1; }
  command -v "$1" >/dev/null 2>&1 || fail "cannot install $2 (for $1)"
}

bmc_need_module() {  # bmc_need_module PACKAGE: installs a python module's Debian package
  echo "bmc: installing $1"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1; } ||
    fail "cannot install $1"
}

bmc_setup() {
  bmc_need ipmi_sim openipmi
  [ "$BMC_IMPL" = pyghmi ] && { /usr/bin/python3 -c 'import pyghmi.ipmi.bmc' 2>/dev/null || bmc_need_module python3-pyghmi; }
  bmc_need ipmitool ipmitool
  bmc_need fence_ipmilan fence-agents
  local n ns port i pw
  for ns in "$NS_MGMT" "$(bmc_ns alpha)" "$(bmc_ns beta)"; do
    ip netns list | grep -qw "$ns" && fail "network namespace $ns exists already (another run with CLUSTER_ID=$CLUSTER_ID?)"
  done
  step "A management network: a bridge in $NS_MGMT (203.0.113.0/24, no route out); eth2 of alpha .1, beta .2; the BMCs .11, .12 (ipmi_sim, each in a namespace of its own)"
  (umask 077 && mkdir -p "$BMC_DIR") || fail "mkdir $BMC_DIR"
  ip netns add "$NS_MGMT" || fail "netns $NS_MGMT"
  made_ns+=("$NS_MGMT")
  ip -n "$NS_MGMT" link set lo up && ip -n "$NS_MGMT" link add br0 type bridge && ip -n "$NS_MGMT" link set br0 up &&
    ip -n "$NS_MGMT" addr add "$BMC_ADMIN/24" dev br0 || fail "management bridge"
  for n in alpha beta; do
    # the node's NIC on the management LAN (down while the node is off: boot_node brings it up, kill_node down)
    port=m-$n
    ip -n "$NS_MGMT" link add "$port" type veth peer name eth2 netns "$(node_ns $n)" || fail "management veth of $n"
    ip -n "$NS_MGMT" link set "$port" master br0 && ip -n "$NS_MGMT" link set "$port" up &&
      ip -n "$(node_ns $n)" addr add "$(mgmt_addr $n)/24" dev eth2 || fail "management address of $n"
    # the BMC: a namespace of its own, its own port on the switch (b-NODE: bmc_down cuts it)
    ns=$(bmc_ns $n) port=b-$n
    ip netns add "$ns" || fail "netns $ns"
    made_ns+=("$ns")
    ip -n "$NS_MGMT" link add "$port" type veth peer name eth0 netns "$ns" || fail "veth of the BMC of $n"
    ip -n "$NS_MGMT" link set "$port" master br0 && ip -n "$NS_MGMT" link set "$port" up &&
      ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up && ip -n "$ns" addr add "$(bmc_addr $n)/24" dev eth0 ||
      fail "network of the BMC of $n"
    # its password (16 characters, the IPMI 1.5 limit), root-only; lan.conf must hold it too, root-only as well
    pw=$(head -c 12 /dev/urandom | base64 | tr '/+' 'xy') || fail "password"
    (umask 077 && printf '%s\n' "$pw" >"$(bmc_password_file $n)") || fail "password file of $n"
    bmc_write_config "$n" "$pw"
    mkdir -p "$BMC_DIR/state-$n"
    # nsenter --net only (not ip netns exec): the wrapper it starts must see the host's /sys/fs/cgroup, which
    # ip netns exec hides behind a fresh /sys.
    if [ "$BMC_IMPL" = pyghmi ]; then
      nsenter --net="/run/netns/$ns" /usr/bin/python3 "$ROOT/tests/cluster/bmc_pyghmi.py" --address "$(bmc_addr "$n")" \
        --port "$BMC_PORT" --user "$BMC_USER" --password-file "$(bmc_password_file "$n")" \
        --startcmd "/bin/bash $BMC_DIR/$n-power.sh" </dev/null >>"$BMC_DIR/$n-ipmi_sim.log" 2>&1 &
    else
      nsenter --net="/run/netns/$ns" ipmi_sim -n -c "$BMC_DIR/$n-lan.conf" -f "$BMC_DIR/$n.emu" -s "$BMC_DIR/state-$n" \
        </dev/null >>"$BMC_DIR/$n-ipmi_sim.log" 2>&1 &
    fi
    eval "BMC_PID_$n=$!"
    track_pid "$!"
  done
  for n in alpha beta; do
    for ((i = 0; i < 100; i++)); do bmc_power "$n" status "$NS_MGMT" >/dev/null 2>&1 && break; sleep 0.05; done
    [ "$(bmc_power "$n" status "$NS_MGMT")" = off ] || fail "the BMC of $n does not answer (see $BMC_DIR/$n-ipmi_sim.log)"
  done
  echo "BMCs ($BMC_IMPL) up: alpha's at $(bmc_addr alpha), beta's at $(bmc_addr beta) (UDP $BMC_PORT, user $BMC_USER, lanplus cipher $BMC_CIPHER); both nodes powered off"
}

bmc_write_config() {  # bmc_write_config NODE PASSWORD: NODE's lan.conf (0600: it holds the password), emu file and startcmd
  local n=$1 pw=$2 guid
  guid=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && cat >"$BMC_DIR/$n-lan.conf") <<EOC || fail "lan.conf of $n"
# The BMC of $n (generated by tests/cluster/bmc.sh; ipmi_lan(5)).
name "$CLUSTER_ID-bmc-$n"
set_working_mc 0x20
  startlan 1
    addr $(bmc_addr "$n") $BMC_PORT
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid $guid
  endlan
  # The system interface as a VM serial port: what gives ipmi_sim power control over startcmd. Nothing ever
  # connects to it (its own loopback), so a power off skips the graceful request and SIGTERMs startcmd at once.
  serial 15 127.0.0.1 9002 codec VM
  startcmd "/bin/bash $BMC_DIR/$n-power.sh"
  startnow false
  poweroff_wait 0
  # Never SIGKILL the wrapper: it reports the power off by exiting, once every process of the node is gone.
  kill_wait 0
  user 2 true "$BMC_USER" "$pw" admin 10 md5
EOC
  cat >"$BMC_DIR/$n.emu" <<EOE || fail "emu file of $n"
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
EOE
  local fuse= v
  for v in ${!FUSE_@}; do fuse+="$v=${!v} "; done  # every node path's bindfs (one, or one per quorum device)
  cat >"$BMC_DIR/$n-power.sh" <<EOW || fail "power wrapper of $n"
#!/bin/bash
# ipmi_sim's startcmd for $n (generated by tests/cluster/bmc.sh). Power on: the node boots (boot_node) and this
# stays in the foreground. SIGTERM (ipmi_sim's power off): every process of the node dies at once (kill_node),
# its stand-in watchdog too; this exits once the node's cgroup is empty. SIGUSR1: a reset (the same, then boot).
exec >>"$BMC_DIR/$n-power.log" 2>&1
# ipmi_sim starts this with SIGINT blocked and its own dispositions: the node gets the signal state start_node
# gives it (nothing blocked; SIGINT and SIGQUIT ignored, as for any background job of a script).
if [ -z "\${BMC_SIGNALS_SET:-}" ]; then
  export BMC_SIGNALS_SET=1
  exec python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_SETMASK, [])
for s in (signal.SIGINT, signal.SIGQUIT): signal.signal(s, signal.SIG_IGN)
for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP): signal.signal(s, signal.SIG_DFL)
os.execv("/bin/bash", ["bash", sys.argv[1]])' "\$0"
fi
unset BMC_SIGNALS_SET
export HARNESS_NODE_DIR=$dir CLUSTER_ID=$CLUSTER_ID IO_TIMEOUT_MS=$IO_TIMEOUT_MS BUILD=$BUILD FENCE=1
export LAN=$LAN LAN_PORT=$LAN_PORT LAN_MAX_STALL_S=$LAN_MAX_STALL_S LIGHT_SERVICES=$LIGHT_SERVICES
export QUORUM_DEVICES=$QUORUM_DEVICES
$fuse
. "$ROOT/tests/cluster/harness.sh"
n=$n
stamp() { echo "\$1 \$n \$(date +%s%N)" >>"$BMC_DIR/power.log"; }
halt() {  # everything of the node dies at once, as kill_node does; returns once its cgroup is empty
  local i
  echo FROZEN >"\$CGROOT/\$n/freezer.state" 2>/dev/null  # nothing of the node runs from here on
  kill -KILL "\$WD_$n" 2>/dev/null
  # As the stand-in watchdog's reset: the node's hung disk path resumes (the writes in flight land late, as on a
  # SAN), since on one machine a task stuck on that I/O could never die.
  kill -CONT \$(node_paths $n) 2>/dev/null
  kill_node \$n
  for ((i = 0; i < 600; i++)); do
    [ -z "\$(cat "\$CGROOT/\$n/cgroup.procs" 2>/dev/null)" ] && break
    kill_node \$n; sleep 0.05
  done
  [ -z "\$(cat "\$CGROOT/\$n/cgroup.procs" 2>/dev/null)" ] || echo "BMC: processes of \$n survive its power off: \$(cat "\$CGROOT/\$n/cgroup.procs")"
  wait "\$PID_$n" "\$WD_$n" 2>/dev/null
}
boot() { boot_node \$n; echo "\$PID_$n \$WD_$n" >"$BMC_DIR/\$n.pids.new" && mv "$BMC_DIR/\$n.pids.new" "$BMC_DIR/\$n.pids"; stamp on; }
power_off() { stamp sigterm; halt; stamp off; rm -f "$BMC_DIR/\$n.wrapper" "$BMC_DIR/\$n.pids"; kill -KILL "\$hold" 2>/dev/null; exit 0; }
reset() { stamp reset; halt; boot; }
trap power_off TERM
trap reset USR1
sleep infinity &  # the power is on while this lives
hold=\$!
echo "\$\$ \$hold" >"$BMC_DIR/\$n.wrapper"
boot
while kill -0 "\$hold" 2>/dev/null; do wait "\$hold"; done
EOW
}

# bmc_ipmitool NODE FROM_NS ARGS...: ipmitool to NODE's BMC from the network namespace FROM_NS (lanplus; the
# password from its root-only file, never on the command line).
bmc_ipmitool() {
  local n=$1 from=$2
  shift 2
  timeout 10 ip netns exec "$from" ipmitool -I lanplus -C "$BMC_CIPHER" -H "$(bmc_addr "$n")" -p "$BMC_PORT" \
    -U "$BMC_USER" -f "$(bmc_password_file "$n")" "$@"
}
bmc_power() {  # bmc_power NODE on|off|status [FROM_NS]: from the peer node's namespace unless FROM_NS
  local n=$1 op=$2 from=${3:-$(node_ns "$(peer_of "$1")")} out
  case $op in
    status)
      out=$(bmc_ipmitool "$n" "$from" chassis power status 2>&1) || { echo "$out" >&2; return 1; }
      case $out in
        *"Power is on"*) echo on ;;
        *"Power is off"*) echo off ;;
        *) echo "$out" >&2; return 1 ;;
      esac ;;
    on | off) bmc_ipmitool "$n" "$from" chassis power "$op" >/dev/null ;;
    *) echo "bmc_power: on, off or status, not '$op'" >&2; return 2 ;;
  esac
}
bmc_down() { ip -n "$NS_MGMT" link set "b-$1" down || fail "cut the BMC of $1"; echo "bmc_down $1 $(date +%s%N)" >>"$BMC_DIR/power.log"; }
bmc_up() { ip -n "$NS_MGMT" link set "b-$1" up || fail "restore the BMC of $1"; echo "bmc_up $1 $(date +%s%N)" >>"$BMC_DIR/power.log"; }

bmc_fence_options() {  # bmc_fence_options NODE: what the peer passes fence_ipmilan on stdin (add action= and password=)
  printf '%s\n' "ip=$(bmc_addr "$1")" "ipport=$BMC_PORT" "username=$BMC_USER" "lanplus=1" "cipher=$BMC_CIPHER" \
    "power_wait=$BMC_POWER_WAIT" "power_timeout=$BMC_POWER_TIMEOUT"
}
bmc_fence_ini() {  # bmc_fence_ini NODE: the [fence NODE] section of the PEER's castor.ini
  local kv
  printf '[fence %s]\nagent = fence_ipmilan\n' "$1"
  while IFS= read -r kv; do printf 'option.%s = %s\n' "${kv%%=*}" "${kv#*=}"; done < <(bmc_fence_options "$1")
  printf 'password_file = %s\ntimeout_s = %s\n' "$(bmc_password_file "$1")" $((BMC_POWER_TIMEOUT * 2 + 2))
  if [ -n "${FENCE_SETTLE_MS:-}" ]; then printf 'settle_ms = %s\n' "$FENCE_SETTLE_MS"; fi
}

# bmc_start_node NODE: start_node with FENCE=1. The admin (from the management network) powers the node on; if
# its power is on already (the node crashed or its watchdog fired), presses its reset. Returns once the new
# incarnation is in its cgroup, with PID_NODE and WD_NODE set as boot_node sets them.
bmc_start_node() {
  local n=$1 st w bp i pid wd
  st=$(bmc_power "$n" status "$NS_MGMT") || fail "the BMC of $n does not answer"
  rm -f "$BMC_DIR/$n.pids"
  if [ "$st" = off ]; then
    bmc_power "$n" on "$NS_MGMT" || fail "power on $n"
  else
    read -r w _ 2>/dev/null <"$BMC_DIR/$n.wrapper"
    eval "bp=\${BMC_PID_$n:-}"
    [ -n "$w" ] && [ "$(awk '/^PPid:/ {print $2}' "/proc/$w/status" 2>/dev/null)" = "$bp" ] ||
      fail "the power of $n is on but its BMC's wrapper is not running"
    kill -USR1 "$w" || fail "reset $n"
  fi
  for ((i = 0; i < 500; i++)); do
    [ -s "$BMC_DIR/$n.pids" ] && alive "$n" && break
    sleep 0.01
  done
  read -r pid wd 2>/dev/null <"$BMC_DIR/$n.pids" && alive "$n" || fail "$n did not boot after its power on/reset"
  eval "PID_$n=$pid WD_$n=$wd"
}

bmc_cleanup() {  # the BMCs (killed: no more power on), then their wrappers and what those started, by PID
  local n p w wd hold
  for n in alpha beta; do
    eval "p=\${BMC_PID_$n:-}"
    [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
  done
  for n in alpha beta; do
    w='' hold='' wd=''
    read -r w hold 2>/dev/null <"$BMC_DIR/$n.wrapper"
    [ -n "$w" ] && kill -KILL "$w" 2>/dev/null
    [ -n "$hold" ] && kill -KILL "$hold" 2>/dev/null  # its "power is on" sleep
    read -r _ wd 2>/dev/null <"$BMC_DIR/$n.pids"
    [ -n "$wd" ] && kill -KILL "$wd" 2>/dev/null      # the node's stand-in watchdog (the node: kill_node, next)
  done
}
