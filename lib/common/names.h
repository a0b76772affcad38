// Names that become file or cgroup path components: service names (service files, service table entries
// on the quorum disk, the saved definition copies, `castor reset NAME`) and node names (a service's cgroup
// is <parent>/<node>/<service>). One rule, so a name read from the disk or typed by an admin is held to
// what a service file may say. Must never accept a name that could leave a directory ('/', "..").
#pragma once

#include <string_view>

#include "common/status.h"

namespace castor {

// A service name: 1-63 of [A-Za-z0-9._-], starting with a letter or digit -- check_name in
// common/value_parsers.h, the rule of lib/config's service files (and of lib/disk's check_name for node
// and cluster names, which is the same rule). Such a name holds no '/' and is never "." or "..".
bool is_valid_service_name(std::string_view name);

// Whether `name` is the name of a file the kernel puts in every cgroup directory, so a cgroup (a service
// or a node) of that name cannot be created: "tasks", "notify_on_release", "release_agent", "cgroup.*",
// and "<controller>.*" for the v1/v2 controllers (cpu, cpuacct, cpuset, memory, pids, blkio, io, devices,
// freezer, net_cls, net_prio, hugetlb, perf_event, rdma, misc).
bool is_reserved_cgroup_name(std::string_view name);

// Code::invalid_argument "<what> '<name>' is reserved: every cgroup directory holds a kernel file of that
// name ..." if is_reserved_cgroup_name(name); Ok otherwise.
Status check_not_reserved_cgroup_name(std::string_view what, std::string_view name);

}  // namespace castor
