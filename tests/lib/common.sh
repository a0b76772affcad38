# Shared helpers for the shell integration tests (sourced). Every resource made here is registered and
# undone by cleanup() on exit, also on failure or Ctrl-C, in the reverse order of registration (a loop
# device over a FUSE file is detached before the FUSE mount goes; a mount on a loop device is unmounted
# before the loop is detached): loop devices detached, mounts unmounted, processes killed by the PIDs we
# started — never by name.
set -u
BUILD=${BUILD:-build}
CASTOR=${CASTOR:-$BUILD/castor}
_undo=() _dirs=()  # _undo: cleanup commands, run last-registered first
. "$(dirname "${BASH_SOURCE[0]}")/pid_identity.sh"

say()  { echo "--- $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (loop devices)"; }

# make_scratch: creates a temporary directory in $SCRATCH, removed at exit. (Not a $(...) function: a
# subshell could not register the directory for removal.)
make_scratch() {
  SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/castor-it.XXXXXX") || fail "mktemp"
  _dirs+=("$SCRATCH")
}

# new_loop FILE SIZE [SECTOR_SIZE] -> prints the loop device (over a sparse file, direct I/O on).
# SIZE is in MiB, or with a unit (512K).
new_loop() {
  local file=$1 size=$2 ss=${3:-512} dev
  case $size in *[KMG]) ;; *) size=${size}M ;; esac
  [ -e "$file" ] || truncate -s "$size" "$file" || fail "truncate $file"
  dev=$(losetup -f --show --direct-io=on --sector-size "$ss" "$file") || fail "losetup $file"
  echo "$dev"
}
register_loop() { _undo+=("blockdev --setrw '$1' 2>/dev/null; losetup -d '$1' 2>/dev/null"); }
register_mount() { _undo+=("umount '$1' 2>/dev/null || umount -l '$1' 2>/dev/null"); }
register_undo() { _undo+=("$1"); }
# register_pid PID: killed at exit if it is still the process that had the PID now (tests/lib/pid_identity.sh)
register_pid() { _undo+=("kill_started $1 '$(proc_start "$1")'; wait $1 2>/dev/null"); }

cleanup() {
  local i
  for ((i = ${#_undo[@]} - 1; i >= 0; i--)); do eval "${_undo[i]}"; done
  for d in "${_dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# expect_exit CODE CMD... : runs CMD, fails unless it exits with CODE; its output is kept in $OUT
expect_exit() {
  local want=$1 rc
  shift
  OUT=$("$@" 2>&1)
  rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want. Output:
$OUT"
}

# free_port: a free TCP port on 127.0.0.1 in 20000-29999, below the ephemeral range (32768 and up, where
# every --port 0 listener and outgoing connection of the tests running beside this one lands: one of them
# once took a port between the pick and the start). Prints nothing when none was found.
free_port() {
  /usr/bin/python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 29999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()
'
}
