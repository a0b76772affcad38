// Tests for svcmgr's configuration: the [svcmgr] section of castor.ini (lib/config/svcmgr_config.h), read
// with the same rules as quorumd's section (lib/config/castor_ini.h).
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "config/svcmgr_config.h"

using namespace castor;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Status parse(const std::string& text, SvcmgrConfig& c) { return parse_svcmgr_ini(text, "castor.ini", c); }

Status parse(const std::string& text) {
  SvcmgrConfig c;
  return parse(text, c);
}

}  // namespace

TEST_CASE("svcmgr config: defaults, a full section, [quorumd] skipped") {
  SvcmgrConfig d;
  CHECK(d.services_dir == "/etc/castor/services.d");
  CHECK(d.socket == "/run/castor/svcmgr.sock");
  CHECK(d.quorumd_socket == "/run/castor/quorumd.sock");
  CHECK(d.ocf_root == "/usr/lib/ocf");
  CHECK(d.state_dir == "/var/lib/castor");

  SvcmgrConfig c;
  Status st = parse(
      "; castor.ini\n[quorumd]\ndevice = /dev/sdb\nwhatever_quorumd_wants = 1\n\n[svcmgr]\n"
      "services_dir = /srv/services   ; comment\nsocket = /tmp/s.sock\nquorumd_socket = /tmp/q.sock\n"
      "ocf_root = /opt/ocf\nstate_dir = /tmp/state\n",
      c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.services_dir == "/srv/services");
  CHECK(c.socket == "/tmp/s.sock");
  CHECK(c.quorumd_socket == "/tmp/q.sock");
  CHECK(c.ocf_root == "/opt/ocf");
  CHECK(c.state_dir == "/tmp/state");

  // Keys not in the file keep their values; an empty file or one without [svcmgr] is fine.
  SvcmgrConfig p;
  p.socket = "/preset.sock";
  REQUIRE(parse("[svcmgr]\nstate_dir = /x\n", p).ok());
  CHECK(p.socket == "/preset.sock");
  CHECK(p.state_dir == "/x");
  CHECK(parse("").ok());
  CHECK(parse("[quorumd]\nnode = alpha\n").ok());
}

TEST_CASE("svcmgr config: an unknown key names file:line (every one, not only the first)") {
  Status st = parse("[svcmgr]\nsocket = /s\nservice_dir = /x\nbogus = 1\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: unknown key 'service_dir' in [svcmgr] (did you mean 'services_dir'?)"),
                st.message());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:4: unknown key 'bogus' in [svcmgr] (known: services_dir, socket"),
                st.message());
  // An unknown key given twice is unknown twice (not a duplicate): the order of checks of service files.
  st = parse("[svcmgr]\nbogus = 1\nbogus = 2\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: unknown key 'bogus'"), st.message());
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: unknown key 'bogus'"), st.message());
  CHECK_MESSAGE(!contains(st.message(), "duplicate"), st.message());
  // Keys are case-sensitive.
  CHECK(contains(parse("[svcmgr]\nSocket = /s\n").message(), "castor.ini:2: unknown key 'Socket'"));
}

TEST_CASE("svcmgr config: the rules quorumd's section follows") {
  // A key given twice, also across two [svcmgr] blocks.
  Status st = parse("[svcmgr]\nsocket = /a\nsocket = /b\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: duplicate key 'socket' in [svcmgr] (first at line 2)"),
                st.message());
  st = parse("[svcmgr]\nsocket = /a\n[quorumd]\nnode = a\n[svcmgr]\nsocket = /b\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:6: duplicate key 'socket'"), st.message());
  // The same key in [quorumd] and [svcmgr] is not a duplicate.
  CHECK(parse("[quorumd]\nsocket = /q\n[svcmgr]\nsocket = /s\n").ok());
  // An unknown section, a key outside any section.
  st = parse("[svcmgr]\nsocket = /a\n[cluster]\nx = 1\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: unknown section [cluster]"), st.message());
  st = parse("[svcmrg]\nsocket = /a\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:1: unknown section [svcmrg]"), st.message());
  CHECK_MESSAGE(contains(st.message(), "did you mean 'svcmgr'?"), st.message());
  st = parse("socket = /a\n[svcmgr]\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:1: key 'socket' outside any section"), st.message());
  // An empty value.
  st = parse("[svcmgr]\n\nservices_dir =\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: key 'services_dir' in [svcmgr]: empty value"), st.message());
  // Syntax errors, also in the other daemon's section (the file is shared: both refuse it).
  st = parse("[svcmgr]\njust words\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: syntax error"), st.message());
  st = parse("[quorumd]\nnot a key\n[svcmgr]\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: syntax error"), st.message());
  st = parse("[svcmgr\nsocket = /a\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:1: syntax error"), st.message());
  // No continuation lines: an indented line is a line of its own.
  st = parse("[svcmgr]\nsocket = /a\n  /b\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:3: syntax error"), st.message());
  // Lines of up to 4096 bytes keep their whole value.
  SvcmgrConfig c;
  const std::string dir = "/" + std::string(4000, 'd');
  REQUIRE(parse("[svcmgr]\nservices_dir = " + dir + "\n", c).ok());
  CHECK(c.services_dir == dir);
  st = parse("[svcmgr]\nservices_dir = /" + std::string(4096, 'd') + "\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: line too long"), st.message());
  // Several errors: all reported, in line order.
  st = parse("[svcmgr]\nx = 1\n[bad]\ny\n");
  const size_t a = st.message().find("castor.ini:2:"), b = st.message().find("castor.ini:3:"),
               d = st.message().find("castor.ini:4:");
  CHECK_MESSAGE((a != std::string::npos && b != std::string::npos && d != std::string::npos && a < b && b < d),
                st.message());
}

TEST_CASE("svcmgr config: [lan] is quorumd's (issue 15): skipped, its keys unchecked, the section known") {
  SvcmgrConfig c;
  Status st = parse(
      "[quorumd]\nnode = alpha\n[lan]\nlink1_local = 192.168.10.1\nlink1_peer = 192.168.10.2\nport = 5406\n"
      "[svcmgr]\nsocket = /tmp/s.sock\n",
      c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.socket == "/tmp/s.sock");
  // What quorumd refuses in [lan] (a bad value, an unknown key) is quorumd's to report, as with [quorumd].
  CHECK(parse("[lan]\nport = 0\nbogus = 1\n[svcmgr]\n").ok());
  // A [lan] key is not an [svcmgr] key.
  st = parse("[svcmgr]\nport = 5406\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: unknown key 'port' in [svcmgr]"), st.message());
  // The same key name in [svcmgr] and [lan] is not a duplicate; a misspelt [lan] is an unknown section.
  CHECK(parse("[lan]\nsocket = /x\n[svcmgr]\nsocket = /s\n").ok());
  st = parse("[svcmgr]\n[lna]\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: unknown section [lna] (castor.ini has [quorumd], [svcmgr], [lan], [web], [fence NODE] and [alert NAME])"),
                st.message());
  // Syntax errors under [lan] are the file's: svcmgr refuses it too.
  st = parse("[lan]\nnot a key\n[svcmgr]\n");
  CHECK_MESSAGE(contains(st.message(), "castor.ini:2: syntax error"), st.message());
}

TEST_CASE("svcmgr config: load_svcmgr_config reads the file; a missing file is not_found") {
  char tmpl[] = "/tmp/castor-svcmgr-config-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  const std::string text = "[svcmgr]\nsocket = /tmp/from-file.sock\nbogus = 1\n";
  REQUIRE(write(fd, text.data(), text.size()) == ssize_t(text.size()));
  REQUIRE(close(fd) == 0);
  SvcmgrConfig c;
  Status st = load_svcmgr_config(tmpl, c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::invalid_argument);
  CHECK_MESSAGE(contains(st.message(), std::string(tmpl) + ":3: unknown key 'bogus'"), st.message());
  CHECK(unlink(tmpl) == 0);

  // Missing in a directory only root (here: this test's user) can write to: not_found, svcmgr runs on
  // its defaults.
  char dtmpl[] = "/tmp/castor-svcmgr-config-dir-XXXXXX";
  REQUIRE(mkdtemp(dtmpl) != nullptr);
  const std::string missing = std::string(dtmpl) + "/does-not-exist.ini";
  st = load_svcmgr_config(missing, c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::not_found);
  CHECK(contains(st.message(), missing));
  CHECK(rmdir(dtmpl) == 0);
  // Missing in /tmp (sticky, anyone may create it after the check and have svcmgr read theirs): refused.
  st = load_svcmgr_config("/tmp/castor-svcmgr-config-does-not-exist.ini", c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::refused);
  CHECK(contains(st.message(), "/tmp/castor-svcmgr-config-does-not-exist.ini"));
}
