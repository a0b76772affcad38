// Reading a whole (small) file into a string: one read loop for the service-definition copies, /proc and
// /sys, with every open/read error returned as a value (EINTR retried, ENOENT -> Code::not_found).
// Must never block on anything but the read itself, nor return a truncated text as if it were whole.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

// All of fd's remaining bytes. name is used in the error texts ("read NAME: ..."); more than max_bytes
// fails with Code::invalid_argument ("NAME is larger than MAX bytes").
Result<std::string> read_fd_to_string(int fd, std::string_view name,
                                      size_t max_bytes = std::numeric_limits<size_t>::max());

// Opens path read-only (O_CLOEXEC) and reads it whole, as read_fd_to_string.
Result<std::string> read_file_to_string(const std::string& path,
                                        size_t max_bytes = std::numeric_limits<size_t>::max());

}  // namespace castor
