// Pacemaker import (issue 21): a two-node CIB's groups and primitives as Castor service definitions, the
// inverse of pacemaker_export.h's mapping, with a line for everything that does not map.
//
// A group is a service (its id; "_9x" back to "9x"), its primitives the resources in order (a member id
// SERVICE_RESOURCE becomes RESOURCE); a primitive outside any group is a service of one resource of the
// same name. ocf/lsb/systemd agents, ocf instance attributes as params, start/stop timeouts, the first
// monitor's interval and timeout (OCF_CHECK_LEVEL as check_level; no monitor op: not monitored). Meta
// attributes of the group, or of a lone primitive: target-role as autostart, resource-stickiness as failback (0:
// yes; absent: rsc_defaults, else Pacemaker's default 0), migration-threshold N >= 2 as restart with
// max_restarts N - 1, 1 as relocate, failure-timeout as restart_window, on-fail=stop on start or monitor as
// recovery disable. The failover domain (at most two nodes): the nodes whose location scores (summed per
// node, as Pacemaker does) are positive, highest first; then the nodes allowed without a preference (score 0,
// or, in a symmetric cluster, no score); never a node with a negative score; a -INFINITY rule
// "#uname ne A and #uname ne B" bans the others; an rsc-pattern node score counts for each resource it matches. A disabled monitor, or one bound to a role, is not mapped.
// Not mapped, each listed: clones, promotable and bundle resources, stonith devices and fencing
// topology (castor.ini's [fence NODE] is written by hand), colocation, order and ticket constraints, other
// rules, meta and op attributes Castor has no word for, is-managed=false (castor freeze is runtime state).
// A service whose definition Castor would refuse (definition_problems) is not mapped, with the problems.
// Must never do I/O or throw.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "config/service_definition.h"
#include "tools/xml_subset.h"

namespace castor {

struct PcmkImport {
  std::vector<ServiceDefinition> services;
  std::vector<std::string> not_mapped;  // one line each, naming the CIB object
};

// `root` is a <cib> or a <configuration> (what `castor export pacemaker --format cib` writes). Errors
// (invalid_argument): neither, or no <resources>.
Result<PcmkImport> import_pacemaker_cib(const XmlElement& root);

// A Pacemaker duration ("20s", "500ms", "2m", "1h", "30", "PT20S") in milliseconds.
Result<Millis> parse_pcmk_duration(std::string_view text);

}  // namespace castor
