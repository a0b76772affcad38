#include "common/names.h"

#include <string>

#include "common/value_parsers.h"

namespace castor {

bool is_valid_service_name(std::string_view name) { return check_name(name).ok(); }

bool is_reserved_cgroup_name(std::string_view name) {
  if (name == "tasks" || name == "notify_on_release" || name == "release_agent") return true;
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view prefix = name.substr(0, dot);
  static constexpr std::string_view kPrefixes[] = {
      "cgroup", "cpu",     "cpuacct", "cpuset",  "memory",     "pids", "blkio", "io",
      "devices", "freezer", "net_cls", "net_prio", "hugetlb", "perf_event", "rdma", "misc"};
  for (std::string_view p : kPrefixes)
    if (prefix == p) return true;
  return false;
}

Status check_not_reserved_cgroup_name(std::string_view what, std::string_view name) {
  if (!is_reserved_cgroup_name(name)) return Status::Ok();
  return Error(Code::invalid_argument,
               std::string(what) + " '" + std::string(name) +
                   "' is reserved: every cgroup directory holds a kernel file of that name, so its cgroup "
                   "could not be created (names reserved: tasks, notify_on_release, release_agent, cgroup.*, "
                   "and <controller>.* such as memory.*, cpu.*, pids.*, freezer.*)");
}

}  // namespace castor
