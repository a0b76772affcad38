// Tests for castor history --peer's pure parts (tools/history_peer.h): the host check (no option injection),
// CASTOR_SSH's words, the command sent to the peer, --since for the peer's clock, this node's own files, the
// PATH lookup, the stderr tail; and the merge of the peer's answer with the local copies of its files (the
// same record read twice shown once: tools/history_view.h) -- and run_capturing (agent/agent_process.h),
// which runs the command: stdout apart from stderr, bounded.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/agent_process.h"
#include "common/clock.h"
#include "control/history_record.h"
#include "tools/history_peer.h"
#include "tools/history_view.h"

using namespace castor;

namespace {

HistoryRecord prec(int64_t wall_ns, const std::string& node, const std::string& event, const std::string& service = "") {
  HistoryRecord r;
  r.wall_ns = wall_ns;
  r.node = node;
  r.event = event;
  r.kind = service.empty() ? "node" : "resource";
  r.service = service;
  return r;
}

}  // namespace

TEST_CASE("history peer: the host check refuses what ssh could take for an option or more than a name") {
  for (const char* ok : {"beta", "root@beta", "beta.example.com", "10.0.0.2", "[fe80::1%eth0]", "b"}) {
    INFO(ok);
    CHECK(check_peer_host(ok).ok());
  }
  for (const std::string& bad : {std::string(""), std::string("-oProxyCommand=touch /tmp/x"), std::string("-oProxyCommand=x"),
                                std::string("-v"), std::string("beta gamma"), std::string("beta\tx"), std::string("beta\nx"),
                                std::string("be\x1bta"), std::string("bet\x7f"), std::string("bêta"), std::string(256, 'a'),
                                std::string("beta\0x", 6)}) {
    INFO(bad);
    auto st = check_peer_host(bad);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == Code::invalid_argument);
  }
  CHECK(check_peer_host(std::string(255, 'a')).ok());
  // Nothing a shell reads (review 20d: an ssh_config ProxyCommand %h may hand the name to one).
  for (const char* bad : {"beta;id", "beta$(id)", "beta`id`", "beta|x", "beta&", "be'ta", "be\"ta", "beta>x", "b*"}) {
    INFO(bad);
    CHECK_FALSE(check_peer_host(bad).ok());
  }
  // The message shows the name escaped (it goes to the admin's terminal).
  CHECK(check_peer_host("-o\x1b[31m").message().find('\x1b') == std::string::npos);
}

TEST_CASE("history peer: CASTOR_SSH is split on blanks, no shell") {
  auto w = ssh_command_words(kDefaultCastorSsh);
  REQUIRE(w.ok());
  CHECK(*w == std::vector<std::string>{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"});
  w = ssh_command_words("  ssh\t-F /tmp/x y  ");
  REQUIRE(w.ok());
  CHECK(*w == std::vector<std::string>{"ssh", "-F", "/tmp/x", "y"});
  w = ssh_command_words("ssh 'a b' $(x);y");  // no quoting, no expansion: words as they are
  REQUIRE(w.ok());
  CHECK(*w == std::vector<std::string>{"ssh", "'a", "b'", "$(x);y"});
  CHECK(ssh_command_words("").status().code() == Code::invalid_argument);
  CHECK(ssh_command_words(" \t ").status().code() == Code::invalid_argument);
}

TEST_CASE("history peer: the command the peer runs") {
  const std::vector<std::string> ssh{"ssh", "-o", "BatchMode=yes"};
  CHECK(peer_history_argv(ssh, "beta", std::nullopt, std::nullopt) ==
        std::vector<std::string>{"ssh", "-o", "BatchMode=yes", "beta", "castor", "history", "--json", "--local"});
  CHECK(peer_history_argv(ssh, "root@beta", std::string("3900s"), std::string("web")) ==
        std::vector<std::string>{"ssh", "-o", "BatchMode=yes", "root@beta", "castor", "history", "--json", "--local",
                                 "--since", "3900s", "--service", "web"});
}

TEST_CASE("history peer: --since goes to the peer as seconds before its now, with slack for its clock") {
  const int64_t s = 1000000000LL;
  const int64_t now = 1765000000LL * s + 500000000;
  // One hour before: 3600 s, one more for the rounding, plus the slack.
  CHECK(peer_since_argument(now - 3600 * s, now, 300) == std::optional<std::string>("3901s"));
  CHECK(peer_since_argument(now - 3600 * s, now, 0) == std::optional<std::string>("3601s"));
  // In the future (a time later today): the slack alone; the filter here is exact.
  CHECK(peer_since_argument(now + 60 * s, now, 300) == std::optional<std::string>("300s"));
  // Further back than --since reads: nothing sent, the peer sends all.
  CHECK(peer_since_argument(now - 3650LL * 86400 * s, now, 300) == std::nullopt);
  CHECK(peer_since_argument(0, now, 300) == std::nullopt);
  // What is sent is a --since the peer parses.
  auto arg = peer_since_argument(now - 7200 * s, now, 300);
  REQUIRE(arg);
  auto t = parse_history_since(*arg, now);
  REQUIRE(t.ok());
  CHECK(*t <= now - 7200 * s);
}

TEST_CASE("history peer: --local keeps this node's own files, not copies of the peer's") {
  CHECK(is_own_history_file("alpha.jsonl", "alpha"));
  CHECK(is_own_history_file("alpha.jsonl.1", "alpha"));
  CHECK_FALSE(is_own_history_file("beta.jsonl", "alpha"));
  CHECK_FALSE(is_own_history_file("beta.jsonl.1", "alpha"));
  CHECK_FALSE(is_own_history_file("alpha2.jsonl", "alpha"));
  CHECK_FALSE(is_own_history_file("alpha.jsonl.2", "alpha"));
  CHECK_FALSE(is_own_history_file("alpha.jsonl", ""));
  CHECK_FALSE(is_own_history_file(".jsonl", ""));
}

TEST_CASE("history peer: the program is found as execvp would") {
  auto p = find_program("sh", "/nonexistent:/bin:/usr/bin", "/");
  REQUIRE(p.ok());
  CHECK(*p == "/bin/sh");
  CHECK(find_program("/bin/sh", "", "/").value() == "/bin/sh");
  CHECK(find_program("bin/sh", "", "/").value() == "//bin/sh");
  CHECK(find_program("castor-no-such-program", "/bin:/usr/bin", "/").status().code() == Code::not_found);
  CHECK(find_program("/etc/passwd", "", "/").status().code() == Code::not_found);  // not executable
  CHECK(find_program("passwd", "/etc", "/").status().code() == Code::not_found);
}

TEST_CASE("history peer: the stderr tail is its last lines, escaped") {
  CHECK(stderr_tail_lines("", 5).empty());
  CHECK(stderr_tail_lines("a\n\n  \nb\r\nc", 5) == std::vector<std::string>{"a", "b", "c"});
  CHECK(stderr_tail_lines("1\n2\n3\n4\n", 2) == std::vector<std::string>{"3", "4"});
  const auto l = stderr_tail_lines("ssh: connect: refused \x1b[2J\n", 5);
  REQUIRE(l.size() == 1);
  CHECK(l[0].find('\x1b') == std::string::npos);
  CHECK(l[0].find("refused") != std::string::npos);
}

TEST_CASE("history peer: the peer's answer and the local copy of its files merge, each record once") {
  const int64_t s = 1000000000LL;
  const std::vector<HistoryRecord> alpha{prec(10 * s, "alpha", "service_started", "web"), prec(30 * s, "alpha", "node_dead")};
  const std::vector<HistoryRecord> beta{prec(20 * s, "beta", "service_stopped", "web"), prec(40 * s, "beta", "service_claimed", "web")};
  std::string beta_json;
  for (const auto& r : beta) beta_json += encode_history_record(r) + "\n";
  size_t skipped = 0;
  auto over_ssh = parse_history_text(beta_json + "Warning: Permanently added 'beta' to the list of known hosts.\n", &skipped);
  CHECK(skipped == 1);
  // alpha's own file, beta's file copied over by hand (older: its first record only), and beta over ssh.
  auto merged = merge_history({alpha, {beta[0]}, over_ssh});
  REQUIRE(merged.size() == 4);
  CHECK(merged[0] == alpha[0]);
  CHECK(merged[1] == beta[0]);
  CHECK(merged[2] == alpha[1]);
  CHECK(merged[3] == beta[1]);
  // Two records alike but in one field are two records.
  auto other = beta[0];
  other.reason = "admin";
  CHECK(merge_history({{beta[0]}, {other}}).size() == 2);
}

TEST_CASE("run_capturing: stdout kept apart from stderr, bounded; a failing command's stderr tail") {
  BootClock clock;
  AgentCommand c;
  c.argv = {"/bin/sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3"};
  c.timeout = std::chrono::seconds(10);
  auto r = run_capturing(c, clock, 1024);
  REQUIRE(r.ok());
  CHECK(r->stdout_text == "out1\nout2\n");
  CHECK(r->outcome.output_tail == "err1\n");
  CHECK(r->outcome.exit_code == 3);
  CHECK_FALSE(r->overflow);
  CHECK_FALSE(r->outcome.timed_out);

  // More than the bound: stopped at once (long before its timeout), stdout cut at the bound.
  c.argv = {"/bin/sh", "-c", "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done"};
  c.timeout = std::chrono::seconds(30);
  c.kill_grace = std::chrono::seconds(1);
  r = run_capturing(c, clock, 100000);
  REQUIRE(r.ok());
  CHECK(r->overflow);
  CHECK(r->stdout_text.size() == 100000);
  CHECK(r->outcome.elapsed < std::chrono::seconds(10));

  // The timeout.
  c.argv = {"/bin/sh", "-c", "echo partial; exec sleep 30"};
  c.timeout = std::chrono::milliseconds(300);
  r = run_capturing(c, clock, 1024);
  REQUIRE(r.ok());
  CHECK(r->outcome.timed_out);
  CHECK_FALSE(r->overflow);

  // A command that cannot start is an error, not an exit code; stdout_fd set by the caller is refused.
  c.argv = {"/nonexistent/ssh"};
  c.timeout = std::chrono::seconds(1);
  CHECK_FALSE(run_capturing(c, clock, 1024).ok());
  c.argv = {"/bin/true"};
  c.stdout_fd = 1;
  CHECK(run_capturing(c, clock, 1024).status().code() == Code::invalid_argument);
}

TEST_CASE("history peer: records of the peer's answer that name this node are dropped; --json escapes past ASCII") {
  std::vector<HistoryRecord> recs(3);
  recs[0].node = "beta";
  recs[1].node = "alpha";  // forged, or an echo of this node's own
  recs[2].node = "beta";
  CHECK(drop_records_of_node(recs, "alpha") == 1);
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].node == "beta");
  CHECK(recs[1].node == "beta");
  HistoryRecord r;
  r.node = "beta";
  r.reason = std::string("caf\xc3\xa9 \xc2\x9b") + "31m \xe2\x80\xae";  // é, a C1 CSI, a right-to-left override
  const std::string line = encode_history_record_ascii(r);
  for (unsigned char c : line) CHECK(c < 0x80);
  CHECK(line.find("\\u00e9") != std::string::npos);
  CHECK(line.find("\\u009b") != std::string::npos);
  CHECK(line.find("\\u202e") != std::string::npos);
  auto back = parse_history_record(line);
  REQUIRE(back.ok());
  CHECK(back->reason == r.reason);
}
