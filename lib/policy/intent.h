// Intent: what the placement policy (lib/policy/placement_policy.h) wants this node to do with one service
// -- hold it (run it, or claim it), release it (to the peer, or nowhere), or disable it -- and what the
// ownership protocol (svcmgr/ownership.h) then makes safe on the disk. In its own header so that the
// protocol takes the word without the policy.
// Must never hold any code or any I/O: a value only.
#pragma once

#include <cstdint>

namespace castor {

enum class Intent : uint8_t { release, hold, disable };

}  // namespace castor
