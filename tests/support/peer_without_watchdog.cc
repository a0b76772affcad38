#include "tests/support/peer_without_watchdog.h"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/aligned_buffer.h"
#include "disk/block_device.h"
#include "disk/disk_layout.h"
#include "disk/testing/memory_block_device.h"

namespace castor::testing {

void corrupt_heartbeat(Cluster& c, uint32_t id) {
  auto layout = *DiskLayout::for_sector_size(512);
  AlignedBuffer block(layout.block_size(), layout.block_size());
  for (size_t i = 0; i < block.span().size(); ++i) block.span()[i] = std::byte(0x5a ^ (i * 7));
  MemoryBlockDevice dev(c.disk(), "mem");
  REQUIRE(write_blocking(dev, c.clock(), layout.heartbeat_offset(id), block.span(), kIoTimeout).ok());
}

std::optional<bool> stored_peer_watchdog_fact(Node& n) {
  std::optional<bool> v;
  for (const auto& [path, f] : n.record.peer_watchdog_files) v = f;
  return v;
}

void hold_every_off(const std::string& power_dir) {
  std::ofstream hold(power_dir + "/hold-off");
  REQUIRE(hold.good());
}

bool alpha_declares_beta_dead(Cluster& c, Duration span) {
  bool dead = false;
  const TimePoint end = c.now() + span;
  while (c.now() < end && !dead) {
    c.step();
    dead = c.alpha().daemon && sees(c.alpha(), PeerView::dead);
  }
  return dead;
}

bool alpha_takes_beta_over(Cluster& c) {
  bool dead = false;
  for (int i = 0; i < 6000 && !dead; ++i) {
    c.step();
    if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    dead = sees(c.alpha(), PeerView::dead);
  }
  return dead;
}

}  // namespace castor::testing
