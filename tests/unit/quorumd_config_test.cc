// Tests for quorumd's configuration: the [quorumd] section of castor.ini, the checks on the merged
// configuration and the command-line overrides (lib/config/quorumd_config.h).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "config/quorumd_config.h"

using namespace castor;

namespace {

const char* kFullFile = R"(; castor.ini, shared by quorumd and svcmgr
[quorumd]
device = /dev/disk/by-id/wwn-0x5000c500a1b2c3d4   ; the quorum disk
node = alpha
cluster = demo
io_timeout_ms = 2000
watchdog_device = /dev/watchdog1
allow_unsafe_no_watchdog = no
socket = /run/castor/q.sock
lock_memory = off
realtime = false

# svcmgr's own section: quorumd must accept and skip it
[svcmgr]
services_dir = /etc/castor/services.d
whatever_svcmgr_wants = 42
)";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Status parse(const std::string& text, QuorumdConfig& c) { return parse_quorumd_ini(text, "castor.ini", c); }

Status parse(const std::string& text) {
  QuorumdConfig c;
  return parse(text, c);
}

// A config file under /tmp (mkstemp), removed at destruction.
class TempIni {
 public:
  explicit TempIni(const std::string& text) {
    char tmpl[] = "/tmp/castor-quorumd-config-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path_ = tmpl;
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = write(fd, text.data() + off, text.size() - off);
      REQUIRE(n > 0);
      off += size_t(n);
    }
    REQUIRE(close(fd) == 0);
  }
  ~TempIni() { unlink(path_.c_str()); }
  TempIni(const TempIni&) = delete;
  TempIni& operator=(const TempIni&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("quorumd config: defaults before any file") {
  QuorumdConfig c;
  CHECK(c.device.empty());
  CHECK(c.node.empty());
  CHECK_FALSE(c.cluster.has_value());
  CHECK_FALSE(c.io_timeout.has_value());
  CHECK(c.watchdog_device == "/dev/watchdog");
  CHECK_FALSE(c.allow_unsafe_no_watchdog);
  CHECK(c.socket_path == "/run/castor/quorumd.sock");
  CHECK(c.lock_memory);
  CHECK(c.realtime);
  CHECK_FALSE(c.no_watchdog());
}

TEST_CASE("quorumd config: a full [quorumd] section, [svcmgr] skipped") {
  QuorumdConfig c;
  Status st = parse(kFullFile, c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.device == "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4");  // inline comment stripped
  CHECK(c.node == "alpha");
  REQUIRE(c.cluster.has_value());
  CHECK(*c.cluster == "demo");
  REQUIRE(c.io_timeout.has_value());
  CHECK(*c.io_timeout == Millis(2000));
  CHECK(c.watchdog_device == "/dev/watchdog1");
  CHECK_FALSE(c.allow_unsafe_no_watchdog);
  CHECK(c.socket_path == "/run/castor/q.sock");
  CHECK_FALSE(c.lock_memory);
  CHECK_FALSE(c.realtime);
  CHECK(check_quorumd_config(c).ok());
}

TEST_CASE("quorumd config: a minimal section keeps the defaults") {
  QuorumdConfig c;
  Status st = parse("[quorumd]\ndevice = LABEL=castorq\nnode = beta\n", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.device == "LABEL=castorq");
  CHECK(c.node == "beta");
  CHECK_FALSE(c.cluster.has_value());
  CHECK_FALSE(c.io_timeout.has_value());
  CHECK(c.watchdog_device == "/dev/watchdog");
  CHECK_FALSE(c.allow_unsafe_no_watchdog);
  CHECK(c.socket_path == "/run/castor/quorumd.sock");
  CHECK(c.lock_memory);
  CHECK(c.realtime);
  CHECK(check_quorumd_config(c).ok());
}

TEST_CASE("quorumd config: [svcmgr] alone, CRLF line ends, comments and blank lines") {
  QuorumdConfig c;
  Status st = parse("[svcmgr]\nanything = goes\n", c);
  CHECK_MESSAGE(st.ok(), st.to_string());
  CHECK(c.device.empty());

  QuorumdConfig d;
  st = parse("; comment\r\n\r\n# another\r\n[quorumd]\r\ndevice = /dev/sdb\r\nnode = alpha\r\n", d);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(d.device == "/dev/sdb");
  CHECK(d.node == "alpha");

  // An empty file is fine for the parser (the check then asks for device and node).
  QuorumdConfig e;
  CHECK(parse("", e).ok());
  CHECK_FALSE(check_quorumd_config(e).ok());
}

TEST_CASE("quorumd config: unknown section and unknown key name file:line") {
  Status st = parse("[quorumd]\nnode = alpha\n\n[cluster]\nfoo = bar\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:4:"), st.message());
  CHECK_MESSAGE(contains(st.message(), "[cluster]"), st.message());

  st = parse("[quorumd]\nnode = alpha\ndevcie = /dev/sdb\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3:"), st.message());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: unknown key 'devcie' in [quorumd] (did you mean 'device'?)"),
                st.message());

  // Keys are case-sensitive.
  st = parse("[quorumd]\nNode = alpha\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2:"), st.message());

  // Several errors are all reported.
  st = parse("[quorumd]\nbogus1 = 1\nnode = a\nbogus2 = 2\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2:"), st.message());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:4:"), st.message());
}

TEST_CASE("quorumd config: a key given twice") {
  Status st = parse("[quorumd]\nnode = alpha\ndevice = /dev/sdb\nnode = beta\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  // The same message as a key given twice in a service file.
  CHECK_MESSAGE(contains(st.message(), "castor.ini:4: duplicate key 'node' in [quorumd] (first at line 2)"),
                st.message());

  // The same key in a second [quorumd] section is still given twice.
  st = parse("[quorumd]\nnode = alpha\n[svcmgr]\nx = 1\n[quorumd]\nnode = beta\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:6:"), st.message());

  // There are no continuation lines (as in service files): an indented line is a line of its own, here
  // one without '='.
  st = parse("[quorumd]\ndevice = /dev/sdb\n  /dev/sdc\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: syntax error"), st.message());
  // An indented key is a key of its own.
  st = parse("[quorumd]\ndevice = /dev/sdb\n  device = /dev/sdc\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: duplicate key 'device'"), st.message());

  // The same key in [svcmgr] and [quorumd] is not a duplicate.
  CHECK(parse("[svcmgr]\nnode = x\n[quorumd]\nnode = alpha\n").ok());
}

TEST_CASE("quorumd config: a key outside any section") {
  Status st = parse("; header comment\ndevice = /dev/sdb\n[quorumd]\nnode = alpha\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2:"), st.message());
  CHECK_MESSAGE(contains(st.message(), "outside any section"), st.message());
}

TEST_CASE("quorumd config: syntax errors") {
  // A line that is neither a section, a key = value nor a comment.
  Status st = parse("[quorumd]\nnode = alpha\njust some words\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3:"), st.message());

  // An unclosed section header.
  st = parse("[quorumd\nnode = alpha\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:1:"), st.message());
}

TEST_CASE("quorumd config: empty values are refused") {
  for (const char* key : {"device", "node", "cluster", "watchdog_device", "socket"}) {
    CAPTURE(key);
    Status st = parse(std::string("[quorumd]\n") + key + " =\n");
    REQUIRE_FALSE(st.ok());
    CHECK_MESSAGE(contains(st.message(), "castor.ini:2:"), st.message());
    CHECK_MESSAGE(contains(st.message(), "empty"), st.message());
  }
}

TEST_CASE("quorumd config: booleans") {
  struct Case {
    const char* text;
    bool value;
  };
  // One rule for every file (the service files' too): case-insensitive, so "Yes" works here as well.
  for (Case k : {Case{"yes", true}, Case{"true", true}, Case{"on", true}, Case{"1", true}, Case{"no", false},
                 Case{"false", false}, Case{"off", false}, Case{"0", false}, Case{"Yes", true}, Case{"YES", true},
                 Case{"True", true}, Case{"ON", true}, Case{"No", false}, Case{"FALSE", false}, Case{"Off", false}}) {
    CAPTURE(k.text);
    for (const char* key : {"lock_memory", "realtime", "allow_unsafe_no_watchdog"}) {
      CAPTURE(key);
      QuorumdConfig c;
      c.lock_memory = c.realtime = c.allow_unsafe_no_watchdog = !k.value;
      Status st = parse(std::string("[quorumd]\n") + key + " = " + k.text + "\n", c);
      REQUIRE_MESSAGE(st.ok(), st.to_string());
      const bool got = std::string(key) == "lock_memory" ? c.lock_memory
                       : std::string(key) == "realtime"  ? c.realtime
                                                         : c.allow_unsafe_no_watchdog;
      CHECK(got == k.value);
    }
  }
  for (const char* bad : {"y", "2", "enabled", "truee", "-1", "no no", "yes!", "0x1"}) {
    CAPTURE(bad);
    Status st = parse(std::string("[quorumd]\n\nrealtime = ") + bad + "\n");
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == Code::invalid_argument);
    CHECK_MESSAGE(contains(st.message(), "castor.ini:3:"), st.message());
    CHECK_MESSAGE(contains(st.message(), "boolean"), st.message());
  }
  // An empty boolean is not a boolean.
  CHECK_FALSE(parse("[quorumd]\nlock_memory =\n").ok());
}

TEST_CASE("quorumd config: io_timeout_ms") {
  QuorumdConfig c;
  REQUIRE(parse("[quorumd]\nio_timeout_ms = 1\n", c).ok());
  CHECK(*c.io_timeout == Millis(1));
  QuorumdConfig d;
  REQUIRE(parse("[quorumd]\nio_timeout_ms = 86400000\n", d).ok());
  CHECK(*d.io_timeout == Millis(86400000));

  for (const char* bad : {"0", "-5", "86400001", "2s", "2000ms", "abc", "", "1e3", "0x10", "99999999999999999999",
                          "12 34"}) {
    CAPTURE(bad);
    QuorumdConfig e;
    Status st = parse(std::string("[quorumd]\nnode = alpha\nio_timeout_ms = ") + bad + "\n", e);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == Code::invalid_argument);
    CHECK_MESSAGE(contains(st.message(), "castor.ini:3:"), st.message());
    CHECK_FALSE(e.io_timeout.has_value());
  }
}

TEST_CASE("quorumd config: watchdog_device = none needs a power fence of this node or allow_unsafe_no_watchdog") {
  const std::string base = "[quorumd]\ndevice = /dev/sdb\nnode = alpha\nwatchdog_device = none\n";
  QuorumdConfig c;
  REQUIRE(parse(base, c).ok());
  CHECK(c.no_watchdog());
  Status st = check_quorumd_config(c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::refused);
  CHECK_MESSAGE(contains(st.message(), "allow_unsafe_no_watchdog"), st.message());

  QuorumdConfig explicit_no;
  REQUIRE(parse(base + "allow_unsafe_no_watchdog = no\n", explicit_no).ok());
  CHECK(check_quorumd_config(explicit_no).code() == Code::refused);

  QuorumdConfig allowed;
  REQUIRE(parse(base + "allow_unsafe_no_watchdog = yes\n", allowed).ok());
  CHECK(allowed.no_watchdog());
  CHECK(allowed.allow_unsafe_no_watchdog);
  CHECK(check_quorumd_config(allowed).ok());

  // A power fence for this node allows it without the permission (its peer then never takes over on D); a
  // fence for the peer only does not.
  const std::string fence_alpha = "[fence alpha]\nagent = fence_ipmilan\noption.ip = 203.0.113.11\n";
  QuorumdConfig fenced;
  REQUIRE(parse(base + fence_alpha, fenced).ok());
  CHECK(fenced.power_fence_only());
  CHECK(check_quorumd_config(fenced).ok());
  QuorumdConfig peer_fenced;
  REQUIRE(parse(base + "[fence beta]\nagent = fence_ipmilan\noption.ip = 203.0.113.12\n", peer_fenced).ok());
  CHECK_FALSE(peer_fenced.power_fence_only());
  Status refused = check_quorumd_config(peer_fenced);
  CHECK(refused.code() == Code::refused);
  CHECK_MESSAGE(contains(refused.message(), "[fence alpha]"), refused.message());
  CHECK_FALSE(allowed.power_fence_only());  // the unsafe permission publishes nothing: its peer still uses D

  // The permission alone changes nothing when a watchdog is configured.
  QuorumdConfig with_dog;
  REQUIRE(parse("[quorumd]\ndevice = /dev/sdb\nnode = alpha\nallow_unsafe_no_watchdog = yes\n", with_dog).ok());
  CHECK_FALSE(with_dog.no_watchdog());
  CHECK(check_quorumd_config(with_dog).ok());
}

TEST_CASE("quorumd config: check_quorumd_config") {
  QuorumdConfig good;
  good.device = "/dev/sdb";
  good.node = "alpha";
  CHECK(check_quorumd_config(good).ok());

  QuorumdConfig c = good;
  c.device.clear();
  Status st = check_quorumd_config(c);
  REQUIRE_FALSE(st.ok());
  CHECK(contains(st.message(), "device"));
  CHECK(contains(st.message(), "configuration"));  // no file name known

  c = good;
  c.node.clear();
  c.config_file = "/etc/castor/castor.ini";
  st = check_quorumd_config(c);
  REQUIRE_FALSE(st.ok());
  CHECK(contains(st.message(), "node"));
  CHECK(contains(st.message(), "/etc/castor/castor.ini"));

  c = good;
  c.socket_path = "run/quorumd.sock";
  CHECK(check_quorumd_config(c).code() == Code::invalid_argument);
  c.socket_path = "";
  CHECK(check_quorumd_config(c).code() == Code::invalid_argument);
  c.socket_path = "/" + std::string(106, 's');  // 107 bytes: the most sun_path holds with its NUL
  CHECK(check_quorumd_config(c).ok());
  c.socket_path = "/" + std::string(107, 's');  // 108 bytes
  CHECK(check_quorumd_config(c).code() == Code::invalid_argument);
}

TEST_CASE("quorumd config: very long lines") {
  // Lines of up to 4096 bytes, as in service files (inih's own 200-byte buffer is not the limit).
  const std::string ok_value = "/dev/" + std::string(4096 - 5 - 9, 'x');  // "device = " + value: 4096 bytes
  QuorumdConfig c;
  Status st = parse("[quorumd]\ndevice = " + ok_value + "   ; a comment after it\n", c);
  REQUIRE_FALSE(st.ok());  // 4096 + the comment: too long
  st = parse("[quorumd]\ndevice = " + ok_value + "\n", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.device == ok_value);  // whole, not cut at inih's buffer size

  const std::string long_value = ok_value + "y";  // 4097 bytes: too long
  QuorumdConfig d;
  st = parse("[quorumd]\ndevice = " + long_value + "\nnode = alpha\n", d);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: line too long (4097 bytes, at most 4096)"), st.message());
  CHECK(d.device.empty());  // never silently truncated
  CHECK(d.node == "alpha");  // the lines after it are still read

  // A very long line (1 MiB, no newline at the end) is refused without harm.
  QuorumdConfig e;
  st = parse("[quorumd]\nnode = alpha\n; " + std::string(1 << 20, 'z'), e);
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3:"), st.message());
  CHECK_MESSAGE(contains(st.message(), "too long"), st.message());

  // A long comment is still a long line.
  st = parse("[quorumd]\n# " + std::string(5000, 'c') + "\n");
  CHECK_FALSE(st.ok());
}

TEST_CASE("quorumd config: keys missing from the file keep their current values") {
  QuorumdConfig c;
  c.device = "/dev/preset";
  c.socket_path = "/tmp/preset.sock";
  REQUIRE(parse("[quorumd]\nnode = alpha\n", c).ok());
  CHECK(c.device == "/dev/preset");
  CHECK(c.socket_path == "/tmp/preset.sock");
  CHECK(c.node == "alpha");
}

TEST_CASE("quorumd config: command line") {
  auto a = parse_quorumd_args({"--config", "/etc/castor/castor.ini"});
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  CHECK_FALSE(a->help);
  CHECK(a->config_file == "/etc/castor/castor.ini");
  CHECK_FALSE(a->device.has_value());
  CHECK_FALSE(a->node.has_value());
  CHECK_FALSE(a->socket_path.has_value());
  CHECK_FALSE(a->watchdog_device.has_value());

  a = parse_quorumd_args({"--config=/c.ini", "--device", "UUID=1234", "--node", "beta", "--socket", "/tmp/q.sock",
                          "--watchdog", "none"});
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  CHECK(a->config_file == "/c.ini");
  CHECK(*a->device == "UUID=1234");
  CHECK(*a->node == "beta");
  CHECK(*a->socket_path == "/tmp/q.sock");
  CHECK(*a->watchdog_device == "none");

  a = parse_quorumd_args({"--help"});
  REQUIRE(a.ok());
  CHECK(a->help);

  CHECK_FALSE(parse_quorumd_args({}).ok());                                    // --config is required
  CHECK_FALSE(parse_quorumd_args({"--device", "/dev/sdb"}).ok());              // still required
  CHECK_FALSE(parse_quorumd_args({"--config"}).ok());                          // missing value
  CHECK_FALSE(parse_quorumd_args({"--config", ""}).ok());                      // empty value
  CHECK_FALSE(parse_quorumd_args({"--config", "/c.ini", "--node="}).ok());     // empty value
  CHECK_FALSE(parse_quorumd_args({"--config", "/c.ini", "extra"}).ok());       // positional
  CHECK_FALSE(parse_quorumd_args({"--config", "/c.ini", "--bogus", "x"}).ok());  // unknown option
  CHECK(quorumd_usage() != nullptr);
}

TEST_CASE("quorumd config: load_quorumd_config, the command line wins over the file") {
  TempIni ini(
      "[quorumd]\n"
      "device = /dev/from-file\n"
      "node = alpha\n"
      "socket = /run/castor/file.sock\n"
      "watchdog_device = /dev/watchdog0\n"
      "allow_unsafe_no_watchdog = yes\n"
      "[svcmgr]\n"
      "services_dir = /etc/castor/services.d\n");

  QuorumdArgs args;
  args.config_file = ini.path();
  auto c = load_quorumd_config(args);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  CHECK(c->config_file == ini.path());
  CHECK(c->device == "/dev/from-file");
  CHECK(c->node == "alpha");
  CHECK(c->socket_path == "/run/castor/file.sock");
  CHECK(c->watchdog_device == "/dev/watchdog0");

  args.device = "/dev/from-cli";
  args.node = "beta";
  args.socket_path = "/tmp/cli.sock";
  args.watchdog_device = "none";
  c = load_quorumd_config(args);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  CHECK(c->device == "/dev/from-cli");
  CHECK(c->node == "beta");
  CHECK(c->socket_path == "/tmp/cli.sock");
  CHECK(c->watchdog_device == "none");
  CHECK(c->no_watchdog());

  // Through the real command-line parser.
  auto a = parse_quorumd_args({"--config", ini.path(), "--node", "gamma"});
  REQUIRE(a.ok());
  c = load_quorumd_config(*a);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  CHECK(c->node == "gamma");
  CHECK(c->device == "/dev/from-file");

  // An override that breaks a check is caught by the check.
  args = QuorumdArgs{};
  args.config_file = ini.path();
  args.socket_path = "relative.sock";
  c = load_quorumd_config(args);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::invalid_argument);
  CHECK(contains(c.status().message(), ini.path()));
}

TEST_CASE("quorumd config: load_quorumd_config supplies what the file lacks, and refuses what is unsafe") {
  TempIni ini("[quorumd]\nwatchdog_device = none\n");
  QuorumdArgs args;
  args.config_file = ini.path();
  auto c = load_quorumd_config(args);
  REQUIRE_FALSE(c.ok());  // no device
  CHECK(contains(c.status().message(), "device"));

  args.device = "/dev/sdb";
  args.node = "alpha";
  c = load_quorumd_config(args);
  REQUIRE_FALSE(c.ok());  // watchdog none without the permission
  CHECK(c.status().code() == Code::refused);

  args.watchdog_device = "/dev/watchdog";  // the command line restores a watchdog
  c = load_quorumd_config(args);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  CHECK_FALSE(c->no_watchdog());
}

TEST_CASE("quorumd config: load errors") {
  {
    TempIni ini("[quorumd]\ndevice = /dev/sdb\nnode = alpha\nbogus = 1\n");
    QuorumdArgs args;
    args.config_file = ini.path();
    auto c = load_quorumd_config(args);
    REQUIRE_FALSE(c.ok());
    CHECK_MESSAGE(contains(c.status().message(), ini.path() + ":4:"), c.status().message());
  }
  QuorumdArgs missing;
  missing.config_file = "/tmp/castor-quorumd-config-does-not-exist.ini";
  missing.device = "/dev/sdb";
  missing.node = "alpha";
  auto c = load_quorumd_config(missing);
  REQUIRE_FALSE(c.ok());
  CHECK(contains(c.status().message(), missing.config_file));
}

// Regression: the reader once spotted section headers only at column 0 and trimmed the name while inih
// accepts them indented (or after a byte-order mark) and does not trim: such sections escaped the
// unknown-section check and the keys under them were dropped without a word.
TEST_CASE("quorumd config: indented, padded or BOM-prefixed section headers are read like inih reads them") {
  // "[ quorumd ]": the reader trims it to "quorumd" (no error); inih hands the handler " quorumd ", which
  // is dropped as "already reported". Every key of the section is lost, and parsing succeeds.
  QuorumdConfig c;
  Status st = parse("[ quorumd ]\ndevice = /dev/sdb\nnode = alpha\n", c);
  CHECK_MESSAGE((!st.ok() || c.device == "/dev/sdb"), "'[ quorumd ]' accepted but its keys were dropped");

  // An indented unknown section at the top of the file, or right after another section header.
  CHECK_FALSE(parse("  [bogus]\ndevice = /dev/sdb\n[quorumd]\nnode = alpha\n").ok());
  CHECK_FALSE(parse("[quorumd]\nnode = alpha\n[svcmgr]\n  [bogus]\ndevice = /dev/sdb\n").ok());

  // A UTF-8 byte-order mark (which inih skips) hides the first line's section from the reader.
  CHECK_FALSE(parse("\xEF\xBB\xBF[bogus]\ndevice = /dev/sdb\n").ok());
}

TEST_CASE("quorumd config: cluster_uuid pins the disk; malformed or nil UUIDs name file:line") {
  QuorumdConfig c;
  CHECK_FALSE(c.cluster_uuid.has_value());
  Status st = parse("[quorumd]\ndevice = /dev/x\nnode = alpha\ncluster_uuid = 6f1c2b9e-3d4a-4e5f-8a7b-1c2d3e4f5a6b\n", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  REQUIRE(c.cluster_uuid.has_value());
  CHECK(c.cluster_uuid->to_string() == "6f1c2b9e-3d4a-4e5f-8a7b-1c2d3e4f5a6b");
  QuorumdConfig bad;
  st = parse("[quorumd]\ncluster_uuid = not-a-uuid\n", bad);
  CHECK_FALSE(st.ok());
  CHECK_MESSAGE(st.message().find(":2:") != std::string::npos, st.message());
  CHECK_MESSAGE(st.message().find("cluster_uuid") != std::string::npos, st.message());
  st = parse("[quorumd]\ncluster_uuid = 00000000-0000-0000-0000-000000000000\n", bad);
  CHECK_FALSE(st.ok());
  CHECK_MESSAGE(st.message().find("nil UUID") != std::string::npos, st.message());
}

TEST_CASE("quorumd config: authenticate_disk and authkey (issue 14)") {
  QuorumdConfig c;
  CHECK_FALSE(c.authenticate_disk);  // off unless asked for: the disk must be made with --authenticate
  CHECK(c.authkey == "/etc/castor/authkey");
  REQUIRE(parse_quorumd_ini("[quorumd]\nauthenticate_disk = yes\nauthkey = /etc/castor/cluster.key\n", "castor.ini", c)
              .ok());
  CHECK(c.authenticate_disk);
  CHECK(c.authkey == "/etc/castor/cluster.key");
  QuorumdConfig d;
  Status st = parse_quorumd_ini("[quorumd]\nauthkey = authkey\n", "castor.ini", d);
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2:"), st.message());
  CHECK_MESSAGE(contains(st.message(), "absolute path"), st.message());
  CHECK_FALSE(parse_quorumd_ini("[quorumd]\nauthenticate_disk = maybe\n", "castor.ini", d).ok());
}

TEST_CASE("quorumd config: state_dir, where the life file of a set lives (issue 17)") {
  QuorumdConfig c;
  CHECK(c.state_dir == "/var/lib/castor");
  REQUIRE(parse_quorumd_ini("[quorumd]\nstate_dir = /srv/castor-state\n", "castor.ini", c).ok());
  CHECK(c.state_dir == "/srv/castor-state");
  for (const char* bad : {"state", "/var/lib/castor/", "/"}) {
    QuorumdConfig d;
    Status st = parse_quorumd_ini(std::string("[quorumd]\nstate_dir = ") + bad + "\n", "castor.ini", d);
    CHECK_MESSAGE(st.code() == Code::invalid_argument, bad);
    CHECK_MESSAGE(contains(st.message(), "castor.ini:2:"), st.message());
    CHECK(d.state_dir == "/var/lib/castor");
  }
}
