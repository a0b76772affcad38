#include "tools/standby_wait.h"

namespace castor {

std::optional<std::string> standby_unsettled(const ServicesReply& reply, const std::string& node) {
  const bool in_standby = node == reply.node ? reply.standby : reply.peer_standby;
  if (!in_standby) return node + " is not in standby yet";
  for (const auto& s : reply.services) {
    const bool moving = s.state == "starting" || s.state == "stopping" || s.state == "recovering";
    const bool on_its_way = s.state == "stopped" && s.pending && !s.pending_blocked;
    if (s.owner == node || moving || on_its_way)
      return s.name + " " + s.state + (s.owner.empty() ? "" : " on " + s.owner) + (s.pending ? "; " + *s.pending : "");
  }
  return std::nullopt;
}

}  // namespace castor
