// LanConfig: the LAN heartbeat channel's settings (issue 15), castor.ini's [lan] section, which quorumd
// reads beside [quorumd] (config/quorumd_config.h) and svcmgr skips:
//
//   [lan]
//   link1_local = 192.168.10.1   ; this node's address on the first heartbeat network
//   link1_peer  = 192.168.10.2   ; the peer's address there
//   link2_local = 10.1.0.1       ; optional second network
//   link2_peer  = 10.1.0.2
//   port = 5406                  ; UDP, the same on both nodes and links (1..65535)
//   interval_ms = 1000           ; optional (10..60000); default: the renew interval T/2 from the disk
//   max_storage_stall_s = 120    ; the longest shared storage stall ridden through (1..3600)
//
// No link: no LAN channel (the default). A link needs both addresses, numeric IPv4 or IPv6 (inet_pton:
// no host names, no "%zone", so no IPv6 link-local fe80::/10; no IPv4-mapped ::ffff:a.b.c.d), of one
// family, not equal, unicast (not 0.0.0.0/::, multicast or 255.255.255.255); link2 needs link1; the two links use different local and different peer addresses,
// and no address is this node's on one link and the peer's on the other. A [lan] with a link needs the
// cluster key (authkey in [quorumd]): every datagram is authenticated (check_quorumd_config refuses
// otherwise; quorumd loads the key). quorumd refuses an interval longer than T (it knows T from the disk).
// Errors name file:line, with castor.ini's rules (config/castor_ini.h).
// This unit only parses and checks text and values: it never opens a socket, resolves a name or reads
// the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/castor_ini.h"

namespace castor {

struct LanLinkConfig {
  std::string local;  // numeric IPv4 or IPv6 address of this node on the link (inet_pton-checked)
  std::string peer;   // the peer's address on the same link (same family as local)
  friend bool operator==(const LanLinkConfig&, const LanLinkConfig&) = default;
};

struct LanConfig {
  std::vector<LanLinkConfig> links;  // empty: no LAN channel (default); 1 or 2 links
  uint16_t port = 5406;              // UDP port, the same on both nodes and links
  std::optional<Millis> interval;    // default (nullopt): the renew interval T/2 from the disk; quorumd refuses > T
  Duration max_storage_stall = std::chrono::seconds(120);
  bool enabled() const { return !links.empty(); }
};

inline constexpr std::string_view kLanSection = "lan";
inline constexpr size_t kLanMaxLinks = 2;
inline constexpr Millis kLanMinInterval{10};
inline constexpr Millis kLanMaxInterval{60000};
inline constexpr std::chrono::seconds kLanMinStorageStall{1};
inline constexpr std::chrono::seconds kLanMaxStorageStall{3600};

// [lan]'s keys, for read_castor_ini_sections().
const std::vector<std::string_view>& lan_ini_keys();

// Interprets the entries of castor.ini's [lan] section (read with lan_ini_keys()) into `config`; each bad
// value or bad combination is added to section.errors with its line. Nothing is taken unless all of the
// section is valid (a half-read LAN is never handed on); then keys not given keep their values, and the
// links are replaced when the section names any link key.
void read_lan_section(CastorIniSection& section, LanConfig& config);

// The same rules on a LanConfig built or changed without the file (no line numbers): OK, or
// invalid_argument naming the key ("[lan] link2_peer: ...").
Status check_lan_config(const LanConfig& config);

// AF_INET or AF_INET6 for a numeric address as [lan] takes it, 0 for anything else.
int lan_address_family(std::string_view address);

// One line per link for people ("link1 192.168.10.1 -> 192.168.10.2"), then the port, interval and stall
// bound; "off (no link in [lan])" when the channel is off.
std::vector<std::string> describe_lan_config(const LanConfig& config);

}  // namespace castor
