// quorumd's control verbs (status, leave, subscribe, services-stopped, register-pgid, unregister-pgid,
// set-digest, standby, fence; the table verbs go to TableService), the events pushed to subscribers, and
// the status JSON. Field names are an interface: castor status, svcmgr and the tests read them.
// Must never block, never throw (nlohmann is used without exceptions: see reply_json.h), and never let a
// client's arguments reach the core unchecked.
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "common/cli_args.h"
#include "common/log.h"
#include "disk/heartbeat_record.h"
#include "disk/quorum_device_set.h"
#include "quorumd/quorum_daemon.h"

namespace castor {
namespace {

int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }
int64_t us(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

// Splits a request's arguments at spaces (empty words dropped).
std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A decimal uint64_t, nothing else (set-digest).
Result<uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 20) return Error(Code::invalid_argument, "bad number '" + s + "'");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Error(Code::invalid_argument, "bad number '" + s + "'");
    uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Error(Code::invalid_argument, "number too large '" + s + "'");
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

std::string QuorumDaemon::request_device_replace(const std::string& args, bool& ok) {
  ok = false;
  if (!majority_ || !set_change_) return "device-replace: this node runs on one quorum device, not a set";
  const auto words = split_words(args);
  if (words.size() != 3) return "device-replace SLOT GENERATION PATH";
  auto slot = parse_int(words[0], 0, 2, "slot");
  auto gen = parse_int(words[1], 1, int64_t(kMaxDeviceSetGeneration), "generation");
  if (!slot.ok()) return "device-replace: " + slot.status().message();
  if (!gen.ok()) return "device-replace: " + gen.status().message();
  const std::string& path = words[2];
  if (set_new_member_) return "device-replace: a new member (" + set_new_member_path_ + ") waits already: " +
                              set_change_->waiting_for();
  // The new device, checked as the tool prepared it: this cluster, this generation, this slot. Its superblock is
  // read here, blocking the loop at most T/4 (a local device answers in milliseconds; a lease is 3T).
  auto dev = env_.open_device(path, QuorumdEnv::Access::read_write);
  if (!dev.ok()) return "device-replace: " + dev.status().to_string();
  auto sb = read_device_superblock(**dev, clock_, superblock_.timing.io_timeout / 4, seal_);
  if (!sb.ok()) return "device-replace: " + sb.status().to_string();
  if (!(sb->cluster_uuid == superblock_.cluster_uuid) || sb->devices.single() ||
      sb->devices.generation != uint64_t(*gen) || sb->devices.index != uint32_t(*slot) ||
      sb->devices.changed_slot != uint32_t(*slot))
    return "device-replace: " + path + " is not prepared as member " + words[0] + " of generation " + words[1] +
           " of this cluster's set (castor disk replace prepares it)";
  if ((*dev)->geometry().logical_sector_size != majority_->geometry().logical_sector_size ||
      (*dev)->geometry().size_bytes < majority_->geometry().size_bytes)
    return "device-replace: " + path + " has another sector size or is smaller than the set";
  if (Status st = set_change_->request(uint16_t(*gen), uint8_t(*slot)); !st.ok()) return "device-replace: " + st.to_string();
  set_new_member_ = std::move(dev).value();
  set_new_member_path_ = path;
  log::notice("castor disk replace: new member ready; the old one is retired, the new one counts once the peer "
              "retired the old one too",
              {{"slot", *slot}, {"generation", *gen}, {"device", path}, {"waiting_for", set_change_->waiting_for()}});
  ok = true;
  return "member " + words[0] + " of generation " + words[1] + ": " + path + " ready; " + set_change_->waiting_for();
}

QuorumdEvent QuorumDaemon::event(QuorumdEventKind kind, TimePoint now) const {
  QuorumdEvent e;
  e.kind = kind;
  e.node = config_.node;
  e.incarnation = core_->config().incarnation;
  e.boottime_ns = ns(now);
  return e;
}

void QuorumDaemon::emit_event(const QuorumdEvent& e) { server_->broadcast(encode_quorumd_event(e)); }

std::string QuorumDaemon::status_json(TimePoint now) const {
  const QuorumCore& c = *core_;
  const Timing& t = superblock_.timing;
  Json j;
  j["ok"] = true;
  j["node"] = Json{{"id", node_id_}, {"name", config_.node}};
  j["cluster"] = Json{{"name", superblock_.cluster_name}, {"uuid", superblock_.cluster_uuid.to_string()}};
  j["device"] = device_path_;
  if (majority_) {
    // Each member of the set: answering or lost, since when, latency, errors (issue 17).
    Json devices = Json::array();
    for (size_t i = 0; i < majority_->device_count(); ++i) {
      const DeviceHealth h = majority_->health(i);
      Json d{{"index", int64_t(i)}, {"path", h.name}, {"answering", h.answering}, {"in_flight", int64_t(h.in_flight)},
             {"queued", int64_t(h.queued)}, {"writes_ok", h.writes_ok}, {"writes_failed", h.writes_failed},
             {"reads_ok", h.reads_ok}, {"reads_failed", h.reads_failed}, {"invalid_blocks", h.invalid_blocks},
             {"worst_latency_us", us(h.worst_latency_last_minute)}};
      d["failing"] = h.failing_since.has_value();
      d["failing_for_ms"] = h.failing_since ? Json(int64_t(std::chrono::duration_cast<std::chrono::milliseconds>(now - *h.failing_since).count())) : Json(nullptr);
      d["last_ok_latency_us"] = h.last_ok_latency ? Json(us(*h.last_ok_latency)) : Json(nullptr);
      d["last_error"] = h.last_error.empty() ? Json(nullptr) : Json(h.last_error);
      devices.push_back(std::move(d));
    }
    j["devices"] = std::move(devices);
    j["redundant"] = !majority_->degraded();
    if (set_change_) {
      const SetPosture& p = set_change_->posture();
      j["device_set"] = Json{{"generation", p.generation}, {"retiring", p.retiring}, {"slot", p.slot},
                             {"peer_generation", set_change_->peer_generation()},
                             {"waiting_for", set_change_->waiting_for()},
                             {"new_member", set_new_member_ ? Json(set_new_member_path_) : Json(nullptr)}};
    }
  }
  j["pid"] = int64_t(::getpid());
  j["incarnation"] = c.config().incarnation;
  j["phase"] = core_phase_name(c.phase());
  j["seq"] = c.last_written_seq();
  j["leaving"] = leave_requested_;
  j["standby"] = standby_;
  j["sends_peer_updated"] = true;  // svcmgr reads the peer's table on the event (an older quorumd: every tick)
  if (c.peer_request() != PeerRequest::none)  // castor standby PEER run here, not yet handled by the peer
    j["peer_request"] = Json{{"kind", peer_request_name(c.peer_request())}, {"serial", c.peer_request_serial()},
                             {"age_ms", peer_request_since_ ? to_ms(now - *peer_request_since_) : int64_t(0)}};
  else
    j["peer_request"] = nullptr;
  Json lease;
  lease["valid"] = c.may_act(now);
  if (auto e = c.lease_expiry()) {
    lease["remaining_ms"] = c.may_act(now) ? to_ms(*e - now) : int64_t(0);
    lease["expiry_boottime_ns"] = ns(*e);
  } else {
    lease["remaining_ms"] = int64_t(0);
    lease["expiry_boottime_ns"] = nullptr;
  }
  j["lease"] = std::move(lease);
  if (c.fence_reason().empty())
    j["fence_reason"] = nullptr;
  else
    j["fence_reason"] = c.fence_reason();
  j["fences"] = fences_;
  if (last_fence_at_)
    j["last_fence"] = Json{{"reason", last_fence_reason_}, {"ago_ms", to_ms(now - *last_fence_at_)}};
  else
    j["last_fence"] = nullptr;
  const PeerMonitor& pm = c.peer();
  Json peer;
  peer["id"] = c.peer_id();
  peer["name"] = peer_name_;
  peer["view"] = peer_view_name(pm.view());
  peer["incarnation"] = pm.incarnation();
  peer["seq"] = pm.seq();
  if (pm.record())
    peer["state"] = node_state_name(pm.record()->state);
  else
    peer["state"] = nullptr;
  if (peer_observed_)
    peer["heartbeat_age_ms"] = to_ms(now - pm.first_seen());
  else
    peer["heartbeat_age_ms"] = nullptr;
  peer["standby"] = pm.record() && (pm.record()->flags & HeartbeatRecord::kStandby) != 0;
  if (pm.record())  // what the peer reports of its own heartbeat writes
    peer["write_latency_us"] =
        Json{{"last", pm.record()->last_io_latency_us}, {"worst", pm.record()->max_io_latency_us}};
  j["peer"] = std::move(peer);
  j["power_fence"] = power_fence_json(now);
  // The channels to the peer: the disk, and the LAN links (castor status names a peer alive on the LAN but
  // silent on the disk).
  Json channels;
  const auto last_ok = c.last_ok_write_issue();
  Json disk;
  disk["up"] = !c.disk_failing(now);
  if (last_ok) disk["last_ok_write_age_ms"] = to_ms(now - *last_ok);
  else disk["last_ok_write_age_ms"] = nullptr;
  if (peer_observed_) disk["peer_heartbeat_age_ms"] = to_ms(now - pm.first_seen());
  else disk["peer_heartbeat_age_ms"] = nullptr;
  channels["disk"] = std::move(disk);
  channels["lan"] = lan_ ? lan_->links_json(now) : Json::array();
  j["channels"] = std::move(channels);
  Json promises;
  promises["enabled"] = lan_ != nullptr;
  promises["requesting"] = c.wants_promise(now);
  promises["granted"] = c.promises_granted();
  promises["received"] = c.promises_received();
  if (auto u = c.promised_until()) promises["promised_until_ms"] = to_ms(*u - now);
  else promises["promised_until_ms"] = nullptr;
  if (lan_ && c.promise_floor() > TimePoint{}) promises["dead_floor_ms"] = to_ms(c.promise_floor() - now);
  else promises["dead_floor_ms"] = nullptr;
  promises["max_storage_stall_ms"] = lan_ ? to_ms(config_.lan.max_storage_stall) : int64_t(0);
  // Riding through: the disk fails and a promise holds the lease past what the last ok write gave.
  const TimePoint disk_end = last_ok ? *last_ok + t.lease : TimePoint{};
  promises["riding_through_stall"] =
      lan_ && c.may_act(now) && c.disk_failing(now) && c.lease_expiry().value_or(TimePoint{}) > disk_end;
  j["promises"] = std::move(promises);
  j["write_latency_us"] = Json{{"last", us(c.last_write_latency())}, {"worst", us(c.worst_write_latency())}};
  {
    const LatencyHistogram& h = c.write_latency_histogram();
    Json bounds = Json::array(), counts = Json::array();
    for (int64_t b : LatencyHistogram::kBoundsUs) bounds.push_back(b);
    for (uint64_t n : h.counts()) counts.push_back(n);
    // counts has one more entry than bounds_us: the writes slower than every bound.
    j["write_latency_histogram"] =
        Json{{"bounds_us", std::move(bounds)}, {"counts", std::move(counts)}, {"sum_us", h.sum_us()}, {"count", h.count()}};
  }
  j["timing_ms"] = Json{{"io_timeout", int64_t(t.io_timeout.count())},
                        {"renew_interval", int64_t(t.renew_interval.count())},
                        {"lease", int64_t(t.lease.count())},
                        {"kill_grace", int64_t(t.kill_grace.count())},
                        {"watchdog", int64_t(t.watchdog.count())},
                        {"dead", int64_t(t.dead.count())}};
  Json wd;
  if (watchdog_) {
    wd["device"] = watchdog_->path();
    wd["standin"] = watchdog_->is_standin();
    wd["pets"] = pets_;
    wd["kind"] = watchdog_->kind();
  } else {
    wd["device"] = nullptr;
    wd["unsafe_none"] = true;
    wd["kind"] = "none-unsafe";
  }
  wd["pet_guard_ms"] = int64_t(superblock_.timing.pet_guard().count());
  j["watchdog"] = std::move(wd);
  j["process_groups"] = Json::array();
  for (pid_t g : groups_.groups()) j["process_groups"].push_back(int64_t(g));
  // This node's region: the durable epoch floor, own blocks found corrupt at start (being rewritten), scrubs.
  const ServiceTableStore& store = table_->store();
  const RegionWriter& writer = table_->writer();
  j["floor"] = store.durable_floor();
  if (const auto& fe = store.floor_error()) j["floor_error"] = *fe;
  j["corrupt_blocks"] = Json::array();
  for (const auto& [b, why] : store.corrupt()) j["corrupt_blocks"].push_back(Json{{"block", b}, {"reason", why}});
  Json scrub;
  scrub["interval_ms"] = to_ms(config_.scrub_interval);
  scrub["scrubs"] = writer.scrubs();
  scrub["blocks_written"] = writer.blocks_written();
  if (auto ls = writer.last_scrub())
    scrub["last_ago_ms"] = to_ms(now - *ls);
  else
    scrub["last_ago_ms"] = nullptr;
  j["scrub"] = std::move(scrub);
  j["boottime_ns"] = ns(now);
  return json_text(j);
}

void QuorumDaemon::on_request(ControlServer::ConnId conn, const ControlRequest& req) {
  const TimePoint now = clock_.now();
  auto no_args = [&]() {
    if (req.args.empty()) return true;
    server_->reply_error(conn, "'" + req.verb + "' takes no arguments", false);
    return false;
  };
  auto ok_reply = [&](const char* key, bool v) { server_->reply(conn, json_text(Json{{"ok", true}, {key, v}})); };
  if (req.verb == "status") {
    if (no_args()) server_->reply(conn, status_json(now));
  } else if (req.verb == "leave") {
    if (!no_args()) return;
    if (core_->phase() == CorePhase::left) {
      ok_reply("left", true);
      return;
    }
    leave_waiters_.push_back(server_->defer(conn));  // answered once left, in request order
    request_leave(now, "'leave' over the control socket");
  } else if (req.verb == "services-stopped") {
    if (!no_args()) return;
    if (core_->phase() != CorePhase::leaving_stopping || !awaiting_services_stopped_) {
      server_->reply_error(conn, "services-stopped: this node is not leaving", false);
      return;
    }
    awaiting_services_stopped_ = false;
    if (groups_.any_alive()) {
      // A stop that returned ok may have left a process behind: DOWN would let the peer start the service
      // at once while it runs (the path without a service manager refuses the same).
      server_->reply_error(conn, "services-stopped: not writing DOWN: a registered service process group is alive", false);
      exit_unproven("the service manager said every service is stopped, but a registered service process group "
                    "still has a process");
      return;
    }
    if (std::string why; !may_write_down(why)) {
      server_->reply_error(conn, "services-stopped: not writing DOWN: " + why, false);
      exit_unproven("the service manager said every service is stopped, but " + why);
      return;
    }
    log::notice("the service manager stopped and released every service: writing DOWN", {});
    std::vector<CoreAction> acts;
    core_->services_stopped(now, acts);
    execute(acts, now);
    ok_reply("down", true);
  } else if (req.verb == "subscribe") {
    // "subscribe service-manager": svcmgr, which must stop and release every service before a clean leave
    // may write DOWN. Any other subscriber only listens.
    if (!req.args.empty() && req.args != "service-manager") {
      server_->reply_error(conn, "subscribe: unknown role '" + req.args + "' (only: service-manager)", false);
      return;
    }
    if (!req.args.empty()) service_managers_.insert(conn);
    server_->subscribe(conn);
    Json r{{"ok", true},
           {"subscribed", true},
           {"node", config_.node},
           {"incarnation", core_->config().incarnation},
           {"phase", core_phase_name(core_->phase())}};
    if (auto e = core_->lease_expiry(); e && core_->may_act(now)) r["lease_expiry_boottime_ns"] = ns(*e);
    server_->reply(conn, json_text(r));
  } else if (req.verb == "register-pgid" || req.verb == "unregister-pgid") {
    auto pgid = parse_int(req.args, 2, INT_MAX, "process group id");
    if (!pgid.ok()) {
      server_->reply_error(conn, req.verb + ": " + pgid.status().message(), false);
      return;
    }
    if (req.verb == "register-pgid") {
      if (Status st = groups_.add(pid_t(*pgid)); !st.ok()) {
        server_->reply_error(conn, req.verb + ": " + st.message(), false);
        return;
      }
      log::info("process group registered: it will be killed if this node fences", {{"pgid", *pgid}});
      ok_reply("registered", true);
    } else {
      const bool was = groups_.remove(pid_t(*pgid));
      if (was) log::info("process group unregistered", {{"pgid", *pgid}});
      ok_reply("unregistered", was);
    }
  } else if (table_->is_table_verb(req.verb)) {
    table_->request(conn, req, *core_, generation_, now);
  } else if (req.verb == "fence-peer") {
    // castor fence PEER: an admin's power fence of the peer, named ("force": even without a lease here;
    // "confirm-off": no agent, the admin confirms it is off).
    const auto words = split_words(req.args);
    if (words.empty() || words.size() > 2 || (words.size() == 2 && words[1] != "force" && words[1] != "confirm-off"))
      return server_->reply_error(conn, "fence-peer NODE [force | confirm-off]", false);
    bool ok = false;
    const std::string text = words.size() == 2 && words[1] == "confirm-off"
                                 ? admin_confirm_off(words[0], "castor fence --confirm-off", now, ok)
                                 : admin_fence(words[0], words.size() == 2, "castor fence", now, ok);
    if (!ok) return server_->reply_error(conn, text, false);
    server_->reply(conn, json_text(Json{{"ok", true}, {"message", text}}));
  } else if (req.verb == "device-replace") {
    // castor disk replace: the new member of a slot of the set, prepared by the tool.
    bool ok = false;
    const std::string text = request_device_replace(req.args, ok);
    if (!ok) return server_->reply_error(conn, text, false);
    server_->reply(conn, json_text(Json{{"ok", true}, {"message", text}}));
  } else if (req.verb.rfind("table-", 0) == 0 || req.verb == "set-digest" || req.verb == "fence" ||
             req.verb == "standby" || req.verb == "peer-request" || req.verb == "peer-request-done" ||
             req.verb == "peer-requests-taken" || req.verb == "started-mark") {
    daemon_verb(conn, req, now);
  } else {
    server_->reply_error(conn, "unknown verb '" + req.verb +
                                   "' (verbs: status, leave, subscribe [service-manager], services-stopped, register-pgid N, unregister-pgid N, fence-peer NODE [force | confirm-off], device-replace SLOT GENERATION PATH)",
                         false);
  }
}

// A request for the peer that its svcmgr did not act on within kPeerRequestLifetime is taken down (the peer's
// svcmgr is stopped, or hung): it must not be applied whenever one starts, long after the admin moved on.
void QuorumDaemon::expire_peer_request(TimePoint now) {
  if (core_->peer_request() == PeerRequest::none) {
    peer_request_since_.reset();
    return;
  }
  if (!peer_request_since_ || now - *peer_request_since_ < kPeerRequestLifetime) return;
  log::warning("the request for the peer expired: the peer did not act on it",
               {{"request", peer_request_name(core_->peer_request())}, {"serial", core_->peer_request_serial()}});
  core_->clear_peer_request();
  peer_request_since_.reset();
}

// set-digest, standby and fence: svcmgr's word on this node's heartbeat and on its own failures.
void QuorumDaemon::daemon_verb(ControlServer::ConnId conn, const ControlRequest& req, TimePoint now) {
  const auto words = split_words(req.args);
  if (req.verb == "set-digest") {
    auto v = words.size() == 1 ? parse_u64(words[0]) : Result<uint64_t>(Error(Code::invalid_argument, "set-digest N"));
    if (!v.ok()) return server_->reply_error(conn, v.status().message(), false);
    services_digest_ = *v;
    core_->set_services_digest(*v);
    server_->reply(conn, json_text(Json{{"ok", true}}));
  } else if (req.verb == "standby") {
    if (words.size() != 1 || (words[0] != "0" && words[0] != "1")) return server_->reply_error(conn, "standby 0|1", false);
    standby_ = words[0] == "1";
    core_->set_standby(standby_);
    log::notice(standby_ ? "node in standby: it runs no service" : "node out of standby", {});
    server_->reply(conn, json_text(Json{{"ok", true}, {"standby", standby_}}));
  } else if (req.verb == "peer-request") {
    // castor standby PEER / unstandby PEER, run here: carried to the peer in this node's heartbeat.
    if (words.size() != 1 || (words[0] != "standby" && words[0] != "unstandby"))
      return server_->reply_error(conn, "peer-request standby|unstandby", false);
    const PeerRequest r = words[0] == "standby" ? PeerRequest::standby : PeerRequest::unstandby;
    const uint64_t serial = core_->set_peer_request(r);
    peer_request_since_ = now;
    log::notice("request for the peer in the next heartbeat", {{"request", words[0]}, {"serial", serial}});
    server_->reply(conn, json_text(Json{{"ok", true}, {"serial", serial}}));
  } else if (req.verb == "peer-request-done") {
    // svcmgr acted on the peer's request (life, serial): the peer reads it in this node's heartbeat.
    auto inc = words.size() == 2 ? parse_u64(words[0]) : Result<uint64_t>(Error(Code::invalid_argument, "peer-request-done INCARNATION SERIAL"));
    if (!inc.ok()) return server_->reply_error(conn, inc.status().message(), false);
    auto serial = parse_u64(words[1]);
    if (!serial.ok()) return server_->reply_error(conn, serial.status().message(), false);
    handled_request_incarnation_ = *inc;
    handled_request_serial_ = *serial;
    core_->set_handled_peer_request(*inc, *serial);
    server_->reply(conn, json_text(Json{{"ok", true}}));
  } else if (req.verb == "started-mark") {
    // svcmgr: every service owned here with an epoch at most MARK is started but for the epochs listed
    // (HeartbeatRecord::started_mark; published for the peer's display).
    if (words.empty() || words.size() > 1 + HeartbeatRecord::kMaxNotStarted)
      return server_->reply_error(conn, "started-mark MARK [EPOCH...] (at most 32 epochs)", false);
    std::vector<uint64_t> values;
    for (const auto& w : words) {
      auto v = parse_u64(w);
      if (!v.ok()) return server_->reply_error(conn, v.status().message(), false);
      values.push_back(*v);
    }
    started_mark_ = values[0];
    not_started_.assign(values.begin() + 1, values.end());
    started_mark_conn_ = conn;
    core_->set_started_mark(started_mark_, not_started_);
    server_->reply(conn, json_text(Json{{"ok", true}}));
  } else if (req.verb == "peer-requests-taken") {
    // svcmgr acts on the peer's requests while this connection lives: say so in the heartbeat.
    request_takers_.insert(conn);
    core_->set_takes_peer_requests(true);
    server_->reply(conn, json_text(Json{{"ok", true}}));
  } else if (req.verb == "fence") {
    std::vector<CoreAction> acts;
    log::critical("fence requested by svcmgr", {{"reason", req.args}});
    core_->fence_now(now, "svcmgr: " + req.args, acts);
    execute(acts, now);
    // A service that could not be stopped may still hold what it held (a mount, an address): killing its
    // processes proves nothing. Like Pacemaker's fencing of a node whose stop failed, the node must be
    // reset: this incarnation never rejoins, so the watchdog (no longer petted) resets the node and the
    // peer takes over once it declared it dead. Without a watchdog nothing would reset it: quorumd rejoins
    // and the service's entry stays owned here (safe, but it waits for an admin).
    if (!config_.no_watchdog()) {
      rejoin_at_.reset();
      log::critical("fenced for a failed stop: not rejoining; the watchdog resets this node", {{"reason", req.args}});
    }
    server_->reply(conn, json_text(Json{{"ok", true}}));
  } else {
    server_->reply_error(conn, "unknown verb '" + req.verb + "'", false);
  }
}

void QuorumDaemon::on_closed(ControlServer::ConnId conn) {
  std::erase_if(leave_waiters_, [&](ControlServer::ConnId w) { return server_->connection_of(w) == conn; });
  service_managers_.erase(conn);
  if (request_takers_.erase(conn) && request_takers_.empty() && core_) core_->set_takes_peer_requests(false);
  if (started_mark_conn_ == conn) {  // the svcmgr that gave the mark is gone: nothing of it is known started
    started_mark_conn_.reset();
    started_mark_ = 0;
    not_started_.clear();
    if (core_) core_->set_started_mark(0, {});
  }
  if (awaiting_services_stopped_ && service_managers_.empty() && !done_)
    exit_unproven("the service manager went away before it said every service was stopped");
}

}  // namespace castor
