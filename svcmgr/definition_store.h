// DefinitionStore: svcmgr's saved copies of the service definitions it has loaded (one file per service,
// NAME.ini under a state directory), so that a service whose file was removed while svcmgr was down can
// still be stopped — with the definition it ran under — before its entry is released (issue 12, item 10).
// A copy is the service file's text, saved only when it parses back to exactly the definition in force.
// Writes are atomic (temporary file, fsync, rename, fsync of the directory).
// svcmgr runs what a copy says as root, so the store must be root's alone: its directories are created 0700
// and the whole path must pass common/trusted_path.h (an existing directory others can write to is refused,
// never written to nor read from), a copy is read without following a symlink, the temporary file is always
// created new (O_EXCL|O_NOFOLLOW), and every path is built from a valid service name only (check_name: no
// '/', no ".."), so nothing here ever leaves the store's directory.
// Must never start or stop anything, nor decide what happens to a service; the daemon does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/service_definition.h"

namespace castor {

class DefinitionStore {
 public:
  DefinitionStore() = default;
  explicit DefinitionStore(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // Saves the text of def.file, if it still holds exactly `def` (re-parsed). No-op when the copy is
  // already the same text. When no copy of `def` could be saved, an older copy that is not `def` is
  // removed (a copy is the definition in force, or absent).
  Status save(const ServiceDefinition& def, const std::vector<std::string>& cluster_nodes);
  // The saved definition of `name`; nullopt when there is no copy. An unreadable or invalid copy is an error;
  // a copy (or store directory) anyone but root can change is Code::refused.
  Result<std::optional<ServiceDefinition>> load(const std::string& name,
                                               const std::vector<std::string>& cluster_nodes) const;
  // Removes the copy (the service is gone and released); a missing copy is fine. Every call refuses
  // (Code::invalid_argument) a name that is not a valid service name.
  Status remove(const std::string& name);

 private:
  Status save_copy(const ServiceDefinition& def, const std::vector<std::string>& cluster_nodes);
  Result<std::string> path_of(const std::string& name) const;
  std::string dir_;
};

}  // namespace castor
