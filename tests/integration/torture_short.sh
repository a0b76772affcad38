#!/bin/bash
# run-tests: lane castor-cluster (tests/run-tests: it makes the harness cluster under its default names)
# A short seeded run of the nemesis (make torture): one fault of every kind, then the checker must find
# 0 split-brains (older or same epoch), 0 lost acknowledged records, no filesystem mounted on both nodes, no
# light service on both nodes, every `castor init --force` on the live disk refused, and clean filesystems.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
out=$(BUILD=$BUILD FAULTS=${FAULTS:-19} SEED=${SEED:-20261126} bash "$(dirname "$0")/../cluster/torture.sh" 2>&1)
rc=$?
echo "$out" | grep -v '^[0-9]* \|^ack \|^start \|^stop \|^mount \|^umount \|Killed'
[ "$rc" = 0 ] || fail "the torture run failed (exit $rc)"
summary=$(echo "$out" | sed -n 's/^results: //p')
[ -f "$summary" ] || fail "the torture run wrote no summary"
python3 - "$summary" <<'EOP' || fail "the torture run did not inject every kind of fault"
import json, sys
d = json.load(open(sys.argv[1]))
kinds = {'crash', 'freeze_short', 'freeze_long', 'disk_ro', 'disk_hang_short', 'disk_hang_long', 'kill_quorumd',
         'kill_svcmgr', 'crash_service', 'hang_stop', 'relocate', 'restart_node', 'corrupt_block', 'init_force',
         'leave_unmanaged', 'lan_partition', 'shared_stall_5T', 'shared_stall_30T', 'stall_partition'}
missing = kinds - set(d['faults'])
print('missing fault kinds:', sorted(missing)) if missing else None
sys.exit(1 if missing or d['acknowledged_records'] == 0 or d['mounts_seen'] == 0 or d['light_service_copies'] == 0 else 0)
EOP
ip netns list | grep -q "^${CLUSTER_ID:-castor}-" && fail "the torture run left network namespaces behind"
exit 0
