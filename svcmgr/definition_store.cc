#include "svcmgr/definition_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_status.h"
#include "common/read_file.h"
#include "common/unique_fd.h"
#include "config/service_loader.h"

namespace castor {
namespace {

// Reads a whole service file or saved copy (at most kMaxServiceFileBytes); not_found when it does not exist.
Result<std::string> read_file(const std::string& path) { return read_file_to_string(path, kMaxServiceFileBytes); }

Status make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return errno_status("mkdir", part);
  }
  return Status::Ok();
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno_status("open", dir);
  if (::fsync(fd.get()) != 0) return errno_status("fsync", dir);
  return Status::Ok();
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
  auto text = read_file(def.file);
  if (!text.ok()) return text.status().with_context("saving a copy of " + def.name);
  LoadResult again = load_service_text(*text, def.file, cluster_nodes);
  if (!again.ok() || again.services.size() != 1 || !(again.services[0] == def))
    return Error(Code::refused, def.file + " changed since it was loaded: no copy saved of " + def.name + " now");
  const std::string path = path_of(def.name);
  if (auto old = read_file(path); old.ok() && *old == *text) return Status::Ok();
  RETURN_IF_ERROR(make_dirs(dir_));
  const std::string tmp = path + ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return errno_status("open", tmp);
    size_t done = 0;
    while (done < text->size()) {
      ssize_t n = ::write(fd.get(), text->data() + done, text->size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("write", tmp);
      }
      done += size_t(n);
    }
    if (::fsync(fd.get()) != 0) return errno_status("fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_status("rename", tmp);
  return fsync_dir(dir_);
}

Result<std::optional<ServiceDefinition>> DefinitionStore::load(const std::string& name,
                                                                const std::vector<std::string>& cluster_nodes) const {
  if (dir_.empty()) return std::optional<ServiceDefinition>();
  auto text = read_file(path_of(name));
  if (!text.ok()) {
    if (text.status().code() == Code::not_found) return std::optional<ServiceDefinition>();
    return text.status();
  }
  // The copy keeps the name of the file it came from (in its definition), as when it was loaded.
  LoadResult r = load_service_text(*text, path_of(name), cluster_nodes);
  if (!r.ok()) return Error(Code::corrupt, "the saved copy of " + name + " does not load: " + r.error_text());
  if (r.services.size() != 1 || r.services[0].name != name)
    return Error(Code::corrupt, "the saved copy " + path_of(name) + " does not define " + name);
  return std::optional<ServiceDefinition>(r.services[0]);
}

Status DefinitionStore::remove(const std::string& name) {
  if (dir_.empty()) return Status::Ok();
  if (::unlink(path_of(name).c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path_of(name));
  return Status::Ok();
}

}  // namespace castor
