// Tests for castor.ini's [lan] section (issue 15): config/lan_config.h through quorumd's parser
// (parse_quorumd_ini reads [quorumd] and [lan]), check_lan_config and check_quorumd_config's LAN rules,
// svcmgr skipping [lan], and the sample etc/castor.ini.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/read_file.h"
#include "config/lan_config.h"
#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"
#include "tests/support/source_tree.h"

using namespace castor;

namespace {

// The issue's example, every key given, between the other two sections.
const char* kSample = R"(; castor.ini with a LAN channel
[quorumd]
device = /dev/disk/by-id/wwn-0x5000c500a1b2c3d4
node = alpha

[lan]
link1_local = 192.168.10.1      ; this node's address on the first heartbeat network
link1_peer  = 192.168.10.2      ; the peer's address there
link2_local = 10.1.0.1          ; optional second network
link2_peer  = 10.1.0.2
port = 5406                     ; UDP
interval_ms = 1000              ; optional; default: the renew interval (io_timeout / 2)
max_storage_stall_s = 120       ; the longest shared storage stall ridden through (1..3600)

[svcmgr]
services_dir = /etc/castor/services.d
)";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Status parse(const std::string& text, QuorumdConfig& c) { return parse_quorumd_ini(text, "castor.ini", c); }
Status parse(const std::string& text) {
  QuorumdConfig c;
  return parse(text, c);
}

// Parses "[lan]\n" + body; the body's first line is line 2.
Status parse_lan(const std::string& body, QuorumdConfig& c) { return parse("[lan]\n" + body, c); }
Status parse_lan(const std::string& body) {
  QuorumdConfig c;
  return parse_lan(body, c);
}

// The error is refused with invalid_argument, names castor.ini:LINE and says `what`.
void check_error(const Status& st, int line, const std::string& what) {
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:" + std::to_string(line) + ":"), st.message());
  CHECK_MESSAGE(contains(st.message(), what), st.message());
}

const std::string kLink1 = "link1_local = 192.168.10.1\nlink1_peer = 192.168.10.2\n";

// A config file under /tmp (mkstemp), removed at destruction.
class TempIni {
 public:
  explicit TempIni(const std::string& text) {
    char tmpl[] = "/tmp/castor-lan-config-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path_ = tmpl;
    REQUIRE(write(fd, text.data(), text.size()) == ssize_t(text.size()));
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

TEST_CASE("lan config: defaults, and a file without [lan] or with an empty one") {
  LanConfig d;
  CHECK_FALSE(d.enabled());
  CHECK(d.links.empty());
  CHECK(d.port == 5406);
  CHECK_FALSE(d.interval.has_value());
  CHECK(d.max_storage_stall == std::chrono::seconds(120));
  CHECK(check_lan_config(d).ok());

  for (const char* text : {"[quorumd]\nnode = alpha\n", "[quorumd]\nnode = alpha\n[lan]\n", "[lan]\n; nothing\n"}) {
    const std::string file = text;
    CAPTURE(file);
    QuorumdConfig c;
    Status st = parse(text, c);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    CHECK_FALSE(c.lan.enabled());
    CHECK(c.lan.port == 5406);
    CHECK_FALSE(c.lan.interval.has_value());
    CHECK(c.lan.max_storage_stall == std::chrono::seconds(120));
  }
}

TEST_CASE("lan config: the full sample parses to the exact struct; svcmgr skips [lan]") {
  QuorumdConfig c;
  Status st = parse(kSample, c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.device == "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4");
  CHECK(c.node == "alpha");
  const std::vector<LanLinkConfig> want = {{"192.168.10.1", "192.168.10.2"}, {"10.1.0.1", "10.1.0.2"}};
  CHECK(c.lan.links == want);
  CHECK(c.lan.enabled());
  CHECK(c.lan.port == 5406);
  REQUIRE(c.lan.interval.has_value());
  CHECK(*c.lan.interval == Millis(1000));
  CHECK(c.lan.max_storage_stall == std::chrono::seconds(120));
  CHECK(check_lan_config(c.lan).ok());
  CHECK(check_quorumd_config(c).ok());  // the default authkey path; the key file is never opened here

  // Values other than the defaults, one link, IPv6: each lands in its field.
  QuorumdConfig v6;
  st = parse_lan("link1_local = fd00:10::1\nlink1_peer = FD00:10::2\nport = 7000\ninterval_ms = 250\n"
                 "max_storage_stall_s = 3600\n",
                 v6);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(v6.lan.links == std::vector<LanLinkConfig>{{"fd00:10::1", "FD00:10::2"}});  // as written
  CHECK(v6.lan.port == 7000);
  CHECK(*v6.lan.interval == Millis(250));
  CHECK(v6.lan.max_storage_stall == std::chrono::hours(1));

  // svcmgr reads the same file: [lan] is quorumd's, skipped (even keys svcmgr would not know).
  SvcmgrConfig s;
  st = parse_svcmgr_ini(std::string(kSample) + "[lan]\nport = 1\n", "castor.ini", s);
  CHECK_MESSAGE(st.ok(), st.to_string());
  CHECK(s.services_dir == "/etc/castor/services.d");
  // ... and an unknown section is still refused by both, naming the three known ones.
  for (bool svcmgr : {false, true}) {
    CAPTURE(svcmgr);
    const std::string text = "[quorumd]\nnode = a\n[lna]\nport = 1\n";
    QuorumdConfig q;
    SvcmgrConfig m;
    st = svcmgr ? parse_svcmgr_ini(text, "castor.ini", m) : parse(text, q);
    check_error(st, 3, "unknown section [lna] (castor.ini has [quorumd], [svcmgr], [lan], [web], [fence NODE] and [alert NAME]) (did you mean 'lan'?)");
  }
  // A key before any section says where it could go.
  check_error(parse("port = 5406\n[lan]\n"), 1, "outside any section (put it under [quorumd], [svcmgr] or [lan])");
}

TEST_CASE("lan config: a link needs both ends; link2 needs link1") {
  check_error(parse_lan("link1_local = 192.168.10.1\n"), 2, "link1_local without link1_peer");
  check_error(parse_lan("port = 5406\nlink1_peer = 192.168.10.2\n"), 3, "link1_peer without link1_local");
  check_error(parse_lan(kLink1 + "link2_local = 10.1.0.1\n"), 4, "link2_local without link2_peer");
  check_error(parse_lan(kLink1 + "\nlink2_peer = 10.1.0.2\n"), 5, "link2_peer without link2_local");
  // link2 alone: named at its first key, and not taken as the first link.
  QuorumdConfig c;
  Status st = parse_lan("port = 5406\nlink2_local = 10.1.0.1\nlink2_peer = 10.1.0.2\n", c);
  check_error(st, 3, "link2_local without link1");
  CHECK_FALSE(c.lan.enabled());
  check_error(parse_lan("link2_peer = 10.1.0.2\nlink2_local = 10.1.0.1\n"), 2, "link2_peer without link1");
  // Half of link1 with a whole link2: the half link is the error.
  check_error(parse_lan("link1_local = 192.168.10.1\nlink2_local = 10.1.0.1\nlink2_peer = 10.1.0.2\n"), 2,
              "link1_local without link1_peer");
  // One link is enough; it is link1.
  QuorumdConfig one;
  REQUIRE(parse_lan(kLink1, one).ok());
  CHECK(one.lan.links.size() == 1);
}

TEST_CASE("lan config: addresses must be numeric IPv4 or IPv6 unicast addresses") {
  struct Case {
    const char* value;
    const char* what;
  };
  for (Case k : {Case{"node-b.example.com", "is not a numeric IPv4 or IPv6 address"},
                 Case{"localhost", "is not a numeric IPv4 or IPv6 address"},
                 Case{"192.168.10", "is not a numeric"},
                 Case{"192.168.10.256", "is not a numeric"},
                 Case{"192.168.010.2", "is not a numeric"},  // no octal-looking octets
                 Case{"0x0a.1.0.2", "is not a numeric"},
                 Case{"192.168.10.2/24", "is not a numeric"},
                 Case{"192.168.10.2:5406", "is not a numeric"},
                 Case{"[fd00::2]", "is not a numeric"},
                 Case{"fd00::2::3", "is not a numeric"},
                 Case{"fe80::2%eth0", "is not a numeric IPv4 or IPv6 address (a \"%zone\" is not taken"},
                 Case{"fe80::2", "is a link-local IPv6 address"},
                 Case{"febf::2", "is a link-local IPv6 address"},
                 Case{"::ffff:192.168.10.2", "is an IPv4-mapped IPv6 address: write the IPv4 address (192.168.10.2)"},
                 Case{"0.0.0.0", "is the unspecified address"},
                 Case{"::", "is the unspecified address"},
                 Case{"255.255.255.255", "is the broadcast address"},
                 Case{"224.0.0.1", "is a multicast address"},
                 Case{"239.255.255.250", "is a multicast address"},
                 Case{"ff02::1", "is a multicast address"},
                 Case{"", "empty value"}}) {
    const std::string value = k.value;
    CAPTURE(value);
    // As the peer and as this node's address, of either link.
    check_error(parse_lan("link1_local = 192.168.10.1\nlink1_peer = " + std::string(k.value) + "\n"), 3,
                "key 'link1_peer' in [lan]: " + (*k.value ? "'" + std::string(k.value) + "' " : std::string()) + k.what);
    check_error(parse_lan("link1_local = " + std::string(k.value) + "\nlink1_peer = 192.168.10.2\n"), 2, k.what);
    check_error(parse_lan(kLink1 + "link2_local = 10.1.0.1\nlink2_peer = " + k.value + "\n"), 5,
                "key 'link2_peer' in [lan]");
    CHECK(lan_address_family(k.value) == 0);
  }
  // Accepted: IPv4 and IPv6 unicast, loopback, unique-local, upper case hex, the compressed forms.
  for (const char* ok : {"192.168.10.2", "127.0.0.2", "169.254.1.2", "10.255.255.254", "fd00::2", "2001:db8::2",
                         "FD00:0:0:0:0:0:0:2", "::1", "fec0::2"}) {
    const std::string address = ok;
    CAPTURE(address);
    QuorumdConfig c;
    const bool v4 = std::string(ok).find(':') == std::string::npos;
    const std::string local = v4 ? "192.168.10.1" : "fd00::1";
    Status st = parse_lan("link1_local = " + local + "\nlink1_peer = " + ok + "\n", c);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    CHECK(c.lan.links.at(0).peer == ok);
    CHECK(lan_address_family(ok) == (v4 ? AF_INET : AF_INET6));
  }
}

TEST_CASE("lan config: the two ends of a link are one family and differ") {
  check_error(parse_lan("link1_local = 192.168.10.1\nlink1_peer = fd00::2\n"), 3,
              "key 'link1_peer' in [lan]: 'fd00::2' is IPv6 but link1_local '192.168.10.1' is IPv4");
  check_error(parse_lan("link1_local = fd00::1\nlink1_peer = 192.168.10.2\n"), 3, "is IPv4 but link1_local");
  check_error(parse_lan(kLink1 + "link2_local = 10.1.0.1\n\nlink2_peer = fd01::2\n"), 6,
              "key 'link2_peer' in [lan]: 'fd01::2' is IPv6 but link2_local '10.1.0.1' is IPv4");
  check_error(parse_lan("link1_local = 192.168.10.1\nlink1_peer = 192.168.10.1\n"), 3,
              "key 'link1_peer' in [lan]: '192.168.10.1' is link1_local's address");
  // The same address spelled two ways is still the same address.
  check_error(parse_lan("link1_local = fd00::1\nlink1_peer = FD00:0:0::0:1\n"), 3, "is link1_local's address");
  check_error(parse_lan(kLink1 + "link2_local = 10.1.0.1\nlink2_peer = 10.1.0.1\n"), 5,
              "key 'link2_peer' in [lan]: '10.1.0.1' is link2_local's address");
}

TEST_CASE("lan config: the two links use different local and different peer addresses") {
  check_error(parse_lan(kLink1 + "link2_local = 192.168.10.1\nlink2_peer = 10.1.0.2\n"), 4,
              "key 'link2_local' in [lan]: '192.168.10.1' is link1_local's address too: the two links must be two "
              "networks");
  check_error(parse_lan(kLink1 + "link2_local = 10.1.0.1\nlink2_peer = 192.168.10.2\n"), 5,
              "key 'link2_peer' in [lan]: '192.168.10.2' is link1_peer's address too");
  // Both at once: both reported.
  Status st = parse_lan(kLink1 + "link2_local = 192.168.10.1\nlink2_peer = 192.168.10.2\n");
  check_error(st, 4, "link1_local's address too");
  check_error(st, 5, "link1_peer's address too");
  // An address that is this node's on one link and the peer's on the other.
  check_error(parse_lan(kLink1 + "link2_local = 192.168.10.2\nlink2_peer = 10.1.0.2\n"), 4,
              "'192.168.10.2' is link1_peer's address: an address cannot be this node's and the peer's");
  check_error(parse_lan(kLink1 + "link2_local = 10.1.0.1\nlink2_peer = 192.168.10.1\n"), 5,
              "'192.168.10.1' is link1_local's address: an address cannot be this node's and the peer's");
  // Two families across the links are fine (one IPv4 network, one IPv6).
  QuorumdConfig c;
  Status ok = parse_lan(kLink1 + "link2_local = fd00:2::1\nlink2_peer = fd00:2::2\n", c);
  REQUIRE_MESSAGE(ok.ok(), ok.to_string());
  CHECK(c.lan.links.size() == 2);
}

TEST_CASE("lan config: port, interval_ms and max_storage_stall_s ranges") {
  struct Case {
    const char* key;
    const char* value;
    bool ok;
  };
  for (Case k : {Case{"port", "1", true}, Case{"port", "65535", true}, Case{"port", "0", false},
                 Case{"port", "65536", false}, Case{"port", "-1", false}, Case{"port", "5406/udp", false},
                 Case{"port", "", false}, Case{"port", "99999999999999999999", false},
                 Case{"interval_ms", "10", true}, Case{"interval_ms", "60000", true}, Case{"interval_ms", "9", false},
                 Case{"interval_ms", "0", false}, Case{"interval_ms", "60001", false}, Case{"interval_ms", "1s", false},
                 Case{"max_storage_stall_s", "1", true}, Case{"max_storage_stall_s", "3600", true},
                 Case{"max_storage_stall_s", "0", false}, Case{"max_storage_stall_s", "3601", false},
                 Case{"max_storage_stall_s", "2m", false}}) {
    const std::string key = k.key, value = k.value;
    CAPTURE(key);
    CAPTURE(value);
    QuorumdConfig c;
    Status st = parse_lan(kLink1 + "\n" + k.key + " = " + k.value + "\n", c);
    if (k.ok) {
      REQUIRE_MESSAGE(st.ok(), st.to_string());
      const int64_t v = std::stoll(k.value);
      if (std::string(k.key) == "port") CHECK(c.lan.port == v);
      if (std::string(k.key) == "interval_ms") CHECK(*c.lan.interval == Millis(v));
      if (std::string(k.key) == "max_storage_stall_s") CHECK(c.lan.max_storage_stall == std::chrono::seconds(v));
    } else {
      check_error(st, 5, "key '" + std::string(k.key) + "' in [lan]");
      // Nothing of a [lan] with an error is taken: the links stay off.
      CHECK_FALSE(c.lan.enabled());
      CHECK(c.lan.port == 5406);
      CHECK_FALSE(c.lan.interval.has_value());
    }
  }
  check_error(parse_lan("port = 0\n"), 2, "is not an integer from 1 to 65535");
  check_error(parse_lan("interval_ms = 9\n"), 2, "is not an integer from 10 to 60000");
  check_error(parse_lan("max_storage_stall_s = 3601\n"), 2, "is not an integer from 1 to 3600");
}

TEST_CASE("lan config: unknown and duplicate keys in [lan]") {
  check_error(parse_lan(kLink1 + "link1_loacl = 192.168.10.1\n"), 4,
              "unknown key 'link1_loacl' in [lan] (did you mean 'link1_local'?)");
  check_error(parse_lan("intervall_ms = 100\n"), 2, "unknown key 'intervall_ms' in [lan] (did you mean 'interval_ms'?)");
  check_error(parse_lan("link3_local = 10.2.0.1\n"), 2, "unknown key 'link3_local' in [lan]");
  // Far from every key: the list of known keys.
  check_error(parse_lan("multicast = yes\n"), 2, "(known: link1_local, link1_peer, link2_local, link2_peer, port, "
                                                 "interval_ms, max_storage_stall_s)");
  // [quorumd]'s keys are not [lan]'s, and the reverse.
  check_error(parse_lan("authkey = /etc/castor/authkey\n"), 2, "unknown key 'authkey' in [lan]");
  check_error(parse("[quorumd]\nport = 5406\n"), 2,
              "unknown key 'port' in [quorumd]");

  check_error(parse_lan(kLink1 + "link1_peer = 192.168.10.3\n"), 4,
              "duplicate key 'link1_peer' in [lan] (first at line 3)");
  // Across two [lan] blocks.
  check_error(parse("[lan]\nport = 1000\n[quorumd]\nnode = a\n[lan]\nport = 2000\n"),
              6, "duplicate key 'port' in [lan] (first at line 2)");
  // The same key in [quorumd] and [lan] would be two keys, but none is shared today; the section split in
  // two blocks is still one [lan].
  QuorumdConfig c;
  Status st = parse("[lan]\nlink1_local = 192.168.10.1\n[quorumd]\nnode = a\n[lan]\nlink1_peer = 192.168.10.2\n", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.lan.links == std::vector<LanLinkConfig>{{"192.168.10.1", "192.168.10.2"}});
}

TEST_CASE("lan config: errors of [quorumd] and [lan] are all reported, in line order, once each") {
  Status st = parse("[lan]\nlink1_local = 192.168.10.1\n[quorumd]\nbogus = 1\n[lan]\nport = 0\nsyntax error here\n");
  REQUIRE_FALSE(st.ok());
  const std::string m = st.message();
  const size_t a = m.find("castor.ini:2: link1_local without link1_peer");
  const size_t b = m.find("castor.ini:4: unknown key 'bogus' in [quorumd]");
  const size_t p = m.find("castor.ini:6: key 'port' in [lan]");
  const size_t s = m.find("castor.ini:7: syntax error");
  CHECK_MESSAGE(a != std::string::npos, m);
  CHECK_MESSAGE(b != std::string::npos, m);
  CHECK_MESSAGE(p != std::string::npos, m);
  CHECK_MESSAGE(s != std::string::npos, m);
  CHECK_MESSAGE((a < b && b < p && p < s), m);
  // The file's own errors (read once for both sections) are not repeated.
  CHECK_MESSAGE(m.find("castor.ini:7:") == m.rfind("castor.ini:7:"), m);
  st = parse("[bogus]\n[lan]\nport = 1\n");
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(st.message().find("castor.ini:1:") == st.message().rfind("castor.ini:1:"), st.message());
}

TEST_CASE("lan config: check_quorumd_config needs an authkey path with a link, and an interval within T") {
  QuorumdConfig c;
  REQUIRE(parse(kSample, c).ok());
  c.config_file = "/etc/castor/castor.ini";
  // The key file is quorumd's to load: the parser and the check never open it.
  c.authkey = "/nonexistent/castor-lan-test/authkey";
  CHECK(check_quorumd_config(c).ok());
  for (const char* bad : {"", "authkey", "etc/castor/authkey", "/etc/castor/"}) {
    const std::string authkey = bad;
    CAPTURE(authkey);
    QuorumdConfig d = c;
    d.authkey = bad;
    Status st = check_quorumd_config(d);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == Code::invalid_argument);
    CHECK_MESSAGE(contains(st.message(), "/etc/castor/castor.ini: [lan] names a link but authkey"), st.message());
    CHECK_MESSAGE(contains(st.message(), "always authenticated"), st.message());
    CHECK(check_quorumd_lan(d).code() == Code::invalid_argument);
    // Without a link the LAN needs no key (authenticate_disk = no here: nothing does).
    d.lan.links.clear();
    CHECK(check_quorumd_config(d).ok());
  }
  // A relative authkey in the file is already refused by the parser, naming file:line.
  check_error(parse("[quorumd]\nauthkey = authkey\n[lan]\n" + kLink1), 2,
              "absolute path");

  // interval_ms against io_timeout_ms, when the file gives both: equal is allowed, longer refused.
  QuorumdConfig t = c;
  t.io_timeout = Millis(1000);
  t.lan.interval = Millis(1000);
  CHECK(check_quorumd_config(t).ok());
  t.lan.interval = Millis(1001);
  Status st = check_quorumd_config(t);
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(contains(st.message(), "interval_ms 1001 in [lan] is longer than io_timeout_ms 1000"), st.message());
  t.lan.interval.reset();  // the default (T/2) always fits
  CHECK(check_quorumd_config(t).ok());
  // Through the parser and the loader: the whole path quorumd takes.
  TempIni ini("[quorumd]\ndevice = /dev/sdb\nnode = alpha\nio_timeout_ms = 200\n[lan]\n" + kLink1 +
              "interval_ms = 500\n");
  QuorumdArgs args;
  args.config_file = ini.path();
  auto loaded = load_quorumd_config(args);
  REQUIRE_FALSE(loaded.ok());
  CHECK_MESSAGE(contains(loaded.status().message(), ini.path() + ": interval_ms 500 in [lan] is longer than"),
                loaded.status().message());
}

TEST_CASE("lan config: load_quorumd_config hands quorumd the [lan] it read") {
  TempIni ini(kSample);
  QuorumdArgs args;
  args.config_file = ini.path();
  auto c = load_quorumd_config(args);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  LanConfig want;
  want.links = {{"192.168.10.1", "192.168.10.2"}, {"10.1.0.1", "10.1.0.2"}};
  want.interval = Millis(1000);
  CHECK(c->lan.links == want.links);
  CHECK(c->lan.port == want.port);
  CHECK(c->lan.interval == want.interval);
  CHECK(c->lan.max_storage_stall == want.max_storage_stall);

  TempIni bad("[quorumd]\ndevice = /dev/sdb\nnode = alpha\n[lan]\nlink2_local = 10.1.0.1\nlink2_peer = 10.1.0.2\n");
  args.config_file = bad.path();
  c = load_quorumd_config(args);
  REQUIRE_FALSE(c.ok());
  CHECK_MESSAGE(contains(c.status().message(), bad.path() + ":5: link2_local without link1"), c.status().message());
}

TEST_CASE("lan config: check_lan_config on a struct built without the file") {
  LanConfig c;
  c.links = {{"192.168.10.1", "192.168.10.2"}, {"10.1.0.1", "10.1.0.2"}};
  CHECK(check_lan_config(c).ok());
  struct Case {
    const char* what;
    void (*change)(LanConfig&);
  };
  for (Case k : {
           Case{"[lan] 3 links: at most 2", [](LanConfig& l) { l.links.push_back({"10.2.0.1", "10.2.0.2"}); }},
           Case{"[lan] link1_peer: 'node-b' is not a numeric", [](LanConfig& l) { l.links[0].peer = "node-b"; }},
           Case{"[lan] link2_local: empty value", [](LanConfig& l) { l.links[1].local = ""; }},
           Case{"[lan] link1_peer: '192.168.10.1' is link1_local's address",
                [](LanConfig& l) { l.links[0].peer = "192.168.10.1"; }},
           Case{"[lan] link2_peer: 'fd00::2' is IPv6 but link2_local", [](LanConfig& l) { l.links[1].peer = "fd00::2"; }},
           Case{"[lan] link2_local: '192.168.10.1' is link1_local's address too",
                [](LanConfig& l) { l.links[1].local = "192.168.10.1"; }},
           Case{"[lan] port 0", [](LanConfig& l) { l.port = 0; }},
           Case{"[lan] interval_ms 9: from 10 to 60000", [](LanConfig& l) { l.interval = Millis(9); }},
           Case{"[lan] interval_ms 60001", [](LanConfig& l) { l.interval = Millis(60001); }},
           Case{"[lan] max_storage_stall 0 s: from 1 to 3600 s",
                [](LanConfig& l) { l.max_storage_stall = Duration::zero(); }},
           Case{"[lan] max_storage_stall 3601 s", [](LanConfig& l) { l.max_storage_stall = std::chrono::seconds(3601); }},
           Case{"[lan] max_storage_stall 500ms", [](LanConfig& l) { l.max_storage_stall = Millis(500); }},
       }) {
    const std::string what = k.what;
    CAPTURE(what);
    LanConfig d = c;
    k.change(d);
    Status st = check_lan_config(d);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == Code::invalid_argument);
    CHECK_MESSAGE(contains(st.message(), k.what), st.message());
    // check_quorumd_config runs it too, naming the file.
    QuorumdConfig q;
    q.device = "/dev/sdb";
    q.node = "alpha";
    q.config_file = "/etc/castor/castor.ini";
    q.lan = d;
    Status qs = check_quorumd_config(q);
    REQUIRE_FALSE(qs.ok());
    CHECK_MESSAGE(contains(qs.message(), "/etc/castor/castor.ini: " + std::string(k.what)), qs.message());
  }
  // Off, whatever the other values: still checked (a bad port is a bad port).
  LanConfig off;
  off.port = 0;
  CHECK_FALSE(check_lan_config(off).ok());
}

TEST_CASE("lan config: describe_lan_config, for castor check and quorumd's log") {
  CHECK(describe_lan_config(LanConfig{}) == std::vector<std::string>{"off (no link in [lan])"});
  LanConfig c;
  c.links = {{"192.168.10.1", "192.168.10.2"}, {"fd00::1", "fd00::2"}};
  CHECK(describe_lan_config(c) ==
        std::vector<std::string>{"link1 192.168.10.1 -> 192.168.10.2", "link2 fd00::1 -> fd00::2",
                                 "UDP port 5406, interval the renew interval (io_timeout / 2), max storage stall 120 s"});
  c.links.pop_back();
  c.port = 7000;
  c.interval = Millis(250);
  c.max_storage_stall = std::chrono::seconds(30);
  CHECK(describe_lan_config(c) == std::vector<std::string>{"link1 192.168.10.1 -> 192.168.10.2",
                                                           "UDP port 7000, interval 250 ms, max storage stall 30 s"});
}

TEST_CASE("lan config: the sample etc/castor.ini parses, with every [lan] key uncommented too") {
  Result<std::string> text = castor::testing::read_source_file("etc/castor.ini");
  REQUIRE_MESSAGE(text.ok(), text.status().to_string());
  QuorumdConfig as_shipped;
  Status st = parse_quorumd_ini(*text, "etc/castor.ini", as_shipped);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(contains(*text, "\n[lan]\n"));
  CHECK_FALSE(as_shipped.lan.enabled());  // shipped off: every key commented

  // Every commented-out key (";key = value") uncommented: every value shown is valid, [lan]'s included.
  std::string on = *text;
  for (size_t p = 0; (p = on.find("\n;", p)) != std::string::npos; ++p) {
    size_t k = p + 2;
    while (k < on.size() && (std::islower(static_cast<unsigned char>(on[k])) || std::isdigit(static_cast<unsigned char>(on[k])) || on[k] == '_')) ++k;
    if (k > p + 2 && on.compare(k, 3, " = ") == 0) on.erase(p + 1, 1);
  }
  QuorumdConfig uncommented;
  st = parse_quorumd_ini(on, "etc/castor.ini", uncommented);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(uncommented.lan.links ==
        std::vector<LanLinkConfig>{{"192.168.10.1", "192.168.10.2"}, {"10.1.0.1", "10.1.0.2"}});
  CHECK(uncommented.lan.port == 5406);
  CHECK(uncommented.lan.interval == Millis(1000));
  CHECK(uncommented.authkey == "/etc/castor/authkey");
  CHECK(uncommented.device == "/dev/disk/by-id/scsi-SHARED-part1");  // the other sections were uncommented too
  CHECK(check_quorumd_config(uncommented).ok());
  CHECK(uncommented.lan.max_storage_stall == std::chrono::seconds(120));
}
