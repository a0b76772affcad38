// Replacing a small file durably: the new content goes to PATH.tmp (a new file, never opened through a link,
// never an existing file truncated), is fsynced, renamed over PATH, and the directory is fsynced, so after a
// crash PATH holds the old content or the new, whole. For svcmgr's saved definitions and quorumd's life file.
// A stale PATH.tmp (a crash between open and rename) is removed only if it is what we leave behind: a regular
// file of root's or of this process's user; anything else there is refused (not our doing).
// Must never follow a symlink at PATH.tmp, leave PATH.tmp behind on a failure it can undo, or report success
// before the directory's fsync.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

// `who` names the writer in the refusal ("svcmgr", "quorumd").
Status replace_file_durably(const std::string& path, std::string_view content, mode_t mode, std::string_view who);

}  // namespace castor
