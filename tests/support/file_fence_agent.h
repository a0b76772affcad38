// Test support for the in-process power-fencing tests: a real fence agent (a root-owned shell script) whose
// power is a file, the [fence NODE] device that runs it, and the fencer's phase as quorumd's status shows it.
// Never used by production code.
#pragma once

#include <chrono>
#include <string>

#include "config/fence_config.h"
#include "tests/support/inprocess_quorumd.h"

namespace castor::testing {

// Writes the agent into `dir` and returns its path. Each action records its pid in $D/ACTION.pid first.
// status: held while $D/hold exists (a slow BMC), and once the off ran while $D/hold-confirm exists (a slow
// confirmation); then on (exit 0) until the off ran, off (exit 2) after it. off: held while $D/hold-off
// exists, then marks $D/off. on: clears it. metadata: one parameter, ip.
std::string write_file_fence_agent(const std::string& dir);
// The [fence NODE] device running it: no retry, settle 100 ms, `timeout` per call.
FenceDeviceConfig file_fence_device(const std::string& node, const std::string& agent,
                                    Duration timeout = std::chrono::seconds(10));
bool file_exists(const std::string& path);
// Both nodes get a [fence] of each other (the agents in dir_alpha and dir_beta, `timeout` per call); alpha, and
// beta too if `beta_without_watchdog`, run without a watchdog (allowed with a [fence] for them). Restarts both;
// true once both hold a lease and see each other up, and each node without a watchdog has its flag read by
// its peer (within 5 s).
bool fence_each_other(Cluster& c, const std::string& dir_alpha, const std::string& dir_beta, Duration timeout,
                      bool beta_without_watchdog = false);
// alpha gets a [fence beta] running `agent` (beta keeps its watchdog and no [fence]); restarts alpha; true once
// both hold a lease and see each other up (within 5 s), after 300 ms more of running together.
bool alpha_fences_beta(Cluster& c, const std::string& agent);
// Both nodes' castor.ini get a [fence alpha] and a [fence beta] (the agents in dir_alpha and dir_beta,
// `timeout` per call); nothing else changes (no restart, both keep their watchdogs).
void give_both_fences(Cluster& c, const std::string& dir_alpha, const std::string& dir_beta, Duration timeout);
// quorumd's status power_fence.phase of `n` ("idle", "probing", "powering off", ...).
std::string fence_phase(Cluster& c, Node& n);

}  // namespace castor::testing
