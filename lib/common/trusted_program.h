// Trusted programs: is a program Castor runs as root (an agent, a script's '#!' interpreter, the program a
// '#!/usr/bin/env NAME' line runs) changeable only by root? common/trusted_path.h says so of one path; the
// kernel also runs a script's interpreter, so a root-owned script whose '#!' names a program others can
// replace is as unsafe as an unsafe script.
// Rule: the path passes check_trusted_path; if the file starts with "#!" (its first line, at most 256 bytes,
// the kernel's BINPRM_BUF_SIZE), the interpreter (first word after "#!"; relative: from "/", the agents'
// working directory) passes the same check, recursively (at most 4 interpreters, as the kernel allows). When
// the interpreter is env (its last component is "env"), the program env would run is checked too: the first
// word of env's argument that is not an option (nor the word after -u/-C) nor a NAME=VALUE assignment; a word
// with a '/' is a path (relative: from "/"), a bare name is looked up along `search_path` as execvp does,
// and every directory on the way must be root's alone up to the one that holds it (else anyone could
// plant NAME earlier in the PATH).
// Must never run, change or write anything: only lstat(2)s, readlink(2)s and reads the first 256 bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace castor {

// Ok, Code::refused (with the chain in the message: "PATH: #! interpreter X: ..."), or Code::not_found when
// `path` itself does not exist (where only root could create it). A missing interpreter or env program is
// not an error (nothing can run then). Other I/O errors: their codes.
Status check_trusted_program(const std::string& path, std::string_view search_path = "/usr/sbin:/usr/bin:/sbin:/bin");

// The program a shell command line starts when its first word (split on blanks) is an absolute path; ""
// otherwise (a builtin, a quoted word, a PATH lookup, an assignment...: the rest of a shell line is the
// service file's author's responsibility).
std::string shell_line_program(std::string_view line);

}  // namespace castor
