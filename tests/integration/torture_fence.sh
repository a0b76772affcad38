#!/bin/bash
# A short run of the nemesis (tests/cluster/torture.sh) with power fencing on (FENCE=1, issue 16: one ipmi_sim BMC
# per node, quorumd fences its peer through the real fence_ipmilan): crash, fence_fail, freeze_long,
# disk_hang_long, disk_ro and kill_quorumd in that order. The checker must find 0 split-brains, 0 lost
# acknowledged records, no filesystem or light service on both nodes, clean filesystems, and no fence_fail
# fault that took over on an unconfirmed fence (a peer declared dead on a power-off while the BMC was
# unreachable, or a takeover before D - T); the crash must have begun a power fence, and the fence_fail one a
# fence that failed (none confirmed).
# io_timeout T = 1 s (D = 6 s; a fenced takeover is S = 2T + the fence chain ~2 s + settle 300 ms, about 4.5 s),
# so the fences, not D, decide the ordinary crashes. About 3 minutes. Needs root, namespaces, the cgroup v1
# freezer and bindfs (exits 77 without them); installs openipmi, ipmitool and fence-agents if missing.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
ip netns list >/dev/null 2>&1 || skip "no network namespaces (ip netns)"
command -v bindfs >/dev/null || skip "bindfs is not installed"
KINDS=crash,fence_fail,freeze_long,disk_hang_long,disk_ro,kill_quorumd
ID=${TORTURE_FENCE_ID:-tfence}
out=$(BUILD=$BUILD CLUSTER_ID=$ID FENCE=1 IO_TIMEOUT_MS=${IO_TIMEOUT_MS:-1000} FENCE_SETTLE_MS=${FENCE_SETTLE_MS:-300} \
      ORDERED=1 ONLY=$KINDS FAULTS=6 SEED=${SEED:-20261204} LIGHT_SERVICES=${LIGHT_SERVICES:-20} \
      bash "$(dirname "$0")/../cluster/torture.sh" 2>&1)
rc=$?
echo "$out" | grep -v '^[0-9][0-9]* \|^ack \|^start \|^stop \|^mount \|^umount \|Killed'
[ "$rc" = 0 ] || fail "the torture run failed (exit $rc)"
summary=$(echo "$out" | sed -n 's/^results: //p')
[ -f "$summary" ] || fail "the torture run wrote no summary"
python3 - "$summary" "$KINDS" <<'EOP' || fail "the torture run with power fencing did not show what it must"
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
missing = set(sys.argv[2].split(',')) - set(d['faults'])
if missing:
    bad.append(f'missing fault kinds: {sorted(missing)}')
if d['acknowledged_records'] == 0 or d['mounts_seen'] == 0 or d['light_service_copies'] == 0:
    bad.append('no evidence gathered (records, mounts or light services)')
k = d['fences_by_kind']
if k.get('crash', {}).get('power_fences', 0) == 0:
    bad.append('the crash began no power fence')
if k.get('fence_fail', {}).get('power_fences', 0) == 0:
    bad.append('the fence_fail fault began no power fence (nothing failed)')
if k.get('fence_fail', {}).get('power_verdicts', 0) != 0 or d['fence_fail_violations'] != 0:
    bad.append('fence_fail: a takeover on an unconfirmed fence')
if not (d['takeover_ms_by_kind'] or {}).get('fence_fail'):
    bad.append('fence_fail: no takeover seen')
for b in bad:
    print(b)
t = d['takeover_ms_by_kind']
print('[castor] torture_fence: ' + ', '.join(f"{x} {v['power_fences']} power fences begun ({v['power_verdicts']} takeovers on a confirmed off)"
                                             for x, v in sorted(k.items()))
      + '; takeover ms: ' + ', '.join(f"{x} {v['max']}" for x, v in sorted(t.items()))
      + f"; settle ms median {(d['settle_ms'] or {}).get('median')} max {(d['settle_ms'] or {}).get('max')}")
sys.exit(1 if bad else 0)
EOP
ip netns list | grep -q "^$ID-" && fail "the torture run left network namespaces behind"
exit 0
