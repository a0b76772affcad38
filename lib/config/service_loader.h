// Service loader: reads service definition files (one service per *.ini file in a directory, default
// /etc/castor/services.d) through the INI reader (common/ini_reader.h, built on inih) into
// ServiceDefinitions, reporting every problem as file:line.
//
// A file with any error contributes no service. The caller keeps the definition it had in force before
// for that service (or none) and reports the errors; a broken edit must never take a running service's
// definition away. A service name defined in two files is an error for every file involved, and neither
// file contributes a service.
//
// File format (etc/services.d/*.ini are complete examples):
//   [service]            name, nodes (required); failback, autostart, recovery, max_restarts,
//                        restart_window, start_timeout, stop_timeout, monitor_interval, monitor_timeout
//   [resource NAME]      agent (required: ocf:PROVIDER:TYPE | lsb:NAME | systemd:UNIT | exec);
//                        start_timeout, stop_timeout, monitor_interval, monitor_timeout (override the
//                        service's); ocf: param.NAME, check_level; exec: start, stop, monitor, shell
// Syntax (comments, whitespace, no continuation lines, 4096-byte lines) is the INI reader's, the same for
// castor.ini. Keys, section names and enum values are case-sensitive; booleans, durations, integers and
// names follow common/value_parsers.h (booleans in any case). Unknown sections and keys, a key given
// twice, a second [service] and a resource defined twice are errors.
//
// Limits: lines of at most 4096 bytes, files of at most 4 MiB, 64 resources per service, 256 keys per
// section, 1024 service files, 100 errors per file.
//
// Trust: a service file, and the services directory, must be owned by root and not writable by group or
// others, through every directory and symlink on the way (common/trusted_path.h); otherwise the file (the
// whole directory) is an error ("writable by group (mode 0664); only root may be able to change a file
// Castor runs"). load_service_text checks nothing of the kind: its text has no file.
//
// Must never throw, start or stop anything, or look at agents on this host (check_agents_exist does).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/service_definition.h"

namespace castor {

inline constexpr const char* kDefaultServiceDir = "/etc/castor/services.d";
inline constexpr size_t kMaxServiceLineLength = 4096;    // bytes, without the newline
inline constexpr size_t kMaxServiceFileBytes = 4 << 20;  // 4 MiB
inline constexpr size_t kMaxServiceFiles = 1024;
inline constexpr size_t kMaxKeysPerSection = 256;
inline constexpr size_t kMaxErrorsPerFile = 100;

struct LoadResult {
  std::vector<ServiceDefinition> services;
  std::vector<LoadError> errors;

  bool ok() const { return errors.empty(); }
  // Every error's to_string(), one per line.
  std::string error_text() const;
};

// One service file. Errors name `path` as given.
LoadResult load_service_file(const std::string& path, const std::vector<std::string>& cluster_nodes);
// The same from memory (tests, fuzzing, definitions received from elsewhere); errors name `file_name`.
LoadResult load_service_text(const std::string& text, const std::string& file_name,
                             const std::vector<std::string>& cluster_nodes);
// Every regular file in `dir` whose name ends in ".ini" (names starting with '.' are skipped: editor
// leftovers), in byte order of their names, then the cross-file checks. Other files are ignored. Services
// come back in the order of their files. More than 1024 files: the first 1024 are loaded and every later
// one gets an error.
// An empty cluster_nodes accepts any node name (castor check without --nodes).
LoadResult load_service_dir(const std::string& dir, const std::vector<std::string>& cluster_nodes);

}  // namespace castor
