// GroupLookup: a group's id from its name (the system's group database, through NSS), for the settings
// that grant a group access (castor.ini's status_group, operator_group; castor-web's admin group) and the
// check that a user is a member of a group.
// Never caches (a group added later is found) and never throws; an unknown group is an error naming it.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace castor {

// not_found when no group has this name; an error naming the failing call otherwise.
Result<gid_t> lookup_group(const std::string& name);

// Whether user `user` is in group `gid` (as its primary group or a supplementary one).
// not_found when there is no such user.
Result<bool> user_in_group(const std::string& user, gid_t gid);

}  // namespace castor
