// castor init: write a fresh quorum disk, after making sure nothing of value is on the device.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <optional>

#include "common/aligned_buffer.h"
#include "common/byte_codec.h"
#include "common/clock.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"
#include "quorumd/aio_block_device.h"
#include "quorumd/disk_layout.h"
#include "quorumd/quorum_disk_init.h"
#include "quorumd/superblock.h"
#include "tools/cli_args.h"
#include "tools/cli_commands.h"
#include "tools/device_probe.h"
#include "tools/exit_codes.h"
#include "tools/wipe_signatures.h"

namespace castor {
namespace {

constexpr Duration kToolIoTimeout = std::chrono::seconds(30);

const char* kInitHelp =
    "Usage: castor init DEVICE --cluster NAME --nodes A,B [--io-timeout MS] [--force]\n"
    "\n"
    "Writes a new, empty quorum disk: a superblock (cluster name and UUID, the two nodes, the timing\n"
    "derived from --io-timeout) with a backup copy, and an empty region per node.\n"
    "\n"
    "  DEVICE            a path, or LABEL=, UUID=, PARTUUID=, PARTLABEL= (resolved with libblkid)\n"
    "  --cluster NAME    cluster name (1-63 of A-Z a-z 0-9 . _ -)\n"
    "  --nodes A,B       the two node names, in node-id order (A is node 1, B is node 2)\n"
    "  --io-timeout MS   disk I/O timeout T in ms (even, 20..600000; default 2000). Every other timeout\n"
    "                    follows from it: renew T/2, lease 3T, kill grace T, watchdog 2T, dead time 6T.\n"
    "  --force           overwrite a device that holds a filesystem, RAID member, partition table or a\n"
    "                    Castor disk (its signatures are wiped). Never overrides: mounted, in use,\n"
    "                    read-only, too small.\n"
    "\n"
    "Refuses (exit 4) a device with content, (5) a mounted or in-use one, (6) a read-only one, (7) one that\n"
    "is too small or has an unsupported sector size. See `castor --help` for all exit codes.\n";

// If the device starts with a Castor record, the cluster it names ("" if the superblock is damaged).
std::optional<std::string> existing_castor_disk(BlockDevice& dev, const Clock& clock, const DiskLayout& layout) {
  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid() || !read_blocking(dev, clock, 0, block.span(), kToolIoTimeout).ok()) return std::nullopt;
  ByteReader r(block.span());
  if (r.u32() != kMagic) return std::nullopt;
  auto sb = decode_superblock(block.span(), layout);
  return sb.ok() ? sb->cluster_name + " (UUID " + sb->cluster_uuid.to_string() + ")" : std::string();
}

Result<std::array<NodeEntry, kNodeCount>> parse_nodes(const std::string& text) {
  auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
    return Error(Code::invalid_argument, "--nodes takes exactly two names: A,B");
  std::array<NodeEntry, kNodeCount> nodes{NodeEntry{1, text.substr(0, comma)}, NodeEntry{2, text.substr(comma + 1)}};
  for (const auto& n : nodes) RETURN_IF_ERROR(check_name("node name", n.name));
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
  auto args = parse_cli_args(argv, {{"--cluster", true}, {"--nodes", true}, {"--io-timeout", true}, {"--force", false}});
  if (!args.ok()) return report_error("init", args.status());
  if (args->has("--help")) {
    std::cout << kInitHelp;
    return kExitOk;
  }
  if (args->positional.size() != 1)
    return report_error("init", Error(Code::invalid_argument, "expected one DEVICE (see castor init --help)"));
  auto cluster = args->value("--cluster");
  auto nodes_text = args->value("--nodes");
  if (!cluster || !nodes_text)
    return report_error("init", Error(Code::invalid_argument, "--cluster NAME and --nodes A,B are required"));
  const bool force = args->has("--force");

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

  // Find the device and everything that might forbid writing to it.
  auto path = resolve_device(args->positional[0]);
  if (!path.ok()) return report_error("init", path.status());
  auto info = probe_device(*path);
  if (!info.ok()) return report_error("init", info.status());
  auto layout = DiskLayout::for_sector_size(info->logical_sector_size);
  if (!layout.ok()) return report_error("init", layout.status().with_context(*path));

  BootClock clock;
  std::optional<std::string> existing;
  {
    auto ro = AioBlockDevice::open(*path, AioBlockDevice::OpenMode::read_only);
    if (!ro.ok()) return report_error("init", ro.status());
    existing = existing_castor_disk(**ro, clock, *layout);
  }
  if (Status st = check_device_for_init(*info, layout->required_bytes(), force, existing); !st.ok())
    return report_error("init", st);
  if (force && (!info->content_type.empty() || info->content_ambivalent)) {
    if (Status st = wipe_signatures(*path); !st.ok()) return report_error("init", st);
    std::cout << "Wiped the " << info->content_type << " signatures on " << *path << " (--force)\n";
  }

  auto uuid = random_uuid();
  if (!uuid.ok()) return report_error("init", uuid.status());
  sb.cluster_uuid = *uuid;
  sb.sector_size = layout->sector_size();
  sb.service_slots = layout->service_slots();
  sb.created_wall_ns = wall_time_ns();

  auto dev = AioBlockDevice::open(*path, AioBlockDevice::OpenMode::read_write);
  if (!dev.ok()) return report_error("init", dev.status());
  if (Status st = initialize_quorum_disk(**dev, clock, sb, kToolIoTimeout); !st.ok())
    return report_error("init", st.with_context(*path));
  if (Status st = sync_device(*path); !st.ok()) return report_error("init", st);

  std::cout << "Initialised Castor quorum disk " << *path << "\n"
            << "  cluster   " << sb.cluster_name << " (UUID " << sb.cluster_uuid.to_string() << ")\n"
            << "  nodes     1=" << sb.nodes[0].name << " 2=" << sb.nodes[1].name << "\n"
            << "  sectors   " << layout->sector_size() << " bytes; records in " << layout->block_size()
            << "-byte blocks; " << layout->required_bytes() / 1024 << " KiB used of "
            << info->size_bytes / 1024 << " KiB\n"
            << "  services  " << sb.service_slots << " slots per node\n"
            << "  timing    " << sb.timing.describe() << "\n";
  return kExitOk;
}

}  // namespace castor
