#include "svcmgr/definition_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/durable_file.h"
#include "common/errno_status.h"
#include "common/private_dir.h"
#include "common/read_file.h"
#include "common/trusted_path.h"
#include "common/unique_fd.h"
#include "common/value_parsers.h"
#include "config/service_loader.h"

namespace castor {
namespace {

// Reads a whole service file (at most kMaxServiceFileBytes); not_found when it does not exist.
Result<std::string> read_file(const std::string& path) { return read_file_to_string(path, kMaxServiceFileBytes); }

Status make_dirs(const std::string& dir) { return make_private_dir(dir, "the saved service definitions"); }

// Reads a saved copy: opened without following a symlink, a regular file, and root's alone through every
// directory on the way (checked against the opened fd). not_found when there is none.
Result<std::string> read_copy(const std::string& path) {
  // O_NONBLOCK: a FIFO planted there must not hang svcmgr (refused below as not a regular file).
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ELOOP) return Error(Code::refused, path + ": a symlink; a saved definition copy must be a file svcmgr wrote");
    if (errno == ENOENT) return Error(Code::not_found, path + ": no saved copy");
    return errno_status("open", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path);
  if (!S_ISREG(st.st_mode)) return Error(Code::refused, path + ": not a regular file");
  if (Status t = check_trusted_open_file(path, st); !t.ok()) return t.with_context("the saved definition copy");
  return read_fd_to_string(fd.get(), path, kMaxServiceFileBytes);
}

}  // namespace

Status DefinitionStore::save(const ServiceDefinition& def, const std::vector<std::string>& cluster_nodes) {
  if (dir_.empty()) return Status::Ok();
  Status st = save_copy(def, cluster_nodes);
  if (st.ok()) return st;
  // No new copy: the old one must not stand for the definition in force (the service would later be
  // stopped with another definition's stop). Keep it only if it is that definition; else remove it, so a
  // removed file leaves the service orphaned (an admin asked) rather than "stopped" with the wrong one.
  auto old = load(def.name, cluster_nodes);
  if (old.ok() && !old->has_value()) return st;
  if (old.ok()) {
    ServiceDefinition c = **old;
    c.file = def.file;
    if (c == def) return st;
  }
  if (Status rm = remove(def.name); !rm.ok()) return rm.with_context(st.to_string());
  return st;
}

Status DefinitionStore::save_copy(const ServiceDefinition& def, const std::vector<std::string>& cluster_nodes) {
  ASSIGN_OR_RETURN(const std::string path, path_of(def.name));
  auto text = read_file(def.file);
  if (!text.ok()) return text.status().with_context("saving a copy of " + def.name);
  LoadResult again = load_service_text(*text, def.file, cluster_nodes);
  if (!again.ok() || again.services.size() != 1 || !(again.services[0] == def))
    return Error(Code::refused, def.file + " changed since it was loaded: no copy saved of " + def.name + " now");
  RETURN_IF_ERROR(make_dirs(dir_));
  if (auto old = read_copy(path); old.ok() && *old == *text) return Status::Ok();
  return replace_file_durably(path, *text, 0600, "svcmgr");
}

Result<std::optional<ServiceDefinition>> DefinitionStore::load(const std::string& name,
                                                                const std::vector<std::string>& cluster_nodes) const {
  if (dir_.empty()) return std::optional<ServiceDefinition>();
  ASSIGN_OR_RETURN(const std::string path, path_of(name));
  // svcmgr runs what the copy says as root: read only a copy that only root can change (else refused).
  auto text = read_copy(path);
  if (!text.ok()) {
    if (text.status().code() == Code::not_found) return std::optional<ServiceDefinition>();
    return text.status();
  }
  // The copy keeps the name of the file it came from (in its definition), as when it was loaded.
  LoadResult r = load_service_text(*text, path, cluster_nodes);
  if (!r.ok()) return Error(Code::corrupt, "the saved copy of " + name + " does not load: " + r.error_text());
  if (r.services.size() != 1 || r.services[0].name != name)
    return Error(Code::corrupt, "the saved copy " + path + " does not define " + name);
  return std::optional<ServiceDefinition>(r.services[0]);
}

Status DefinitionStore::remove(const std::string& name) {
  if (dir_.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(const std::string path, path_of(name));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path);
  return Status::Ok();
}

Result<std::string> DefinitionStore::path_of(const std::string& name) const {
  // Only a valid service name (no '/', never "." or "..": it starts with a letter or digit) names a copy, so
  // that no path built here leaves the store's directory, whatever name a caller or a disk record brings.
  if (Status st = check_name(name); !st.ok())
    return Error(Code::invalid_argument, "not a service name, no saved definition copy: " + st.message());
  return dir_ + "/" + name + ".ini";
}

}  // namespace castor
