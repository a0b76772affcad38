# Sourced (after common.sh) by the integration tests that run real quorumd processes without the harness:
# the prologue (root, quorumd built, python3 for the control client, the scratch folder in $dir), the control
# client, the logs on failure, and the castor.ini of a test node.
_quorumd_test_lib=$(dirname "${BASH_SOURCE[0]}")

# need_quorumd: skipped without root, a built quorumd or python3; $QUORUMD and $dir (the scratch folder) set.
need_quorumd() {
  need_root
  QUORUMD=${QUORUMD:-$BUILD/quorumd}
  [ -x "$QUORUMD" ] || skip "$QUORUMD not built"
  command -v python3 >/dev/null || skip "python3 not installed (the control client)"
  make_scratch; dir=$SCRATCH
}
qctl() { python3 "$_quorumd_test_lib/qctl.py" "$@"; }
# die MESSAGE: the tail of every log in $dir, then fails.
die() { local f; for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; fail "$*"; }
# field NODE PYEXPR: PYEXPR evaluated on NODE's quorumd status (the JSON as d)
field() { qctl "$dir/$1.sock" status | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
# quorumd_ini NODE CLUSTER DEVICES [LINE...]: writes $dir/NODE.ini -- no watchdog, no memory lock, no
# realtime, socket $dir/NODE.sock, state_dir $dir/NODE-qstate -- with each LINE added.
quorumd_ini() {
  local n=$1 cluster=$2 devices=$3 line
  shift 3
  {
    printf '[quorumd]\ndevice = %s\nnode = %s\ncluster = %s\n' "$devices" "$n" "$cluster"
    printf 'watchdog_device = none\nallow_unsafe_no_watchdog = yes\nsocket = %s\n' "$dir/$n.sock"
    printf 'lock_memory = no\nrealtime = no\nstate_dir = %s\n' "$dir/$n-qstate"
    for line in "$@"; do printf '%s\n' "$line"; done
  } >"$dir/$n.ini"
}
# both_up: until nodes a and b see each other UP (false after 10 s).
both_up() {
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(field a "(d.get('peer') or {}).get('view')" 2>/dev/null)" = UP ] &&
      [ "$(field b "(d.get('peer') or {}).get('view')" 2>/dev/null)" = UP ] && return 0
    sleep 0.1
  done
  return 1
}
# node_locks_undo NODE-A-STATE-DIR: the node locks of the cluster whose life file is there are removed at the end.
node_locks_undo() {
  local f uuid
  f=$(ls "$1"/life.*.node-1 2>/dev/null) || return 0
  uuid=${f##*/life.}; uuid=${uuid%.node-1}
  register_undo "rm -f /run/castor/quorumd.$uuid.node-1.lock /run/castor/quorumd.$uuid.node-2.lock"
}
