# shellcheck shell=bash
# Shared set-up of a Castor node for the shell integration tests (sourced after common.sh): the daemons'
# paths, a node's castor.ini, starting quorumd/svcmgr (registered for cleanup), waiting for a file or for
# quorumd's lease, and showing the logs on failure. Every file lives in $SCRATCH (make_scratch first).
# It never starts anything it does not register with cleanup(), and kills nothing by name.

# need_daemons [svcmgr]: sets QUORUMD and SVCMGR; skips the test when a daemon it needs is not built.
need_daemons() {
  QUORUMD=$BUILD/quorumd SVCMGR=$BUILD/svcmgr
  [ -x "$QUORUMD" ] || skip "quorumd not built"
  [ "${1:-}" != svcmgr ] || [ -x "$SVCMGR" ] || skip "svcmgr not built"
}

# show_logs: the last LOG_TAIL (default 15) lines of every $SCRATCH/*.log; die MSG: show_logs, then fail.
show_logs() {
  local f
  for f in "$SCRATCH"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -"${LOG_TAIL:-15}" "$f"; }; done
}
die() { show_logs; fail "$*"; }

# new_disk_loop: a loop device over $SCRATCH/lun.img (8 MiB, made on first use); call once per node for
# one shared disk seen through one device per node. Prints the device.
new_disk_loop() { new_loop "$SCRATCH/lun.img" 8; }

# one_node_disk CLUSTER IO_TIMEOUT_MS [quorumd]: the set-up of the one-node tests: DEV = a loop device over a
# fresh disk made by `castor init` (nodes a,b), $SCRATCH/state, and $SCRATCH/a.ini for node a (see node_ini).
one_node_disk() {
  DEV=$(new_disk_loop) || die losetup
  register_loop "$DEV"
  expect_exit 0 "$CASTOR" init "$DEV" --cluster "$1" --nodes a,b --io-timeout "$2"
  mkdir -p "$SCRATCH/state" || fail "mkdir state"
  node_ini a "$DEV" "${3:-}"
}

# remove_node_cgroups NODE: removes the (empty) cgroups svcmgr made for NODE's services, castor/NODE/* in
# every hierarchy, as the test ends (a service still running when its svcmgr was killed leaves its cgroup).
remove_node_cgroups() {
  local try d
  for try in 1 2 3; do
    for d in /sys/fs/cgroup/*/castor/"$1"/* /sys/fs/cgroup/castor/"$1"/* /sys/fs/cgroup/*/castor/"$1" \
             /sys/fs/cgroup/castor/"$1"; do
      [ -d "$d" ] && rmdir "$d" 2>/dev/null
    done
    ls -d /sys/fs/cgroup/*/castor/"$1" /sys/fs/cgroup/castor/"$1" >/dev/null 2>&1 || return 0
    sleep 0.2
  done
  return 0
}

# node_ini NODE DEVICE [quorumd]: writes $SCRATCH/NODE.ini — quorumd without a watchdog, no memory lock, no
# realtime, socket $SCRATCH/NODE-q.sock; unless "quorumd" is given also an [svcmgr] section (services in
# $SCRATCH/NODE-services, made here; socket NODE-s.sock; state in NODE-state).
node_ini() {
  local n=$1 dev=$2
  register_undo "remove_node_cgroups $n"  # registered before the daemons: runs after they are killed
  cat >"$SCRATCH/$n.ini" <<EOI || fail "writing $n.ini"
[quorumd]
device = $dev
node = $n
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $SCRATCH/$n-q.sock
lock_memory = no
realtime = no
state_dir = $SCRATCH/$n-qstate
EOI
  [ "${3:-}" = quorumd ] && return 0
  mkdir -p "$SCRATCH/$n-services" || fail "mkdir $n-services"
  cat >>"$SCRATCH/$n.ini" <<EOI || fail "writing $n.ini"

[svcmgr]
services_dir = $SCRATCH/$n-services
socket = $SCRATCH/$n-s.sock
quorumd_socket = $SCRATCH/$n-q.sock
state_dir = $SCRATCH/$n-state
EOI
}

# kill_service_processes NODE: the processes NODE's svcmgr started and left in its services' cgroups
# (castor/NODE/*) when the test killed it with -9, e.g. a server an exec agent put in the background; else
# they outlive the test, and the next test's svcmgr of NODE finds its service "running at start-up".
kill_service_processes() {
  local f p
  for f in /sys/fs/cgroup/freezer/castor/"$1"/*/freezer.state; do [ -e "$f" ] && echo THAWED >"$f" 2>/dev/null; done
  for f in /sys/fs/cgroup/*/castor/"$1"/*/cgroup.procs /sys/fs/cgroup/*/castor/"$1"/*/*/cgroup.procs; do
    [ -e "$f" ] || continue
    for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  return 0
}

# start_quorumd NODE [VAR] / start_svcmgr NODE [VAR]: starts the daemon with $SCRATCH/NODE.ini, its log
# appended to $SCRATCH/NODE-quorumd.log / NODE-svcmgr.log, registered for cleanup; its PID goes to VAR
# (`wait $VAR` gives its exit code). Not $(...) functions: a subshell could not register the PID.
start_quorumd() {
  "$QUORUMD" --config "$SCRATCH/$1.ini" >>"$SCRATCH/$1-quorumd.log" 2>&1 &
  register_pid $!
  [ -z "${2:-}" ] || printf -v "$2" %s $!
}
start_svcmgr() {
  register_undo "kill_service_processes $1"  # runs after svcmgr is killed (undo runs last-registered first)
  "$SVCMGR" --config "$SCRATCH/$1.ini" >>"$SCRATCH/$1-svcmgr.log" 2>&1 &
  register_pid $!
  [ -z "${2:-}" ] || printf -v "$2" %s $!
}

# start_daemons NODE QVAR SVAR: quorumd, then (0.3 s later, once its socket is up) svcmgr, as above.
start_daemons() {
  start_quorumd "$1" "$2"
  sleep 0.3
  start_svcmgr "$1" "$3"
}

# exec_service NODE NAME START STOP MONITOR: writes $SCRATCH/NODE-services/NAME.ini, a service on nodes a, b
# (monitor every 1 s) with one exec resource "r" run by the shell with these actions.
exec_service() {
  cat >"$SCRATCH/$1-services/$2.ini" <<EOI || fail "writing $2.ini"
[service]
name = $2
nodes = a, b
monitor_interval = 1s

[resource r]
agent = exec
shell = yes
start = $3
stop = $4
monitor = $5
EOI
}

# field NODE SERVICE KEY: a service's field as node NODE's svcmgr reports it ("" if it does not list it).
# wait_field TENTHS NODE SERVICE KEY VALUE: until it equals VALUE; false after TENTHS x 0.1 s.
field() {
  "$CASTOR" status --json --socket "$SCRATCH/$1-q.sock" --svcmgr-socket "$SCRATCH/$1-s.sock" 2>/dev/null |
    python3 -c "import json,sys
d=json.load(sys.stdin)
print(next((s.get('$3','') for s in d.get('services',{}).get('services',[]) if s['name']=='$2'), ''))" 2>/dev/null
}
wait_field() {
  local i
  for ((i = 0; i < $1; i++)); do
    [ "$(field "$2" "$3" "$4")" = "$5" ] && return 0
    sleep 0.1
  done
  [ "$(field "$2" "$3" "$4")" = "$5" ]
}

# wait_file FILE SECONDS: until FILE exists; false if it did not appear in time.
wait_file() {
  local end=$((SECONDS + $2))
  until [ -e "$1" ] || ((SECONDS >= end)); do sleep 0.2; done
  [ -e "$1" ]
}

# wait_lease NODE TENTHS: until NODE's quorumd says phase "up" (holds its lease); false after TENTHS x 0.1 s.
wait_lease() {
  local i
  for ((i = 0; i < $2; i++)); do
    [ "$(python3 "$(dirname "${BASH_SOURCE[0]}")/qctl.py" "$SCRATCH/$1-q.sock" status phase 2>/dev/null)" = '"up"' ] &&
      return 0
    sleep 0.1
  done
  return 1
}

# node_script [SETUP]: writes $SCRATCH/node.sh NODE — one node as on its own host: SETUP (a shell command,
# e.g. a private tmpfs), then quorumd and svcmgr with $SCRATCH/NODE.ini (svcmgr's PID in NODE-svcmgr.pid).
# start_node NODE: runs it as its own process group in a private mount namespace; PID_NODE is the leader,
# and the whole group is killed at cleanup.
node_script() {
  cat >"$SCRATCH/node.sh" <<EOI || fail "writing node.sh"
#!/bin/bash
${1:-}
$QUORUMD --config $SCRATCH/\$1.ini >>$SCRATCH/\$1-quorumd.log 2>&1 &
$SVCMGR --config $SCRATCH/\$1.ini >>$SCRATCH/\$1-svcmgr.log 2>&1 &
echo \$! >$SCRATCH/\$1-svcmgr.pid
wait
EOI
}
start_node() {
  setsid unshare --mount --propagation private bash "$SCRATCH/node.sh" "$1" &
  printf -v "PID_$1" %s $!
  register_pid $!
  register_undo "kill_group_started $! '$(proc_start $!)'"
}
