// Agent meta-data: the default timeouts and monitor interval an OCF agent advertises in its meta-data
// (<action name="start" timeout="20s"/> ...), used for every timing a service file does not give itself —
// as Pacemaker uses them. Parsing is pure. Reading runs the agent's meta-data action: apply_metadata_defaults()
// blocks (bounded by the action's timeout; for tools and tests), AgentMetadataFetcher runs it as an
// AgentProcess driven by an event loop (svcmgr: its loop must never wait for an agent).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/service_definition.h"
#include "agent/agent_process.h"

namespace castor {

struct AgentTimings {
  std::optional<Millis> start_timeout, stop_timeout, monitor_timeout, monitor_interval;
};

// Parses the <actions> of an OCF meta-data document. Unknown or malformed attributes are skipped.
AgentTimings parse_agent_timings(const std::string& metadata_xml);

// Sets each timing of `r` that the file did not give (ResourceDefinition::explicit_timings) from `t`.
void apply_agent_timings(ResourceDefinition& r, const AgentTimings& t);

// Runs `meta-data` for OCF resources (cached per agent in `cache`) and applies the timings to every
// resource of `def` that needs them. Failures are returned as text for the log; the definition then keeps
// Castor's own defaults.
std::string apply_metadata_defaults(ServiceDefinition& def, const std::string& ocf_root,
                                    std::map<std::string, AgentTimings>& cache);

// The same reading, asynchronously: each agent's meta-data action runs once (per fetcher's life, as the
// blocking form caches it), as an AgentProcess with the meta-data timeout, polled by the owner's event loop
// (fds() / on_ready() / poll() / next_deadline(), as ServiceRunner). An agent whose meta-data cannot be
// read (untrusted program, command that cannot be built or spawned, non-zero exit, timeout) gets no timings:
// Castor's defaults apply to it, and that is said once (apply() returns it the first time).
// Must never block (a spawn waits only for the exec, as every agent action) and never run an agent program
// that anyone but root can change. Destroying it SIGKILLs the actions in flight (AgentProcess).
class AgentMetadataFetcher {
 public:
  explicit AgentMetadataFetcher(std::string ocf_root) : ocf_root_(std::move(ocf_root)) {}

  // Whether every OCF resource of `def` that needs timings has its agent's meta-data read (or failed).
  // Starts the meta-data action of each agent neither read nor in flight.
  bool request(const ServiceDefinition& def, TimePoint now);
  bool ready(const ServiceDefinition& def) const;
  // Applies what was read to every resource of `def` that needs it (as apply_metadata_defaults). Returns
  // the agents whose meta-data failed and were not reported yet, as text for the log ("" if none).
  std::string apply(ServiceDefinition& def);

  std::vector<int> fds() const;
  void on_ready(int fd);
  // Advances the actions in flight; true if one ended (its agent is read or failed) at this call.
  bool poll(TimePoint now);
  TimePoint next_deadline() const;  // TimePoint::max() when nothing is in flight
  size_t in_flight() const { return running_.size(); }

 private:
  struct Read {
    AgentTimings timings;
    std::string problem;  // why nothing was read ("" when read)
    bool reported = false;
  };
  struct Fetch {
    std::string key;
    std::unique_ptr<AgentProcess> proc;
  };
  static bool needs(const ResourceDefinition& r);
  static std::string key_of(const ResourceDefinition& r) { return r.provider + ":" + r.type; }

  std::string ocf_root_;
  std::map<std::string, Read> read_;
  std::vector<Fetch> running_;
};

}  // namespace castor
