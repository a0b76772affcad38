// castor dump: decode and show every record of a quorum disk, with its CRC status and age. Never writes.
#include <cstdio>
#include <iostream>

#include "common/json_writer.h"
#include "disk/aio_block_device.h"
#include "disk/disk_snapshot.h"
#include "common/cli_args.h"
#include "tools/cli_commands.h"
#include "disk/device_probe.h"
#include "tools/exit_codes.h"

namespace castor {
namespace {

const char* kDumpHelp =
    "Usage: castor dump DEVICE [--json] [--timeout MS]\n"
    "\n"
    "Reads the whole quorum area of DEVICE (a path, or LABEL=, UUID=, PARTUUID=) and shows every record:\n"
    "the superblock and its backup, and per node the heartbeat, the epoch floor and the service table, each\n"
    "with its status (valid, empty = a heartbeat never written, or corrupt with the reason: bad CRC, bad\n"
    "magic, another cluster, zeroed, ...) and the age of its wall-clock stamp (display only). castor init\n"
    "writes every epoch and table block, so a zeroed one is damage; a table block that fails to decode is\n"
    "shown as \"unknown (corrupt record at block N: reason)\": its services' entries cannot be known.\n"
    "Opens the device read-only; never writes.\n"
    "\n"
    "  --json          machine-readable output\n"
    "  --timeout MS    I/O timeout for the read (default 30000)\n"
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

void json_record_status(JsonWriter& j, uint64_t offset, const Status& st, int64_t wall_ns, int64_t now_ns) {
  j.field("offset", offset).field("status", status_word(st));
  if (!st.ok() && st.code() != Code::not_found) j.field("error", st.message());
  if (st.ok()) j.field("written", format_wall_time(wall_ns)).field("age_ms", to_ms(Duration(now_ns - wall_ns)));
}

void json_superblock(JsonWriter& j, const RecordRead<Superblock>& r, int64_t now_ns) {
  j.begin_object();
  json_record_status(j, r.offset, r.status, r.record ? r.record->created_wall_ns : 0, now_ns);
  if (const auto& sb = r.record) {
    j.field("cluster", sb->cluster_name).field("uuid", sb->cluster_uuid.to_string());
    j.field("sector_size", sb->sector_size).field("service_slots", sb->service_slots);
    j.key("nodes").begin_array();
    for (const auto& n : sb->nodes) j.begin_object().field("id", n.id).field("name", n.name).end_object();
    j.end_array();
    const Timing& t = sb->timing;
    j.key("timing_ms").begin_object();
    j.field("io_timeout", t.io_timeout.count()).field("renew_interval", t.renew_interval.count());
    j.field("lease", t.lease.count()).field("kill_grace", t.kill_grace.count());
    j.field("watchdog", t.watchdog.count()).field("dead", t.dead.count());
    j.end_object();
  }
  j.end_object();
}

std::string dump_json(const std::string& path, const DiskSnapshot& s) {
  const int64_t now = wall_time_ns();
  const Superblock* sb = s.valid_superblock();
  JsonWriter j;
  j.begin_object();
  j.field("device", path).field("sector_size", s.layout.sector_size()).field("block_size", s.layout.block_size());
  j.field("invalid_records", s.invalid_records());
  j.field("superblocks_differ", superblocks_differ(s));
  j.key("superblock");
  json_superblock(j, s.superblock, now);
  j.key("superblock_backup");
  json_superblock(j, s.superblock_backup, now);
  j.key("nodes").begin_array();
  for (const auto& n : s.nodes) {
    j.begin_object().field("id", n.node_id);
    if (sb) j.field("name", sb->nodes[n.node_id - 1].name);
    j.key("heartbeat").begin_object();
    const auto& hb = n.heartbeat;
    json_record_status(j, hb.offset, hb.status, hb.record ? hb.record->wall_time_ns : 0, now);
    if (hb.record) {
      j.field("incarnation", hb.record->incarnation).field("seq", hb.record->seq);
      j.field("state", node_state_name(hb.record->state)).field("peer_view", peer_view_name(hb.record->peer_view));
      j.field("last_io_latency_us", hb.record->last_io_latency_us).field("max_io_latency_us", hb.record->max_io_latency_us);
      j.field("services_digest", hb.record->services_digest);
    }
    j.end_object();
    j.key("epoch").begin_object();
    const auto& ep = n.epoch;
    json_record_status(j, ep.offset, ep.status, ep.record ? ep.record->wall_time_ns : 0, now);
    if (ep.record) j.field("incarnation", ep.record->incarnation).field("seq", ep.record->seq).field("epoch_floor", ep.record->epoch_floor);
    j.end_object();
    j.key("service_table").begin_array();
    for (size_t b = 0; b < n.table.size(); ++b) {
      const auto& t = n.table[b];
      j.begin_object().field("block", uint64_t(b));
      json_record_status(j, t.offset, t.status, t.record ? t.record->wall_time_ns : 0, now);
      if (!t.record) {
        // Its entries cannot be known: never free, never "no services" (ondisk-format.md).
        j.key("services").null().field("unknown", unknown_text(b, t.status));
      } else {
        j.key("services").begin_array();
        for (const auto& e : t.record->entries) {
          if (!e.in_use) continue;
          j.begin_object().field("name", e.name).field("state", ownership_state_name(e.state));
          j.field("node", e.node).field("epoch", e.epoch).field("ballot", e.ballot);
          j.field("frozen", (e.flags & ServiceEntry::kFrozen) != 0).field("restarts", e.restarts);
          j.end_object();
        }
        j.end_array();
      }
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

std::string line(const char* what, uint64_t offset, const Status& st) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %-18s @%-8llu %-8s", what, static_cast<unsigned long long>(offset), status_word(st));
  std::string s = buf;
  if (!st.ok() && st.code() != Code::not_found) s += st.message();
  return s;
}

std::string dump_text(const std::string& path, const DiskSnapshot& s) {
  const int64_t now = wall_time_ns();
  const Superblock* sb = s.valid_superblock();
  std::string out = "Quorum disk " + path + ": " + std::to_string(s.layout.sector_size()) + "-byte sectors, " +
                    std::to_string(s.layout.block_size()) + "-byte blocks\n";
  for (const auto* r : {&s.superblock, &s.superblock_backup}) {
    out += line(r == &s.superblock ? "superblock" : "superblock backup", r->offset, r->status);
    if (r->record) {
      const Superblock& x = *r->record;
      out += "cluster " + x.cluster_name + " UUID " + x.cluster_uuid.to_string() + ", " + stamp(x.created_wall_ns, now);
      out += "\n  " + std::string(38, ' ') + "nodes 1=" + x.nodes[0].name + " 2=" + x.nodes[1].name;
      out += "; " + std::to_string(x.service_slots) + " service slots";
      out += "\n  " + std::string(38, ' ') + x.timing.describe();
    }
    out += "\n";
  }
  if (superblocks_differ(s)) out += "  " + std::string(kDifferText) + "\n";
  for (const auto& n : s.nodes) {
    out += "node " + std::to_string(n.node_id) + (sb ? " (" + sb->nodes[n.node_id - 1].name + ")" : "") + "\n";
    out += line("heartbeat", n.heartbeat.offset, n.heartbeat.status);
    if (const auto& hb = n.heartbeat.record) {
      out += std::string(node_state_name(hb->state)) + " incarnation " + std::to_string(hb->incarnation) + " seq " +
             std::to_string(hb->seq) + " peer " + peer_view_name(hb->peer_view) + ", io " +
             std::to_string(hb->last_io_latency_us) + "us (worst " + std::to_string(hb->max_io_latency_us) + "us), " +
             stamp(hb->wall_time_ns, now);
    }
    out += "\n" + line("epoch", n.epoch.offset, n.epoch.status);
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
        out += "      " + e.name + ": " + ownership_state_name(e.state) + " node " + std::to_string(e.node) + " epoch " +
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

int cmd_dump(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--json", false}, {"--timeout", true}});
  if (!args.ok()) return report_error("dump", args.status());
  if (args->has("--help")) {
    std::cout << kDumpHelp;
    return kExitOk;
  }
  if (args->positional.size() != 1)
    return report_error("dump", Error(Code::invalid_argument, "expected one DEVICE (see castor dump --help)"));
  int64_t timeout_ms = 30000;
  if (auto v = args->value("--timeout")) {
    auto parsed = parse_int(*v, 1, 3600000, "--timeout");
    if (!parsed.ok()) return report_error("dump", parsed.status());
    timeout_ms = *parsed;
  }
  auto path = resolve_device(args->positional[0]);
  if (!path.ok()) return report_error("dump", path.status());
  auto dev = AioBlockDevice::open(*path, AioBlockDevice::OpenMode::read_only);
  if (!dev.ok()) return report_error("dump", dev.status());
  BootClock clock;
  auto snap = read_disk_snapshot(**dev, clock, Millis(timeout_ms));
  if (!snap.ok()) return report_error("dump", snap.status());
  std::cout << (args->has("--json") ? dump_json(*path, *snap) : dump_text(*path, *snap));
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
