// SvcmgrDaemon, start-up and quorumd: connects, reads who this node is and its own table, loads and adopts
// the definitions, then handles quorumd's events (lease, fence, leaving, peer) and replies (the peer's
// table, the completion of my entries' writes). The JSON helpers below parse quorumd's replies (lib/control's
// typed codecs are to replace them).
// Must never let a service run past a fence or a lease at risk, and never read a torn peer entry as free.
#include "svcmgr/svcmgr_daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/errno_status.h"
#include "common/log.h"
#include "svcmgr/svcmgr_exit.h"

namespace castor {
namespace {

using nlohmann::json;

TimePoint from_ns(int64_t ns) { return TimePoint(Duration(ns)); }
int64_t to_ns(TimePoint t) { return t.time_since_epoch().count(); }

std::optional<OwnershipState> parse_state(const std::string& s) {
  for (uint8_t i = 0; i <= kMaxOwnershipState; ++i)
    if (s == ownership_state_name(OwnershipState(i))) return OwnershipState(i);
  return std::nullopt;
}

std::optional<ServiceEntry> entry_from_json(const json& j) {
  auto st = parse_state(j.value("state", ""));
  if (!st) return std::nullopt;
  ServiceEntry e;
  e.in_use = true;
  e.name = j.value("name", "");
  e.state = *st;
  e.node = j.value("node", 0u);
  e.epoch = j.value("epoch", uint64_t(0));
  e.ballot = j.value("ballot", uint64_t(0));
  e.flags = uint16_t(j.value("flags", 0u));
  e.restarts = j.value("restarts", 0u);
  e.definition_digest = j.value("digest", uint64_t(0));
  return e;
}

// The peer's service table as quorumd's `table-peer` reply gives it: every decodable entry (of all 34
// blocks), the blocks that failed to decode, and the epoch floors.
struct PeerTableEntry {
  ServiceEntry entry;
  std::optional<uint32_t> block;  // the table block holding it, when quorumd says
  uint64_t writer_incarnation = 0;  // the incarnation that wrote that block (0: quorumd does not say)
};
struct PeerTableRead {
  std::map<std::string, PeerTableEntry> entries;
  std::vector<std::pair<uint32_t, std::string>> corrupt;  // table block, reason
  std::string corrupt_text;                               // "3: bad CRC; 5: torn" (for the log and as a value)
  std::optional<uint64_t> peer_floor;                     // nullopt: the peer's epoch record did not decode
  std::string floor_error;
  uint64_t own_floor = 0;
};

PeerTableRead parse_peer_table(const json& j, bool corrupt_free) {
  PeerTableRead t;
  if (j.contains("entries") && j["entries"].is_array())
    for (const auto& e : j["entries"])
      if (auto x = entry_from_json(e)) {
        PeerTableEntry pe{*x, std::nullopt, 0};
        if (e.contains("block") && e["block"].is_number_unsigned()) pe.block = e["block"].get<uint32_t>();
        // Two writes of equal fields (a restarted peer repeating its last entry) differ in these.
        if (e.contains("incarnation") && e["incarnation"].is_number_unsigned())
          pe.writer_incarnation = e["incarnation"].get<uint64_t>();
        if (e.contains("changed_wall_ns") && e["changed_wall_ns"].is_number_integer())
          pe.entry.changed_wall_ns = e["changed_wall_ns"].get<int64_t>();
        t.entries[x->name] = pe;
      }
  if (!corrupt_free && j.contains("corrupt_blocks") && j["corrupt_blocks"].is_array()) {
    for (const auto& c : j["corrupt_blocks"]) {
      if (!c.is_object()) continue;
      const uint32_t b = c.contains("block") && c["block"].is_number_unsigned() ? c["block"].get<uint32_t>() : 0;
      std::string reason = c.contains("reason") && c["reason"].is_string() ? c["reason"].get<std::string>() : "";
      if (c.contains("hash")) reason += " #" + c["hash"].dump();  // quorumd may tell changed garbage apart
      t.corrupt.emplace_back(b, reason);
      t.corrupt_text += (t.corrupt_text.empty() ? "" : "; ") + std::to_string(b) + ": " + reason;
    }
  }
  // An older quorumd sends no floors (it has no epoch records): 0, as its disks have none to lose.
  if (!j.contains("peer_epoch_floor")) t.peer_floor = 0;
  else if (j["peer_epoch_floor"].is_number_unsigned()) t.peer_floor = j["peer_epoch_floor"].get<uint64_t>();
  else t.floor_error = j.value("peer_epoch_floor_error", std::string("the peer's epoch record does not decode"));
  if (j.contains("own_epoch_floor") && j["own_epoch_floor"].is_number_unsigned())
    t.own_floor = j["own_epoch_floor"].get<uint64_t>();
  return t;
}

// One service's peer entry from that read. Unknown (never free, never a reason to claim) when the service
// is not found while a peer table block or the peer's epoch record failed to decode: it may be in there.
PeerEntryRead peer_entry_for(const PeerTableRead& t, const std::string& name, std::optional<uint32_t> last_block) {
  PeerEntryRead r;
  r.own_floor = t.own_floor;
  r.peer_floor = t.peer_floor;
  if (auto it = t.entries.find(name); it != t.entries.end()) {
    r.entry = it->second.entry;
    r.writer_incarnation = it->second.writer_incarnation;
    return r;
  }
  if (t.corrupt.empty() && t.peer_floor) return r;  // the peer has no entry for it: known free
  r.unknown = true;
  if (!t.corrupt.empty()) {
    uint32_t b = t.corrupt.front().first;  // where it was last seen, if that block is corrupt now
    for (const auto& [cb, why] : t.corrupt)
      if (last_block && cb == *last_block) b = cb;
    r.unknown_reason = "corrupt record at block " + std::to_string(b);
  } else {
    r.unknown_reason = "corrupt epoch record of the peer";
  }
  // What tells one unknown read from another: the corrupt blocks and their reasons, the floor's error.
  r.unknown_value = std::hash<std::string>{}(t.corrupt_text + "|" + t.floor_error);
  if (r.unknown_value == 0) r.unknown_value = 1;
  return r;
}

PeerView parse_view(const std::string& v) {
  if (v == "UP") return PeerView::up;
  if (v == "DEAD") return PeerView::dead;
  if (v == "DOWN") return PeerView::down;
  return PeerView::unknown;
}

}  // namespace

Result<std::unique_ptr<SvcmgrDaemon>> SvcmgrDaemon::start(const SvcmgrConfig& config) {
  auto env = std::make_unique<SystemSvcmgrEnv>();
  SvcmgrEnv& e = *env;
  std::unique_ptr<SvcmgrDaemon> d(new SvcmgrDaemon(config, e, std::move(env)));
  RETURN_IF_ERROR(d->init());
  return d;
}

Result<std::unique_ptr<SvcmgrDaemon>> SvcmgrDaemon::start(const SvcmgrConfig& config, SvcmgrEnv& env) {
  std::unique_ptr<SvcmgrDaemon> d(new SvcmgrDaemon(config, env, nullptr));
  RETURN_IF_ERROR(d->init());
  return d;
}

SvcmgrDaemon::~SvcmgrDaemon() = default;

Status SvcmgrDaemon::init() {
  if (const char* u = std::getenv("CASTOR_TEST_UNSAFE_TAKEOVER"); u && std::string(u) == "1") {
    unsafe_takeover_ = true;
    log::critical("CASTOR_TEST_UNSAFE_TAKEOVER=1: a deliberately broken build for testing the checker; "
                  "this node takes services over without waiting for the peer's death",
                  {});
  }
  if (const char* b = std::getenv("CASTOR_TEST_BUG")) {
    const std::string bugs = std::string(",") + b + ",";
    if (bugs.find(",corrupt_free,") != std::string::npos) {
      corrupt_free_ = true;
      log::critical("CASTOR_TEST_BUG=corrupt_free: a deliberately broken build for testing the checker; a "
                    "peer table block that does not decode counts as no entries (free), as the old code did",
                    {});
    }
  }
  // quorumd first: it knows who we are and holds the lease.
  const TimePoint give_up = clock_.now() + config_.connect_timeout;
  Status st;
  for (;;) {
    st = link_->connect([this](const std::string& j) { on_quorumd_event(j); });
    if (st.ok()) break;
    if (clock_.now() >= give_up) return st.with_context("connecting to quorumd");
    env_.pause(std::chrono::milliseconds(200));
  }
  // Synchronous start-up exchanges: status, then our own table.
  auto blocking = [this](const std::string& line) -> Result<json> {
    std::optional<Result<std::string>> reply;
    link_->request(line, [&reply](const Result<std::string>& r) { reply = r; });
    const TimePoint until = clock_.now() + std::chrono::seconds(10);
    while (!reply && clock_.now() < until) {
      link_->await(std::chrono::milliseconds(100));
      link_->process();
    }
    if (!reply) return Error(Code::timeout, "quorumd did not answer '" + line + "'");
    if (!reply->ok()) return reply->status();
    json j = json::parse(reply->value(), nullptr, false);
    if (j.is_discarded() || !j.value("ok", false))
      return Error(Code::refused, "quorumd refused '" + line + "': " + (j.is_discarded() ? reply->value() : j.value("error", "?")));
    return j;
  };
  ASSIGN_OR_RETURN(json status, blocking("status"));
  node_name_ = status["node"].value("name", "");
  node_id_ = status["node"].value("id", 0u);
  peer_name_ = status["peer"].value("name", "");
  peer_id_ = status["peer"].value("id", 0u);
  renew_interval_ = Millis(status["timing_ms"].value("renew_interval", 500));
  me_standby_ = status.value("standby", false);  // quorumd keeps it across svcmgr restarts
  log::set_node(node_name_);
  RETURN_IF_ERROR(load_services());
  ASSIGN_OR_RETURN(json d, blocking("set-digest " + std::to_string(digest_)));
  (void)d;
  ASSIGN_OR_RETURN(json own, blocking("table-own"));
  for (const auto& e : own["entries"])
    if (auto x = entry_from_json(e)) own_entries_[x->name] = *x;
  definitions_ = DefinitionStore(config_.state_dir + "/definitions/" + node_name_);
  const TimePoint now = clock_.now();
  std::vector<ServiceDefinition> defs;
  for (auto& [name, s] : services_) defs.push_back(s.def);
  services_.clear();
  for (auto& def : defs) adopt_service(std::move(def), now);
  // My entries that are up for services no file defines: removed while svcmgr was down. They may still run
  // here; left alone they would stay owned forever (the peer could never take them) and run unmanaged.
  for (const auto& [name, e] : own_entries_)
    if (!services_.count(name) && entry_up(e.state)) adopt_removed(name, now);
  ASSIGN_OR_RETURN(server_, env_.listen_admin(config_.socket));
  log::notice("svcmgr started", {{"services", std::to_string(services_.size())},
                                 {"digest", std::to_string(digest_)},
                                 {"socket", config_.socket}});
  return Status::Ok();
}

void SvcmgrDaemon::on_quorumd_event(const std::string& text) {
  json e = json::parse(text, nullptr, false);
  if (e.is_discarded()) return;
  const std::string ev = e.value("event", "");
  const TimePoint now = clock_.now();
  if (e.contains("lease_expiry_boottime_ns") && e["lease_expiry_boottime_ns"].is_number())
    lease_expiry_ = from_ns(e["lease_expiry_boottime_ns"].get<int64_t>());
  if (ev == "lease_renewed") {
    lease_at_risk_ = false;
    if (risk_stop_ && !leaving_) {
      risk_stop_ = false;
      stopping_all_ = false;
      log::notice("the lease is renewed again: services may run", {});
      // A service the risk stopped while this node still owns it (its entry never left "owned") starts
      // again in its epoch; without this it would stay stopped and owned here, and the peer could not take it.
      for (auto& [name, s] : services_) {
        if (!s.own->may_run() || s.restarting()) continue;
        s.own->set_intent(Intent::hold, 0);
        if (s.runner->state() == ServiceRunner::State::stopped && s.runner->idle()) {
          log::notice("starting again after the lease risk passed", {{"service", name}, {"epoch", std::to_string(s.own->epoch())}});
          if (Status st = s.runner->start(s.own->epoch(), now); !st.ok())
            log::error("cannot start", {{"service", name}, {"reason", st.to_string()}});
        } else if (s.runner->state() == ServiceRunner::State::stopping) {
          log::notice("will start again once stopped: the lease risk passed", {{"service", name}, {"epoch", std::to_string(s.own->epoch())}});
          s.start_after_stop(s.own->epoch());
        }
      }
    }
  } else if (ev == "lease_at_risk") {
    lease_at_risk_ = true;
    risk_stop_ = true;
    stop_everything("lease at risk: " + e.value("reason", ""), now);
  } else if (ev == "leaving") {
    // quorumd leaves the cluster cleanly: stop and release everything, then tell it so (it writes DOWN,
    // which lets the peer take over at once), then exit with it.
    log::notice("quorumd is leaving the cluster: stopping and releasing every service", {{"reason", e.value("reason", "")}});
    leaving_ = true;
    quorumd_leaving_ = true;
    stop_everything("the node leaves the cluster", now);
  } else if (ev == "fenced") {
    log::critical("quorumd fenced this node: every service is killed", {{"reason", e.value("reason", "")}});
    services_.clear();  // runners' destructors kill their agents; quorumd kills the registered groups
    exit_code_ = kSvcmgrExitFenced;
  } else if (ev == "peer_changed") {
    liveness_.view = parse_view(e.value("to", ""));
    log::notice("peer " + e.value("to", std::string("?")), {{"peer", peer_name_}, {"reason", e.value("reason", "")}});
  }
}

void SvcmgrDaemon::tick(TimePoint now) {
  next_tick_ = now + renew_interval_;
  if (!link_->connected()) return;
  if (!table_read_pending_) {
    table_read_pending_ = true;
    link_->request("table-peer", [this](const Result<std::string>& r) {
      table_read_pending_ = false;
      if (r.ok()) on_peer_table(*r, clock_.now());
      if (std::exchange(reread_table_, false)) tick(clock_.now());
    });
  }
}

void SvcmgrDaemon::on_peer_table(const std::string& text, TimePoint now) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.value("ok", false)) return;
  const TimePoint issued = from_ns(j.value("read_issued_boottime_ns", int64_t(0)));
  PeerTableRead t = parse_peer_table(j, corrupt_free_);
  if (!t.corrupt.empty() && t.corrupt_text != last_corrupt_text_)
    log::warning("peer table blocks do not decode: their entries are unknown (never free)",
                 {{"blocks", t.corrupt_text}});
  if (!t.peer_floor && t.floor_error != last_floor_error_)
    log::warning("the peer's epoch record does not decode: services it has no entry for are unknown",
                 {{"reason", t.floor_error}});
  last_corrupt_text_ = t.corrupt_text;
  last_floor_error_ = t.peer_floor ? "" : t.floor_error;
  if (j.contains("peer")) {
    const json& p = j["peer"];
    liveness_.view = parse_view(p.value("view", ""));
    liveness_.confirmed_at = from_ns(p.value("confirmed_boottime_ns", int64_t(0)));
    if (unsafe_takeover_) {
      // TEST ONLY (CASTOR_TEST_UNSAFE_TAKEOVER=1): pretend the peer is always confirmed dead, i.e. take over
      // without waiting for D. Exists so the torture checker can show it catches a broken build.
      liveness_.view = PeerView::dead;
      liveness_.confirmed_at = now + std::chrono::hours(1);
    }
    peer_digest_known_ = p.value("digest_known", false);
    peer_digest_ = p.value("services_digest", uint64_t(0));
    peer_standby_ = p.value("standby", false);
  }
  for (auto& [name, s] : services_) {
    PeerEntryRead r = peer_entry_for(t, name, s.peer_block);
    r.read_issued = issued;
    r.read_completed = now;
    if (auto it = t.entries.find(name); it != t.entries.end()) s.peer_block = it->second.block;
    // An unknown entry keeps the last one known for the admin word (a torn read must not cancel a pending
    // relocation or disable); what may run where is Ownership's, which counts unknown as up.
    if (!r.unknown) s.peer_entry = r.entry.in_use ? std::optional<ServiceEntry>(r.entry) : std::nullopt;
    s.peer_unknown = r.unknown ? r.unknown_reason : "";
    s.own->on_peer_entry(r);
    if (unsafe_takeover_) {
      // TEST ONLY: a verdict that first stood before this read was issued, so Ownership takes it as voiding
      // this read's entry (a verdict that first stood later voids only later reads).
      s.own->on_liveness({PeerView::unknown, TimePoint{}});
      s.own->on_liveness({PeerView::dead, issued});
    }
    s.own->on_liveness(liveness_);
    evaluate(s, now);
  }
}

void SvcmgrDaemon::submit_entry(Service& s, const ServiceEntry& e, uint64_t token) {
  std::string line = "table-set " + e.name + " " + ownership_state_name(e.state) + " " + std::to_string(e.node) + " " +
                     std::to_string(e.epoch) + " " + std::to_string(e.ballot) + " " + std::to_string(e.flags) + " " +
                     std::to_string(s.restarts()) + " " + std::to_string(e.definition_digest);
  const std::string name = s.def.name;
  own_entries_[name] = e;
  link_->request(line, [this, name, token](const Result<std::string>& r) {
    auto it = services_.find(name);
    if (it == services_.end()) return;
    bool ok = false;
    TimePoint done = clock_.now();
    if (r.ok()) {
      json j = json::parse(*r, nullptr, false);
      ok = !j.is_discarded() && j.value("ok", false);
      if (ok) done = from_ns(j.value("completed_boottime_ns", to_ns(done)));
      else log::warning("service entry write failed", {{"service", name}, {"reason", j.is_discarded() ? *r : j.value("error", "?")}});
    }
    it->second.own->on_write_done(token, ok, done);
    // A claim on the disk is confirmed by a read of the peer's entry issued after it landed: issue that
    // read now rather than at the next tick (half a renew interval sooner on average, at any io_timeout).
    if (ok && it->second.own->phase() == OwnershipPhase::claiming) {
      if (table_read_pending_) reread_table_ = true;  // the read in flight was issued too early to count
      else tick(clock_.now());
    }
    // What we just wrote may change the cluster's latest word (an enable, a hand-over): decide again.
    if (settled_ && !stopping_all_) evaluate(it->second, clock_.now());
    else drive(it->second, clock_.now());
  });
}

}  // namespace castor
