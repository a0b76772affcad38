// Test support for the in-process tests of a peer without a watchdog (beta) as alpha sees it: beta's
// heartbeat block damaged, a fence of beta that never confirms, and alpha's verdict watched while the
// cluster runs. Never used by production code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "tests/support/inprocess_quorumd.h"

namespace castor::testing {

// Garbage over node `id`'s heartbeat block (a torn or damaged write): it no longer decodes.
void corrupt_heartbeat(Cluster& c, uint32_t id);
// The file fence agent whose power is `power_dir` holds every off (tests/support/file_fence_agent.h): a fence
// of that node never confirms, so any DEAD verdict on it is the dead time's.
void hold_every_off(const std::string& power_dir);
// Steps the cluster in fake time for `span`; true if alpha declared beta dead at any moment.
bool alpha_declares_beta_dead(Cluster& c, Duration span);
// Steps the cluster paced in real time (the fence agent is a real process) for up to 6000 steps; true once
// alpha sees beta dead (by a confirmed fence, for a peer without a watchdog).
bool alpha_takes_beta_over(Cluster& c);
// What node `n`'s peer-watchdog file holds now (true: "none", false: "ok"), nullopt when it has none.
std::optional<bool> stored_peer_watchdog_fact(Node& n);

}  // namespace castor::testing
