// castor status: the channels block (disk, each LAN link, promises) and the diagnosis lines. See the header.
#include "tools/status_channels.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "common/text_sanitize.h"

namespace castor {
namespace {

using json_codec::Json;

// Non-throwing reads: a field that is missing or of another type is nullopt (or the default).
const Json& object_at(const Json& o, const char* k) {
  static const Json kEmpty = Json::object();
  auto it = o.find(k);  // find() on a non-object is end(): never throws
  return it != o.end() && it->is_object() ? *it : kEmpty;
}
std::optional<bool> flag_at(const Json& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}
std::optional<double> number_at(const Json& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}
// Milliseconds (an integer in the contract; a float is rounded). Beyond ±10^15 ms (31,000 years) is no
// duration quorumd sends: treated as absent, which also keeps every later negation and sum in range.
std::optional<int64_t> ms_at(const Json& o, const char* k) {
  auto v = number_at(o, k);
  if (!v || std::fabs(*v) > 1e15) return std::nullopt;
  return int64_t(std::llround(*v));
}
std::optional<uint64_t> count_of(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return uint64_t(v.get<int64_t>());
  return std::nullopt;
}
std::string text_at(const Json& o, const char* k, const std::string& def) {
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? printable(it->get<std::string>()) : def;
}

// A non-negative span for a human: "40 ms", "5.2 s", "120 s" (tenths of a second from 1 s on, ".0" dropped).
std::string span(int64_t ms) {
  char buf[48];
  if (ms < 0) ms = 0;
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ms));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.1f", double(ms) / 1000.0);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + " s";
}
// A moment given as milliseconds from now (negative: in the past).
std::string from_now(int64_t ms) { return ms >= 0 ? span(ms) + " from now" : span(-ms) + " ago"; }

std::string decimal(double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, unit);
  return buf;
}

std::string pad(const std::string& s, size_t width) { return s.size() >= width ? s : s + std::string(width - s.size(), ' '); }

// One row of the block: "  NAME  STATE rest".
std::string row(const std::string& name, const std::string& state, const std::string& rest) {
  std::string line = "  " + pad(name, 5) + " " + pad(state, 4);
  if (!rest.empty()) line += " " + rest;
  return line + "\n";
}

// What the peer last said of its own disk on a link (a tri-state rather than optional<bool>, which g++ 12
// wrongly warns may be read uninitialized).
enum class PeerDisk { unknown, ok, failing };

// What one LAN link of the reply says, read once.
struct Link {
  std::string name;
  bool up = false;
  std::optional<int64_t> age_ms;
  PeerDisk peer_disk = PeerDisk::unknown;
};

std::string link_row(const Json& l, const Link& link) {
  std::string rest = text_at(l, "local", "?") + " -> " + text_at(l, "peer", "?");
  if (link.up) {
    rest += "  age " + (link.age_ms ? span(*link.age_ms) : std::string("-"));
    const auto rtt = number_at(l, "rtt_ms");
    rest += "  rtt " + (rtt ? decimal(*rtt, "ms") : std::string("-"));
    const auto loss = number_at(l, "loss_pct");
    rest += "  loss " + (loss ? decimal(*loss, "%") : std::string("-"));
    if (flag_at(l, "peer_hears_me") == false) rest += "  the peer does not hear this node";
  } else {
    rest += link.age_ms ? "  last heard " + span(*link.age_ms) + " ago" : std::string("  never heard");
  }
  if (auto it = l.find("send_errors"); it != l.end()) {
    if (auto n = count_of(*it); n && *n > 0) rest += "  send errors " + std::to_string(*n);
  }
  std::string out = row(link.name, link.up ? "up" : "DOWN", rest);
  // The refusal counts that are not zero, in the reply's order.
  std::string refused;
  for (const auto& [why, n] : object_at(l, "refused").items()) {
    auto c = count_of(n);
    if (!c || *c == 0) continue;
    refused += (refused.empty() ? "" : ", ") + printable(why) + " " + std::to_string(*c);
  }
  if (!refused.empty()) out += "             refused: " + refused + "\n";
  return out;
}

std::string promises_row(const Json& p) {
  if (flag_at(p, "enabled") != true) return "";
  const bool requesting = flag_at(p, "requesting") == true;
  const bool riding = flag_at(p, "riding_through_stall") == true;
  const auto until = ms_at(p, "promised_until_ms");
  const auto floor = ms_at(p, "dead_floor_ms");
  if (!requesting && !riding && !until && !(floor && *floor > 0)) return "";  // nothing in play
  std::vector<std::string> parts;
  if (requesting) parts.push_back("asking the peer for one");
  if (until) parts.push_back(*until >= 0 ? "the peer's promise to this node runs " + span(*until) + " more"
                                         : "the peer's promise to this node ran out " + span(-*until) + " ago");
  if (floor && *floor > 0) parts.push_back("this node may not declare the peer dead for " + span(*floor) + " (its own promise)");
  std::string rest;
  for (const auto& s : parts) rest += (rest.empty() ? "" : "; ") + s;
  auto count = [&](const char* k) {
    auto it = p.find(k);
    auto n = it != p.end() ? count_of(*it) : std::nullopt;
    return n ? std::to_string(*n) : std::string("?");
  };
  rest += " (granted " + count("granted") + ", received " + count("received") + ")";
  return "  promises " + rest + "\n";
}

}  // namespace

std::string devices_status_text(const Json& status) {
  auto it = status.find("devices");
  if (it == status.end() || !it->is_array()) return "";
  const Json& devices = *it;
  size_t answering = 0;
  for (const Json& d : devices)
    if (d.is_object() && flag_at(d, "failing") == false) ++answering;
  const size_t majority = devices.size() / 2 + 1;
  std::string out = "  quorum devices: a set of " + std::to_string(devices.size()) + ", a majority (" +
                    std::to_string(majority) + ") must answer; ";
  if (answering == devices.size()) out += "all answer (redundant)\n";
  else if (answering >= majority)
    out += "WITHOUT REDUNDANCY: " + std::to_string(devices.size() - answering) + " lost, one more loss fences both nodes\n";
  else out += "NO MAJORITY: " + std::to_string(answering) + " answer; the lease cannot be renewed\n";
  for (const Json& d : devices) {
    if (!d.is_object()) continue;
    const auto index = count_of(d.contains("index") ? d["index"] : Json());
    std::string line = "    " + (index ? std::to_string(*index) : std::string("?")) + " " + text_at(d, "path", "?") + ": ";
    if (flag_at(d, "failing") == true) {
      line += "FAILING";
      if (auto f = ms_at(d, "failing_for_ms")) line += " for " + span(*f);
      line += ": " + text_at(d, "last_error", "?");
    } else if (flag_at(d, "failing") == false) {
      line += "ok";
      if (auto l = number_at(d, "last_ok_latency_us")) line += ", latency " + span(int64_t(*l / 1000.0));
      if (auto w = number_at(d, "worst_latency_us")) line += " (worst " + span(int64_t(*w / 1000.0)) + ")";
    } else {
      line += "?";
    }
    if (auto q = count_of(d.contains("queued") ? d["queued"] : Json()); q && *q > 0)
      line += ", " + std::to_string(*q) + " writes waiting";
    if (auto b = count_of(d.contains("invalid_blocks") ? d["invalid_blocks"] : Json()); b && *b > 0)
      line += ", " + std::to_string(*b) + " invalid copies read";
    out += line + "\n";
  }
  return out;
}

std::string channels_status_text(const Json& status) {
  auto ch_it = status.find("channels");
  if (ch_it == status.end() || !ch_it->is_object()) return "";
  const Json& ch = *ch_it;
  const Json& disk = object_at(ch, "disk");
  const Json& promises = object_at(status, "promises");
  const Json& lease = object_at(status, "lease");
  const std::string peer_name = text_at(object_at(status, "peer"), "name", "?");

  std::string out = "\nChannels of " + text_at(object_at(status, "node"), "name", "?") + " to " + peer_name + ":\n";

  // The quorum disk: this node's heartbeat writes, and the peer's heartbeat as read from it.
  const std::optional<bool> disk_up = flag_at(disk, "up");
  const auto last_ok = ms_at(disk, "last_ok_write_age_ms");
  const auto peer_age = ms_at(disk, "peer_heartbeat_age_ms");
  std::string rest;
  if (disk_up == false) rest = last_ok ? "last ok write " + span(*last_ok) + " ago" : "no ok write yet";
  else rest = "last write " + (last_ok ? span(*last_ok) + " ago" : std::string("-"));
  rest += "  peer heartbeat " + (peer_age ? span(*peer_age) + " ago" : std::string("not seen"));
  out += row("disk", disk_up ? (*disk_up ? "up" : "DOWN") : "?", rest);

  // The LAN links.
  std::vector<Link> links;
  auto lan_it = ch.find("lan");
  if (lan_it == ch.end() || !lan_it->is_array()) {
    out += row("lan", "?", "(not in quorumd's reply)");
  } else if (lan_it->empty()) {
    out += "  " + pad("lan", 5) + " not configured (a storage stall seen by both nodes resets both; see castor.ini [lan])\n";
  } else {
    for (const Json& l : *lan_it) {
      if (!l.is_object()) continue;
      Link link;
      link.name = text_at(l, "name", "lan?");
      link.up = flag_at(l, "up") == true;
      link.age_ms = ms_at(l, "age_ms");
      if (auto ok = flag_at(l, "peer_disk_ok")) link.peer_disk = *ok ? PeerDisk::ok : PeerDisk::failing;
      out += link_row(l, link);
      links.push_back(std::move(link));
    }
  }
  out += promises_row(promises);

  // What the peer last said of its own disk, on the link that heard it last; and whether any link is up.
  const Link* heard = nullptr;
  for (const Link& l : links) {
    if (!l.up) continue;
    if (!heard || (l.age_ms && (!heard->age_ms || *l.age_ms < *heard->age_ms))) heard = &l;
  }
  const PeerDisk peer_disk = heard ? heard->peer_disk : PeerDisk::unknown;
  const auto io_timeout = ms_at(object_at(status, "timing_ms"), "io_timeout");

  std::vector<std::string> diagnoses;
  if (disk_up == true && heard) {
    const bool old_on_disk = io_timeout && *io_timeout > 0 && peer_age && *peer_age > 2 * *io_timeout;
    if (old_on_disk || peer_disk == PeerDisk::failing) {
      diagnoses.push_back("peer " + peer_name +
                          " is alive on the LAN but silent on the quorum disk: its storage path is the problem, not the node"
                          " (heard on " + heard->name + (heard->age_ms ? " " + span(*heard->age_ms) + " ago" : std::string()) +
                          ", disk heartbeat " + (peer_age ? span(*peer_age) + " ago" : std::string("not seen")) +
                          (peer_disk == PeerDisk::failing ? ", it reports its disk failing)" : ")"));
    }
  }
  if (disk_up == false) {
    if (heard && peer_disk == PeerDisk::failing) {
      std::string s = "shared storage stall: neither node can write the quorum disk";
      const auto max_stall = ms_at(promises, "max_storage_stall_ms");
      if (max_stall && last_ok) {
        s += " (this node for " + span(*last_ok) + "); max_storage_stall (" + span(*max_stall) + ") ";
        s += *last_ok < *max_stall ? "allows " + span(*max_stall - *last_ok) + " more"
                                   : std::string("is used up: both nodes fence unless the disk returns");
      } else if (max_stall) {
        s += "; max_storage_stall is " + span(*max_stall);
      }
      diagnoses.push_back(s);
    }
    std::string s = "this node cannot write the quorum disk; ";
    if (flag_at(promises, "riding_through_stall") == true) {
      const auto until = ms_at(promises, "promised_until_ms");
      s += "riding through on the peer's promise " + (until ? "until " + from_now(*until) : std::string("(no end reported)"));
    } else if (flag_at(lease, "valid") == true) {
      const auto left = ms_at(lease, "remaining_ms");
      s += "this node will fence in " + (left ? span(*left) : std::string("?"));
    } else {
      s += "its lease is not valid: this node fences";
    }
    diagnoses.push_back(s);
  }
  for (const auto& d : diagnoses) out += "  WARNING: " + d + "\n";
  return out;
}

}  // namespace castor
