#!/bin/bash
# run-tests: lane castor-cluster (tests/run-tests: it makes the harness cluster under its default names)
# The README's main job, run as a test: the two-node demo must pass from start to teardown.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
out=$(BUILD=$BUILD WEB_PORT=0 bash "$(dirname "$0")/../../tools/demo.sh" 2>&1)  # port 0: never a port in use
rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "make demo failed (exit $rc)"
ms=$(echo "$out" | sed -n 's/.*failover took \([0-9]*\) ms.*/\1/p')
echo "[castor] demo: web served again ${ms} ms after its node was killed (io_timeout 200 ms)"
echo "$out" | grep -q "^  alpha's console shows: .*web started on " || fail "alpha's web console did not show web started"
echo "$out" | grep -q "^  beta's console shows: .*web started on " || fail "beta's web console did not show web started"
getent passwd | grep -q '^castor-demo-web' && fail "the demo left its console's user behind"
getent group | grep -q '^castor-demo-web' && fail "the demo left its console's group behind"
ip netns list | grep -q castor- && fail "the demo left network namespaces behind"
work=$(echo "$out" | sed -n 's/^working files in //p')
[ -n "$work" ] || fail "the demo did not say where its files are"
losetup -a | grep -qF "$work/" && fail "the demo left loop devices behind"
[ -e "$work" ] && fail "the demo left $work behind"
exit 0
