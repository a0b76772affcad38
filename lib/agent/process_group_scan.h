// Whether a process group still has a live member. kill(-pgid, 0) answers "none at all" cheaply; when it
// finds members, /proc tells whether any of them is still alive (killed members that were reparented
// linger as zombies until their new parent reaps them, and in a container PID 1 may never do so).
// Never signals anything; only reads /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace castor {

// true when a member that is not a zombie exists — or when /proc cannot be read (assume the worst).
bool group_has_live_member(pid_t pgid);

// How many /proc scans group_has_live_member() made in this process (the cheap "no member at all" answers
// not counted): for tests that check a caller's scan rate.
uint64_t group_scans();

}  // namespace castor
