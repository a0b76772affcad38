# What a suite that makes a harness cluster (tests/cluster/harness.sh) needs of this machine, sourced first by
# such a suite: root, network namespaces, the cgroup v1 freezer and bindfs; without one of them the suite is
# skipped (exit 77, tests/run-tests counts it so). Sets `set -u`, BUILD (default build) and skip().
set -u
BUILD=${BUILD:-build}
skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (namespaces, loop devices, FUSE)"
ip netns list >/dev/null 2>&1 || skip "no network namespaces (ip netns)"
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
command -v bindfs >/dev/null || skip "bindfs is not installed"
