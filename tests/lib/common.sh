# Shared helpers for the shell integration tests (sourced). Every resource made here is registered and
# removed by cleanup() on exit, also on failure or Ctrl-C: loop devices detached, mounts unmounted,
# processes killed by the PIDs we started — never by name.
set -u
BUILD=${BUILD:-build}
CASTOR=${CASTOR:-$BUILD/castor}
_loops=() _mounts=() _pids=() _dirs=()

say()  { echo "--- $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (loop devices)"; }

scratch_dir() {  # prints a new temporary directory, removed at exit
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/castor-it.XXXXXX") || fail "mktemp"
  _dirs+=("$d")
  echo "$d"
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
register_loop() { _loops+=("$1"); }
register_mount() { _mounts+=("$1"); }
register_pid() { _pids+=("$1"); }

cleanup() {
  local i
  for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do kill -CONT "${_pids[i]}" 2>/dev/null; kill -KILL "${_pids[i]}" 2>/dev/null; done
  for ((i = ${#_mounts[@]} - 1; i >= 0; i--)); do umount "${_mounts[i]}" 2>/dev/null || umount -l "${_mounts[i]}" 2>/dev/null; done
  for ((i = ${#_loops[@]} - 1; i >= 0; i--)); do
    blockdev --setrw "${_loops[i]}" 2>/dev/null
    losetup -d "${_loops[i]}" 2>/dev/null
  done
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
