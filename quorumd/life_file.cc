#include "quorumd/life_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "common/durable_file.h"
#include "common/errno_status.h"
#include "common/read_file.h"
#include "common/value_parsers.h"

namespace castor {

std::string life_file_path(const std::string& state_dir, const Uuid& cluster, uint32_t node_id) {
  return state_dir + "/life." + cluster.to_string() + ".node-" + std::to_string(node_id);
}

std::string node_lock_path(const std::string& lock_dir, const Uuid& cluster, uint32_t node_id) {
  return lock_dir + "/quorumd." + cluster.to_string() + ".node-" + std::to_string(node_id) + ".lock";
}

Status make_dir_for(const std::string& path, mode_t mode) {
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return errno_status("mkdir", dir);
  return Status::Ok();
}

Result<uint32_t> read_life_file(const std::string& path) {
  auto text = read_file_to_string(path, 64);
  if (!text.ok()) {
    if (text.status().code() == Code::not_found) return uint32_t(0);
    return text.status().with_context("the life file");
  }
  std::string t = *text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  auto v = parse_integer(t, 0, 0xFFFFFFFFll);
  if (!v.ok())
    return Error(Code::corrupt, path + ": the life file holds '" + t + "', not a life number (0 to 4294967295); "
                                       "remove it only if this node's quorumd is stopped (the next life then "
                                       "follows the highest the disk shows)");
  return uint32_t(*v);
}

Status write_life_file(const std::string& path, uint32_t life) {
  RETURN_IF_ERROR(make_dir_for(path, 0700));
  return replace_file_durably(path, std::to_string(life) + "\n", 0600, "quorumd");
}

Result<uint32_t> next_life(uint32_t stored, uint32_t highest_on_disk) {
  const uint32_t top = std::max(stored, highest_on_disk);
  if (top == 0xFFFFFFFFu)
    return Error(Code::refused, "every life number of this node is used (4294967295 lives on this cluster): "
                                "initialise the quorum devices again (castor init --force)");
  return top + 1;
}

}  // namespace castor
