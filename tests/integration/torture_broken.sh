#!/bin/bash
# run-tests: lane castor-cluster (tests/run-tests: it makes the harness cluster under its default names)
# A checker that cannot fail proves nothing: each deliberately broken build below must be caught by a short
# torture run (tests/cluster/torture.sh), for the reason its bug produces, with the fault kinds that expose it:
#   CASTOR_TEST_UNSAFE_TAKEOVER=1        svcmgr takes over without waiting for the peer's death
#                                        -> 2 seeded faults, split-brains in the ledger
#   CASTOR_TEST_BUG=read_block0          quorumd's table-peer reads only the first table block
#                                        -> crash the node running web: the survivor takes all 42 services;
#                                        back, the node sees the services of the peer's second block as free
#                                        and starts the ones it prefers: light services on both nodes
#   CASTOR_TEST_BUG=corrupt_free         svcmgr counts a corrupt peer table block as no entries
#                                        -> crash (the survivor holds everything), then garbage over a table
#                                        block in use of the survivor: the other node claims what it prefers
#                                        there: light services on both nodes
#   CASTOR_TEST_BUG=down_while_owned     quorumd writes DOWN without looking at its own table
#                                        -> leave_unmanaged: svcmgr and the service processes killed, the
#                                        mounts left up, quorumd leaves: DOWN lets the peer mount at once:
#                                        a shared filesystem mounted on both nodes
# CASES=name1,name2 runs only those (names: unsafe_takeover read_block0 corrupt_free down_while_owned).
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
TORTURE=$(dirname "$0")/../cluster/torture.sh

# run_case NAME EXPECT ENV...: EXPECT is a python expression over the summary d that must be true.
run_case() {
  local name=$1 expect=$2 out rc summary t0=$(date +%s)
  shift 2
  [ -z "${CASES:-}" ] || [[ ",$CASES," == *",$name,"* ]] || return 0
  out=$(env SETTLE_S=20 "$@" BUILD=$BUILD bash "$TORTURE" 2>&1)
  rc=$?
  echo "--- broken build $name ($*): exit $rc after $(($(date +%s) - t0)) s"
  echo "$out" | sed -n '/^faults injected:/,$p' | grep -v '^results:\|^\[castor\] torture:\|^FAILED:' | head -30
  [ "$rc" != 0 ] || fail "the torture checker did not catch the broken build $name"
  summary=$(echo "$out" | sed -n 's/^results: //p')
  [ -f "$summary" ] || fail "the broken build $name: the run wrote no summary"
  python3 - "$summary" "$expect" <<'EOP' || fail "the broken build $name failed, but not for the reason its bug causes ($expect)"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2], {'d': d}) else 1)
EOP
  echo "[castor] broken build $name caught: $(python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
print(f\"{d['split_brains']} split-brain records ({d['same_epoch_split_brains']} same-epoch), {d['services_on_both_nodes']} services on both nodes, {d['mount_overlaps']} double mounts ({d['kernel_double_mounts']} in the kernel log)\")" "$summary")"
  ip netns list | grep -q "^${CLUSTER_ID:-castor}-" && fail "the torture run left network namespaces behind"
  return 0
}

run_case unsafe_takeover "d['split_brains'] > 0" \
  CASTOR_TEST_UNSAFE_TAKEOVER=1 FAULTS=2 SEED=5
run_case read_block0 "d['services_on_both_nodes'] > 0" \
  CASTOR_TEST_BUG=read_block0 ONLY=crash FAULTS=1 SEED=1
run_case corrupt_free "d['services_on_both_nodes'] > 0" \
  CASTOR_TEST_BUG=corrupt_free ONLY=crash,corrupt_block ORDERED=1 CORRUPT_WHAT=table_used CORRUPT_NODE=victim \
  FAULTS=2 SEED=1
run_case down_while_owned "d['mount_overlaps'] + d['kernel_double_mounts'] > 0" \
  CASTOR_TEST_BUG=down_while_owned ONLY=leave_unmanaged FAULTS=1 SEED=1
exit 0
