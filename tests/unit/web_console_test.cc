// Tests for the web console's pure parts (issue 20): castor-web's [web] settings (config/web_config.h),
// its sessions (tools/web/web_sessions.h: tokens, CSRF, idle end, the bound), and the settings that open the
// daemons' sockets to a group (status_group, operator_group). The server itself, the PAM login and the
// browser: tests/integration/web_console.sh.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"
#include "config/web_config.h"
#include "tools/web/host_check.h"
#include "tools/web/login_failures.h"
#include "tools/web/web_sessions.h"
#include "tests/support/source_tree.h"

using namespace castor;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }
}  // namespace

TEST_CASE("web config: defaults are localhost, plain HTTP; [web] keys are read and the daemons' sockets found") {
  WebConfig d;
  REQUIRE(parse_web_ini("", "castor.ini", d).ok());
  CHECK(d.listen == "127.0.0.1");
  CHECK(d.port == 7630);
  CHECK_FALSE(d.https());
  WebConfig c;
  const std::string text =
      "[quorumd]\nnode = a\nsocket = /run/x/q.sock\n[svcmgr]\nsocket = /run/x/s.sock\n"
      "[web]\nlisten = 0.0.0.0\nport = 8443\ncertificate = /etc/c.crt\nprivate_key = /etc/c.key\n"
      "pam_service = login\nadmin_group = wheel\nsession_timeout_s = 60\nuser = www\n";
  Status st = parse_web_ini(text, "castor.ini", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.listen == "0.0.0.0");
  CHECK(c.port == 8443);
  CHECK(c.https());
  CHECK(c.pam_service == "login");
  CHECK(c.admin_group == "wheel");
  CHECK(c.session_timeout == 60s);
  CHECK(c.user == "www");
  CHECK(c.quorumd_socket == "/run/x/q.sock");
  CHECK(c.svcmgr_socket == "/run/x/s.sock");
}

TEST_CASE("web config: bad input is an error naming the line") {
  WebConfig c;
  Status st = parse_web_ini("[web]\nport = 70000\n", "castor.ini", c);
  CHECK(contains(st.to_string(), "castor.ini:2"));
  st = parse_web_ini("[web]\ncertificate = /etc/c.crt\n", "castor.ini", c);
  CHECK(contains(st.to_string(), "certificate and private_key go together"));
  st = parse_web_ini("[web]\nlisten_on = x\n", "castor.ini", c);
  CHECK(contains(st.to_string(), "listen_on"));
  st = parse_web_ini("[webb]\n", "castor.ini", c);
  CHECK(contains(st.to_string(), "unknown section"));
}

TEST_CASE("web config: server_names are made canonical; a bad one is an error; loopback() reads listen") {
  WebConfig c;
  Status st = parse_web_ini("[web]\nlisten = 192.0.2.10\nserver_names = Console.Example.COM., 192.0.2.10 ::1, [2001:DB8::1]\n",
                            "castor.ini", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(c.server_names == std::vector<std::string>{"console.example.com", "192.0.2.10", "[::1]", "[2001:db8::1]"});
  CHECK_FALSE(c.loopback());
  for (const char* bad : {"a_b.example", "-x.example", "x..example", "[::1", "[not-v6]", "x.example:443", "caf\xc3\xa9"}) {
    CAPTURE(bad);
    WebConfig b;
    st = parse_web_ini(std::string("[web]\nserver_names = ") + bad + "\n", "castor.ini", b);
    CHECK(contains(st.to_string(), "castor.ini:2"));
    CHECK(contains(st.to_string(), "is not a server name"));
  }
  for (const char* lo : {"127.0.0.1", "127.3.4.5", "::1"}) {
    WebConfig l;
    l.listen = lo;
    CHECK(l.loopback());
  }
  WebConfig any;
  any.listen = "0.0.0.0";
  CHECK_FALSE(any.loopback());
}

TEST_CASE("web Host check: loopback names on loopback, the server names, and any name only where none is set") {
  CHECK(host_of_header("Console.Example:8443") == std::optional<std::string>("console.example"));
  CHECK(host_of_header("[::1]:7630") == std::optional<std::string>("[::1]"));
  CHECK(host_of_header("[::1]") == std::optional<std::string>("[::1]"));
  CHECK_FALSE(host_of_header("[::1").has_value());
  CHECK_FALSE(host_of_header("[::1]x").has_value());
  CHECK_FALSE(host_of_header("a:b").has_value());
  CHECK_FALSE(host_of_header("").has_value());
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("127.9.9.9"));
  CHECK_FALSE(is_loopback_host("127.attacker.example"));
  CHECK_FALSE(is_loopback_host("localhost.attacker.example"));

  using H = std::optional<std::string_view>;
  const std::vector<std::string> none, names = {"console.example.com", "192.0.2.10", "[2001:db8::1]"};
  // Bound to loopback: loopback names, and the server names when set.
  CHECK(host_allowed(H("localhost:7630"), false, true, none));
  CHECK(host_allowed(H("127.0.0.1"), false, true, none));
  CHECK_FALSE(host_allowed(H("rebound.attacker.example"), false, true, none));
  CHECK(host_allowed(H("console.example.com"), false, true, names));
  CHECK(host_allowed(H(std::nullopt), true, true, none));
  CHECK_FALSE(host_allowed(H(std::nullopt), false, true, none));
  // Bound elsewhere without server_names: any name (as before; castor check and castor-web warn).
  CHECK(host_allowed(H("anything.example"), false, false, none));
  // Bound elsewhere with server_names: those only, whatever the case, port or root dot.
  CHECK(host_allowed(H("Console.Example.COM:8443"), false, false, names));
  CHECK(host_allowed(H("console.example.com."), false, false, names));
  CHECK(host_allowed(H("192.0.2.10:8443"), false, false, names));
  CHECK(host_allowed(H("[2001:DB8::1]:8443"), false, false, names));
  CHECK_FALSE(host_allowed(H("rebound.attacker.example"), false, false, names));
  CHECK_FALSE(host_allowed(H("localhost"), false, false, names));
  CHECK_FALSE(host_allowed(H("console.example.com.attacker.example"), false, false, names));
  CHECK_FALSE(host_allowed(H(std::nullopt), true, false, names));
}

TEST_CASE("the daemons take [web] as castor-web's, and status_group / operator_group as their own") {
  const std::string text = "[quorumd]\ndevice = /dev/sdb1\nnode = a\nstatus_group = castor\n"
                           "[svcmgr]\nstatus_group = castor\noperator_group = castor-operator\n"
                           "[web]\nport = 7630\n";
  QuorumdConfig q;
  Status st = parse_quorumd_ini(text, "castor.ini", q);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(q.status_group == "castor");
  SvcmgrConfig s;
  st = parse_svcmgr_ini(text, "castor.ini", s);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(s.status_group == "castor");
  CHECK(s.operator_group == "castor-operator");
  SvcmgrConfig s2;
  st = parse_svcmgr_ini("[svcmgr]\noperator_group = castor-operator\n", "castor.ini", s2);
  CHECK(contains(st.to_string(), "operator_group needs status_group"));
}

TEST_CASE("web sessions: a token and a CSRF token per login, both needed, idle sessions end, forged ones match nothing") {
  WebSessions sessions(std::chrono::minutes(15));
  const TimePoint t0{std::chrono::seconds(100)};
  auto a = sessions.create("alice", t0);
  auto b = sessions.create("bob", t0);
  CHECK(a.token.size() == 64);
  CHECK(a.csrf.size() == 64);
  CHECK(a.token != b.token);
  CHECK(a.token != a.csrf);
  CHECK(sessions.user_of(a.token, t0 + 1s) == std::optional<std::string>("alice"));
  CHECK(sessions.user_of(b.token, t0 + 1s) == std::optional<std::string>("bob"));
  CHECK(sessions.check_csrf(a.token, a.csrf, t0 + 1s));
  CHECK_FALSE(sessions.check_csrf(a.token, b.csrf, t0 + 1s));  // another session's CSRF token
  CHECK_FALSE(sessions.check_csrf(a.token, "", t0 + 1s));
  CHECK_FALSE(sessions.user_of(std::string(64, '0'), t0).has_value());  // forged
  CHECK_FALSE(sessions.user_of(a.csrf, t0).has_value());               // the CSRF token is no session
  CHECK_FALSE(sessions.user_of("", t0).has_value());
  // Use restarts the idle time; 15 minutes without use end the session.
  CHECK(sessions.user_of(a.token, t0 + std::chrono::minutes(14)).has_value());
  CHECK(sessions.user_of(a.token, t0 + std::chrono::minutes(28)).has_value());
  CHECK_FALSE(sessions.user_of(b.token, t0 + std::chrono::minutes(16)).has_value());
  CHECK_FALSE(sessions.user_of(a.token, t0 + std::chrono::minutes(44)).has_value());
  auto c = sessions.create("carol", t0);
  sessions.end(c.token);
  CHECK_FALSE(sessions.user_of(c.token, t0).has_value());
}

TEST_CASE("web sessions: at most kMaxSessions; the least recently used goes first") {
  WebSessions sessions(std::chrono::hours(1));
  const TimePoint t0{std::chrono::seconds(100)};
  auto first = sessions.create("first", t0);
  std::set<std::string> tokens;
  for (size_t i = 1; i < WebSessions::kMaxSessions; ++i)
    tokens.insert(sessions.create("u" + std::to_string(i), t0 + std::chrono::milliseconds(i)).token);
  CHECK(sessions.size() == WebSessions::kMaxSessions);
  CHECK(sessions.user_of(first.token, t0 + 1s).has_value());  // used now: no longer the oldest
  sessions.create("newcomer", t0 + 2s);
  CHECK(sessions.size() == WebSessions::kMaxSessions);
  CHECK(sessions.user_of(first.token, t0 + 3s).has_value());
}

TEST_CASE("the sample etc/castor.ini: its [web] and the sockets' groups, uncommented, are valid") {
  Result<std::string> text = castor::testing::read_source_file("etc/castor.ini");
  REQUIRE_MESSAGE(text.ok(), text.status().to_string());
  const std::string on = castor::testing::uncomment_settings(*text);  // every commented setting, on
  WebConfig w;
  Status st = parse_web_ini(on, "etc/castor.ini", w);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(w.https());
  CHECK(w.user == "castor-web");
  CHECK(w.svcmgr_socket == "/run/castor/svcmgr.sock");
  SvcmgrConfig s;
  st = parse_svcmgr_ini(on, "etc/castor.ini", s);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(s.status_group == "castor");
  CHECK(s.operator_group == "castor-operator");
}

TEST_CASE("login failures: counted in the window, forgotten after it, and the full table fails closed") {
  LoginFailures f;
  TimePoint t{std::chrono::hours(1)};
  for (size_t i = 0; i + 1 < LoginFailures::kMaxFailures; ++i) f.note("user root", t);
  CHECK_FALSE(f.too_many("user root", t));
  f.note("user root", t);
  CHECK(f.too_many("user root", t));
  CHECK(f.too_many("user root", t + LoginFailures::kWindow));
  CHECK_FALSE(f.too_many("user root", t + LoginFailures::kWindow + 1s));
  f.note("ip 192.0.2.1", t);
  f.forget("ip 192.0.2.1");
  CHECK(f.count("ip 192.0.2.1", t) == 0);
  for (size_t i = 0; i < LoginFailures::kMaxKeys; ++i) f.note("ip " + std::to_string(i), t);
  CHECK(f.full(t));
  f.note("ip new", t);  // not kept: nothing is evicted for it either
  CHECK(f.count("ip new", t) == 0);
  CHECK(f.count("ip 0", t) == 1);
  CHECK_FALSE(f.full(t + LoginFailures::kWindow + 1s));  // the stale ones are forgotten
}
