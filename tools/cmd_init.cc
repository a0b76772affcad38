// castor init: write a fresh quorum disk, after making sure nothing of value is on the device.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <iostream>
#include <limits>
#include <optional>

#include "common/aligned_buffer.h"
#include "common/auth_key.h"
#include "common/byte_codec.h"
#include "common/clock.h"
#include "common/errno_status.h"
#include "common/names.h"
#include "common/unique_fd.h"
#include "disk/aio_block_device.h"
#include "disk/disk_layout.h"
#include "disk/disk_snapshot.h"
#include "disk/quorum_disk_init.h"
#include "disk/record_seal.h"
#include "disk/superblock.h"
#include "common/cli_args.h"
#include "tools/cli_commands.h"
#include "disk/device_probe.h"
#include "tools/exit_codes.h"
#include "disk/wipe_signatures.h"

namespace castor {
namespace {

constexpr Duration kToolIoTimeout = std::chrono::seconds(30);
// The longest dead time of any disk castor init accepts: 6 x the longest io_timeout (lib/disk/timing.h).
constexpr Duration kLongestDeadTime = 6 * Duration(Timing::kMaxIoTimeout);

const char* kInitHelp =
    "Usage: castor init DEVICE [DEVICE2 DEVICE3] --cluster NAME --nodes A,B [--io-timeout MS]\n"
    "                   [--force [--watch S]] [--authenticate [--authkey PATH]]\n"
    "\n"
    "Writes a new, empty quorum disk: a superblock (cluster name and UUID, the two nodes, the timing\n"
    "derived from --io-timeout) with a backup copy, and an empty region per node.\n"
    "With three devices, a set of quorum devices: each gets the same cluster and its own place in the set,\n"
    "and the nodes then run on whichever majority of them answers (list all three in castor.ini's device).\n"
    "\n"
    "  DEVICE            a path, or LABEL=, UUID=, PARTUUID=, PARTLABEL= (resolved with libblkid)\n"
    "  --cluster NAME    cluster name (1-63 of A-Z a-z 0-9 . _ -)\n"
    "  --nodes A,B       the two node names, in node-id order (A is node 1, B is node 2)\n"
    "  --io-timeout MS   disk I/O timeout T in ms (even, 20..600000; default 2000). Every other timeout\n"
    "                    follows from it: renew T/2, lease 3T, kill grace T, watchdog T, dead time 6T.\n"
    "                    With a hardware watchdog (whole seconds) T must be a multiple of 1000.\n"
    "  --force           overwrite a device that holds a filesystem, RAID member, partition table or a\n"
    "                    Castor disk (its signatures are wiped). Never overrides: mounted, in use,\n"
    "                    read-only, too small, and a Castor disk whose nodes are running: on a Castor\n"
    "                    disk, init first watches both heartbeat blocks for the dead time (6 x the\n"
    "                    disk's io_timeout, also read from a superblock copy this version refuses, e.g.\n"
    "                    an older init's, if its CRC holds) and refuses if either changes. Then it\n"
    "                    carries the highest service epoch of the old disk (both epoch floors, every\n"
    "                    table entry, any cluster) into the new epoch records: epochs only grow.\n"
    "                    An authenticated old disk is read with the key (--authenticate --authkey;\n"
    "                    refused without it): records whose tag does not verify are ignored, with a\n"
    "                    warning. A floor of 2^64-1 (no epoch left above it) is refused (exit 9).\n"
    "  --watch S         with --force: watch the heartbeats at least S seconds. Required (S >= 3600,\n"
    "                    6 x the longest io_timeout) when no superblock copy gives the io_timeout:\n"
    "                    without it init refuses such a disk (exit 9).\n"
    "  --authenticate    every record carries an HMAC-SHA256 tag made with the cluster key, and the\n"
    "                    superblock says so: quorumd then needs authenticate_disk = yes and the same key\n"
    "                    (both nodes), and refuses any record whose tag does not verify, so someone who\n"
    "                    can write to the disk but lacks the key cannot forge a DOWN or a service request.\n"
    "  --authkey PATH    the cluster key for --authenticate (default /etc/castor/authkey; castor keygen)\n"
    "\n"
    "Refuses (exit 4) a device with content, (5) a mounted or in-use one, (6) a read-only one, (7) one that\n"
    "is too small or has an unsupported sector size, (9) a Castor disk whose io_timeout is unknown\n"
    "(--force without --watch 3600), (10) a Castor disk whose heartbeats are changing (--force). See `castor --help` for all exit codes.\n";

// What the device holds of a Castor disk, if anything: a Castor record (magic) in either superblock copy or
// either heartbeat block. `sb` is the superblock in force (primary, else backup) if one decodes. `dead` is
// the dead time its nodes run with, when init can know it: from `sb`, else from the raw timing fields of a
// copy that the current format refuses but whose integrity holds (an older init's disk: its W = 2T fails
// today's formula, but its io_timeout is what its nodes renew by). `dead_source` says where it came from.
struct ExistingCastorDisk {
  std::string description;  // "demo (UUID ...)" when a superblock decodes, else empty
  std::optional<Superblock> sb;
  std::optional<Duration> dead;
  std::string dead_source;        // e.g. "the dead time, 6 x io_timeout" or why it is unknown
};

bool starts_with_magic(std::span<const std::byte> block) {
  ByteReader r(block);
  return r.u32() == kMagic;
}

Result<std::optional<ExistingCastorDisk>> existing_castor_disk(BlockDevice& dev, const Clock& clock, const DiskLayout& layout) {
  if (dev.geometry().size_bytes < layout.required_bytes()) return std::optional<ExistingCastorDisk>();
  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory");
  bool castor = false;
  std::optional<Superblock> sb;
  std::optional<RawSuperblockTiming> raw;  // the longest of the copies whose raw timing can be believed
  std::string raw_why;                     // why the copies give no timing
  for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()}) {
    RETURN_IF_ERROR(read_blocking(dev, clock, off, block.span(), kToolIoTimeout).with_context(dev.name()));
    const std::string copy = off == 0 ? "primary copy" : "backup copy";
    if (!starts_with_magic(block.span())) {
      raw_why += (raw_why.empty() ? "" : "; ") + copy + " holds no Castor record";
      continue;
    }
    castor = true;
    if (auto d = decode_superblock(block.span(), layout, RecordSeal::tag_unchecked()); d.ok() && !sb) sb = *d;
    if (auto t = raw_superblock_timing(block.span(), layout); t.ok()) {
      if (!raw || t->dead > raw->dead) raw = *t;
    } else {
      raw_why += (raw_why.empty() ? "" : "; ") + copy + ": " + t.status().message();
    }
  }
  for (uint32_t id = 1; id <= kNodeCount && !castor; ++id) {
    RETURN_IF_ERROR(read_blocking(dev, clock, layout.heartbeat_offset(id), block.span(), kToolIoTimeout).with_context(dev.name()));
    castor = starts_with_magic(block.span());
  }
  if (!castor) return std::optional<ExistingCastorDisk>();
  ExistingCastorDisk e;
  e.sb = sb;
  e.description = sb ? sb->cluster_name + " (UUID " + sb->cluster_uuid.to_string() + ")" : std::string();
  if (sb) {
    e.dead = Duration(sb->timing.dead);
    e.dead_source = "the dead time, 6 x io_timeout";
  } else if (raw) {
    e.dead = Duration(raw->dead);
    e.dead_source = "the dead time of the io_timeout " + std::to_string(raw->io_timeout.count()) +
                    "ms recorded in a superblock copy this version does not accept";
  } else {
    e.dead_source = raw_why;
  }
  return std::optional<ExistingCastorDisk>(std::move(e));
}

void sleep_until(const Clock& clock, TimePoint t) {
  for (TimePoint now = clock.now(); now < t; now = clock.now()) {
    const Duration d = t - now;
    timespec ts{time_t(d.count() / 1000000000), long(d.count() % 1000000000)};
    ::nanosleep(&ts, nullptr);  // EINTR: the loop re-reads the clock
  }
}

// --force never overwrites a Castor disk that is in use: reads both heartbeat blocks, then again every
// poll interval, until a read issued at least `dead` after the first one completed. Returns the node id
// whose heartbeat block changed (a running quorumd renews it every io_timeout/2), or 0 if neither did.
// A node that did not write for the dead time is one its peer would declare dead: overwriting is safe.
Result<uint32_t> changed_heartbeat(BlockDevice& dev, const Clock& clock, const DiskLayout& layout, Duration dead,
                                   Duration poll) {
  std::array<AlignedBuffer, kNodeCount> first, now;
  for (uint32_t i = 0; i < kNodeCount; ++i) {
    first[i] = AlignedBuffer(layout.block_size(), layout.block_size());
    now[i] = AlignedBuffer(layout.block_size(), layout.block_size());
    if (!first[i].valid() || !now[i].valid()) return Error(Code::internal, "out of memory");
    RETURN_IF_ERROR(read_blocking(dev, clock, layout.heartbeat_offset(i + 1), first[i].span(), kToolIoTimeout)
                        .with_context("reading the heartbeat of node " + std::to_string(i + 1)));
  }
  const TimePoint until = clock.now() + dead;
  for (;;) {
    const TimePoint issued = clock.now();
    for (uint32_t i = 0; i < kNodeCount; ++i) {
      RETURN_IF_ERROR(read_blocking(dev, clock, layout.heartbeat_offset(i + 1), now[i].span(), kToolIoTimeout)
                          .with_context("reading the heartbeat of node " + std::to_string(i + 1)));
      if (!std::equal(first[i].span().begin(), first[i].span().end(), now[i].span().begin())) return i + 1;
    }
    if (issued >= until) return 0u;
    sleep_until(clock, std::min(clock.now() + poll, until));
  }
}

Result<std::array<NodeEntry, kNodeCount>> parse_nodes(const std::string& text) {
  auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
    return Error(Code::invalid_argument, "--nodes takes exactly two names: A,B");
  std::array<NodeEntry, kNodeCount> nodes{NodeEntry{1, text.substr(0, comma)}, NodeEntry{2, text.substr(comma + 1)}};
  for (const auto& n : nodes) {
    RETURN_IF_ERROR(check_name("node name", n.name));
    RETURN_IF_ERROR(check_not_reserved_cgroup_name("node name", n.name));  // castor/<node> is a cgroup
  }
  if (nodes[0].name == nodes[1].name) return Error(Code::invalid_argument, "the two node names must differ");
  return nodes;
}

Status sync_device(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_status("open", path);
  if (::fsync(fd.get()) != 0) return errno_status("fsync", path);
  return Status::Ok();
}

}  // namespace

int cmd_init(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--cluster", true},
                                    {"--nodes", true},
                                    {"--io-timeout", true},
                                    {"--force", false},
                                    {"--watch", true},
                                    {"--authenticate", false},
                                    {"--authkey", true}});
  if (!args.ok()) return report_error("init", args.status());
  if (args->has("--help")) {
    std::cout << kInitHelp;
    return kExitOk;
  }
  if (args->positional.size() != 1 && args->positional.size() != kQuorumDevices)
    return report_error("init", Error(Code::invalid_argument, "expected one DEVICE, or three for a set of quorum "
                                                              "devices (see castor init --help)"));
  auto cluster = args->value("--cluster");
  auto nodes_text = args->value("--nodes");
  if (!cluster || !nodes_text)
    return report_error("init", Error(Code::invalid_argument, "--cluster NAME and --nodes A,B are required"));
  const bool force = args->has("--force");
  std::optional<Duration> watch;
  if (auto v = args->value("--watch")) {
    auto parsed = parse_int(*v, 1, 7 * 24 * 3600, "--watch");
    if (!parsed.ok()) return report_error("init", parsed.status());
    if (!force) return report_error("init", Error(Code::invalid_argument, "--watch goes with --force"));
    watch = Duration(std::chrono::seconds(*parsed));
  }
  uint64_t epoch_floor = 0;  // the highest epoch of the Castor disk overwritten (--force), else 0
  const bool authenticate = args->has("--authenticate");
  if (args->value("--authkey") && !authenticate)
    return report_error("init", Error(Code::invalid_argument, "--authkey goes with --authenticate"));
  const std::string authkey = args->value("--authkey").value_or(kDefaultAuthKeyPath);
  RecordSeal seal = RecordSeal::crc_only();
  if (authenticate) {  // before anything is looked at or written: a missing or unsafe key stops init here
    auto key = load_auth_key(authkey);
    if (!key.ok()) return report_error("init", key.status().with_context("--authenticate"));
    auto s = disk_record_seal(*key);
    if (!s.ok()) return report_error("init", s.status());
    seal = *s;
  }

  Superblock sb;
  sb.cluster_name = *cluster;
  if (Status st = check_name("cluster name", sb.cluster_name); !st.ok()) return report_error("init", st);
  auto nodes = parse_nodes(*nodes_text);
  if (!nodes.ok()) return report_error("init", nodes.status());
  sb.nodes = *nodes;
  int64_t io_ms = Timing::kDefaultIoTimeout.count();
  if (auto v = args->value("--io-timeout")) {
    auto parsed = parse_int(*v, Timing::kMinIoTimeout.count(), Timing::kMaxIoTimeout.count(), "--io-timeout");
    if (!parsed.ok()) return report_error("init", parsed.status());
    io_ms = *parsed;
  }
  auto timing = Timing::from_io_timeout(Millis(io_ms));
  if (!timing.ok()) return report_error("init", timing.status());
  sb.timing = *timing;

  // Find each device and everything that might forbid writing to it; nothing is written before every
  // device has passed.
  BootClock clock;
  struct Target {
    std::string path;
    DeviceInfo info;
  };
  std::vector<Target> targets;
  std::optional<DiskLayout> set_layout;
  for (const std::string& spec : args->positional) {
  auto path = resolve_device(spec);
  if (!path.ok()) return report_error("init", path.status());
  for (const Target& t : targets)
    if (t.path == *path) return report_error("init", Error(Code::invalid_argument, spec + " is " + *path + ", listed twice"));
  auto info = probe_device(*path);
  if (!info.ok()) return report_error("init", info.status());
  auto layout = DiskLayout::for_sector_size(info->logical_sector_size);
  if (!layout.ok()) return report_error("init", layout.status().with_context(*path));
  if (set_layout && set_layout->sector_size() != layout->sector_size())
    return report_error("init", Error(Code::invalid_argument, "the devices of a set must have one logical sector size: " +
                                                                  targets.front().path + " has " +
                                                                  std::to_string(set_layout->sector_size()) + ", " + *path +
                                                                  " has " + std::to_string(layout->sector_size())));
  set_layout = *layout;

  std::optional<ExistingCastorDisk> existing;
  std::optional<std::string> existing_name;
  {
    auto ro = AioBlockDevice::open(*path, AioBlockDevice::OpenMode::read_only);
    if (!ro.ok()) return report_error("init", ro.status());
    // A device too small or unreadable is judged by check_device_for_init (size) or fails below (I/O).
    if (ro->get()->geometry().size_bytes >= layout->required_bytes()) {
      auto found = existing_castor_disk(**ro, clock, *layout);
      if (!found.ok()) return report_error("init", found.status());
      existing = *found;
    }
    if (existing) existing_name = existing->description;
    if (Status st = check_device_for_init(*info, layout->required_bytes(), force, existing_name); !st.ok())
      return report_error("init", st);
    if (existing) {
      // --force: never over a disk whose nodes are still writing. Watch both heartbeats for the dead time
      // its nodes run with; when no superblock copy tells it, a node may renew as rarely as every
      // kMaxIoTimeout/2, so only an explicit --watch of at least kLongestDeadTime is accepted.
      Duration dead{};
      std::string why;
      if (existing->dead) {
        dead = *existing->dead;
        why = existing->dead_source;
        if (watch && *watch > dead) {
          dead = *watch;
          why = "--watch";
        }
      } else if (watch && *watch >= kLongestDeadTime) {
        dead = *watch;
        why = "--watch; no superblock copy gives the io_timeout";
      } else {
        std::cerr << "castor init: refused: " << *path << " holds a Castor quorum disk but no superblock copy gives "
                  << "its io_timeout (" << existing->dead_source << "). Its nodes may run with an io_timeout up to "
                  << format_duration(Timing::kMaxIoTimeout) << " and renew their heartbeats only every "
                  << format_duration(Timing::kMaxIoTimeout / 2) << ", so a shorter watch could miss a running node "
                  << "and wipe its disk under it. Stop quorumd on both nodes and run again with --watch "
                  << std::chrono::duration_cast<std::chrono::seconds>(kLongestDeadTime).count()
                  << " (init then watches both heartbeats for " << format_duration(kLongestDeadTime)
                  << ", 6 x the longest io_timeout, and refuses if either changes)"
                  << (watch ? "; --watch below that is not enough here" : "") << "\n";
        return kExitCorrupt;
      }
      const Duration poll = std::clamp<Duration>(dead / 12, std::chrono::milliseconds(10), std::chrono::seconds(1));
      std::cout << *path << " holds " << (existing->sb ? "the Castor quorum disk of cluster " + existing->description
                                                       : std::string("a Castor quorum disk (no valid superblock)"))
                << ": watching both nodes' heartbeats for " << format_duration(dead) << " (" << why
                << ") before overwriting it (--force)..." << std::endl;
      auto changed = changed_heartbeat(**ro, clock, *layout, dead, poll);
      if (!changed.ok()) return report_error("init", changed.status());
      if (*changed != 0) {
        std::string who = "node " + std::to_string(*changed);
        if (existing->sb) who += " (" + existing->sb->nodes[*changed - 1].name + ")";
        std::cerr << "castor init: refused: the heartbeat of " << who << " on " << *path
                  << " changed while init watched it: the cluster is running on this disk. Stop quorumd on both "
                     "nodes first (--force does not override this)\n";
        return kExitLive;
      }
      std::cout << "No heartbeat changed for " << format_duration(dead) << ": no node is running on it.\n";

      // Epochs only grow (CASTOR_EPOCH is a fencing token): the new epoch records start at the highest
      // epoch the old disk recorded, of any cluster.
      // An authenticated old disk is read with the key (forged records ignored), never without it.
      auto carry_seal = carried_epoch_seal(existing->sb, seal);
      if (!carry_seal.ok()) return report_error("init", carry_seal.status().with_context(*path));
      auto old = read_highest_epoch(**ro, clock, kToolIoTimeout, *carry_seal);
      if (!old.ok()) return report_error("init", old.status());
      if (!old->untrusted.empty()) {
        std::cerr << "castor init: warning: " << old->untrusted.size()
                  << " record(s) of the old disk do not verify with the key " << authkey
                  << " and are ignored (forged, or written with another key):\n";
        for (const auto& u : old->untrusted) std::cerr << "  " << u << "\n";
        if (old->verified_epoch_records == 0) {  // another key: carrying nothing would lower the epochs
          std::cerr << "castor init: refused: no epoch record of " << *path << " verifies with the key " << authkey
                    << ": give the key the disk was initialised with (--authkey), so its epochs carry over\n";
          return kExitCorrupt;
        }
      }
      if (old->highest == std::numeric_limits<uint64_t>::max()) {
        std::cerr << "castor init: refused: the old disk records epoch " << old->highest
                  << " (2^64-1): no service epoch is left above it, and a new one would wrap to 0 (CASTOR_EPOCH "
                     "must only grow). Check the disk's records (castor dump)\n";
        return kExitCorrupt;
      }
      epoch_floor = std::max(epoch_floor, old->highest);
      auto floor_text = [&](uint32_t i) {
        return old->floors[i] ? std::to_string(*old->floors[i]) : std::string("unreadable");
      };
      std::cout << "Carrying the old disk's highest service epoch into the new one: epoch floor " << epoch_floor
                << " for both nodes (old floors: node 1 " << floor_text(0) << ", node 2 " << floor_text(1)
                << "; highest of " << old->entries << " service entries: " << old->highest_entry
                << "), so CASTOR_EPOCH keeps growing.\n";
      if (!old->unreadable.empty()) {
        std::cerr << "castor init: warning: " << old->unreadable.size()
                  << " record(s) of the old disk could not be read, so an epoch they held may be above the carried "
                     "floor "
                  << epoch_floor << " (a service could then be granted an epoch it had before):\n";
        for (const auto& u : old->unreadable) std::cerr << "  " << u << "\n";
      }
    }
  }
  targets.push_back(Target{*path, *info});
  }
  for (const Target& t : targets)
    if (force && (!t.info.content_type.empty() || t.info.content_ambivalent)) {
      if (Status st = wipe_signatures(t.path); !st.ok()) return report_error("init", st);
      std::cout << "Wiped the " << t.info.content_type << " signatures on " << t.path << " (--force)\n";
    }
  const DiskLayout layout = *set_layout;

  auto uuid = random_uuid();
  if (!uuid.ok()) return report_error("init", uuid.status());
  sb.cluster_uuid = *uuid;
  sb.sector_size = layout.sector_size();
  sb.service_slots = layout.service_slots();
  sb.created_wall_ns = wall_time_ns();
  sb.records_authenticated = authenticate;

  std::vector<std::unique_ptr<AioBlockDevice>> devs;
  for (const Target& t : targets) {
    auto dev = AioBlockDevice::open(t.path, AioBlockDevice::OpenMode::read_write);
    if (!dev.ok()) return report_error("init", dev.status());
    devs.push_back(std::move(dev).value());
  }
  std::string written;
  if (targets.size() == 1) {
    if (Status st = initialize_quorum_disk(*devs[0], clock, sb, seal, kToolIoTimeout, epoch_floor); !st.ok())
      return report_error("init", st.with_context(targets[0].path));
    written = targets[0].path;
  } else {
    sb.devices.count = kQuorumDevices;
    for (Uuid& m : sb.devices.members) {
      auto id = random_uuid();
      if (!id.ok()) return report_error("init", id.status());
      m = *id;
    }
    std::vector<BlockDevice*> raw;
    for (auto& d : devs) raw.push_back(d.get());
    if (Status st = initialize_quorum_device_set(raw, clock, sb, seal, kToolIoTimeout, epoch_floor); !st.ok())
      return report_error("init", st);
    for (size_t i = 0; i < targets.size(); ++i)
      written += (i ? ", " : "") + targets[i].path + " (member " + std::to_string(i) + ")";
  }
  for (const Target& t : targets)
    if (Status st = sync_device(t.path); !st.ok()) return report_error("init", st);
  uint64_t smallest = targets.front().info.size_bytes;
  for (const Target& t : targets) smallest = std::min(smallest, t.info.size_bytes);

  std::cout << "Initialised Castor quorum disk " << written << "\n"
            << "  cluster   " << sb.cluster_name << " (UUID " << sb.cluster_uuid.to_string() << ")\n"
            << "  nodes     1=" << sb.nodes[0].name << " 2=" << sb.nodes[1].name << "\n"
            << "  sectors   " << layout.sector_size() << " bytes; records in " << layout.block_size()
            << "-byte blocks; " << layout.required_bytes() / 1024 << " KiB used of "
            << smallest / 1024 << " KiB" << (targets.size() > 1 ? " (the smallest device)" : "") << "\n"
            << "  services  " << sb.service_slots << " slots per node\n"
            << "  timing    " << sb.timing.describe() << "\n"
            << "  epochs    floor " << epoch_floor << " (the next service epoch is above it)\n"
            << "  records   " << (authenticate ? "authenticated (HMAC-SHA256 with the key " + authkey + ")" : std::string("CRC only (not authenticated)")) << "\n"
            << (targets.size() > 1 ? "  devices   a set of three: a majority must answer; castor.ini lists all three:\n"
                                     "              device = " + args->positional[0] + " " + args->positional[1] + " " +
                                     args->positional[2] + "\n" : std::string())
            << "Pin this disk in castor.ini on both nodes (quorumd then refuses any other disk, a clone or\n"
            << "snapshot of this one included), in [quorumd]:\n"
            << "  cluster_uuid = " << sb.cluster_uuid.to_string() << "\n";
  if (authenticate)
    std::cout << "  authenticate_disk = yes\n"
              << "  authkey = " << authkey << "\n"
              << "and copy the key to the peer (same path, owner root, mode 0600): quorumd refuses to start on\n"
              << "this disk without it.\n";
  return kExitOk;
}

}  // namespace castor
