// A private directory of a daemon's state (svcmgr's saved definitions, its event history): the missing
// directories of the path are created 0700 (the daemons run as root), then the whole path must be root's
// alone (common/trusted_path.h): a directory anyone else can write to (an existing one with another owner
// or mode 0777, a symlink others own...) is refused, never written to nor read from.
// Must never change an existing directory's owner or mode, nor follow the path anywhere but as
// check_trusted_path resolves it.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

// `what` names the directory in messages ("the saved service definitions").
Status make_private_dir(const std::string& dir, std::string_view what);

}  // namespace castor
