// Pacemaker export, the mapping (issue 21): Castor's service definitions and [fence NODE] devices as ONE
// description of Pacemaker configuration (groups of primitives, operations, meta attributes, location
// constraints, stonith devices, fencing levels), which pacemaker_render.h writes as a CIB fragment, a pcs
// script and a crm configure script, so that the three say the same thing.
//
// The mapping: a service is a group (id = the service name) of its resources in order; a resource is a
// primitive whose id is Castor's own OCF_RESOURCE_INSTANCE, SERVICE_RESOURCE (agents derive state file
// names from it); ocf/lsb/systemd agents with their params; start/stop/monitor operations with their
// timeouts and interval, check_level as the monitor's OCF_CHECK_LEVEL; the failover domain as location
// scores (first node 200, second 100) and a -INFINITY rule for every node outside it; failback as
// resource-stickiness (0, or 1000 per member: more than any score difference); recovery restart as
// migration-threshold = max_restarts + 1 and failure-timeout = restart_window, relocate as
// migration-threshold 1, disable as on-fail=stop on start and monitor; autostart as target-role; each
// [fence NODE] as a stonith primitive (never placed on NODE) and a fencing level 1 for NODE.
// Exec resources are never exported: ocf:heartbeat:anything runs its binfile as the long-lived process and
// tracks its pid (a binfile that exits is a failed start), stops it with SIGTERM/SIGKILL and not with a stop
// command, and passes the line through `su -c` (a second round of shell expansion); a Castor exec start is
// a command that must exit, so no exec resource means the same thing there.
// What cannot be expressed is listed in `not_expressed`, what is expressed only approximately in
// `approximations`; nothing is dropped without a line in one of them.
//
// Must never do I/O (the caller reads the files and prints), run an agent, or throw.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/fence_config.h"
#include "config/service_definition.h"

namespace castor {

struct PcmkAttr {
  std::string name, value;
  bool operator==(const PcmkAttr&) const = default;
};

struct PcmkOp {
  std::string id;
  std::string name;         // start, stop, monitor
  Millis interval{0};
  Millis timeout{0};
  std::string on_fail;      // empty = Pacemaker's default
  int check_level = 0;      // monitor only; 0 = not given
  bool operator==(const PcmkOp&) const = default;
};

struct PcmkPrimitive {
  std::string id;
  std::string cls;       // ocf, lsb, systemd, stonith
  std::string provider;  // ocf only
  std::string type;
  std::vector<PcmkAttr> params;
  std::vector<PcmkOp> ops;
  std::vector<PcmkAttr> meta;
  bool operator==(const PcmkPrimitive&) const = default;
};

struct PcmkGroup {
  std::string id;
  std::vector<PcmkPrimitive> members;  // in start order
  std::vector<PcmkAttr> meta;
  bool operator==(const PcmkGroup&) const = default;
};

// A location constraint: either `node` with `score` ("200", "-INFINITY"), or, when `allowed_nodes` is
// set, a rule with score -INFINITY on every node whose name is none of them.
struct PcmkLocation {
  std::string id, rsc;
  std::string node;
  std::string score;
  std::vector<std::string> allowed_nodes;
  bool operator==(const PcmkLocation&) const = default;
};

struct PcmkFencingLevel {
  std::string id, target;
  int index = 1;
  std::vector<std::string> devices;
  bool operator==(const PcmkFencingLevel&) const = default;
};

struct PcmkExport {
  std::vector<PcmkGroup> groups;
  std::vector<PcmkPrimitive> stonith;
  std::vector<PcmkLocation> locations;
  std::vector<PcmkFencingLevel> levels;
  // One line each, naming the service/resource/device concerned.
  std::vector<std::string> not_expressed;
  std::vector<std::string> approximations;
  // What the admin must do for the stonith resources to work (pacemaker_sbd.h), one step a line, in order.
  std::vector<std::string> sbd_setup;
};

// Location scores of a service's failover domain (first node, second node) and failback = no's stickiness.
inline constexpr int kPcmkPreferredScore = 200;
inline constexpr int kPcmkSecondScore = 100;
inline constexpr int kPcmkNoFailbackStickiness = 1000;

// Whether `id` is an XML NCName as the CIB schema requires of ids (ASCII subset: a letter or '_', then
// letters, digits, '.', '-', '_').
bool is_pcmk_id(std::string_view id);
// A Castor name (letters, digits, '.', '-', '_', starting with a letter or digit) as an id: unchanged,
// or "_" + name when it starts with a digit.
std::string pcmk_id(std::string_view castor_name);
// "5s" for whole seconds, else "500ms".
std::string pcmk_duration(Millis d);
// The ids of the nvpairs the renderers write: OWNER-meta_attributes-NAME, OWNER-instance_attributes-NAME.
std::string pcmk_meta_id(std::string_view owner, std::string_view name);
std::string pcmk_param_id(std::string_view owner, std::string_view name);

// The description of `services` and `fence`. Errors (invalid_argument): two objects would get the same id.
Result<PcmkExport> build_pacemaker_export(const std::vector<ServiceDefinition>& services,
                                          const std::vector<FenceDeviceConfig>& fence);

}  // namespace castor
