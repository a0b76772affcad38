// castor disk replace OLD NEW: replaces one member of a set of three quorum devices while the cluster runs
// (issue 17; docs/design.md "Replacing a quorum device"). On the first node it prepares NEW (checked as castor
// init checks a device; its quorum area zeroed, so that it shows no record until the nodes write theirs; its
// superblock names generation G = the set's + 1 and OLD's slot), rewrites the superblocks of the two other
// members to generation G (a node that restarts from now on leaves OLD out), then hands NEW to the local
// quorumd, which retires OLD at once and counts NEW once its peer retired OLD too. On the second node NEW is
// found prepared already and is only handed over. No reset, no service moves: a retired member is a failed
// one, and the set runs on the other two meanwhile.
// Writes only NEW and the superblocks (the header area, which castor init also writes); never a node region.
#include <chrono>
#include <iostream>
#include <thread>

#include "common/auth_key.h"
#include "common/cli_args.h"
#include "common/text_sanitize.h"
#include "common/uuid.h"
#include "config/quorumd_config.h"
#include "control/control_client.h"
#include "control/json_codec.h"
#include "disk/aio_block_device.h"
#include "disk/device_probe.h"
#include "disk/device_replacement.h"
#include "disk/disk_layout.h"
#include "disk/quorum_device_set.h"
#include "disk/record_seal.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"

namespace castor {
namespace {

using json_codec::Json;

constexpr const char* kConfig = "/etc/castor/castor.ini";
constexpr Duration kToolIoTimeout = std::chrono::seconds(30);

const char* kReplaceHelp =
    "Usage: castor disk replace OLD NEW [--force] [--wait S] [--config FILE]\n"
    "\n"
    "Replaces OLD, one member of this cluster's set of three quorum devices, by NEW while the cluster runs.\n"
    "Run it on one node, then on the other (NEW may have another path there): the first run prepares NEW\n"
    "(checked as castor init checks a device; --force to overwrite data on it), raises the set's generation\n"
    "on the other two members, and hands NEW to this node's quorumd; the second run finds NEW prepared and\n"
    "hands it over there. Each quorumd stops counting OLD at once and counts NEW once its peer stopped\n"
    "counting OLD; no reset, no service moves. Waits up to --wait seconds (default 30) for this node to use\n"
    "NEW. Then change the device line of castor.ini on both nodes (OLD out, NEW in).\n";

Result<Json> quorumd_status(ControlClient& c) {
  ASSIGN_OR_RETURN(std::string text, c.request("status"));
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return Error(Code::corrupt, "quorumd's status is not JSON");
  return j;
}

int replace(const CliArgs& args) {
  if (args.positional.size() != 3)
    return report_error("disk replace", Error(Code::invalid_argument, "expected OLD NEW (see castor disk replace --help)"));
  QuorumdConfig qc;
  if (Status st = load_quorumd_ini(args.value("--config").value_or(kConfig), qc); !st.ok())
    return report_error("disk replace", st);
  int64_t wait_s = 30;
  if (auto v = args.value("--wait")) {
    auto w = parse_int(*v, 0, 3600, "--wait");
    if (!w.ok()) return report_error("disk replace", w.status());
    wait_s = *w;
  }
  auto old_path = resolve_device(args.positional[1]);
  if (!old_path.ok()) return report_error("disk replace", old_path.status().with_context("OLD"));
  auto new_path = resolve_device(args.positional[2]);
  if (!new_path.ok()) return report_error("disk replace", new_path.status().with_context("NEW"));

  // This node's quorumd: the set it runs, and OLD's slot in it.
  auto c = ControlClient::connect(qc.socket_path, std::chrono::seconds(5));
  if (!c.ok()) return report_error("disk replace", c.status().with_context("quorumd must run on this node"));
  auto st = quorumd_status(*c);
  if (!st.ok()) return report_error("disk replace", st.status());
  if (!st->contains("devices") || !(*st)["devices"].is_array() || !st->contains("device_set"))
    return report_error("disk replace", Error(Code::refused, "this node runs on one quorum device, not a set of three"));
  const Json& devices = (*st)["devices"];
  const Json& posture = (*st)["device_set"];
  std::optional<uint32_t> slot;
  std::vector<std::string> paths(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    paths[i] = devices[i].value("path", std::string());
    if (paths[i] == *old_path) slot = uint32_t(i);
  }
  if (!slot)
    return report_error("disk replace", Error(Code::not_found, *old_path + " is not a member of the set this node runs"));
  if (posture.value("retiring", false) && posture.value("slot", -1) != int(*slot))
    return report_error("disk replace", Error(Code::busy, "another replacement is under way: " +
                                                              posture.value("waiting_for", std::string("?"))));

  // The set's superblock, from a member other than OLD (generation, members, timing, cluster).
  BootClock clock;
  // The seal this node's quorumd reads the set with (castor.ini's authenticate_disk): superblocks are read and
  // written with it, so a forged one is never taken for the set's and what this writes verifies on both nodes.
  RecordSeal seal = RecordSeal::crc_only();
  if (qc.authenticate_disk) {
    auto key = load_auth_key(qc.authkey);
    if (!key.ok())
      return report_error("disk replace", key.status().with_context("authenticate_disk = yes in castor.ini, but the cluster key"));
    auto s = disk_record_seal(*key);
    if (!s.ok()) return report_error("disk replace", s.status().with_context("deriving the disk records key"));
    seal = *s;
  }
  std::optional<Superblock> set_sb;
  std::vector<std::pair<std::string, Superblock>> others;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i == *slot || paths[i].empty()) continue;
    auto dev = AioBlockDevice::open(paths[i], AioBlockDevice::OpenMode::read_only);
    if (!dev.ok()) continue;
    auto sb = read_device_superblock(**dev, clock, kToolIoTimeout, seal);
    if (!sb.ok()) {
      // Not readable with this node's seal: say so when castor.ini and the set disagree on authentication.
      auto unchecked = read_device_superblock(**dev, clock, kToolIoTimeout, RecordSeal::tag_unchecked());
      if (unchecked.ok() && unchecked->records_authenticated != qc.authenticate_disk)
        return report_error("disk replace", Error(Code::refused, "castor.ini says authenticate_disk = " +
                                                                     std::string(qc.authenticate_disk ? "yes" : "no") +
                                                                     " but " + paths[i] + "'s records are " +
                                                                     (unchecked->records_authenticated ? "" : "not ") +
                                                                     "authenticated (castor init --authenticate)"));
      continue;
    }
    if (sb->devices.single()) continue;
    others.push_back({paths[i], *sb});
    if (!set_sb || sb->devices.generation > set_sb->devices.generation) set_sb = *sb;
  }
  // Both other members must be read (and, below, raised to the new generation): a member left at the old
  // generation would let a node that starts with it and OLD count OLD while the other counts NEW.
  if (others.size() != paths.size() - 1)
    return report_error("disk replace", Error(Code::io_error, "the set's other members must both be readable to replace "
                                                              "one: only " + std::to_string(others.size()) +
                                                              " could be read" +
                                                              (qc.authenticate_disk ? " and verified with the cluster key"
                                                                                    : "") +
                                                              " (see castor status)"));
  if (set_sb->records_authenticated != qc.authenticate_disk)
    return report_error("disk replace", Error(Code::refused, "castor.ini says authenticate_disk = " +
                                                                 std::string(qc.authenticate_disk ? "yes" : "no") +
                                                                 " but the set's records are " +
                                                                 (set_sb->records_authenticated ? "" : "not ") +
                                                                 "authenticated (castor init --authenticate)"));

  // NEW: prepared already (the second node), or to prepare now (the first).
  auto probe = probe_device(*new_path);
  if (!probe.ok()) return report_error("disk replace", probe.status());
  uint64_t generation = set_sb->devices.generation;
  bool prepared = false;
  Superblock target = *set_sb;  // the set's superblock at the generation NEW belongs to
  {
    auto dev = AioBlockDevice::open(*new_path, AioBlockDevice::OpenMode::read_only);
    if (!dev.ok()) return report_error("disk replace", dev.status());
    auto sb = read_device_superblock(**dev, clock, kToolIoTimeout, seal);
    if (sb.ok() && sb->cluster_uuid == set_sb->cluster_uuid && !sb->devices.single()) {
      if (sb->devices.generation == set_sb->devices.generation && sb->devices.index == *slot &&
          sb->devices.changed_slot == *slot && sb->devices.id() == set_sb->devices.members[*slot])
        prepared = true;
      else
        return report_error("disk replace", Error(Code::refused, *new_path + " is already a member of this cluster's set "
                                                                 "(member " + std::to_string(sb->devices.index) + ")"));
    }
  }
  if (!prepared) {
    if (generation >= kMaxDeviceSetGeneration)
      return report_error("disk replace", Error(Code::unsupported, "the set was replaced too often"));
    auto layout = DiskLayout::for_sector_size(probe->logical_sector_size);
    if (!layout.ok()) return report_error("disk replace", layout.status().with_context(*new_path));
    if (layout->sector_size() != set_sb->sector_size)
      return report_error("disk replace", Error(Code::invalid_argument, *new_path + " has " +
                                                                         std::to_string(layout->sector_size()) +
                                                                         "-byte sectors; the set has " +
                                                                         std::to_string(set_sb->sector_size)));
    if (Status s = check_device_for_init(*probe, layout->required_bytes(), args.has("--force")); !s.ok())
      return report_error("disk replace", s);
    auto id = random_uuid();
    if (!id.ok()) return report_error("disk replace", id.status());
    Superblock next = next_device_set_generation(*set_sb, *slot, *id);
    generation = next.devices.generation;
    auto dev = AioBlockDevice::open(*new_path, AioBlockDevice::OpenMode::read_write);
    if (!dev.ok()) return report_error("disk replace", dev.status());
    if (Status s = prepare_new_member(**dev, clock, next, *slot, seal, kToolIoTimeout); !s.ok())
      return report_error("disk replace", s);
    next.devices.index = *slot;
    target = next;
    std::cout << "Prepared " << *new_path << " as member " << *slot << " of generation " << generation
              << " of cluster " << set_sb->cluster_name << " (in place of " << *old_path << ")\n";
  } else {
    std::cout << *new_path << " is prepared already as member " << *slot << " of generation " << generation << "\n";
  }

  // The two other members at generation G before any node is given NEW, so that a node starting from now on
  // leaves OLD out -- also on the second node's run, or a run after one that died between two members.
  for (auto& [path, sb] : others) {
    if (sb.devices.generation >= generation) continue;
    auto odev = AioBlockDevice::open(path, AioBlockDevice::OpenMode::read_write);
    if (!odev.ok()) return report_error("disk replace", odev.status());
    if (Status s = raise_member(**odev, clock, target, sb.devices.index, seal, kToolIoTimeout); !s.ok())
      return report_error("disk replace", s);
    std::cout << "Raised " << path << " (member " << sb.devices.index << ") to generation " << generation << "\n";
  }
  auto r = c->request("device-replace " + std::to_string(*slot) + " " + std::to_string(generation) + " " + *new_path);
  if (!r.ok()) return report_error("disk replace", r.status());
  const Json reply = Json::parse(*r, nullptr, false);
  if (!reply.is_object() || !reply.value("ok", false)) {
    std::cerr << "castor disk replace: quorumd refused: "
              << printable(reply.is_object() ? reply.value("error", std::string("no reason given")) : *r) << "\n";
    return kExitRefused;
  }
  std::cout << "quorumd: " << printable(reply.value("message", std::string())) << "\n";
  const TimePoint until = clock.now() + std::chrono::seconds(wait_s);
  std::string waiting;
  do {
    auto s = quorumd_status(*c);
    if (s.ok() && s->contains("device_set")) {
      const Json& p = (*s)["device_set"];
      if (p.value("generation", 0) == int64_t(generation) && !p.value("retiring", true)) {
        std::cout << "This node now uses " << *new_path << " as member " << *slot
                  << ". Run the same command on the other node if not done yet (NEW by its path there), and set "
                     "castor.ini's device line on both nodes: OLD out, NEW in.\n";
        return kExitOk;
      }
      waiting = p.value("waiting_for", std::string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (clock.now() < until);
  std::cout << "Not in use yet on this node after " << wait_s << " s: waiting for " << printable(waiting)
            << " (castor status shows it; nothing else is needed if that is the other node's run of this command)\n";
  return kExitOk;
}

}  // namespace

int cmd_disk(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--force", false}, {"--wait", true}, {"--config", true}});
  if (!args.ok()) return report_error("disk", args.status());
  if (args->has("--help") || args->positional.empty()) {
    std::cout << kReplaceHelp;
    return args->has("--help") ? kExitOk : kExitUsage;
  }
  if (args->positional[0] == "replace") return replace(*args);
  return report_error("disk", Error(Code::invalid_argument, "unknown 'castor disk " + args->positional[0] +
                                                                "' (castor disk replace OLD NEW)"));
}

}  // namespace castor
