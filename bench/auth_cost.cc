// bench-auth: what authenticating quorum-disk records (issue 14, disk/record_seal.h) costs in CPU.
// Times, per block, the seal (encode + tag + CRC) and the verify (CRC + tag + decode) of a heartbeat at
// 4096- and 8192-byte blocks, CRC only and HMAC-SHA256; then quorumd's cost per renew interval R = T/2:
// per R it seals 1 heartbeat and verifies 1 own heartbeat read-back, 1 peer heartbeat and the peer region
// svcmgr's table-peer asks for every R (1 epoch record + 34 table blocks) = 1 seal + 37 verifies (the
// scrub's 35 writes a minute are left out: < 0.1 % of those). Prints µs and % of one core for T = 200 ms.
// A figure, never an assertion. Run: make bench-auth   (or build/bench/auth_cost [iterations])
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/auth_key.h"
#include "common/clock.h"
#include "disk/disk_layout.h"
#include "disk/heartbeat_record.h"
#include "disk/record_seal.h"
#include "quorumd/peer_region.h"

using namespace castor;

namespace {

// This thread's CPU time: the cost asked for, and less disturbed than wall time by other load on the host.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// The median of `runs` timings of `iterations` calls of f, in ns of CPU time per call.
template <typename F>
double median_ns(int runs, int iterations, F&& f) {
  std::vector<double> per;
  for (int r = 0; r < runs; ++r) {
    const double t0 = thread_cpu_ns();
    for (int i = 0; i < iterations; ++i) f(i);
    per.push_back((thread_cpu_ns() - t0) / iterations);
  }
  std::sort(per.begin(), per.end());
  return per[per.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20000;
  std::vector<std::byte> key_bytes(32);
  for (size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = std::byte(uint8_t(i * 29 + 3));
  auto hmac = disk_record_seal(AuthKey(key_bytes));
  if (!hmac.ok()) {
    std::fprintf(stderr, "bench-auth: %s\n", hmac.status().to_string().c_str());
    return 1;
  }
  const Millis io_timeout{200};
  const Millis renew = io_timeout / 2;
  const int verifies_per_renew = 2 + int(kPeerRegionReadBlocks);  // own + peer heartbeat, peer region
  std::printf("bench-auth: CPU time per block (thread CPU clock), median of 7 runs of %d\n", iterations);
  std::printf("%-6s %-12s %10s %10s   per renew interval R=%lldms (1 seal + %d verifies)\n", "block", "seal",
              "seal_us", "verify_us", static_cast<long long>(renew.count()), verifies_per_renew);
  double crc_cost[2] = {0, 0};
  int row = 0;
  for (uint32_t block_size : {4096u, 8192u}) {
    const DiskLayout layout = *DiskLayout::for_sector_size(block_size == 4096 ? 512 : 8192);
    for (int s = 0; s < 2; ++s) {
      const RecordSeal seal = s == 0 ? RecordSeal::crc_only() : *hmac;
      HeartbeatRecord hb;
      hb.cluster_uuid.bytes[0] = 1;
      hb.node_id = 2;
      hb.incarnation = 12345;
      std::vector<std::byte> block(layout.block_size());
      volatile uint64_t sink = 0;
      const double seal_ns = median_ns(7, iterations, [&](int i) {
        hb.seq = uint64_t(i) + 1;
        encode_heartbeat(hb, layout, seal, block);
        sink = sink + uint64_t(block[12]);
      });
      const double verify_ns = median_ns(7, iterations, [&](int) {
        auto r = decode_heartbeat(block, layout, 2, seal);
        if (!r.ok()) std::abort();
        sink = sink + r->seq;
      });
      const double per_renew_us = (seal_ns + verifies_per_renew * verify_ns) / 1000.0;
      const double core_pct = per_renew_us / (double(renew.count()) * 1000.0) * 100.0;
      if (s == 0) crc_cost[row] = per_renew_us;
      std::printf("%-6u %-12s %10.2f %10.2f   %8.1f us = %.4f %% of one core", block_size, seal.describe(),
                  seal_ns / 1000.0, verify_ns / 1000.0, per_renew_us, core_pct);
      if (s == 1)
        std::printf("  (+%.1f us, +%.4f %% over CRC only)", per_renew_us - crc_cost[row],
                    (per_renew_us - crc_cost[row]) / (double(renew.count()) * 1000.0) * 100.0);
      std::printf("\n");
    }
    ++row;
  }
  return 0;
}
