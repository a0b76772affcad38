#!/bin/bash
# A short seeded run of the nemesis (make torture): every fault must leave 0 split-brains and a clean fsck.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
out=$(BUILD=$BUILD FAULTS=${FAULTS:-5} SEED=${SEED:-20261126} bash "$(dirname "$0")/../cluster/torture.sh" 2>&1)
rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "the torture run failed (exit $rc)"
ip netns list | grep -q castor- && fail "the torture run left network namespaces behind"
exit 0
