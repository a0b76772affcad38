#include "quorumd/peer_watchdog_file.h"

#include "common/durable_file.h"
#include "common/read_file.h"
#include "quorumd/life_file.h"

namespace castor {

std::string peer_watchdog_file_path(const std::string& state_dir, const Uuid& cluster, uint32_t node_id) {
  return state_dir + "/peer-watchdog." + cluster.to_string() + ".node-" + std::to_string(node_id);
}

Result<std::optional<bool>> read_peer_watchdog_file(const std::string& path) {
  auto text = read_file_to_string(path, 64);
  if (!text.ok()) {
    if (text.status().code() == Code::not_found) return std::optional<bool>();
    return text.status().with_context("the peer-watchdog file");
  }
  if (*text == "none\n") return std::optional<bool>(true);
  if (*text == "ok\n") return std::optional<bool>(false);
  return Error(Code::corrupt, path + ": the peer-watchdog file holds '" + *text +
                                  "', not 'none' or 'ok'; write 'none' there if the peer may run without a "
                                  "watchdog (its services are then taken over only after a confirmed power fence "
                                  "or its clean leave), 'ok' if it runs with one");
}

Status write_peer_watchdog_file(const std::string& path, bool peer_without_watchdog) {
  RETURN_IF_ERROR(make_dir_for(path, 0700));
  return replace_file_durably(path, peer_without_watchdog ? "none\n" : "ok\n", 0600, "quorumd");
}

}  // namespace castor
