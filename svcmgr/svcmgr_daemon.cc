// SvcmgrDaemon, start-up and quorumd: connects, reads who this node is and its own table, loads and adopts
// the definitions, then handles quorumd's events (lease, fence, leaving, peer) and replies (the peer's
// table, the completion of my entries' writes), all decoded by lib/control's typed codecs.
// Must never let a service run past a fence or a lease at risk, and never read a torn peer entry as free.
#include "svcmgr/svcmgr_daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>

#include "common/errno_status.h"
#include "common/group_lookup.h"
#include "common/log.h"
#include "common/test_hooks.h"
#include "control/event_codec.h"
#include "control/reply_codec.h"
#include "control/table_codec.h"
#include "svcmgr/peer_request_rule.h"
#include "svcmgr/started_mark_rule.h"
#include "svcmgr/table_read_rule.h"
#include "svcmgr/svcmgr_exit.h"

namespace castor {
namespace {

TimePoint from_ns(int64_t ns) { return TimePoint(Duration(ns)); }

// The peer's service table as quorumd's `table-peer` reply gives it (lib/control's TablePeerReply), keyed
// for svcmgr: every decodable entry (of all 34 blocks), the blocks that failed to decode, the epoch floors.
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

PeerTableRead peer_table_from(const TablePeerReply& reply, bool corrupt_free) {
  PeerTableRead t;
  // Two writes of equal fields (a restarted peer repeating its last entry) differ in incarnation and time.
  for (const TableEntry& e : reply.entries)
    t.entries[e.entry.name] = PeerTableEntry{e.entry, e.block, e.incarnation.value_or(0)};
  if (!corrupt_free) {
    for (const CorruptTableBlock& c : reply.corrupt_blocks) {
      std::string reason = c.reason;
      if (c.hash) reason += " #" + std::to_string(*c.hash);  // quorumd may tell changed garbage apart
      t.corrupt.emplace_back(c.block, reason);
      t.corrupt_text += (t.corrupt_text.empty() ? "" : "; ") + std::to_string(c.block) + ": " + reason;
    }
  }
  // An older quorumd sends no floors (it has no epoch records): the codec gives 0, as its disks have none.
  t.peer_floor = reply.peer_epoch_floor;
  if (!t.peer_floor) t.floor_error = reply.peer_epoch_floor_error;
  t.own_floor = reply.own_epoch_floor;
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

// Who besides root may use the admin socket (castor.ini [svcmgr] status_group, operator_group): readers
// the services and the recent history, operators the admin actions an admin does from the web console
// too. Nothing that edits definitions, resets or fences.
Result<ControlAccess> admin_socket_access(const SvcmgrConfig& config) {
  ControlAccess access;
  if (config.status_group.empty()) return access;
  auto status_gid = lookup_group(config.status_group);
  if (!status_gid.ok()) return status_gid.status().with_context("[svcmgr] status_group");
  access.status_group = *status_gid;
  access.read_verbs = {"services", "history"};
  if (!config.operator_group.empty()) {
    auto op_gid = lookup_group(config.operator_group);
    if (!op_gid.ok()) return op_gid.status().with_context("[svcmgr] operator_group");
    access.operator_group = *op_gid;
    access.operator_verbs = {"relocate", "enable", "disable", "freeze", "unfreeze", "standby", "unstandby"};
  }
  return access;
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
  if (const char* u = test_hook_env("CASTOR_TEST_UNSAFE_TAKEOVER"); u && std::string(u) == "1") {
    unsafe_takeover_ = true;
    log::critical("CASTOR_TEST_UNSAFE_TAKEOVER=1: a deliberately broken build for testing the checker; "
                  "this node takes services over without waiting for the peer's death",
                  {});
  }
  if (const char* b = test_hook_env("CASTOR_TEST_BUG")) {
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
  auto blocking = [this](const std::string& line) -> Result<std::string> {
    std::optional<Result<std::string>> reply;
    link_->request(line, [&reply](const Result<std::string>& r) { reply = r; });
    const TimePoint until = clock_.now() + std::chrono::seconds(10);
    while (!reply && clock_.now() < until) {
      link_->await(std::chrono::milliseconds(100));
      link_->process();
    }
    if (!reply) return Error(Code::timeout, "quorumd did not answer '" + line + "'");
    if (!reply->ok()) return reply->status();
    return reply->value();
  };
  ASSIGN_OR_RETURN(std::string status_text, blocking("status"));
  auto who = parse_quorumd_identity(status_text);
  if (!who.ok()) return who.status().with_context("quorumd's status reply");
  node_name_ = who->node_name;
  node_id_ = who->node_id;
  peer_name_ = who->peer_name;
  peer_id_ = who->peer_id;
  renew_interval_ = Millis(who->renew_interval_ms);
  quorumd_hints_ = who->sends_peer_updated;
  me_standby_ = who->standby;  // quorumd keeps it across svcmgr restarts
  log::set_node(node_name_);
  alerts_ = std::make_unique<AlertDispatcher>(config_.alerts, node_name_);
  if (!config_.state_dir.empty()) {
    auto h = HistoryLog::open(config_.state_dir + "/history", node_name_);
    if (h.ok()) history_ = std::move(h).value();
    else log::error("no event history: its directory is refused", {{"reason", h.status().to_string()}});
  }
  RETURN_IF_ERROR(load_services());
  const std::string set_digest = "set-digest " + std::to_string(digest_);
  ASSIGN_OR_RETURN(std::string digest_text, blocking(set_digest));
  if (Status dst = parse_ok_reply(digest_text); !dst.ok()) return dst.with_context("quorumd's reply to '" + set_digest + "'");
  // This svcmgr acts on the peer's requests (castor standby THIS-NODE run on the peer): quorumd says so in its
  // heartbeat while this connection lives. A quorumd that refuses the verb only means no such requests.
  link_->request("peer-requests-taken", [](const Result<std::string>& r) {
    if (!r.ok() || !parse_ok_reply(*r).ok()) log::info("quorumd takes no requests from the peer for this node", {});
  });
  ASSIGN_OR_RETURN(std::string own_text, blocking("table-own"));
  auto own = parse_table_own_reply(own_text);
  if (!own.ok()) return own.status().with_context("quorumd's table-own reply");
  for (const TableEntry& e : own->entries) own_entries_[e.entry.name] = e.entry;
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
  ASSIGN_OR_RETURN(ControlAccess access, admin_socket_access(config_));
  ASSIGN_OR_RETURN(server_, env_.listen_admin(config_.socket, std::move(access)));
  log::notice("svcmgr started", {{"services", std::to_string(services_.size())},
                                 {"digest", std::to_string(digest_)},
                                 {"socket", config_.socket}});
  return Status::Ok();
}

void SvcmgrDaemon::on_quorumd_event(const std::string& text) {
  if (is_subscription_reply(text)) return;  // the answer to svcmgr's subscribe, not an event
  auto parsed = parse_quorumd_event(text);
  QuorumdEvent e;
  if (parsed.ok()) {
    e = std::move(*parsed);
  } else if (parsed.status().code() == Code::unsupported) {
    return;  // an event of a kind this svcmgr does not know is skipped, as any client may
  } else {
    // A malformed event. One that says stop (lease at risk, leaving) or die (fenced) is obeyed on its kind
    // alone, as svcmgr always did: a field it does not need must never keep a service running past a fence.
    // Any other (a renewal, a peer change) is skipped: nothing is concluded from it.
    auto kind = parse_quorumd_event_kind(text);
    const bool obey = kind.ok() && (*kind == QuorumdEventKind::fenced || *kind == QuorumdEventKind::lease_at_risk ||
                                    *kind == QuorumdEventKind::leaving);
    log::warning(obey ? "quorumd sent an event that does not parse: obeyed on its kind alone"
                      : "quorumd sent an event that does not parse: skipped",
                 {{"reason", parsed.status().to_string()}});
    if (!obey) return;
    e.kind = *kind;
    e.reason = "malformed event (" + parsed.status().message() + ")";
  }
  const TimePoint now = clock_.now();
  if (e.lease_expiry_boottime_ns) lease_expiry_ = from_ns(*e.lease_expiry_boottime_ns);
  using Kind = QuorumdEventKind;
  if (e.kind == Kind::lease_renewed) {
    lease_at_risk_ = false;
    if (risk_stop_ && !leaving_) {
      risk_stop_ = false;
      stopping_all_ = false;
      log::notice("the lease is renewed again: services may run", {});
      AlertEvent a;
      a.kind = AlertKind::quorum;
      a.event = "lease_ok";
      a.attribute = "castor-lease";
      a.value = "ok";
      a.desc = "the lease is renewed again: services may run";
      alert(a);
      // A service the risk stopped while this node still owns it (its entry never left "owned") starts
      // again in its epoch; without this it would stay stopped and owned here, and the peer could not take it.
      for (auto& [name, s] : services_) {
        if (!s.own->may_run() || s.restarting() || s.adopt_pending) continue;
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
    if (now - last_tick_ >= renew_interval_ / 2) tick(now);
  } else if (e.kind == Kind::lease_at_risk) {
    lease_at_risk_ = true;
    risk_stop_ = true;
    AlertEvent a;
    a.kind = AlertKind::quorum;
    a.event = "lease_at_risk";
    a.attribute = "castor-lease";
    a.value = "at-risk";
    a.desc = "the lease is at risk: every service stops";
    a.reason = e.reason;
    alert(a);
    stop_everything("lease at risk: " + e.reason, now);
  } else if (e.kind == Kind::leaving) {
    // quorumd leaves the cluster cleanly: stop and release everything, then tell it so (it writes DOWN,
    // which lets the peer take over at once), then exit with it.
    log::notice("quorumd is leaving the cluster: stopping and releasing every service", {{"reason", e.reason}});
    leaving_ = true;
    quorumd_leaving_ = true;
    stop_everything("the node leaves the cluster", now);
  } else if (e.kind == Kind::fenced) {
    log::critical("quorumd fenced this node: every service is killed", {{"reason", e.reason}});
    AlertEvent r;
    r.event = "node_fenced";
    r.desc = "quorumd fenced this node: every service is killed";
    r.reason = e.reason;
    record(r, "fencing");
    for (auto& [n, s] : services_)  // everything in the services' cgroups, then the agents (destructors)
      if (Status st = s.runner->kill_cgroup(); !st.ok())
        log::error("cannot kill the service's cgroup", {{"service", n}, {"error", st.to_string()}});
    services_.clear();  // runners' destructors kill their agents; quorumd kills the registered groups
    exit_code_ = kSvcmgrExitFenced;
  } else if (e.kind == Kind::device_changed) {
    AlertEvent a;
    a.kind = AlertKind::quorum;
    a.event = e.failing ? "quorum_device_lost" : "quorum_device_back";
    a.attribute = "castor-quorum-device-" + std::to_string(e.device_index);
    a.value = e.failing ? "lost" : "ok";
    a.desc = "quorum device " + std::to_string(e.device_index) + " (" + e.device + ") " +
             (e.failing ? "is failing" : "answers again") + (e.redundant ? "" : ": running without redundancy");
    a.reason = e.reason;
    alert(a);
  } else if (e.kind == Kind::peer_updated) {
    // The peer's table (or its standby, request, started mark...) changed: read it now, not at the next tick.
    // At most one extra read a half renew interval: a change that came after a read just asked waits for the
    // next tick (the lease event's, within a renew interval).
    peer_updated_ = true;
    if (table_read_pending_) reread_table_ = true;
    else if (now - last_read_asked_ >= renew_interval_ / 2) tick(now);
  } else if (e.kind == Kind::peer_changed) {
    liveness_.view = e.to;
    log::notice(std::string("peer ") + peer_view_name(e.to), {{"peer", peer_name_}, {"reason", e.reason}});
    alert_peer_changed(e.to, e.power_fenced, e.reason);
    // A takeover needs a read of the peer's table issued after the verdict: ask for it now, not at the next
    // tick (up to a renew interval, T/2, later: 2.6 s of a power-fenced failover at T = 10 s).
    if (e.to == PeerView::dead || e.to == PeerView::down) {
      if (table_read_pending_) reread_table_ = true;
      else tick(now);
    }
  }
}

// The started mark of this node's claims (svcmgr/started_mark_rule.h).
std::vector<uint64_t> SvcmgrDaemon::started_mark() const {
  std::vector<ClaimState> claims;
  claims.reserve(services_.size());
  for (const auto& [n, s] : services_)
    claims.push_back({s.own->phase(), s.runner->state() == ServiceRunner::State::started, s.own->epoch()});
  return started_mark_of(claims);
}

// Sends the started mark to quorumd when it changed: at every loop pass once the start-up probes are done
// (svcmgr_loop.cc; before, quorumd publishes 0: everything starting), so that a start done (or a restart
// begun) reaches the next heartbeat, not the one after the next tick.
void SvcmgrDaemon::publish_started_mark() {
  if (!link_->connected()) return;
  if (auto mark = started_mark(); mark != started_mark_sent_) {
    std::string line = "started-mark";
    for (uint64_t v : mark) line += " " + std::to_string(v);
    started_mark_sent_ = std::move(mark);
    link_->request(line, [](const Result<std::string>&) {});
  }
}

// Every renew interval, on quorumd's lease event (svcmgr wakes for it anyway) or, when none comes, on a timer
// half an interval later: reads the peer's table when a read is due (svcmgr/table_read_rule.h), else
// re-evaluates every service on the last read (failure windows expire with time).
void SvcmgrDaemon::tick(TimePoint now) {
  if (!loop_) return;  // an event read while init() still builds the services: the loop's first pass ticks
  last_tick_ = now;
  next_tick_ = now + renew_interval_ + renew_interval_ / 2;
  if (!link_->connected() || table_read_pending_) return;
  TableReadFacts f;
  for (const auto& [n, s] : services_) {
    if (s.own->phase() == OwnershipPhase::claiming) f.claiming = true;
    if (!s.own->peer()) f.unread_service = true;
  }
  f.peer_view = liveness_.view;
  f.peer_updated = peer_updated_;
  f.quorumd_hints = quorumd_hints_;
  f.settled = settled_;
  f.ever_read = ever_read_;
  f.last_read_asked = last_read_asked_;
  f.now = now;
  f.backstop = table_read_backstop(renew_interval_);
  if (!table_read_due(f)) {
    for (auto& [n, s] : services_) evaluate(s, now);
    return;
  }
  table_read_pending_ = true;
  peer_updated_ = false;
  ever_read_ = true;
  last_read_asked_ = now;
  link_->request("table-peer", [this](const Result<std::string>& r) {
    table_read_pending_ = false;
    // Nothing learnt (the link failed, or quorumd's read did): a change it was to show is still unseen.
    if (!r.ok() || !on_peer_table(*r, clock_.now())) peer_updated_ = true;
    if (std::exchange(reread_table_, false)) tick(clock_.now());
  });
}

bool SvcmgrDaemon::on_peer_table(const std::string& text, TimePoint now) {
  auto reply = parse_table_peer_reply(text);
  if (!reply.ok()) {
    // Nothing is concluded from a read that failed (or a reply that does not parse): the next tick reads again.
    if (reply.status().code() != Code::refused)
      log::warning("quorumd's table-peer reply does not parse", {{"reason", reply.status().to_string()}});
    return false;
  }
  const TimePoint issued = from_ns(reply->read_issued_boottime_ns);
  PeerTableRead t = peer_table_from(*reply, corrupt_free_);
  if (!t.corrupt.empty() && t.corrupt_text != last_corrupt_text_)
    log::warning("peer table blocks do not decode: their entries are unknown (never free)",
                 {{"blocks", t.corrupt_text}});
  if (!t.peer_floor && t.floor_error != last_floor_error_)
    log::warning("the peer's epoch record does not decode: services it has no entry for are unknown",
                 {{"reason", t.floor_error}});
  last_corrupt_text_ = t.corrupt_text;
  last_floor_error_ = t.peer_floor ? "" : t.floor_error;
  {
    const PeerSummary& p = reply->peer;
    liveness_.view = p.view;
    liveness_.confirmed_at = from_ns(p.confirmed_boottime_ns);
    if (unsafe_takeover_) {
      // TEST ONLY (CASTOR_TEST_UNSAFE_TAKEOVER=1): pretend the peer is always confirmed dead, i.e. take over
      // without waiting for D. Exists so the torture checker can show it catches a broken build.
      liveness_.view = PeerView::dead;
      liveness_.confirmed_at = now + std::chrono::hours(1);
    }
    peer_digest_known_ = p.digest_known;
    peer_digest_ = p.services_digest;
    peer_standby_ = p.standby;
    peer_takes_requests_ = p.takes_requests;
    peer_summary_ = p;
    // castor standby/unstandby THIS node, run on the peer: act on it once (svcmgr/peer_request_rule.h).
    if (const PeerRequestAction act = peer_request_action(p, handled_peer_request_); act != PeerRequestAction::none) {
      handled_peer_request_ = {p.incarnation, p.request_serial};
      if (act == PeerRequestAction::refuse) {
        AlertEvent e;
        e.event = "admin_request";
        e.desc = "standby " + node_name_;
        e.reason = "refused: asked by the peer " + peer_name_ + ", which is in standby itself";
        record(e, "admin");
        log::warning("standby asked by the peer refused: the peer is in standby itself", {{"node", node_name_}});
      } else {
        set_standby(act == PeerRequestAction::standby, "asked by the peer " + peer_name_, now);
      }
      link_->request("peer-request-done " + std::to_string(p.incarnation) + " " + std::to_string(p.request_serial),
                     [](const Result<std::string>&) {});
    }
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
  return true;
}

void SvcmgrDaemon::submit_entry(Service& s, const ServiceEntry& e, uint64_t token) {
  TableSetRequest req = TableSetRequest::from_entry(e);
  req.restarts = uint32_t(s.restarts());  // svcmgr's count, shown by the peer's status
  const std::string line = encode_table_set_request(req);
  const std::string name = s.def.name;
  own_entries_[name] = e;
  link_->request(line, [this, name, token](const Result<std::string>& r) {
    auto it = services_.find(name);
    if (it == services_.end()) return;
    bool ok = false;
    TimePoint done = clock_.now();
    if (r.ok()) {
      auto reply = parse_table_set_reply(*r);
      ok = reply.ok();
      if (ok) done = from_ns(reply->completed_boottime_ns);
      else log::warning("service entry write failed", {{"service", name}, {"reason", reply.status().message()}});
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
