// castor status shows each channel to the peer (issue 15): the renderer (tools/status_channels) fed canned
// quorumd status replies — the rows of the disk and of each LAN link, refusal counts, the promises and the
// diagnosis lines, each with the case just past its threshold — and the whole `castor status` against a
// canned quorumd on a real control socket: the channels block appears between the node table and the
// services and changes nothing else; --json passes the new fields through unchanged, in quorumd's order.
#include <doctest/doctest.h>

#include <poll.h>

#include <atomic>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "control/control_server.h"
#include "control/json_codec.h"
#include "tests/support/scratch.h"
#include "tools/cli_commands.h"
#include "tools/status_channels.h"

using namespace castor;
using json_codec::Json;

namespace {

// quorumd's status reply as control_verbs.cc writes it, with the issue-15 fields after "peer":
// io_timeout 200 ms, the disk healthy, lan1 up with refusals, lan2 up, nothing promised.
const char* kReply = R"({"ok":true,"node":{"id":1,"name":"alpha"},
 "cluster":{"name":"demo","uuid":"6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5"},"device":"/dev/loop7","pid":4242,
 "incarnation":3,"phase":"up","seq":1234,"leaving":false,"standby":false,
 "lease":{"valid":true,"remaining_ms":350,"expiry_boottime_ns":123456789},"fence_reason":null,"fences":0,
 "last_fence":null,
 "peer":{"id":2,"name":"beta","view":"UP","incarnation":5,"seq":999,"state":"UP","heartbeat_age_ms":80,
         "standby":false,"write_latency_us":{"last":310,"worst":920}},
 "channels":{
   "disk":{"up":true,"last_ok_write_age_ms":12,"peer_heartbeat_age_ms":80},
   "lan":[
    {"name":"lan1","local":"10.0.1.1","peer":"10.0.1.2","port":5406,"up":true,"age_ms":40,"rtt_ms":0.21,
     "loss_pct":0.0,"peer_hears_me":true,"sent":1234,"send_errors":0,"accepted":1200,
     "refused":{"truncated":0,"oversized":0,"bad_magic":0,"bad_version":0,"bad_tag":3,"wrong_cluster":0,
                "wrong_sender":0,"wrong_link":0,"malformed":0,"replayed":2,"stale_incarnation":0},
     "peer_disk_ok":true},
    {"name":"lan2","local":"10.0.2.1","peer":"10.0.2.2","port":5406,"up":true,"age_ms":45,"rtt_ms":0.34,
     "loss_pct":1.5,"peer_hears_me":true,"sent":1234,"send_errors":0,"accepted":1190,
     "refused":{"truncated":0,"oversized":0,"bad_magic":0,"bad_version":0,"bad_tag":0,"wrong_cluster":0,
                "wrong_sender":0,"wrong_link":0,"malformed":0,"replayed":0,"stale_incarnation":0},
     "peer_disk_ok":true}
   ]},
 "promises":{"enabled":true,"requesting":false,"granted":0,"received":0,"promised_until_ms":null,
             "dead_floor_ms":null,"max_storage_stall_ms":120000,"riding_through_stall":false},
 "write_latency_us":{"last":290,"worst":880},
 "timing_ms":{"io_timeout":200,"renew_interval":66,"lease":500,"kill_grace":100,"watchdog":800,"dead":1200},
 "watchdog":{"device":"/dev/watchdog","standin":false,"pets":77,"kind":"hardware","pet_guard_ms":100},
 "process_groups":[],"floor":4,"corrupt_blocks":[],
 "scrub":{"interval_ms":60000,"scrubs":1,"blocks_written":35,"last_ago_ms":1000},"boottime_ns":987654321})";

Json reply() {
  Json j = Json::parse(kReply, nullptr, false);
  REQUIRE(!j.is_discarded());
  return j;
}

Json& lan(Json& j, size_t i) { return j["channels"]["lan"][i]; }

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::string kPeerSilent =
    "peer beta is alive on the LAN but silent on the quorum disk: its storage path is the problem, not the node";

// The LAN and the peer's disk heartbeat as they are while only the peer's storage path fails.
Json peer_storage_failing(int64_t peer_age_ms) {
  Json j = reply();
  j["channels"]["disk"]["peer_heartbeat_age_ms"] = peer_age_ms;
  j["peer"]["heartbeat_age_ms"] = peer_age_ms;
  return j;
}

// This node's heartbeat writes failing for `stalled_ms`, the peer heard on lan1 and lan2 saying its own
// disk is `peer_disk_ok`.
Json my_disk_down(int64_t stalled_ms, bool peer_disk_ok) {
  Json j = reply();
  j["channels"]["disk"] = Json{{"up", false}, {"last_ok_write_age_ms", stalled_ms}, {"peer_heartbeat_age_ms", stalled_ms}};
  lan(j, 0)["peer_disk_ok"] = peer_disk_ok;
  lan(j, 1)["peer_disk_ok"] = peer_disk_ok;
  return j;
}

}  // namespace

TEST_CASE("castor status channels: the disk and each LAN link, one row each, refusals when not zero") {
  const std::string out = channels_status_text(reply());
  CHECK(out ==
        "\nChannels of alpha to beta:\n"
        "  disk  up   last write 12 ms ago  peer heartbeat 80 ms ago\n"
        "  lan1  up   10.0.1.1 -> 10.0.1.2  age 40 ms  rtt 0.2 ms  loss 0.0 %\n"
        "             refused: bad_tag 3, replayed 2\n"
        "  lan2  up   10.0.2.1 -> 10.0.2.2  age 45 ms  rtt 0.3 ms  loss 1.5 %\n");
  CHECK(!has(out, "WARNING"));
}

TEST_CASE("castor status channels: a link down says when it was last heard, or that it never was") {
  Json j = reply();
  lan(j, 1)["up"] = false;
  lan(j, 1)["age_ms"] = 5200;
  lan(j, 1)["rtt_ms"] = 0.4;
  lan(j, 1)["send_errors"] = 7;
  std::string out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  lan2  DOWN 10.0.2.1 -> 10.0.2.2  last heard 5.2 s ago  send errors 7\n"), out);

  lan(j, 1)["age_ms"] = nullptr;
  lan(j, 1)["rtt_ms"] = nullptr;
  lan(j, 1)["peer_disk_ok"] = nullptr;
  lan(j, 1)["send_errors"] = 0;
  out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  lan2  DOWN 10.0.2.1 -> 10.0.2.2  never heard\n"), out);

  // Up but without an RTT yet, and one-way: the peer says it does not hear this node.
  lan(j, 0)["rtt_ms"] = nullptr;
  lan(j, 0)["peer_hears_me"] = false;
  out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  lan1  up   10.0.1.1 -> 10.0.1.2  age 40 ms  rtt -  loss 0.0 %  the peer does not hear this node\n"),
                out);
}

TEST_CASE("castor status channels: without [lan], one line says so and what it costs") {
  Json j = reply();
  j["channels"]["lan"] = Json::array();
  j["promises"] = Json{{"enabled", false}, {"requesting", false}, {"granted", 0}, {"received", 0},
                       {"promised_until_ms", nullptr}, {"dead_floor_ms", nullptr}, {"max_storage_stall_ms", 120000},
                       {"riding_through_stall", false}};
  const std::string out = channels_status_text(j);
  CHECK(out ==
        "\nChannels of alpha to beta:\n"
        "  disk  up   last write 12 ms ago  peer heartbeat 80 ms ago\n"
        "  lan   not configured (a storage stall seen by both nodes resets both; see castor.ini [lan])\n");

  // Without a LAN an old disk heartbeat of the peer is no LAN diagnosis: nothing hears it elsewhere.
  j["channels"]["disk"]["peer_heartbeat_age_ms"] = 5000;
  CHECK(!has(channels_status_text(j), "WARNING"));
}

TEST_CASE("castor status channels: a peer heard on the LAN whose disk heartbeat is older than 2 x io_timeout") {
  // 400 ms = 2 x io_timeout is still within bounds; 401 ms is not.
  CHECK(!has(channels_status_text(peer_storage_failing(400)), "silent on the quorum disk"));
  const std::string out = channels_status_text(peer_storage_failing(401));
  CHECK_MESSAGE(has(out, "  WARNING: " + kPeerSilent + " (heard on lan1 40 ms ago, disk heartbeat 401 ms ago)\n"), out);

  // The same age with both links down: nothing shows the peer alive, so no such claim.
  Json j = peer_storage_failing(5000);
  lan(j, 0)["up"] = false;
  lan(j, 1)["up"] = false;
  CHECK(!has(channels_status_text(j), "silent on the quorum disk"));
  // One link up is enough; the diagnosis names the link that heard the peer last.
  lan(j, 1)["up"] = true;
  CHECK_MESSAGE(has(channels_status_text(j), kPeerSilent + " (heard on lan2 45 ms ago"), channels_status_text(j));
}

TEST_CASE("castor status channels: the peer itself says on the LAN that its disk fails") {
  Json j = reply();  // its disk heartbeat still fresh (80 ms): the peer's word is enough
  lan(j, 0)["peer_disk_ok"] = false;
  lan(j, 1)["peer_disk_ok"] = false;
  const std::string out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  WARNING: " + kPeerSilent + " (heard on lan1 40 ms ago, disk heartbeat 80 ms ago, it reports its disk failing)\n"),
                out);

  // What a link heard longer ago is not the peer's latest word: lan1 (40 ms) says ok, lan2 (45 ms) not.
  lan(j, 0)["peer_disk_ok"] = true;
  CHECK(!has(channels_status_text(j), "silent on the quorum disk"));
  // Never heard the peer's disk state (null) and a fresh heartbeat: nothing to say.
  lan(j, 0)["peer_disk_ok"] = nullptr;
  lan(j, 1)["peer_disk_ok"] = nullptr;
  CHECK(!has(channels_status_text(j), "WARNING"));
}

TEST_CASE("castor status channels: this node cannot write the disk, the peer's disk works: it will fence") {
  const Json j = my_disk_down(300, true);
  const std::string out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  disk  DOWN last ok write 300 ms ago  peer heartbeat 300 ms ago\n"), out);
  CHECK_MESSAGE(has(out, "  WARNING: this node cannot write the quorum disk; this node will fence in 350 ms\n"), out);
  // Its own stall makes the peer's heartbeat old too: that is not the peer's storage path.
  CHECK(!has(out, "silent on the quorum disk"));
  CHECK(!has(out, "shared storage stall"));

  Json expired = j;
  expired["lease"]["valid"] = false;
  expired["lease"]["remaining_ms"] = 0;
  CHECK(has(channels_status_text(expired), "this node cannot write the quorum disk; its lease is not valid: this node fences\n"));

  Json never = j;
  never["channels"]["disk"]["last_ok_write_age_ms"] = nullptr;
  CHECK(has(channels_status_text(never), "  disk  DOWN no ok write yet"));
}

TEST_CASE("castor status channels: a shared storage stall ridden through on the peer's promise") {
  Json j = my_disk_down(3100, false);
  j["promises"]["riding_through_stall"] = true;
  j["promises"]["promised_until_ms"] = 4100;
  j["promises"]["dead_floor_ms"] = 3900;
  j["promises"]["granted"] = 9;
  j["promises"]["received"] = 8;
  const std::string out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  promises the peer's promise to this node runs 4.1 s more; this node may not declare the peer "
                         "dead for 3.9 s (its own promise) (granted 9, received 8)\n"),
                out);
  CHECK_MESSAGE(has(out, "  WARNING: shared storage stall: neither node can write the quorum disk (this node for 3.1 s); "
                         "max_storage_stall (120 s) allows 116.9 s more\n"),
                out);
  CHECK_MESSAGE(has(out, "  WARNING: this node cannot write the quorum disk; riding through on the peer's promise until "
                         "4.1 s from now\n"),
                out);
  CHECK(!has(out, "will fence"));
  CHECK(!has(out, "silent on the quorum disk"));

  // At max_storage_stall the allowance is used up.
  j["channels"]["disk"]["last_ok_write_age_ms"] = 120000;
  CHECK_MESSAGE(has(channels_status_text(j), "max_storage_stall (120 s) is used up: both nodes fence unless the disk returns\n"),
                channels_status_text(j));

  // Not riding (no promise yet): the fence time, and the promise being asked for.
  j["channels"]["disk"]["last_ok_write_age_ms"] = 600;
  j["promises"]["riding_through_stall"] = false;
  j["promises"]["requesting"] = true;
  j["promises"]["promised_until_ms"] = nullptr;
  j["promises"]["dead_floor_ms"] = nullptr;
  const std::string asking = channels_status_text(j);
  CHECK_MESSAGE(has(asking, "  promises asking the peer for one (granted 9, received 8)\n"), asking);
  CHECK_MESSAGE(has(asking, "allows 119.4 s more\n"), asking);
  CHECK_MESSAGE(has(asking, "this node cannot write the quorum disk; this node will fence in 350 ms\n"), asking);

  // The peer's disk failing is known only from a link that is up: with the LAN down, no shared stall claimed.
  lan(j, 0)["up"] = false;
  lan(j, 1)["up"] = false;
  CHECK(!has(channels_status_text(j), "shared storage stall"));
}

TEST_CASE("castor status channels: an older quorumd's reply (no channels) adds nothing; bad fields never throw") {
  Json j = reply();
  j.erase("channels");
  j.erase("promises");
  CHECK(channels_status_text(j) == "");
  CHECK(channels_status_text(Json::array()) == "");
  CHECK(channels_status_text(Json(42)) == "");

  // Every field of another type than the contract's: shown as unknown, and no diagnosis drawn from it.
  Json bad = reply();
  bad["channels"]["disk"] = Json{{"up", "yes"}, {"last_ok_write_age_ms", "12"}, {"peer_heartbeat_age_ms", 1e300}};
  lan(bad, 0) = Json{{"name", 5}, {"up", 1}, {"refused", Json::array({1, 2})}, {"age_ms", -1e30}};
  lan(bad, 1) = "lan2";
  bad["promises"] = Json::array();
  bad["lease"] = nullptr;
  bad["timing_ms"]["io_timeout"] = "200";
  std::string out;
  CHECK_NOTHROW(out = channels_status_text(bad));
  CHECK_MESSAGE(has(out, "  disk  ?    last write -  peer heartbeat not seen\n"), out);
  CHECK_MESSAGE(has(out, "  lan?  DOWN ? -> ?  never heard\n"), out);
  CHECK(!has(out, "WARNING"));

  Json no_lan = reply();
  no_lan["channels"].erase("lan");
  CHECK(has(channels_status_text(no_lan), "  lan   ?    (not in quorumd's reply)\n"));
}

TEST_CASE("castor status channels: names and addresses from the reply are shown escaped") {
  Json j = reply();
  lan(j, 0)["name"] = "lan1\x1b[2J";
  lan(j, 0)["peer"] = "10.0.1.2\r\n";
  lan(j, 0)["refused"] = Json{{"bad\x07tag", 1}};
  j["peer"]["name"] = "be\x1bta";
  j["channels"]["disk"]["peer_heartbeat_age_ms"] = 1000;
  const std::string out = channels_status_text(j);
  CHECK_MESSAGE(has(out, "  lan1\\x1B[2J up   10.0.1.1 -> 10.0.1.2\\x0D\\x0A  age 40 ms"), out);
  CHECK_MESSAGE(has(out, "refused: bad\\x07tag 1\n"), out);
  CHECK_MESSAGE(has(out, "peer be\\x1Bta is alive on the LAN"), out);
  for (char c : out) CHECK((c == '\n' || static_cast<unsigned char>(c) >= 0x20));
}

namespace {

// A quorumd stand-in on a real control socket, answering `status` with a canned reply, served from its
// own thread while the test runs the castor command on the main one.
class CannedQuorumd : ControlServer::Handler {
 public:
  CannedQuorumd(const std::string& path, std::string status_reply) : reply_(std::move(status_reply)) {
    auto s = ControlServer::listen(path);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    server_ = std::move(*s);
    thread_ = std::thread([this] {
      while (!stop_) {
        server_->process(*this);
        pollfd p{server_->fd(), POLLIN, 0};
        (void)::poll(&p, 1, 5);
      }
    });
  }
  ~CannedQuorumd() {
    stop_ = true;
    thread_.join();
  }
  int requests() const { return requests_; }

 private:
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override {
    ++requests_;
    if (req.verb == "status") server_->reply(conn, reply_);
    else server_->reply_error(conn, "not this verb", false);
  }
  std::string reply_;
  std::unique_ptr<ControlServer> server_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// What `castor status ARGS` prints on stdout (and its exit code) against a canned quorumd replying `status`
// on a socket in `dir` (svcmgr's socket named there does not exist).
std::string castor_status(const testing::ScratchDir& dir, const Json& status, std::vector<std::string> args, int* rc) {
  REQUIRE(!dir.path().empty());
  CannedQuorumd q(dir.file("q.sock"), json_codec::dump(status));
  args.insert(args.end(), {"--socket", dir.file("q.sock"), "--svcmgr-socket", dir.file("no-svcmgr.sock")});
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  *rc = cmd_status(args);
  std::cout.rdbuf(old);
  CHECK(q.requests() == 1);
  return captured.str();
}

}  // namespace

TEST_CASE("castor status against quorumd: the channels block sits after the nodes, the rest unchanged") {
  testing::ScratchDir dir;  // one for both runs: the output names svcmgr's socket path
  int rc = -1;
  const std::string with = castor_status(dir, reply(), {}, &rc);
  CHECK(rc == 0);
  Json old_reply = reply();
  old_reply.erase("channels");
  old_reply.erase("promises");
  const std::string without = castor_status(dir, old_reply, {}, &rc);
  CHECK(rc == 0);

  const std::string block = channels_status_text(reply());
  REQUIRE(!block.empty());
  const size_t at = with.find(block);
  REQUIRE_MESSAGE(at != std::string::npos, with);
  // Taking the block out leaves exactly what an older quorumd's reply gives.
  CHECK(with.substr(0, at) + with.substr(at + block.size()) == without);
  // Between the peer's row and the services.
  const size_t peer_row = with.find("  beta ");
  const size_t services = with.find("\nServices: svcmgr does not answer");
  CHECK_MESSAGE(peer_row < at, with);
  CHECK_MESSAGE(at < services, with);
  CHECK_MESSAGE(services != std::string::npos, with);
}

TEST_CASE("castor status --json passes quorumd's channels and promises through unchanged, in its order") {
  int rc = -1;
  const Json sent = reply();
  testing::ScratchDir dir;
  const std::string out = castor_status(dir, sent, {"--json"}, &rc);
  CHECK(rc == 0);
  const Json got = Json::parse(out, nullptr, false);
  REQUIRE_MESSAGE(got.is_object(), out);
  CHECK(got["source"] == "daemon");
  CHECK(got["channels"] == sent["channels"]);  // ordered_json: equal values and equal key order
  CHECK(got["promises"] == sent["promises"]);
  CHECK(got["channels"]["lan"][0]["refused"].dump() == sent["channels"]["lan"][0]["refused"].dump());
  CHECK_MESSAGE(has(out, "\"rtt_ms\":0.21,"), out);
  CHECK_MESSAGE(has(out, "\"promised_until_ms\":null,"), out);
  // Every key of the reply, in quorumd's order, then what castor adds (no svcmgr here: no "services").
  std::vector<std::string> keys, expected;
  for (const auto& [k, v] : got.items()) keys.push_back(k);
  for (const auto& [k, v] : sent.items()) expected.push_back(k);
  expected.push_back("source");
  CHECK(keys == expected);
}

TEST_CASE("castor status devices: a set of three says whether it is redundant and each member's state") {
  auto member = [](int i, bool failing, const char* error = nullptr) {
    Json d{{"index", i}, {"path", "/dev/q" + std::to_string(i)}, {"failing", failing}, {"queued", 0},
           {"invalid_blocks", 0}, {"last_ok_latency_us", 1500}, {"worst_latency_us", 9000}};
    d["failing_for_ms"] = failing ? Json(12300) : Json(nullptr);
    d["last_error"] = error ? Json(error) : Json(nullptr);
    return d;
  };
  Json st;
  CHECK(devices_status_text(st).empty());  // a single device: no block
  st["devices"] = Json::array({member(0, false), member(1, false), member(2, false)});
  std::string text = devices_status_text(st);
  CHECK(text.find("a set of 3, a majority (2) must answer; all answer (redundant)") != std::string::npos);
  CHECK(text.find("0 /dev/q0: ok, latency 1 ms (worst 9 ms)") != std::string::npos);

  st["devices"][1] = member(1, true, "/dev/q1: I/O error\n\x1b[31m");
  st["devices"][1]["queued"] = 3;
  text = devices_status_text(st);
  CHECK(text.find("WITHOUT REDUNDANCY: 1 lost, one more loss fences both nodes") != std::string::npos);
  CHECK(text.find("1 /dev/q1: FAILING for 12.3 s: /dev/q1: I/O error") != std::string::npos);
  CHECK(text.find("3 writes waiting") != std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);  // the error text from the reply is printed escaped

  st["devices"][2] = member(2, true, "timed out");
  CHECK(devices_status_text(st).find("NO MAJORITY: 1 answer") != std::string::npos);
}
