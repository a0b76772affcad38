// ServiceCgroup internals, exposed for tests only: the freeze-kill-thaw path that ServiceCgroup::kill_all()
// and kill_cgroup_tree() take when the kernel has no cgroup.kill (always on v1; on v2 before Linux 5.14).
// A host with cgroup.kill never reaches it through kill_all(), so root tests call it here to run it on
// cgroup v2. Production code must never call this: it uses kill_all() and kill_cgroup_tree().
#pragma once

#include <cstddef>
#include <string>

#include "agent/service_cgroup.h"
#include "common/status.h"

namespace castor::cgroup_internal {

// Freezes <top> (v2: cgroup.freeze, waits for "frozen 1" in cgroup.events; v1: freezer.state), SIGKILLs
// every process in it and below, thaws it. Returns how many were signalled; a <top> that does not exist:
// 0. Same function as kill_all()'s fallback, not a copy.
Result<size_t> freeze_kill_thaw(CgroupVersion version, const std::string& top);

}  // namespace castor::cgroup_internal
