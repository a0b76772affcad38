#!/bin/bash
# make bench BENCH=powerfence: failover with power fencing (issue 16). The owner of web crashes with its power
# still on; its peer power-fences it through the real chain (fence_ipmilan against one ipmi_sim per node,
# tests/integration/power_fence.sh POWER_FENCE_ONLY=crash) and takes over. One record per run: the time from
# the crash to web started on the peer. PFENCE_PROFILES (ms, default "200 1000 2000 10000"), PFENCE_RUNS (3),
# PFENCE_SETTLE_MS (default 1000: quorumd's default settle delay), BMC_IMPL (ipmi_sim, the default, or pyghmi: a
# BMC whose power off is done when answered; tests/cluster/bmc.sh), BMC_POWER_WAIT (fence_ipmilan's power_wait, 0;
# its own default is 2).
. "$(dirname "$0")/lib.sh"
export CLUSTER_ID=bpfence POWER_FENCE_ID=bpfence FENCE_SETTLE_MS=${PFENCE_SETTLE_MS:-1000} POWER_FENCE_ONLY=crash \
       BMC_IMPL=${BMC_IMPL:-ipmi_sim}
for io in ${PFENCE_PROFILES:-200 1000 2000 10000}; do
  for ((run = 1; run <= ${PFENCE_RUNS:-3}; run++)); do
    out=$(IO_TIMEOUT_MS=$io BUILD=$BUILD bash "$ROOT/tests/integration/power_fence.sh" 2>&1)
    ms=$(sed -n 's/.*power_fence crash: web on [a-z]* \([0-9]*\) ms after the fault.*/\1/p' <<<"$out" | tail -1)
    if [ -n "$ms" ]; then
      by=fence; grep -q "decided first" <<<"$out" && by="dead time"
      say "power fence ($BMC_IMPL): io_timeout $io ms, run $run: web on the peer $ms ms after the crash (D = $((6 * io)) ms; decided by the $by)"
      record power_fence "\"io_timeout_ms\": $io, \"run\": $run, \"ok\": true, \"total_ms\": $ms, \"dead_ms\": $((6 * io)), \"settle_ms\": $FENCE_SETTLE_MS, \"bmc\": \"$BMC_IMPL\", \"power_wait_s\": ${BMC_POWER_WAIT:-0}, \"decided_by\": \"$by\""
    else
      say "power fence: io_timeout $io ms, run $run: FAILED"; tail -5 <<<"$out" >&2
      record power_fence "\"io_timeout_ms\": $io, \"run\": $run, \"ok\": false"
    fi
  done
done
