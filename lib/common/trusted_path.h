// Trusted paths: is a file or directory that Castor reads or runs (castor.ini, a service file, the services
// directory, an agent program, a control socket's directory) changeable only by root?
//
// Rule (modelled on sudo's and systemd's checks of what they read and run). "Root" below means uid 0 or
// the effective uid of the process checking (the daemons run as root, so for them only uid 0; a test suite
// run by an ordinary user trusts that user's own files, as ssh's StrictModes does):
//  - The path is resolved component by component from "/" (a relative path from the working directory),
//    following every symlink on the way, up to 40 of them.
//  - Every directory walked through ("/" included, the directories that hold a symlink and those its
//    target runs through) must be owned by root and not writable by group or others -- EXCEPT that a
//    root-owned directory with the sticky bit (like /tmp, mode 1777) is accepted on the way: in it nobody
//    but root and an entry's owner can rename, replace or remove that entry, so a root-owned entry there
//    stays root's.
//  - Every symlink met must be owned by root (a symlink's own mode means nothing).
//  - The object itself (file or directory) must be owned by root and not writable by group or others. The
//    sticky exception never applies to it: a directory like /tmp is not a trusted services directory.
//  - A component that does not exist is Code::not_found only if its directory is root's alone; in a
//    directory others can write to (a sticky one) anyone could create it after the check: refused.
// Must never open, read or change the object; only lstat(2)s and readlink(2)s the path. The check is a
// snapshot: callers that then open the file compare the fd's fstat with `TrustedObject` (same dev/ino).
#pragma once

#include <sys/stat.h>

#include <string>

#include "common/status.h"

namespace castor {

struct TrustedObject {
  std::string resolved;  // the absolute path with every symlink resolved
  struct stat st {};     // lstat of the object itself
};

// `what` names the object in messages ("service file"); errors are Code::refused with e.g.
// "/etc/castor/services.d/web.ini: writable by group (mode 0664); only root may be able to change a file
// Castor runs", Code::not_found / io_error when the path cannot be walked.
Result<TrustedObject> check_trusted_path(const std::string& path);

// Same, and the object must be the same file as `fd_stat` (the fstat of the fd the caller opened).
Status check_trusted_open_file(const std::string& path, const struct stat& fd_stat);

}  // namespace castor
