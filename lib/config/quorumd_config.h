// QuorumdConfig: quorumd's local configuration, from an INI file and command-line overrides.
//
//   [quorumd]
//   device = /dev/disk/by-id/...   ; the quorum disk: a path, LABEL=... or UUID=... (required); or three of
//                                  ; them, separated by spaces or commas: a set of quorum devices written by
//                                  ; one `castor init DEV1 DEV2 DEV3` (issue 17), in any order
//   node = alpha                   ; this node's name; must be one of the superblock's two nodes (required)
//   cluster = demo                 ; optional: if given, must be the superblock's cluster name
//   cluster_uuid = 8-4-4-4-12 hex  ; optional: if given, must be the superblock's cluster UUID (pins the
//                                  ; disk: a cloned or snapshot LUN of another cluster is refused;
//                                  ; `castor init` prints the line)
//   io_timeout_ms = 2000           ; optional: if given, must equal the superblock's io_timeout
//   watchdog_device = /dev/watchdog  ; default; "none" is refused unless a [fence NODE] section powers this
//                                    ; node off (its peer then takes over only on a confirmed fence), or
//                                    ; allow_unsafe_no_watchdog = yes (tests only).
//                                  ; Opening it (quorum_daemon, watchdog.h) refuses anything that is not
//                                  ; a watchdog device; a FIFO only with CASTOR_TEST_WATCHDOG_STANDIN=1
//   allow_unsafe_no_watchdog = no
//   socket = /run/castor/quorumd.sock  ; control socket (default shown)
//   status_group = castor              ; may read `status` on it (default: none, root only)
//   scrub_interval_s = 60          ; rewrite every block of this node's region at least this often
//   lock_memory = yes              ; mlockall (default yes)
//   realtime = yes                 ; SCHED_FIFO (default yes)
//   authenticate_disk = no         ; yes: every quorum-disk block carries an HMAC with the cluster key and
//                                  ; every block read must verify (docs/security.md); must match the
//                                  ; disk (castor init --authenticate), else quorumd refuses to start
//   authkey = /etc/castor/authkey  ; the cluster key (root-only 0600, the same on both nodes; castor keygen);
//                                  ; needed by authenticate_disk = yes and by any [lan] link
//
//   [lan]                          ; the LAN heartbeat channel (issue 15; config/lan_config.h has the rules)
//   link1_local = 192.168.10.1     ; this node's address on the first heartbeat network (numeric IPv4/IPv6)
//   link1_peer = 192.168.10.2      ; the peer's address there (same family, not equal)
//   link2_local = 10.1.0.1         ; optional second network (needs link1; other addresses than link1's)
//   link2_peer = 10.1.0.2
//   port = 5406                    ; UDP, the same on both nodes and links (1..65535)
//   interval_ms = 1000             ; optional (10..60000); default the renew interval io_timeout / 2;
//                                  ; refused when longer than io_timeout_ms (here, if given; by quorumd on T)
//   max_storage_stall_s = 120      ; the longest shared storage stall ridden through (1..3600)
//   [fence NODE]                   ; power fencing of NODE (issue 16): config/fence_config.h
//   No link: no LAN channel (the default). With a link, check_quorumd_config refuses an authkey that is not
//   an absolute file path (the LAN is always authenticated); quorumd loads and checks the key itself.
//
// Read with castor.ini's rules (config/castor_ini.h, common/ini_reader.h): booleans are yes/no, true/false,
// on/off, 1/0 in any case; unknown sections and keys, keys outside any section, keys given twice, empty
// values, bad values and syntax errors are errors naming file:line. Command line: quorumd --config FILE [--device D]
// [--node N] [--socket S] [--watchdog DEV]; an option overrides the file's key.
// This unit only parses and checks the text: it never opens the device, the watchdog or the socket, and
// never compares against the superblock (quorum_daemon does), never opens the key file or a LAN socket.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/quorum_device_count.h"
#include "common/status.h"
#include "common/uuid.h"
#include "config/fence_config.h"
#include "config/lan_config.h"

namespace castor {

// The entries of a `device` setting: separated by spaces, tabs or commas; empty entries dropped.
std::vector<std::string> split_device_list(const std::string& text);
// 1 or 3 entries, none repeated; `where` names the setting in the error.
Status check_device_list(const std::vector<std::string>& devices, const std::string& where);

struct QuorumdConfig {
  std::string config_file;
  std::string device;
  std::string node;
  std::optional<std::string> cluster;
  std::optional<Uuid> cluster_uuid;
  std::optional<Millis> io_timeout;
  std::string watchdog_device = "/dev/watchdog";  // "none": no watchdog (only with allow_unsafe_no_watchdog)
  bool allow_unsafe_no_watchdog = false;
  std::string socket_path = "/run/castor/quorumd.sock";
  // A group whose members may send `status` on the control socket (the web console runs without root);
  // empty: root only.
  std::string status_group;
  Duration scrub_interval = std::chrono::seconds(60);  // own blocks rewritten at least this often (heals damage)
  bool lock_memory = true;
  bool realtime = true;
  bool authenticate_disk = false;  // pins the disk's "records authenticated" flag: no downgrade by the disk
  std::string authkey = "/etc/castor/authkey";
  std::string state_dir = "/var/lib/castor";  // the life file (quorumd/life_file.h), with a set of devices
  LanConfig lan;  // [lan]: the LAN heartbeat channel; off (no link) by default
  std::vector<FenceDeviceConfig> fence;  // [fence NODE]: power fencing (config/fence_config.h); none by default

  // The quorum devices `device` lists (1, or kQuorumDevices for a set); the check refuses other counts.
  std::vector<std::string> devices() const { return split_device_list(device); }
  bool no_watchdog() const { return watchdog_device == "none"; }
  // No watchdog, and a power fence configured for this node: allowed without allow_unsafe_no_watchdog, and
  // published in the heartbeat (kNoWatchdog) so that the peer never takes over on the dead time D.
  bool power_fence_only() const { return no_watchdog() && fence_device_for(fence, node) != nullptr; }
};

// The command line, before the file is read.
struct QuorumdArgs {
  bool help = false;
  std::string config_file;
  std::optional<std::string> device, node, socket_path, watchdog_device;
};

// Parses an INI file's text into `config` (keys not in the file keep their current values).
// `file_name` is used in error messages only.
Status parse_quorumd_ini(const std::string& text, const std::string& file_name, QuorumdConfig& config);
// Reads and parses the file; refuses one that is not trusted (common/trusted_path.h: owned by root, not
// writable by group or others, through every directory and symlink on the way).
Status load_quorumd_ini(const std::string& path, QuorumdConfig& config);
// Checks the merged configuration: required keys present, watchdog "none" allowed, [lan] valid
// (check_lan_config) and, with a link, an authkey path and an interval no longer than io_timeout_ms.
Status check_quorumd_config(const QuorumdConfig& config);
// The [lan] part of that check, alone (castor check runs it on a file that may lack device and node):
// check_lan_config, then, with a link, an authkey that is an absolute file path and an interval no
// longer than io_timeout_ms when both are given. Never opens the key file.
Status check_quorumd_lan(const QuorumdConfig& config);

// Parses quorumd's command line (without argv[0]). Every error is a usage error.
Result<QuorumdArgs> parse_quorumd_args(const std::vector<std::string>& args);
// Loads args.config_file, applies the overrides and checks the result.
Result<QuorumdConfig> load_quorumd_config(const QuorumdArgs& args);
const char* quorumd_usage();

}  // namespace castor
