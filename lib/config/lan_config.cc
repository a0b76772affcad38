#include "config/lan_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#include "common/ini_reader.h"
#include "common/value_parsers.h"

namespace castor {
namespace {

enum End { kLocal = 0, kPeer = 1 };

// A numeric address in binary, for comparing two spellings of one address ("fd00::1" and "fd00:0::1").
struct LanAddress {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
  friend bool operator==(const LanAddress&, const LanAddress&) = default;
};

std::string key_name(size_t link, End end) {
  return "link" + std::to_string(link + 1) + (end == kLocal ? "_local" : "_peer");
}

const char* family_name(int family) { return family == AF_INET ? "IPv4" : "IPv6"; }

// The address, or the problem with its text (the caller names the key).
Result<LanAddress> parse_lan_address(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Error(Code::invalid_argument, ini_quoted(text) + " " + why);
  };
  if (text.empty()) return Error(Code::invalid_argument, "empty value");
  LanAddress a;
  const std::string s(text);  // inet_pton needs a NUL-terminated string
  if (s.find('\0') == std::string::npos && inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    const uint32_t v = (uint32_t(a.bytes[0]) << 24) | (uint32_t(a.bytes[1]) << 16) | (uint32_t(a.bytes[2]) << 8) | a.bytes[3];
    if (v == 0) return bad("is the unspecified address: name this node's address on the link");
    if (v == 0xffffffffu) return bad("is the broadcast address: heartbeats go to one peer address");
    if ((v >> 28) == 0xe) return bad("is a multicast address: heartbeats go to one peer address");
    return a;
  }
  if (s.find('\0') == std::string::npos && inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    if (a.bytes == std::array<unsigned char, 16>{})
      return bad("is the unspecified address: name this node's address on the link");
    if (a.bytes[0] == 0xff) return bad("is a multicast address: heartbeats go to one peer address");
    if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80)
      return bad("is a link-local IPv6 address, which needs an interface (a zone) [lan] does not take: use a "
                 "global or unique-local (fd00::/8) address");
    if (std::all_of(a.bytes.begin(), a.bytes.begin() + 10, [](unsigned char b) { return b == 0; }) &&
        a.bytes[10] == 0xff && a.bytes[11] == 0xff)
      return bad("is an IPv4-mapped IPv6 address: write the IPv4 address (" +
                 std::to_string(a.bytes[12]) + "." + std::to_string(a.bytes[13]) + "." + std::to_string(a.bytes[14]) +
                 "." + std::to_string(a.bytes[15]) + ")");
    return a;
  }
  if (s.find('%') != std::string::npos)
    return bad("is not a numeric IPv4 or IPv6 address (a \"%zone\" is not taken: use a global or "
               "unique-local (fd00::/8) address, not a link-local one)");
  return bad("is not a numeric IPv4 or IPv6 address (e.g. 192.168.10.1 or fd00::1; no host names)");
}

// The rules between the addresses of complete links whose addresses are all valid. `report` gets the
// link and the end whose key the problem is at, and the problem (the caller names the key).
using LinkReport = std::function<void(size_t link, End end, const std::string& problem)>;

void check_links(const std::vector<LanLinkConfig>& links, const std::vector<std::array<LanAddress, 2>>& addr,
                 const LinkReport& report) {
  for (size_t i = 0; i < links.size(); ++i) {
    const std::string local = key_name(i, kLocal);
    if (addr[i][kLocal].family != addr[i][kPeer].family) {
      report(i, kPeer,
             ini_quoted(links[i].peer) + " is " + family_name(addr[i][kPeer].family) + " but " + local + " " +
                 ini_quoted(links[i].local) + " is " + family_name(addr[i][kLocal].family) +
                 " (both ends of a link use one family)");
    } else if (addr[i][kLocal] == addr[i][kPeer]) {
      report(i, kPeer,
             ini_quoted(links[i].peer) + " is " + local + "'s address: the peer's address on a link differs from "
                                                          "this node's");
    }
  }
  if (links.size() < 2) return;
  const std::string two_networks = ": the two links must be two networks";
  if (addr[1][kLocal] == addr[0][kLocal])
    report(1, kLocal, ini_quoted(links[1].local) + " is link1_local's address too" + two_networks);
  if (addr[1][kPeer] == addr[0][kPeer])
    report(1, kPeer, ini_quoted(links[1].peer) + " is link1_peer's address too" + two_networks);
  if (addr[1][kLocal] == addr[0][kPeer])
    report(1, kLocal,
           ini_quoted(links[1].local) + " is link1_peer's address: an address cannot be this node's and the peer's");
  if (addr[1][kPeer] == addr[0][kLocal])
    report(1, kPeer,
           ini_quoted(links[1].peer) + " is link1_local's address: an address cannot be this node's and the peer's");
}

// "120 s" for whole seconds, else format_duration's.
std::string format_seconds(Duration d) {
  if (d % std::chrono::seconds(1) == Duration::zero())
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
  return format_duration(d);
}

std::string format_ms(Millis ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

const std::vector<std::string_view>& lan_ini_keys() {
  static const std::vector<std::string_view> keys = {"link1_local", "link1_peer", "link2_local", "link2_peer",
                                                     "port",        "interval_ms", "max_storage_stall_s"};
  return keys;
}

int lan_address_family(std::string_view address) {
  auto a = parse_lan_address(address);
  return a.ok() ? a->family : 0;
}

void read_lan_section(CastorIniSection& section, LanConfig& config) {
  struct Slot {
    const IniEntry* entry = nullptr;  // the key's entry, if given
    std::optional<LanAddress> address;  // if its value is a valid address
  };
  std::array<std::array<Slot, 2>, kLanMaxLinks> slot{};
  LanConfig next = config;
  for (const IniEntry& e : section.entries) {
    auto fail = [&](const std::string& problem) { section.error(e.line, ini_bad_value(e.key, section.title(), problem)); };
    auto set_int = [&](int64_t min, int64_t max, auto&& apply) {
      auto v = parse_integer(e.value, min, max);
      if (!v.ok()) fail(v.status().message());
      else apply(*v);
    };
    bool is_link = false;
    for (size_t i = 0; i < kLanMaxLinks && !is_link; ++i)
      for (End end : {kLocal, kPeer})
        if (e.key == key_name(i, end)) {
          is_link = true;
          Slot& s = slot[i][end];
          s.entry = &e;
          auto a = parse_lan_address(e.value);
          if (!a.ok()) fail(a.status().message());
          else s.address = *a;
          break;
        }
    if (is_link) continue;
    if (e.key == "port") {
      set_int(1, 65535, [&](int64_t v) { next.port = uint16_t(v); });
    } else if (e.key == "interval_ms") {
      set_int(kLanMinInterval.count(), kLanMaxInterval.count(), [&](int64_t v) { next.interval = Millis(v); });
    } else if (e.key == "max_storage_stall_s") {
      set_int(kLanMinStorageStall.count(), kLanMaxStorageStall.count(),
              [&](int64_t v) { next.max_storage_stall = std::chrono::seconds(v); });
    } else {
      section.error(e.line, "internal: key '" + e.key + "' accepted but not read");  // never: lan_ini_keys()
    }
  }

  // Which links are named, and whole.
  const size_t errors_before_links = section.errors.size();
  bool any_link_key = false, addresses_ok = true;
  for (size_t i = 0; i < kLanMaxLinks; ++i) {
    for (End end : {kLocal, kPeer}) {
      if (!slot[i][end].entry) continue;
      any_link_key = true;
      if (!slot[i][end].address) addresses_ok = false;
    }
    for (End end : {kLocal, kPeer}) {
      const End other = end == kLocal ? kPeer : kLocal;
      if (slot[i][end].entry && !slot[i][other].entry)
        section.error(slot[i][end].entry->line,
                      key_name(i, end) + " without " + key_name(i, other) +
                          ": a link needs this node's address (_local) and the peer's (_peer)");
    }
  }
  if (!slot[0][kLocal].entry && !slot[0][kPeer].entry && (slot[1][kLocal].entry || slot[1][kPeer].entry)) {
    // Named at link2's first key in the file.
    const End first = !slot[1][kPeer].entry                                                    ? kLocal
                      : !slot[1][kLocal].entry                                                 ? kPeer
                      : slot[1][kLocal].entry->line <= slot[1][kPeer].entry->line ? kLocal
                                                                                               : kPeer;
    section.error(slot[1][first].entry->line,
                  key_name(1, first) + " without link1: name the first network as link1 (link1_local, link1_peer)");
  }
  if (any_link_key && addresses_ok && section.errors.size() == errors_before_links) {
    std::vector<LanLinkConfig> links;
    std::vector<std::array<LanAddress, 2>> addr;
    for (size_t i = 0; i < kLanMaxLinks; ++i) {
      if (!slot[i][kLocal].entry) continue;
      links.push_back({slot[i][kLocal].entry->value, slot[i][kPeer].entry->value});
      addr.push_back({*slot[i][kLocal].address, *slot[i][kPeer].address});
    }
    check_links(links, addr, [&](size_t link, End end, const std::string& problem) {
      section.error(slot[link][end].entry->line, ini_bad_value(key_name(link, end), section.title(), problem));
    });
    if (section.errors.size() == errors_before_links) next.links = std::move(links);
  }
  // Values are taken only when all of [lan] is right: a half-read LAN is never handed on.
  if (section.errors.empty()) config = std::move(next);
}

Status check_lan_config(const LanConfig& c) {
  std::string problems;
  auto add = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + ("[lan] " + p); };
  if (c.links.size() > kLanMaxLinks)
    add(std::to_string(c.links.size()) + " links: at most " + std::to_string(kLanMaxLinks));
  const size_t n = std::min(c.links.size(), kLanMaxLinks);
  std::vector<std::array<LanAddress, 2>> addr(n);
  bool addresses_ok = true;
  for (size_t i = 0; i < n; ++i)
    for (End end : {kLocal, kPeer}) {
      auto a = parse_lan_address(end == kLocal ? c.links[i].local : c.links[i].peer);
      if (!a.ok()) {
        add(key_name(i, end) + ": " + a.status().message());
        addresses_ok = false;
      } else {
        addr[i][end] = *a;
      }
    }
  if (addresses_ok) {
    std::vector<LanLinkConfig> links(c.links.begin(), c.links.begin() + ptrdiff_t(n));
    check_links(links, addr, [&](size_t link, End end, const std::string& problem) {
      add(key_name(link, end) + ": " + problem);
    });
  }
  if (c.port == 0) add("port 0: a UDP port from 1 to 65535");
  if (c.interval && (*c.interval < kLanMinInterval || *c.interval > kLanMaxInterval))
    add("interval_ms " + std::to_string(c.interval->count()) + ": from " + std::to_string(kLanMinInterval.count()) +
        " to " + std::to_string(kLanMaxInterval.count()));
  if (c.max_storage_stall < kLanMinStorageStall || c.max_storage_stall > kLanMaxStorageStall)
    add("max_storage_stall " + format_seconds(c.max_storage_stall) + ": from " +
        std::to_string(kLanMinStorageStall.count()) + " to " + std::to_string(kLanMaxStorageStall.count()) + " s");
  if (problems.empty()) return Status::Ok();
  return Error(Code::invalid_argument, problems);
}

std::vector<std::string> describe_lan_config(const LanConfig& c) {
  if (!c.enabled()) return {"off (no link in [lan])"};
  std::vector<std::string> out;
  for (size_t i = 0; i < c.links.size(); ++i)
    out.push_back("link" + std::to_string(i + 1) + " " + c.links[i].local + " -> " + c.links[i].peer);
  out.push_back("UDP port " + std::to_string(c.port) + ", interval " +
                (c.interval ? format_ms(*c.interval) : std::string("the renew interval (io_timeout / 2)")) +
                ", max storage stall " + format_seconds(c.max_storage_stall));
  return out;
}

}  // namespace castor
