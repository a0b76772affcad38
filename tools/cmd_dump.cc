// castor dump: decode and show every record of a quorum disk, with its CRC status and age. Never writes.
#include <cstdio>
#include <iostream>

#include "disk/aio_block_device.h"
#include "disk/disk_snapshot.h"
#include "tools/disk_read_auth.h"
#include "common/cli_args.h"
#include "control/json_codec.h"
#include "tools/cli_commands.h"
#include "disk/device_probe.h"
#include "tools/exit_codes.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

const char* kDumpHelp =
    "Usage: castor dump DEVICE... [--json] [--timeout MS] [--authkey PATH] [--config FILE]\n"
    "\n"
    "Reads the whole quorum area of DEVICE (a path, or LABEL=, UUID=, PARTUUID=) and shows every record:\n"
    "the superblock and its backup, and per node the heartbeat, the epoch floor and the service table, each\n"
    "with its status (valid, empty = a heartbeat never written, or corrupt with the reason: bad CRC, bad\n"
    "magic, another cluster, zeroed, ...) and the age of its wall-clock stamp (display only). castor init\n"
    "writes every epoch and table block, so a zeroed one is damage; a table block that fails to decode is\n"
    "shown as \"unknown (corrupt record at block N: reason)\": its services' entries cannot be known.\n"
    "Opens the device read-only; never writes. Several DEVICEs (the members of a set of quorum devices) are\n"
    "dumped one after the other, each with its own records; the exit status is the worst of them.\n"
    "On a disk whose records are authenticated (castor init --authenticate) every record's HMAC tag is\n"
    "verified with the cluster key: a record whose tag does not verify (forged by someone who can write to\n"
    "the disk, or written with another key) is shown as corrupt (\"bad authentication tag\"), not decoded.\n"
    "Without a readable key the records are decoded with their tags NOT verified, and dump says so.\n"
    "\n"
    "  --json          machine-readable output (\"tag\": verified / not checked, per record)\n"
    "  --timeout MS    I/O timeout for the read (default 30000)\n"
    "  --authkey PATH  the cluster key (default: authkey in the config file's [quorumd], else\n"
    "                  /etc/castor/authkey)\n"
    "  --config FILE   castor.ini (default /etc/castor/castor.ini)\n"
    "\n"
    "Exit 0 if every record is valid or empty, 9 if any is corrupt, the two superblock copies differ or\n"
    "there is no valid superblock, 8 on an I/O error or timeout. See `castor --help` for all exit codes.\n";

const char* status_word(const Status& st) {
  if (st.ok()) return "valid";
  if (st.code() == Code::not_found) return "empty";
  if (st.code() == Code::unsupported) return "unsupported";
  return "corrupt";
}

// Both copies valid, yet different (say another cluster's superblock written over block 0): quorumd refuses
// such a disk, so dump must not call it fine.
bool superblocks_differ(const DiskSnapshot& s) {
  return s.superblock.record && s.superblock_backup.record && !(*s.superblock.record == *s.superblock_backup.record);
}
constexpr const char* kDifferText =
    "the superblock and its backup copy differ: quorumd refuses this disk (one of them was overwritten)";

// A table block that fails to decode (zeroed included: init writes every block): its entries are unknown.
std::string unknown_text(size_t block, const Status& st) {
  return "unknown (corrupt record at block " + std::to_string(block) + ": " + st.message() + ")";
}

std::string stamp(int64_t wall_ns, int64_t now_ns) {
  if (wall_ns == 0) return "";
  return "written " + format_wall_time(wall_ns) + " (age " + format_duration(Duration(now_ns - wall_ns)) + ")";
}

using Json = json_codec::Json;

// `seal`: how the records were checked (DiskSnapshot::seal); shown per record as "tag".
void json_record_status(Json& j, RecordSeal::Mode seal, uint64_t offset, const Status& st, int64_t wall_ns,
                        int64_t now_ns) {
  j["offset"] = offset;
  j["status"] = status_word(st);
  if (!st.ok() && st.code() != Code::not_found) j["error"] = st.message();
  if (seal != RecordSeal::Mode::crc_only && st.ok())
    j["tag"] = seal == RecordSeal::Mode::hmac ? "verified" : "not checked";
  if (st.ok()) {
    j["written"] = format_wall_time(wall_ns);
    j["age_ms"] = to_ms(Duration(now_ns - wall_ns));
  }
}

Json json_superblock(const RecordRead<Superblock>& r, RecordSeal::Mode seal, int64_t now_ns) {
  Json j = Json::object();
  json_record_status(j, seal, r.offset, r.status, r.record ? r.record->created_wall_ns : 0, now_ns);
  if (const auto& sb = r.record) {
    j["cluster"] = sb->cluster_name;
    j["uuid"] = sb->cluster_uuid.to_string();
    j["sector_size"] = sb->sector_size;
    j["service_slots"] = sb->service_slots;
    if (!sb->devices.single()) {
      Json set;
      set["count"] = sb->devices.count;
      set["index"] = sb->devices.index;
      set["generation"] = sb->devices.generation;
      set["members"] = Json::array();
      for (const Uuid& m : sb->devices.members) set["members"].push_back(m.to_string());
      j["device_set"] = std::move(set);
    }
    Json nodes = Json::array();
    for (const auto& n : sb->nodes) nodes.push_back(Json{{"id", n.id}, {"name", n.name}});
    j["nodes"] = std::move(nodes);
    const Timing& t = sb->timing;
    j["timing_ms"] = Json{{"io_timeout", t.io_timeout.count()}, {"renew_interval", t.renew_interval.count()},
                          {"lease", t.lease.count()},           {"kill_grace", t.kill_grace.count()},
                          {"watchdog", t.watchdog.count()},     {"dead", t.dead.count()}};
  }
  return j;
}

std::string dump_json(const std::string& path, const DiskSnapshot& s, const CliDiskRead& read) {
  const int64_t now = wall_time_ns();
  const Superblock* sb = s.valid_superblock();
  Json j = Json::object();
  j["device"] = path;
  j["sector_size"] = s.layout.sector_size();
  j["block_size"] = s.layout.block_size();
  j["authenticated"] = read.authenticated_disk;
  j["tags_verified"] = read.tags_verified;
  j["tags"] = read.tags;
  j["invalid_records"] = s.invalid_records();
  j["superblocks_differ"] = superblocks_differ(s);
  j["superblock"] = json_superblock(s.superblock, s.seal, now);
  j["superblock_backup"] = json_superblock(s.superblock_backup, s.seal, now);
  Json nodes = Json::array();
  for (const auto& n : s.nodes) {
    Json node = Json::object();
    node["id"] = n.node_id;
    if (sb) node["name"] = sb->nodes[n.node_id - 1].name;
    Json heartbeat = Json::object();
    const auto& hb = n.heartbeat;
    json_record_status(heartbeat, s.seal, hb.offset, hb.status, hb.record ? hb.record->wall_time_ns : 0, now);
    if (hb.record) {
      heartbeat["incarnation"] = hb.record->incarnation;
      heartbeat["seq"] = hb.record->seq;
      heartbeat["state"] = node_state_name(hb.record->state);
      heartbeat["peer_view"] = peer_view_name(hb.record->peer_view);
      heartbeat["last_io_latency_us"] = hb.record->last_io_latency_us;
      heartbeat["max_io_latency_us"] = hb.record->max_io_latency_us;
      heartbeat["services_digest"] = hb.record->services_digest;
    }
    node["heartbeat"] = std::move(heartbeat);
    Json epoch = Json::object();
    const auto& ep = n.epoch;
    json_record_status(epoch, s.seal, ep.offset, ep.status, ep.record ? ep.record->wall_time_ns : 0, now);
    if (ep.record) {
      epoch["incarnation"] = ep.record->incarnation;
      epoch["seq"] = ep.record->seq;
      epoch["epoch_floor"] = ep.record->epoch_floor;
    }
    node["epoch"] = std::move(epoch);
    Json table = Json::array();
    for (size_t b = 0; b < n.table.size(); ++b) {
      const auto& t = n.table[b];
      Json block = Json::object();
      block["block"] = uint64_t(b);
      json_record_status(block, s.seal, t.offset, t.status, t.record ? t.record->wall_time_ns : 0, now);
      if (!t.record) {
        // Its entries cannot be known: never free, never "no services" (ondisk-format.md).
        block["services"] = nullptr;
        block["unknown"] = unknown_text(b, t.status);
      } else {
        Json services = Json::array();
        for (const auto& e : t.record->entries) {
          if (!e.in_use) continue;
          services.push_back(Json{{"name", e.name},
                                  {"state", ownership_state_name(e.state)},
                                  {"node", e.node},
                                  {"epoch", e.epoch},
                                  {"ballot", e.ballot},
                                  {"frozen", (e.flags & ServiceEntry::kFrozen) != 0},
                                  {"restarts", e.restarts}});
        }
        block["services"] = std::move(services);
      }
      table.push_back(std::move(block));
    }
    node["service_table"] = std::move(table);
    nodes.push_back(std::move(node));
  }
  j["nodes"] = std::move(nodes);
  return terminal_json(j) + "\n";
}

std::string line(const char* what, RecordSeal::Mode seal, uint64_t offset, const Status& st) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %-18s @%-8llu %-8s", what, static_cast<unsigned long long>(offset), status_word(st));
  std::string s = buf;
  if (!st.ok() && st.code() != Code::not_found) s += printable(st.message());
  if (st.ok() && seal == RecordSeal::Mode::hmac) s += "tag ok; ";
  if (st.ok() && seal == RecordSeal::Mode::tag_unchecked) s += "tag NOT checked; ";
  return s;
}

std::string dump_text(const std::string& path, const DiskSnapshot& s, const CliDiskRead& read) {
  const int64_t now = wall_time_ns();
  const Superblock* sb = s.valid_superblock();
  std::string out = "Quorum disk " + path + ": " + std::to_string(s.layout.sector_size()) + "-byte sectors, " +
                    std::to_string(s.layout.block_size()) + "-byte blocks\n  " + printable(read.tags) + "\n";
  for (const auto* r : {&s.superblock, &s.superblock_backup}) {
    out += line(r == &s.superblock ? "superblock" : "superblock backup", s.seal, r->offset, r->status);
    if (r->record) {
      const Superblock& x = *r->record;
      out += "cluster " + printable(x.cluster_name) + " UUID " + x.cluster_uuid.to_string() + ", " + stamp(x.created_wall_ns, now);
      out += "\n  " + std::string(38, ' ') + "nodes 1=" + printable(x.nodes[0].name) + " 2=" + printable(x.nodes[1].name);
      out += "; " + std::to_string(x.service_slots) + " service slots";
      if (!x.devices.single())
        out += "\n  " + std::string(38, ' ') + "member " + std::to_string(x.devices.index) + " of a set of " +
               std::to_string(x.devices.count) + " quorum devices (generation " + std::to_string(x.devices.generation) +
               "; members " + x.devices.members[0].to_string() + " " + x.devices.members[1].to_string() + " " +
               x.devices.members[2].to_string() + ")";
      out += "\n  " + std::string(38, ' ') + x.timing.describe();
    }
    out += "\n";
  }
  if (superblocks_differ(s)) out += "  " + std::string(kDifferText) + "\n";
  for (const auto& n : s.nodes) {
    out += "node " + std::to_string(n.node_id) + (sb ? " (" + printable(sb->nodes[n.node_id - 1].name) + ")" : "") + "\n";
    out += line("heartbeat", s.seal, n.heartbeat.offset, n.heartbeat.status);
    if (const auto& hb = n.heartbeat.record) {
      out += std::string(node_state_name(hb->state)) + " incarnation " + std::to_string(hb->incarnation) + " seq " +
             std::to_string(hb->seq) + " peer " + peer_view_name(hb->peer_view) + ", io " +
             std::to_string(hb->last_io_latency_us) + "us (worst " + std::to_string(hb->max_io_latency_us) + "us), " +
             stamp(hb->wall_time_ns, now);
    }
    out += "\n" + line("epoch", s.seal, n.epoch.offset, n.epoch.status);
    if (const auto& ep = n.epoch.record)
      out += "floor " + std::to_string(ep->epoch_floor) + ", seq " + std::to_string(ep->seq) + ", " + stamp(ep->wall_time_ns, now);
    out += "\n";
    int valid = 0, services = 0;
    for (size_t b = 0; b < n.table.size(); ++b) {
      const auto& t = n.table[b];
      if (t.status.ok()) ++valid;
      else {
        char buf[64];
        std::snprintf(buf, sizeof buf, "  %-18s @%-8llu ", ("service table " + std::to_string(b)).c_str(),
                      static_cast<unsigned long long>(t.offset));
        out += buf + unknown_text(b, t.status) + "\n";
      }
      if (t.record)
        for (const auto& e : t.record->entries) services += e.in_use;
    }
    out += "  service table      " + std::to_string(n.table.size()) + " blocks: " + std::to_string(valid) + " valid, " +
           std::to_string(int(n.table.size()) - valid) + " corrupt; " + std::to_string(services) + " services" +
           (valid == int(n.table.size()) ? "" : " in the valid blocks (the corrupt blocks' entries are unknown)") + "\n";
    for (const auto& t : n.table) {
      if (!t.record) continue;
      for (const auto& e : t.record->entries) {
        if (!e.in_use) continue;
        out += "      " + printable(e.name) + ": " + ownership_state_name(e.state) + " node " + std::to_string(e.node) + " epoch " +
               std::to_string(e.epoch) + " ballot " + std::to_string(e.ballot) +
               ((e.flags & ServiceEntry::kFrozen) ? " frozen" : "") + "\n";
      }
    }
  }
  int bad = s.invalid_records();
  if (bad == 0 && superblocks_differ(s)) out += "The superblock copies differ.\n";
  else out += bad == 0 ? "All records valid or empty.\n" : std::to_string(bad) + " record(s) invalid.\n";
  return out;
}

}  // namespace

int dump_device(const std::string& spec, const CliArgs& args, Millis timeout);

int cmd_dump(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--json", false}, {"--timeout", true}, {"--authkey", true}, {"--config", true}});
  if (!args.ok()) return report_error("dump", args.status());
  if (args->has("--help")) {
    std::cout << kDumpHelp;
    return kExitOk;
  }
  if (args->positional.empty())
    return report_error("dump", Error(Code::invalid_argument, "expected a DEVICE (see castor dump --help)"));
  int64_t timeout_ms = 30000;
  if (auto v = args->value("--timeout")) {
    auto parsed = parse_int(*v, 1, 3600000, "--timeout");
    if (!parsed.ok()) return report_error("dump", parsed.status());
    timeout_ms = *parsed;
  }
  int worst = kExitOk;
  for (const std::string& spec : args->positional) {
    const int rc = dump_device(spec, *args, Millis(timeout_ms));
    if (rc != kExitOk && worst == kExitOk) worst = rc;
  }
  return worst;
}

int dump_device(const std::string& spec, const CliArgs& args_in, Millis timeout) {
  const CliArgs* args = &args_in;
  const int64_t timeout_ms = timeout.count();
  auto path = resolve_device(spec);
  if (!path.ok()) return report_error("dump", path.status());
  auto dev = AioBlockDevice::open(*path, AioBlockDevice::OpenMode::read_only);
  if (!dev.ok()) return report_error("dump", dev.status());
  BootClock clock;
  const CliDiskAuth auth = cli_disk_auth(args->value("--authkey"), args->value("--config").value_or("/etc/castor/castor.ini"));
  auto read = read_disk_for_cli(**dev, clock, Millis(timeout_ms), auth);
  if (!read.ok()) return report_error("dump", read.status());
  const DiskSnapshot* snap = &read->snap;
  std::cout << (args->has("--json") ? dump_json(*path, *snap, *read) : dump_text(*path, *snap, *read));
  if (read->authenticated_disk && !read->tags_verified) std::cerr << "castor dump: warning: " << printable(read->tags) << "\n";
  if (!snap->valid_superblock()) {
    std::cerr << "castor dump: " << *path << " has no valid Castor superblock\n";
    return kExitCorrupt;
  }
  if (superblocks_differ(*snap)) {
    std::cerr << "castor dump: " << *path << ": " << kDifferText << "\n";
    return kExitCorrupt;
  }
  return snap->invalid_records() == 0 ? kExitOk : kExitCorrupt;
}

}  // namespace castor
