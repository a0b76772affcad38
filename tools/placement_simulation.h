// PlacementSimulation: what `castor simulate` predicts. A status (the JSON `castor status --json` prints:
// quorumd's status with svcmgr's `services` reply under "services"), the service definitions and one event
// (a node killed, a service failed, a node put in standby, a service relocated) go in; for each service, where
// it runs now, where it runs once the cluster has settled after the event, the placement rule that says so,
// and the expected outage come out. The placement is decided by the very policy svcmgr runs
// (lib/policy/placement_policy.h), called once for each node with the facts that node's svcmgr would hold,
// until no node changes its mind -- as crm_simulate runs Pacemaker's scheduler on a CIB. What svcmgr decides
// outside the policy (a failure: restart in place, disable, or hand it to the policy as failed here) is
// svcmgr_supervision.cc's after_runner, mirrored here and named where it is.
// The dead time D comes from the status' io_timeout through Timing::from_io_timeout, quorumd's own formula.
// Pure: no I/O, no clock, no log; never throws on any input (a malformed status is an error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/service_definition.h"

namespace castor {

struct SimEvent {
  enum class Kind { none, kill, fail, standby, relocate };
  Kind kind = Kind::none;
  std::string node;     // kill, standby: the node; relocate: the target ("" = the node that does not run it)
  std::string service;  // fail, relocate
};
std::string describe_event(const SimEvent& e);  // "kill a", "relocate web to b", "no event"

struct ServicePrediction {
  std::string name;
  std::string state;            // as svcmgr reported it (started, stopped, frozen, disabled, ...)
  std::string owner_now;        // "" = runs nowhere
  std::string owner_after;      // "" = runs nowhere once settled
  bool moves = false;           // owner_after is another node than owner_now (both running)
  std::string action;           // stays, moves, restarts in place, stops, starts, stays down, not simulated
  std::string rule;             // the policy's reason that settles it (decide_placement's), or svcmgr's
  std::optional<int64_t> outage_ms;  // the expected outage, when there is one and it can be told
  std::string outage;           // the same in words: "-", "~1412ms (dead time 1200ms + start 212ms)", ...
  std::vector<std::string> notes;
};

struct SimulationResult {
  SimEvent event;
  std::string node, peer;       // the node whose svcmgr answered, and its peer
  int64_t io_timeout_ms = 0;    // 0: the status has no timing
  int64_t dead_ms = 0;          // D, from io_timeout by quorumd's formula (0: unknown)
  std::vector<std::string> notes;
  std::vector<ServicePrediction> services;
};

// `status`: the object `castor status --json` prints (source "daemon"). `defs`: the services' definitions
// (their failover domains, failback, recovery); a service of the status without one is reported, not
// simulated. Errors: invalid_argument for an event naming an unknown node or service, corrupt for a status
// that is not one (no svcmgr services, a field of the wrong type).
Result<SimulationResult> simulate_placement(const nlohmann::json& status, const std::vector<ServiceDefinition>& defs,
                                            const SimEvent& event);

// The table `castor simulate` prints, and its --json form.
std::string simulation_text(const SimulationResult& r);
nlohmann::ordered_json simulation_json(const SimulationResult& r);

}  // namespace castor
