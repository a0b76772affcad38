#!/bin/bash
# admin_guide (issue 20): runs every command of docs/admin-guide.md, in order, on two nodes on this machine.
#
# The guide's ```sh blocks are split into commands (a line; a line ending in \ with the next; a heredoc to its
# end). A block starting "# on alpha", "# on beta" or "# on both nodes" runs there; each node has one bash
# that lives through the whole guide (variables carry over), in mount and network namespaces of its own: /etc,
# /run and /var/lib are overlays on scratch directories (/etc/castor, /run/castor, /var/lib/castor and the
# resource agents' /run/resource-agents, where IPaddr2 keeps the send_arp PID it kills at its stop, tmpfs
# mounts on top), so the guide's default paths (/etc/castor/castor.ini, /run/castor/*.sock) are that node's and
# the host's are never touched; its NIC (eth0, a veth) is on a bridge in the test's own network namespace and
# carries the guide's own LAN, management and floating addresses. Each node's BMC is an ipmi_sim (Debian's
# openipmi) on that bridge at the guide's BMC address, which the real fence_ipmilan and ipmitool talk to. The
# LUN is one sparse file seen through one loop device per node.
#
# After the guide's first block (the site's values) the test sets its own: DEV (the node's loop device),
# WATCHDOG (quorumd's FIFO stand-in, tests/watchdog_standin_main.cc, firing at 2T), IO_TIMEOUT 200, node
# names ag-alpha and ag-beta (cgroups castor/NAME: never the harness's), the BMC cipher and passwords.
#
# Every command must either run and exit 0, or end with "# not run by the test: REASON"; a marked command
# fails the test unless it is one this machine cannot run (apt-get install, modprobe, scp and castor history
# --peer over ssh, systemctl without systemd as PID 1, a watchdog device that does not exist). Where the
# reason says the test does something in its place, standin() below does it. Prints how many ran and how
# many were marked, and why. About 15 s (25 s under load).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/node.sh"
need_root
need_daemons svcmgr
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GUIDE=${ADMIN_GUIDE:-$ROOT/docs/admin-guide.md}  # ADMIN_GUIDE: another copy, to check the checker
STANDIN=$BUILD/tests/watchdog_standin
for c in unshare nsenter python3 jq curl ipmi_sim ipmitool fence_ipmilan; do
  command -v "$c" >/dev/null || skip "$c missing"
done
[ -x "$STANDIN" ] || skip "$STANDIN not built"
[ -x /usr/lib/ocf/resource.d/heartbeat/IPaddr2 ] || skip "resource-agents missing (IPaddr2)"
# One private network namespace for the whole test (the nodes' LAN, BMCs and the floating IP live in it).
if [ -z "${ADMIN_GUIDE_NETNS:-}" ]; then
  unshare --net --mount true 2>/dev/null || skip "no network or mount namespaces here"
  ADMIN_GUIDE_NETNS=1 exec unshare --net bash "$0" "$@"
fi
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD STANDIN=$ROOT/$STANDIN ;; esac
CASTOR=$BUILD/castor
make_scratch; dir=$SCRATCH
IO_MS=200
NAMES=(ag-alpha ag-beta)

say "the switch: a bridge, with the two BMCs' addresses on it (the guide's 10.0.0.11 and .12)"
ip link set lo up && ip link add br0 type bridge && ip link set br0 up || fail "bridge"
ip addr add 10.0.0.11/24 dev br0 && ip addr add 10.0.0.12/24 dev br0 || fail "the BMCs' addresses"

# The units' ExecStart lines, /usr/sbin/ being the build: what the test runs where systemctl would start a unit.
unit_exec() {
  local line
  line=$(sed -n 's/^ExecStart=//p' "$ROOT/packaging/systemd/$1")
  [ -n "$line" ] || fail "no ExecStart in packaging/systemd/$1"
  echo "${line//\/usr\/sbin\//$BUILD/}"
}
QUORUMD_START=$(unit_exec castor-quorumd.service) SVCMGR_START=$(unit_exec castor-svcmgr.service)
WEB_START=$(unit_exec castor-web.service)
echo "castor-quorumd.service: $QUORUMD_START; castor-svcmgr.service: $SVCMGR_START; castor-web.service: $WEB_START"
if command -v systemd-analyze >/dev/null; then
  say "the units, checked by systemd-analyze verify (ExecStart pointing at the build)"
  mkdir -p "$dir/units"
  for u in castor.target castor-quorumd.service castor-svcmgr.service castor-web.service; do
    sed "s|/usr/sbin/|$BUILD/|g" "$ROOT/packaging/systemd/$u" >"$dir/units/$u"
  done
  SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$dir"/units/* || die "systemd-analyze verify refuses a unit"
  echo "systemd-analyze verify: ok"
fi

say "the binaries on PATH, as the package installs them"
mkdir -p "$dir/bin"
for p in castor quorumd svcmgr castor-web; do ln -s "$BUILD/$p" "$dir/bin/$p"; done

say "the LUN: one file, one loop device per node"
for i in 0 1; do
  n=${NAMES[i]}
  d=$(new_loop "$dir/lun.img" 64) || die losetup; register_loop "$d"
  eval "DEV_$i=$d"
  register_undo "remove_node_cgroups $n"
  # (runs before remove_node_cgroups) the services' processes: they outlive a svcmgr killed at the end
  register_undo "for f in /sys/fs/cgroup/*/castor/$n/*/cgroup.procs /sys/fs/cgroup/castor/$n/*/cgroup.procs; do [ -e \$f ] && kill -KILL \$(cat \$f) 2>/dev/null; done"
done

say "two BMCs (ipmi_sim), each node powered on"
bmc_pw() { echo "pw-$1-$$"; }
for i in 0 1; do
  n=${NAMES[i]} addr=10.0.0.1$((i + 1))
  mkdir -p "$dir/bmc-$n"
  (umask 077 && cat >"$dir/bmc-$n/lan.conf") <<EOC
name "bmc-$n"
set_working_mc 0x20
  startlan 1
    addr $addr 623
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  endlan
  serial 15 127.0.0.1 $((9011 + i)) codec VM
  startcmd "/bin/bash $dir/bmc-$n/power.sh"
  startnow true
  poweroff_wait 0
  kill_wait 0
  user 2 true "fence" "$(bmc_pw "$n")" admin 10 md5
EOC
  # the power is on while this lives (ipmi_sim starts it at power on and kills it at power off); its PIDs are
  # kept for cleanup, since ipmi_sim killed at the end leaves it behind
  printf 'echo $$ >>%s\nexec sleep infinity\n' "$dir/bmc-$n/power.pids" >"$dir/bmc-$n/power.sh"
  register_undo "[ -e '$dir/bmc-$n/power.pids' ] && kill -KILL \$(cat '$dir/bmc-$n/power.pids') 2>/dev/null"
  printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n' >"$dir/bmc-$n/bmc.emu"
  mkdir -p "$dir/bmc-$n/state"
  ipmi_sim -n -c "$dir/bmc-$n/lan.conf" -f "$dir/bmc-$n/bmc.emu" -s "$dir/bmc-$n/state" </dev/null \
    >>"$dir/bmc-$n.log" 2>&1 &
  register_pid $!
done
bmc_status() {  # bmc_status NODE_INDEX: on/off
  local n=${NAMES[$1]}
  (umask 077 && bmc_pw "$n" >"$dir/bmc-$n/pw")
  timeout 10 ipmitool -I lanplus -C 3 -H "10.0.0.1$(($1 + 1))" -U fence -f "$dir/bmc-$n/pw" chassis power status 2>&1 |
    sed -n 's/^Chassis Power is //p'
}
for i in 0 1; do
  for ((t = 0; t < 50; t++)); do [ "$(bmc_status $i)" = on ] && break; sleep 0.1; done
  [ "$(bmc_status $i)" = on ] || die "the BMC of ${NAMES[i]} does not say on"
done

say "each node's namespaces: /etc, /run, /var/lib overlaid (/etc/castor, /run/castor, /var/lib/castor empty); eth0 on the bridge"
for i in 0 1; do
  n=${NAMES[i]} r=$dir/$n
  mkdir -p "$r"/{etc,etc.w,run,run.w,var,var.w}
  setsid unshare --mount --net --propagation private bash -c "
    mount -t overlay overlay -o lowerdir=/etc,upperdir=$r/etc,workdir=$r/etc.w /etc &&
    mount -t overlay overlay -o lowerdir=/run,upperdir=$r/run,workdir=$r/run.w /run &&
    mount -t overlay overlay -o lowerdir=/var/lib,upperdir=$r/var,workdir=$r/var.w /var/lib &&
    for d in /etc/castor /run/castor /var/lib/castor /run/resource-agents; do mkdir -p \$d && mount -t tmpfs -o mode=0755 tmpfs \$d || exit 1; done &&
    touch $r/ready && exec sleep infinity" >>"$dir/$n-ns.log" 2>&1 &
  eval "HOLD_$i=$!"
  register_pid $!
  wait_file "$r/ready" 10 || die "the mount namespace of $n"
  # its NIC on the switch: the guide's LAN (192.168.10.1, .2), management (10.0.0.1, .2; the BMCs are .11, .12)
  # and service (192.0.2.0/24: the floating IP .10) networks
  ip link add "ag$i" type veth peer name eth0 netns "$(eval "echo \$HOLD_$i")" && ip link set "ag$i" master br0 &&
    ip link set "ag$i" up || die "the NIC of $n"
  nsenter -t "$(eval "echo \$HOLD_$i")" -n sh -c "ip link set lo up && ip link set eth0 up &&
    ip addr add 192.168.10.$((i + 1))/24 dev eth0 && ip addr add 10.0.0.$((i + 1))/24 dev eth0 &&
    ip addr add 192.0.2.$((i + 1))/24 dev eth0" || die "the addresses of $n"
done
hold() { eval "echo \$HOLD_$1"; }
in_node() {  # in_node I CMD...: CMD in node I's mount and network namespaces
  local i=$1; shift
  nsenter -t "$(hold "$i")" -m -n -- "$@"
}

say "each node's shell"
for i in 0 1; do
  n=${NAMES[i]}
  mkfifo "$dir/$n.in" "$dir/$n.out"
  nsenter -t "$(hold $i)" -m -n -- env -i PATH="$dir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    HOME=/root LANG=C.UTF-8 bash --norc --noprofile <"$dir/$n.in" >"$dir/$n.out" 2>&1 &
  register_pid $!
  eval "exec {IN_$i}>\"$dir/$n.in\" {OUT_$i}<\"$dir/$n.out\""
done

# run_in I TEXT: TEXT in node I's shell; its output is printed; returns its exit status (99: no answer)
run_in() {
  local i=$1 text=$2 fin fout line
  fin=$(eval "echo \$IN_$i") fout=$(eval "echo \$OUT_$i")
  printf '{\n%s\n} </dev/null 2>&1; echo "@@ADMIN_GUIDE_RC=$?@@"\n' "$text" >&"$fin"
  while IFS= read -r -t 120 line <&"$fout"; do
    case $line in
      @@ADMIN_GUIDE_RC=*@@) line=${line#@@ADMIN_GUIDE_RC=}; return "${line%@@}" ;;
    esac
    printf '    %s\n' "$line"
  done
  return 99
}
for i in 0 1; do run_in "$i" "set -o pipefail" || die "the shell of ${NAMES[i]}"; done

# The daemons of node I, as castor-quorumd.service and castor-svcmgr.service run them (their ExecStart), in a process
# group of their own, with the stand-in watchdog outside it. When it fires it does what a reset does: kills that
# group and every process of the node's service cgroups, and the node's NIC goes dark (its floating IP gone).
boot() {
  local i=$1 n=${NAMES[$1]} pg t
  in_node "$i" ip link set eth0 up || die "$n: eth0 up"
  setsid nsenter -t "$(hold "$i")" -m -n -- env CASTOR_TEST_WATCHDOG_STANDIN=1 bash -c "
    $QUORUMD_START >>$dir/$n-quorumd.log 2>&1 & echo \$! >$dir/$n-quorumd.pid
    sleep 0.3
    $SVCMGR_START >>$dir/$n-svcmgr.log 2>&1 & echo \$! >$dir/$n-svcmgr.pid
    wait" &
  pg=$!
  disown "$pg"  # killed by the stand-in watchdog on purpose: no job report
  register_pid "$pg"
  register_undo "kill -KILL -$pg 2>/dev/null"
  rm -f "$dir/$n-watchdog.fifo"
  "$STANDIN" --fifo "$dir/$n-watchdog.fifo" --timeout-ms $((2 * IO_MS)) --pgid "$pg" \
    --on-fire "for f in /sys/fs/cgroup/*/castor/$n/*/cgroup.procs /sys/fs/cgroup/castor/$n/*/cgroup.procs; do [ -e \$f ] && kill -KILL \$(cat \$f) 2>/dev/null; done; nsenter -t $(hold "$i") -n sh -c 'ip addr del 192.0.2.10/24 dev eth0; ip link set eth0 down' 2>/dev/null" \
    --log "$dir/$n-watchdog.out" >>"$dir/$n-standin.log" 2>&1 &
  register_pid $!
  for ((t = 0; t < 100; t++)); do
    [ "$(in_node "$i" python3 "$ROOT/tests/lib/qctl.py" /run/castor/quorumd.sock status phase 2>/dev/null)" = '"up"' ] &&
      in_node "$i" python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("/run/castor/svcmgr.sock")' 2>/dev/null &&
      return 0
    sleep 0.1
  done
  die "$n: quorumd holds no lease after 10 s"
}
stop_clean() {  # what systemctl stop castor.target does: svcmgr, then quorumd, SIGTERM (a clean leave)
  local n=${NAMES[$1]} p
  for p in svcmgr quorumd; do
    kill -TERM "$(cat "$dir/$n-$p.pid")" 2>/dev/null
    for ((t = 0; t < 100; t++)); do kill -0 "$(cat "$dir/$n-$p.pid")" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$(cat "$dir/$n-$p.pid")" 2>/dev/null && die "$n: $p did not leave"
  done
  # a clean leave: the peer sees the node DOWN (not DEAD after the dead time)
  for ((t = 0; t < 30; t++)); do
    [ "$(in_node $((1 - $1)) "$CASTOR" status --json 2>/dev/null | jq -r .peer.view)" = DOWN ] && return 0
    sleep 0.1
  done
  echo "the peer of $n does not see it DOWN after its clean leave"
  return 1
}

# standin I CMD: what the test does in place of the marked command CMD on node I (as its reason says)
standin() {
  local i=$1 cmd=$2 n=${NAMES[$1]} f
  case $cmd in
    "apt-get install "*)  # what the package puts in /etc/castor (mk/package.mk: install), an existing file kept
      [ -e "$dir/$n/etc-castor-installed" ] && return 0
      in_node "$i" install -m 0600 "$ROOT/etc/castor.ini" /etc/castor/castor.ini &&
        in_node "$i" install -d -m 0700 /etc/castor/services.d || return 1
      for f in "$ROOT"/etc/services.d/*.ini; do
        case ${f##*/} in dummy.ini) t=dummy.ini ;; *) t=${f##*/}.example ;; esac
        in_node "$i" install -m 0600 "$f" "/etc/castor/services.d/$t" || return 1
      done
      touch "$dir/$n/etc-castor-installed" ;;
    "scp -p /etc/castor/authkey "*)
      in_node 0 cat /etc/castor/authkey | in_node 1 bash -c 'umask 077; cat >/etc/castor/authkey' ;;
    "castor history --peer "*)  # beta's history files into alpha's history directory, then castor history there
      for f in $(in_node 1 sh -c "cd /var/lib/castor/history && ls ${NAMES[1]}.jsonl*"); do
        in_node 1 cat "/var/lib/castor/history/$f" | in_node 0 sh -c "umask 077; cat >/var/lib/castor/history/$f" ||
          return 1
      done
      run_in 0 "${cmd/--peer \"\$BETA\" /}" ;;
    "systemctl enable --now castor-web"*)  # as castor-web.service: started as root, it becomes the [web] user
      # shellcheck disable=SC2086  # the unit's command line, split as systemd splits it (no quotes in it)
      nsenter -t "$(hold "$i")" -m -n -- $WEB_START >>"$dir/$n-web.log" 2>&1 &
      register_pid $! ;;
    "systemctl enable --now castor.target"* | "systemctl start castor.target"*) boot "$i" ;;
    "systemctl stop castor.target"*) stop_clean "$i" ;;
    "systemctl kill --signal=SIGSTOP castor-quorumd"*)
      kill -STOP "$(cat "$dir/$n-quorumd.pid")" || return 1
      for ((t = 0; t < 100; t++)); do grep -q "watchdog fired" "$dir/$n-watchdog.out" 2>/dev/null && break; sleep 0.1; done
      grep -q "watchdog fired" "$dir/$n-watchdog.out" 2>/dev/null || { echo "the watchdog stand-in of $n did not fire"; return 1; }
      echo "    (the test: $n's quorumd stopped; $(grep -m1 "watchdog fired" "$dir/$n-watchdog.out"))" ;;
    *) return 0 ;;
  esac
}
# before_run I CMD: what the test checks before a command runs
before_run() {
  case $2 in
    "ipmitool "*"chassis power on"*)  # the failover went through the power fence: the node's BMC says off
      [ "$(bmc_status "$(index_of_bmc "$2")")" = off ] ||
        { echo "the BMC of $(node_of_bmc "$2") does not say off: its peer did not power-fence it"; return 1; }
      echo "    (the test: the BMC of $(node_of_bmc "$2") says off: powered off by its peer's fence)" ;;
  esac
  return 0
}
# after_run I CMD: what follows a command that ran, outside the node (the machine's power coming on: it boots)
after_run() {
  case $2 in
    "ipmitool "*"chassis power on"*)  # it boots: /run emptied, castor.target started
      echo "    (the test: $(node_of_bmc "$2") boots)"
      in_node "$(index_of_bmc "$2")" find /run/castor -mindepth 1 -delete && boot "$(index_of_bmc "$2")" ;;
  esac
}
index_of_bmc() { case $1 in *ALPHA_BMC*) echo 0 ;; *) echo 1 ;; esac; }
node_of_bmc() { echo "${NAMES[$(index_of_bmc "$1")]}"; }

# could_run CMD: true when this machine could run the marked command CMD (then marking it is a failure)
could_run() {
  case $1 in
    "apt-get install "*) return 1 ;;     # installs on the host
    "modprobe "*) return 1 ;;            # loads a module into the host's kernel
    "scp "*) return 1 ;;                 # no ssh between the two nodes of one machine
    "castor history --peer "*) return 1 ;;  # the same (tests/integration/history_peer.sh runs it with an sshd)
    "systemctl "*) [ "$(cat /proc/1/comm)" = systemd ] ;;
    "ls -l /dev/watchdog"* | "wdctl "*) compgen -G '/dev/watchdog*' >/dev/null ;;
    *) return 0 ;;
  esac
}

# The test's own values, set after the guide's first block on each node.
overrides() {
  local i=$1
  cat <<EOV
DEV=$(eval "echo \$DEV_$i")
WATCHDOG=$dir/${NAMES[i]}-watchdog.fifo
IO_TIMEOUT=$IO_MS
ALPHA=${NAMES[0]} BETA=${NAMES[1]}
BMC_CIPHER=3
ALPHA_BMC_PASSWORD=$(bmc_pw "${NAMES[0]}") BETA_BMC_PASSWORD=$(bmc_pw "${NAMES[1]}")
EOV
}

# The guide's commands: one JSON object a line, {block, where, text, marked, reason}
python3 - "$GUIDE" >"$dir/commands.jsonl" <<'EOF' || fail "cannot parse the guide"
import json, re, sys
lines = open(sys.argv[1]).read().split("\n")
i, block = 0, 0
marker = re.compile(r"\s#\s*not run by the test:\s*(.*)$")
while i < len(lines):
    if lines[i].strip() != "```sh":
        i += 1; continue
    block += 1; i += 1; body = []
    while lines[i].strip() != "```":
        body.append(lines[i]); i += 1
    i += 1
    where = None
    m = re.match(r"#\s*on (alpha|beta|both nodes)\b", body[0] if body else "")
    if not m: sys.exit("block %d has no '# on alpha|beta|both nodes' line: %r" % (block, body[:1]))
    where = m.group(1)
    j = 1
    while j < len(body):
        line = body[j]
        if not line.strip() or line.lstrip().startswith("#"):
            j += 1; continue
        text = line
        h = re.search(r"<<-?\s*'?(\w+)'?", line)
        if h:  # a heredoc: to its terminator
            end = h.group(1)
            while body[j].strip() != end:
                j += 1; text += "\n" + body[j]
        else:
            while text.endswith("\\"):
                j += 1; text += "\n" + body[j]
        j += 1
        first = text.split("\n")[0]
        mk = marker.search(first)
        print(json.dumps({"block": block, "where": where, "text": text,
                          "marked": bool(mk), "reason": mk.group(1).strip() if mk else ""}))
EOF

ran=0 marked=0 ran_lines=0 marked_lines=0
declare -A reasons
mapfile -t CMDS <"$dir/commands.jsonl"
for ((k = 0; k < ${#CMDS[@]}; k++)); do
  obj=${CMDS[k]}
  block=$(jq -r .block <<<"$obj") where=$(jq -r .where <<<"$obj") text=$(jq -r .text <<<"$obj")
  case $where in alpha) nodes="0" ;; beta) nodes="1" ;; *) nodes="0 1" ;; esac
  if [ "$(jq -r .marked <<<"$obj")" = true ]; then marked_lines=$((marked_lines + 1)); else ran_lines=$((ran_lines + 1)); fi
  for i in $nodes; do
    if [ "$(jq -r .marked <<<"$obj")" = true ]; then
      reason=$(jq -r .reason <<<"$obj")
      [ -n "$reason" ] || die "block $block: a marked command without a reason: $text"
      could_run "$text" && die "block $block: '$text' is marked as not run, but this machine can run it"
      echo "[${NAMES[i]}] (marked) $text"
      standin "$i" "$text" || die "block $block: the test's stand-in for '$text' on ${NAMES[i]} failed"
      marked=$((marked + 1)) reasons["$text"]=$reason
    else
      echo "[${NAMES[i]}] \$ $text"
      before_run "$i" "$text" || die "block $block: before '$text'"
      run_in "$i" "$text"
      rc=$?
      [ "$rc" = 0 ] || die "block $block on ${NAMES[i]}: '$text' exited $rc"
      ran=$((ran + 1))
      after_run "$i" "$text"
    fi
  done
  # after the guide's first block (the site's values): the test's own
  next_block=0
  [ $((k + 1)) -lt ${#CMDS[@]} ] && next_block=$(jq -r .block <<<"${CMDS[k + 1]}")
  if [ "$block" = 1 ] && [ "$next_block" != 1 ]; then
    for i in 0 1; do run_in "$i" "$(overrides "$i")" || die "the test's values on ${NAMES[i]}"; done
    echo "(the test's values: $(overrides 0 | tr '\n' ' '))"
  fi
done
[ "$ran" -gt 0 ] || fail "no command ran"
say "marked as not run, and why"
while IFS= read -r k; do printf '  %s\n      %s\n' "${k%%  *}" "${reasons[$k]}"; done < <(printf '%s\n' "${!reasons[@]}" | sort)
by_kind=$(for k in "${!reasons[@]}"; do echo "${k%% *}"; done | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1}')
echo "[castor] admin_guide: $ran_lines command lines of the guide ran and succeeded ($ran runs on the nodes), $marked_lines marked as not run ($marked on the nodes; distinct: $by_kind)"
say "pass"
