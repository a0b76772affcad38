// Turns a failed syscall's errno into a Status that names the call and its object.
// Must never be called when the syscall succeeded (errno would be stale).
#pragma once

#include <string_view>

#include "common/status.h"

namespace castor {

// e.g. errno_status("open", "/dev/loop0") -> "io_error: open /dev/loop0: No such file or directory"
Status errno_status(std::string_view what, std::string_view object, int err);
Status errno_status(std::string_view what, std::string_view object);  // uses current errno

}  // namespace castor
