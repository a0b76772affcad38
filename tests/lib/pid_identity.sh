# A process of a test, named by its PID and its start time (sourced by tests/lib/common.sh and
# tests/cluster/harness.sh). A PID alone names whatever process has it now: a test that kills a PID it
# recorded long ago -- its process gone and reaped meanwhile, the number taken again by a process of another
# test running beside it -- kills that other test's process. The start time (clock ticks since boot, field 22
# of /proc/PID/stat) is recorded when the PID is, and nothing is killed unless the process that has the PID
# now started then. Must never signal a PID whose start time it did not see.

# proc_start PID: the start time of the process PID now, empty when there is none.
proc_start() {
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  s=${s##*) }  # after the command name, which may hold spaces and parentheses: field 3 on
  IFS=' ' read -r -a f <<<"$s"
  echo "${f[19]:-}"
}
# kill_started PID START: SIGCONT then SIGKILL to PID if it is still the process that started at START.
kill_started() {
  [ -n "$2" ] && [ "$(proc_start "$1")" = "$2" ] || return 0
  kill -CONT "$1" 2>/dev/null
  kill -KILL "$1" 2>/dev/null
}
# kill_group_started PID START: SIGKILL to the process group PID (its leader started at START) if the leader
# is still that process, or if no process has the PID now (the group may live on in its members: a PGID is not
# handed out again while a member of its group lives, so that group is still the leader's). Not when another
# process has the PID: the group is then gone, and a group of that number is another process's.
kill_group_started() {
  local now
  now=$(proc_start "$1")
  [ -z "$now" ] || { [ -n "$2" ] && [ "$now" = "$2" ]; } || return 0
  kill -KILL -- "-$1" 2>/dev/null
}
