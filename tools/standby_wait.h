// When `castor standby NODE --wait` may return: NODE is in standby, runs no service, and every move its
// standby caused has settled, judged from one `services` reply of either node. Pure: no I/O, no clock; it
// must never say "settled" while a service is still on its way to the peer (released by NODE, not yet
// claimed there), which a reply shows as stopped with a relocation pending that nothing blocks.
#pragma once

#include <optional>
#include <string>

#include "control/services_codec.h"

namespace castor {

// std::nullopt when settled; else the first service that is not, as "NAME STATE[ on OWNER][; PENDING]"
// (or "NODE is not in standby yet").
std::optional<std::string> standby_unsettled(const ServicesReply& reply, const std::string& node);

}  // namespace castor
