#include "svcmgr/svcmgr_daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "common/errno_status.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "svcmgr/adopt_definition.h"
#include "svcmgr/admin_state.h"
#include "svcmgr/placement_policy.h"
#include "config/service_loader.h"

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

bool entry_up(OwnershipState s) {
  return s == OwnershipState::claiming || s == OwnershipState::owned || s == OwnershipState::releasing;
}

std::string orphan_text(const std::string& name, bool definition_unknown) {
  if (definition_unknown)
    return "orphaned: the definition it runs under is unknown (its file changed while svcmgr was down, no saved "
           "copy); stop it by hand, then `castor reset " + name + "`";
  return "orphaned: definition removed; stop it by hand, then `castor reset " + name + "`";
}

PeerView parse_view(const std::string& v) {
  if (v == "UP") return PeerView::up;
  if (v == "DEAD") return PeerView::dead;
  if (v == "DOWN") return PeerView::down;
  return PeerView::unknown;
}

}  // namespace

Result<std::unique_ptr<SvcmgrDaemon>> SvcmgrDaemon::start(const SvcmgrConfig& config) {
  std::unique_ptr<SvcmgrDaemon> d(new SvcmgrDaemon(config));
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
    st = link_.connect([this](const std::string& j) { on_quorumd_event(j); });
    if (st.ok()) break;
    if (clock_.now() >= give_up) return st.with_context("connecting to quorumd");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Synchronous start-up exchanges: status, then our own table.
  auto blocking = [this](const std::string& line) -> Result<json> {
    std::optional<Result<std::string>> reply;
    link_.request(line, [&reply](const Result<std::string>& r) { reply = r; });
    const TimePoint until = clock_.now() + std::chrono::seconds(10);
    while (!reply && clock_.now() < until) {
      pollfd p{link_.request_fd(), short(POLLIN | (link_.wants_write() ? POLLOUT : 0)), 0};
      ::poll(&p, 1, 100);
      link_.process();
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
  ASSIGN_OR_RETURN(server_, ControlServer::listen(config_.socket));
  log::notice("svcmgr started", {{"services", std::to_string(services_.size())},
                                 {"digest", std::to_string(digest_)},
                                 {"socket", config_.socket}});
  return Status::Ok();
}

Status SvcmgrDaemon::load_services() {
  LoadResult r = load_service_dir(config_.services_dir, {node_name_, peer_name_});
  for (const auto& e : r.errors) {
    load_errors_.push_back(e.to_string());
    log::error("service definition rejected", {{"reason", e.to_string()}});
  }
  std::vector<ServiceDefinition> defs;
  for (auto& d : r.services) {
    defs.push_back(d);
    Service s;
    s.def = std::move(d);  // init() re-adds every service through add_service(), which applies agent defaults
    services_.emplace(s.def.name, std::move(s));
  }
  digest_ = definitions_digest(defs);
  return Status::Ok();
}

uint64_t SvcmgrDaemon::digest_in_force(ServiceDefinition def) {
  (void)apply_metadata_defaults(def, config_.ocf_root, agent_timings_);  // add_service logs a problem
  return definition_digest(def);
}

void SvcmgrDaemon::adopt_service(ServiceDefinition def, TimePoint now) {
  const std::string name = def.name;
  AdoptFacts f;
  if (auto it = own_entries_.find(name); it != own_entries_.end() && entry_up(it->second.state)) {
    f.entry_up = true;
    f.entry_digest = it->second.definition_digest;
  }
  std::optional<ServiceDefinition> copy;
  if (f.entry_up) {
    auto saved = definitions_.load(name, {node_name_, peer_name_});
    if (saved.ok()) copy = *saved;
    else log::error("the saved copy of a service's definition is unusable", {{"service", name}, {"reason", saved.status().to_string()}});
    f.have_copy = copy.has_value();
    if (copy) {
      ServiceDefinition c = *copy;
      c.file = def.file;  // the copy names its own path
      f.copy_same_as_file = c == def;
    }
    f.file_digest = digest_in_force(def);
  }
  switch (choose_adopt_definition(f)) {
    case AdoptDefinition::file:
      add_service(std::move(def), now, true);
      return;
    case AdoptDefinition::saved: {
      log::warning("service file changed while svcmgr was down and its entry is up here: probing (and stopping) "
                   "it with the saved copy of the definition it was started under first; the file's applies once "
                   "that is stopped",
                   {{"service", name}, {"copy", copy->file}});
      add_service(std::move(*copy), now, true, false);
      services_.at(name).replace_with = std::move(def);
      return;
    }
    case AdoptDefinition::unknown: {
      log::critical("service file changed while svcmgr was down and no copy of the definition it runs under: it "
                    "may still run here; its entry stays up until an admin stopped it by hand and ran `castor reset " +
                        name + "`",
                    {{"service", name}});
      add_service(std::move(def), now, false, false);
      Service& s = services_.at(name);
      s.orphaned = true;
      s.definition_unknown = true;
      s.stop_reported = true;  // nothing trusted to stop with: never reported stopped
      return;
    }
  }
}

void SvcmgrDaemon::add_service(ServiceDefinition def, TimePoint now, bool probe, bool save) {
  const std::string name = def.name;
  Service s;
  s.file_def = def;
  s.def = std::move(def);
  if (std::string p = apply_metadata_defaults(s.def, config_.ocf_root, agent_timings_); !p.empty())
    log::warning("agent meta-data not read: Castor's default timings apply", {{"service", name}, {"reason", p}});
  ServiceEntry e;
  if (auto it = own_entries_.find(name); it != own_entries_.end()) e = it->second;
  s.own = std::make_unique<Ownership>(name, node_id_, e);
  RunContext ctx;
  ctx.service = name;
  ctx.node = node_name_;
  ctx.ocf_root = config_.ocf_root;
  s.runner = std::make_unique<ServiceRunner>(s.def, ctx);
  // A copy of what it runs under, to stop it even if its file goes away while svcmgr is down.
  if (save) {
    if (Status st = definitions_.save(s.file_def, {node_name_, peer_name_}); !st.ok())
      log::warning("no saved copy of the service definition", {{"service", name}, {"reason", st.to_string()}});
  }
  // Is anything running here from an earlier life? (Probed like Pacemaker does; stopped if so, before this
  // node claims anything.)
  if (probe) {
    if (Status pst = s.runner->probe(now); pst.ok()) s.probing = true;
    else s.runner->stop(now);
  }
  services_.insert_or_assign(name, std::move(s));
}

void SvcmgrDaemon::adopt_removed(const std::string& name, TimePoint now) {
  auto saved = definitions_.load(name, {node_name_, peer_name_});
  if (saved.ok() && *saved) {
    log::warning("service file removed while svcmgr was down: stopping it with the saved copy of its "
                 "definition, then releasing it",
                 {{"service", name}, {"copy", (*saved)->file}});
    add_service(std::move(**saved), now, false);
    Service& s = services_.at(name);
    s.stop_reported = false;
    s.runner->stop(now);  // whatever a probe would say: stops are idempotent
    removed_.insert(name);
    return;
  }
  if (!saved.ok())
    log::error("the saved copy of a removed service's definition is unusable", {{"service", name}, {"reason", saved.status().to_string()}});
  log::critical("service file removed while svcmgr was down and no copy of its definition: it may still run "
                "here; its entry stays up until an admin stopped it by hand and ran `castor reset " + name + "`",
                {{"service", name}});
  Service s;
  s.def.name = name;
  s.file_def = s.def;
  s.orphaned = true;
  s.stop_reported = true;  // nothing to stop with: never reported stopped
  s.own = std::make_unique<Ownership>(name, node_id_, own_entries_.at(name));
  RunContext ctx;
  ctx.service = name;
  ctx.node = node_name_;
  ctx.ocf_root = config_.ocf_root;
  s.runner = std::make_unique<ServiceRunner>(s.def, ctx);
  services_.insert_or_assign(name, std::move(s));
  removed_.insert(name);
}

void SvcmgrDaemon::reload(TimePoint now) {
  LoadResult r = load_service_dir(config_.services_dir, {node_name_, peer_name_});
  load_errors_.clear();
  std::set<std::string> bad_files;
  for (const auto& e : r.errors) {
    load_errors_.push_back(e.to_string());
    bad_files.insert(e.file);
    log::error("service definition rejected on reload: the old definition stays in force", {{"reason", e.to_string()}});
  }
  std::set<std::string> seen;
  std::vector<ServiceDefinition> file_defs = r.services;  // for the digest: what the files say
  for (auto& d : r.services) {
    seen.insert(d.name);
    auto it = services_.find(d.name);
    if (it == services_.end()) {
      log::notice("service added", {{"service", d.name}, {"file", d.file}});
      add_service(std::move(d), now, false);
      continue;
    }
    removed_.erase(d.name);
    if (it->second.orphaned) {
      // Its file is back. Stop it with it (it may run here, unmanaged) only if that is the definition my up
      // entry was written under; else it stays orphaned, with the new definition for after the admin's reset.
      const std::string name = d.name;
      const uint64_t entry_digest = own_entries_.count(name) ? own_entries_.at(name).definition_digest : 0;
      if (digest_in_force(d) != entry_digest) {
        log::critical("orphaned service defined again, but not with the definition it runs under: it stays "
                      "orphaned until an admin stopped it by hand and ran `castor reset " + name + "`",
                      {{"service", name}});
        add_service(std::move(d), now, false, false);
        Service& s = services_.at(name);
        s.orphaned = true;
        s.definition_unknown = true;
        s.stop_reported = true;
        continue;
      }
      log::notice("orphaned service defined again: stopping it with its definition before anything else", {{"service", name}});
      add_service(std::move(d), now, false);
      Service& s = services_.at(name);
      s.stop_reported = false;
      s.runner->stop(now);
      continue;
    }
    if (it->second.replace_with) {
      // Still probing/stopping the instance of the saved copy: the newest file's definition replaces it.
      if (!(*it->second.replace_with == d)) log::notice("service definition changed: applies once the instance of its old definition is stopped", {{"service", d.name}});
      it->second.replace_with = std::move(d);
      continue;
    }
    if (it->second.file_def == d) continue;
    // (Not while a start-up probe is in flight: replacing the runner would lose what it finds.)
    if (!it->second.own->holding() && it->second.runner->state() == ServiceRunner::State::stopped && !it->second.probing) {
      log::notice("service definition changed", {{"service", d.name}});
      add_service(std::move(d), now, false);
    } else {
      log::notice("service definition changed: applies when it next stops here", {{"service", d.name}});
      pending_defs_.insert_or_assign(d.name, std::move(d));
    }
  }
  for (auto& [name, s] : services_) {
    // A service whose file now fails to parse keeps its old definition: not removed, not changed.
    if (seen.count(name) || bad_files.count(s.def.file)) continue;
    if (!removed_.count(name)) log::notice("service removed: stopping and releasing it here", {{"service", name}});
    removed_.insert(name);
  }
  // The digest covers what the files say. A service whose file failed keeps its old definition, so its old
  // file's content counts (recomputed here from the definition in force, which may carry agent defaults:
  // those are not part of the digest).
  std::vector<ServiceDefinition> defs = file_defs;
  for (auto& [name, s] : services_)
    if (!seen.count(name) && !removed_.count(name)) defs.push_back(s.file_def);
  digest_ = definitions_digest(defs);
  link_.request("set-digest " + std::to_string(digest_), [](const Result<std::string>&) {});
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
        if (!s.own->may_run() || s.restarting) continue;
        s.own->set_intent(Intent::hold, 0);
        if (s.runner->state() == ServiceRunner::State::stopped && s.runner->idle()) {
          log::notice("starting again after the lease risk passed", {{"service", name}, {"epoch", std::to_string(s.own->epoch())}});
          if (Status st = s.runner->start(s.own->epoch(), now); !st.ok())
            log::error("cannot start", {{"service", name}, {"reason", st.to_string()}});
        } else if (s.runner->state() == ServiceRunner::State::stopping) {
          log::notice("will start again once stopped: the lease risk passed", {{"service", name}, {"epoch", std::to_string(s.own->epoch())}});
          s.pending_start = s.own->epoch();
          s.stop_reported = false;
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
    exit_code_ = 3;
  } else if (ev == "peer_changed") {
    liveness_.view = parse_view(e.value("to", ""));
    log::notice("peer " + e.value("to", std::string("?")), {{"peer", peer_name_}, {"reason", e.value("reason", "")}});
  }
}

void SvcmgrDaemon::stop_everything(const std::string& why, TimePoint now) {
  if (!stopping_all_) log::warning("stopping every service", {{"reason", why}});
  stopping_all_ = true;
  for (auto& [name, s] : services_) {
    if (s.orphaned) continue;  // nothing trusted to stop it with; its entry stays up (leaving handles it)
    if (s.runner->state() != ServiceRunner::State::stopped && s.runner->state() != ServiceRunner::State::stopping)
      s.runner->stop(now);
    s.own->set_intent(Intent::release, 0);
  }
}

bool SvcmgrDaemon::failed_here(Service& s, TimePoint now) {
  if (s.hard_failure) return true;
  std::erase_if(s.failures, [&](TimePoint t) { return now - t > s.def.restart_window; });
  return int(s.failures.size()) > s.def.max_restarts;
}

void SvcmgrDaemon::tick(TimePoint now) {
  next_tick_ = now + renew_interval_;
  if (!link_.connected()) return;
  if (!table_read_pending_) {
    table_read_pending_ = true;
    link_.request("table-peer", [this](const Result<std::string>& r) {
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

void SvcmgrDaemon::evaluate(Service& s, TimePoint now) {
  if (!settled_ || stopping_all_) return;
  // A local relocation request is done once we let go: our entry now says "released to the target",
  // and the disk carries the request from here on.
  if (s.relocate_to && !s.own->holding()) s.relocate_to.reset();
  // Likewise a local disable, once my entry says so on the disk: from then on the disk carries it (and a
  // later enable from either node undoes it).
  if (s.disable_requested && s.own->phase() == OwnershipPhase::idle && s.own->mine().state == OwnershipState::disabled &&
      s.own->write_token() == 0)
    s.disable_requested = false;
  if (removed_.count(s.def.name)) {  // its file is gone: release it here (after its stop), never claim it
    s.own->set_intent(Intent::release, 0);
    drive(s, now);
    return;
  }
  const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
  // Admin words that travel in the entries' flags: frozen (latest entry wins) and restart requests.
  const uint64_t token_idle = s.own->write_token() == 0;
  if (s.freeze_request && token_idle && admin.latest_writer == node_id_ &&
      ((s.own->mine().flags & ServiceEntry::kFrozen) != 0) == *s.freeze_request)
    s.freeze_request.reset();  // on the disk now
  if (s.restart_request && token_idle && (s.own->mine().flags & ServiceEntry::kRestartRequest) != 0)
    s.restart_request = false;  // written: later writes drop the bit
  const bool frozen = s.freeze_request ? *s.freeze_request : admin.frozen;
  s.own->set_flags(uint16_t((frozen ? ServiceEntry::kFrozen : 0) | (s.restart_request ? ServiceEntry::kRestartRequest : 0)));
  if (admin.restart_request && admin.latest_writer == peer_id_ && admin.restart_request > s.last_restart_handled &&
      s.own->may_run() && s.runner->state() == ServiceRunner::State::started && !s.restarting) {
    s.last_restart_handled = admin.restart_request;
    log::notice("restart requested by the peer (through the disk)", {{"service", s.def.name}});
    ++s.restarts;
    s.restarting = true;
    s.stop_reported = false;
    s.runner->stop(now);
    s.own->refresh();  // answer with a newer entry, which consumes the request
  }
  PlacementFacts f;
  f.def = &s.def;
  f.me = node_name_;
  f.peer = peer_name_;
  f.me_id = node_id_;
  f.peer_id = peer_id_;
  f.peer_view = liveness_.view;
  f.me_standby = me_standby_;
  f.peer_standby = peer_standby_;
  f.running_here = s.own->holding();
  f.running_on_peer = s.own->peer_up();
  f.enabled = admin.enabled && !s.disable_requested;
  f.frozen = frozen;
  f.failed_here = failed_here(s, now);
  // Moves need both nodes to hold the same definitions (a peer that is gone cannot disagree).
  f.definitions_match = liveness_.view != PeerView::up || !peer_digest_known_ || peer_digest_ == digest_;
  if (s.relocate_to) f.relocate_to = *s.relocate_to == node_id_ ? node_name_ : peer_name_;
  else if (admin.requested_node) f.relocate_to = admin.requested_node == node_id_ ? node_name_ : peer_name_;
  PlacementDecision d = decide_placement(f);
  if (d.reason != s.last_placement) {
    s.last_placement = d.reason;
    log::info("placement: " + d.reason, {{"service", s.def.name}, {"target", std::to_string(d.target)}});
  }
  s.own->set_intent(d.intent, d.target);
  drive(s, now);
}

void SvcmgrDaemon::submit_entry(Service& s, const ServiceEntry& e, uint64_t token) {
  std::string line = "table-set " + e.name + " " + ownership_state_name(e.state) + " " + std::to_string(e.node) + " " +
                     std::to_string(e.epoch) + " " + std::to_string(e.ballot) + " " + std::to_string(e.flags) + " " +
                     std::to_string(s.restarts) + " " + std::to_string(e.definition_digest);
  const std::string name = s.def.name;
  own_entries_[name] = e;
  link_.request(line, [this, name, token](const Result<std::string>& r) {
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

void SvcmgrDaemon::drive(Service& s, TimePoint now) {
  for (int guard = 0; guard < 8; ++guard) {
    OwnershipStep step = s.own->step(now);
    if (step.write) {
      ServiceEntry e = *step.write;
      e.definition_digest = definition_digest(s.def);
      log::info("service entry: " + std::string(ownership_state_name(e.state)),
                {{"service", s.def.name}, {"epoch", std::to_string(e.epoch)}, {"reason", step.why}});
      submit_entry(s, e, s.own->write_token());
      return;  // the reply continues the drive
    }
    if (step.start) {
      log::notice("starting service", {{"service", s.def.name}, {"epoch", std::to_string(step.epoch)}, {"reason", step.why}});
      s.stop_reported = false;
      if (Status st = s.runner->start(step.epoch, now); !st.ok()) s.pending_start = step.epoch;  // after the stop
      continue;
    }
    if (step.stop) {
      log::notice("stopping service", {{"service", s.def.name}, {"epoch", std::to_string(step.epoch)}, {"reason", step.why}});
      s.stop_reported = false;
      s.runner->stop(now);
      continue;
    }
    return;
  }
}

void SvcmgrDaemon::after_runner(Service& s, TimePoint now) {
  using St = ServiceRunner::State;
  // Register/unregister the process groups agents left running, so a fence kills them.
  std::vector<pid_t> groups = s.runner->live_process_groups();
  for (pid_t g : groups)
    if (std::find(s.registered_groups.begin(), s.registered_groups.end(), g) == s.registered_groups.end())
      link_.request("register-pgid " + std::to_string(g), [](const Result<std::string>&) {});
  for (pid_t g : s.registered_groups)
    if (std::find(groups.begin(), groups.end(), g) == groups.end())
      link_.request("unregister-pgid " + std::to_string(g), [](const Result<std::string>&) {});
  s.registered_groups = groups;

  switch (s.runner->state()) {
    case St::stopped:
      if (s.probing || !s.runner->idle()) break;  // a start-up probe in flight: not known stopped yet
      if (s.replace_with) break;  // stopped under the saved copy: run() applies the file's definition first
      if (!s.stop_reported) {
        s.stop_reported = true;
        if (s.restarting && s.own->may_run() && !stopping_all_) {
          s.restarting = false;
          log::notice("restarting service in place", {{"service", s.def.name}, {"epoch", std::to_string(s.own->epoch())}});
          if (Status st = s.runner->start(s.own->epoch(), now); !st.ok())
            log::error("cannot restart", {{"service", s.def.name}, {"reason", st.to_string()}});
          return;
        }
        if (s.pending_start && s.own->may_run() && !stopping_all_) {
          const uint64_t epoch = *s.pending_start;
          s.pending_start.reset();
          if (Status st = s.runner->start(epoch, now); !st.ok())
            log::error("cannot start", {{"service", s.def.name}, {"reason", st.to_string()}});
          return;
        }
        s.pending_start.reset();
        s.own->on_stopped();
        drive(s, now);
      }
      break;
    case St::failed: {
      if (s.restarting) break;
      if (admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart).frozen || (s.freeze_request && *s.freeze_request)) {
        if (s.last_failure.empty() || now - s.last_failure_at > std::chrono::seconds(10))
          log::warning("service failed while frozen: no recovery", {{"service", s.def.name}});
        s.last_failure = "failed while frozen";
        s.last_failure_at = now;
        break;
      }
      const auto& f = s.runner->last_failure();
      s.last_failure = f ? f->resource + " " + f->action + ": " + f->text : "failed";
      s.last_failure_at = now;
      s.failures.push_back(now);
      if (f && (f->severity == Severity::hard || f->severity == Severity::fatal)) s.hard_failure = true;
      log::error("service failed", {{"service", s.def.name}, {"epoch", std::to_string(s.own->epoch())}, {"reason", s.last_failure}});
      if (s.def.recovery == ServiceDefinition::Recovery::disable) {
        s.disable_requested = true;
        evaluate(s, now);
      } else if (s.def.recovery == ServiceDefinition::Recovery::restart && !failed_here(s, now)) {
        ++s.restarts;
        s.restarting = true;
        s.stop_reported = false;
        s.runner->stop(now);
      } else {
        evaluate(s, now);  // failed here: placement moves it (or stops it)
        if (s.own->phase() == OwnershipPhase::running && s.runner->state() == St::failed) {
          s.stop_reported = false;
          s.runner->stop(now);  // nowhere else to go: do not leave it half-started
        }
      }
      break;
    }
    case St::stop_failed:
      log::critical("a stop failed: fencing this node", {{"service", s.def.name}});
      link_.request("fence stop of " + s.def.name + " failed", [](const Result<std::string>&) {});
      break;
    default:
      break;
  }
}

std::string SvcmgrDaemon::owner_of(const Service& s) const {
  if (s.own->phase() == OwnershipPhase::running || s.own->phase() == OwnershipPhase::stopping) return node_name_;
  if (s.peer_unknown.empty() && s.peer_entry && (s.peer_entry->state == OwnershipState::owned || s.peer_entry->state == OwnershipState::releasing) &&
      liveness_.view == PeerView::up)
    return peer_name_;
  return "";
}

std::string SvcmgrDaemon::state_of(const Service& s) const {
  using St = ServiceRunner::State;
  if (s.orphaned) return "orphaned";
  if (s.freeze_request ? *s.freeze_request
                       : admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart).frozen)
    return "frozen";
  const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
  const bool here = s.own->phase() == OwnershipPhase::running || s.own->phase() == OwnershipPhase::stopping;
  if (here) {
    switch (s.runner->state()) {
      case St::started: return "started";
      case St::starting: return s.restarting ? "recovering" : "starting";
      case St::stopping: return s.restarting ? "recovering" : "stopping";
      case St::failed: return "failed";
      case St::stop_failed: return "failed";
      case St::stopped: return s.restarting ? "recovering" : "stopped";
    }
  }
  if (s.own->phase() == OwnershipPhase::claiming || s.own->phase() == OwnershipPhase::owning) return "starting";
  if (!s.peer_unknown.empty()) return "unknown";  // the peer may run it: its entry does not decode
  if (!owner_of(s).empty()) {
    if (s.peer_entry->state == OwnershipState::releasing) return "stopping";
    return "started";
  }
  if (!admin.enabled) return "disabled";
  if (!s.last_failure.empty() && s.hard_failure) return "failed";
  return "stopped";
}

std::string SvcmgrDaemon::services_json(TimePoint now) {
  JsonWriter w;
  w.begin_object().field("ok", true).field("node", node_name_).field("peer", peer_name_);
  w.field("peer_view", peer_view_name(liveness_.view)).field("standby", me_standby_).field("peer_standby", peer_standby_);
  w.field("definitions_match", liveness_.view != PeerView::up || !peer_digest_known_ || peer_digest_ == digest_);
  w.key("load_errors").begin_array();
  for (const auto& e : load_errors_) w.value(e);
  w.end_array();
  w.key("services").begin_array();
  for (auto& [name, s] : services_) {
    w.begin_object().field("name", name).field("state", state_of(s)).field("owner", owner_of(s));
    uint64_t epoch = s.own->mine().epoch;
    if (s.peer_entry && s.peer_entry->epoch > epoch) epoch = s.peer_entry->epoch;
    const bool peer_runs = owner_of(s) == peer_name_ && s.peer_entry;
    w.field("epoch", epoch).field("restarts", peer_runs ? int(s.peer_entry->restarts) : s.restarts);
    w.field("max_restarts", s.def.max_restarts);
    w.field("phase", ownership_phase_name(s.own->phase()));
    if (!s.peer_unknown.empty()) w.field("peer_entry", "unknown (" + s.peer_unknown + ")");
    if (s.orphaned) w.field("orphaned", orphan_text(name, s.definition_unknown));
    if (!s.last_failure.empty())
      w.key("last_failure").begin_object().field("reason", s.last_failure).field("ago_ms", to_ms(now - s.last_failure_at)).end_object();
    const AdminState admin = admin_state(s.own->mine(), s.peer_entry, node_id_, s.def.autostart);
    if (admin.requested_node || s.relocate_to)
      w.field("pending", "relocate to " + std::string((s.relocate_to ? *s.relocate_to : admin.requested_node) == node_id_ ? node_name_ : peer_name_));
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

void SvcmgrDaemon::on_request(ControlServer::ConnId conn, const ControlRequest& req) {
  const TimePoint now = clock_.now();
  auto reply_ok = [&](const std::string& msg) {
    JsonWriter w;
    w.begin_object().field("ok", true).field("message", msg).end_object();
    server_->reply(conn, w.str());
  };
  if (req.verb == "services") {
    server_->reply(conn, services_json(now));
    return;
  }
  if (req.verb == "standby" || req.verb == "unstandby") {
    if (req.args != node_name_) {
      server_->reply_error(conn, req.verb + " " + req.args + ": run it on " +
                                     (req.args == peer_name_ ? req.args : std::string("a cluster node")) +
                                     " itself (this is " + node_name_ + ")", false);
      return;
    }
    me_standby_ = req.verb == "standby";
    link_.request(std::string("standby ") + (me_standby_ ? "1" : "0"), [](const Result<std::string>&) {});
    log::notice(me_standby_ ? "standby: moving every service away" : "unstandby", {{"node", node_name_}});
    for (auto& [n, s] : services_) evaluate(s, now);
    reply_ok(req.verb + " " + node_name_ + " accepted");
    return;
  }
  // Verbs with a service name, and an optional node.
  std::string name = req.args, node;
  if (auto sp = req.args.find(' '); sp != std::string::npos) {
    name = req.args.substr(0, sp);
    node = req.args.substr(sp + 1);
  }
  auto it = services_.find(name);
  if (it == services_.end()) {
    server_->reply_error(conn, "no service named '" + name + "'", false);
    return;
  }
  Service& s = it->second;
  if (s.orphaned) {
    if (req.verb != "reset") {
      server_->reply_error(conn, name + " is " + orphan_text(name, s.definition_unknown), false);
      return;
    }
    // The admin says it no longer runs here: release its entry, then drop it.
    log::notice("admin reset of an orphaned service: it was stopped by hand; releasing its entry", {{"service", name}});
    s.orphaned = false;
    if (std::exchange(s.definition_unknown, false)) {
      // From now on it is the file's definition that runs here: its copy is the one to stop it with.
      if (Status st = definitions_.save(s.file_def, {node_name_, peer_name_}); !st.ok())
        log::warning("no saved copy of the service definition", {{"service", name}, {"reason", st.to_string()}});
    }
    s.own->on_stopped();
    s.own->set_intent(Intent::release, 0);
    drive(s, now);
    reply_ok("reset " + name + " accepted: its entry is released");
    return;
  }
  uint32_t node_id = 0;
  if (!node.empty()) {
    if (node == node_name_) node_id = node_id_;
    else if (node == peer_name_) node_id = peer_id_;
    else {
      server_->reply_error(conn, "no node named '" + node + "'", false);
      return;
    }
  }
  if (req.verb == "disable") {
    s.disable_requested = true;
    s.relocate_to.reset();
  } else if (req.verb == "enable") {
    s.disable_requested = false;
    s.own->touch(node_id);
  } else if (req.verb == "relocate") {
    uint32_t target = node_id ? node_id : (owner_of(s) == node_name_ ? peer_id_ : node_id_);
    if (owner_of(s) == node_name_) s.relocate_to = target;
    else s.own->touch(target);
  } else if (req.verb == "restart") {
    if (owner_of(s) == node_name_) {
      ++s.restarts;
      s.restarting = true;
      s.stop_reported = false;
      s.runner->stop(now);
    } else if (!owner_of(s).empty()) {
      s.restart_request = true;  // the owner reads it from my entry
      s.own->refresh();
    } else {
      server_->reply_error(conn, name + " does not run anywhere: use enable", false);
      return;
    }
  } else if (req.verb == "freeze" || req.verb == "unfreeze") {
    s.freeze_request = req.verb == "freeze";
    s.own->refresh();
  } else if (req.verb == "reset") {
    s.failures.clear();
    s.hard_failure = false;
    s.last_failure.clear();
    s.restarts = 0;
  } else {
    server_->reply_error(conn, "unknown verb '" + req.verb + "'", false);
    return;
  }
  log::notice("admin request: " + req.verb, {{"service", name}, {"node", node}});
  evaluate(s, now);
  reply_ok(req.verb + " " + name + " accepted");
}

sigset_t svcmgr_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  return mask;
}

int SvcmgrDaemon::run() {
  const sigset_t mask = svcmgr_signals();
  sigprocmask(SIG_BLOCK, &mask, nullptr);  // already blocked by main(); harmless if run() is used alone
  UniqueFd sfd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  TimePoint leave_deadline{};
  while (exit_code_ < 0) {
    TimePoint now = clock_.now();
    // Settle: startup stops finished -> may claim.
    if (!settled_) {
      bool all = true;
      for (auto& [n, s] : services_) {
        if (s.probing && s.runner->idle()) {
          s.probing = false;
          const auto pr = s.runner->probe_result();
          if (pr != ServiceRunner::ProbeResult::all_stopped) {
            log::warning("found running at start-up: stopping it before anything is claimed",
                         {{"service", n}, {"probe", std::string(probe_result_name(pr))}});
            s.runner->stop(now);
          }
        }
        if (s.replace_with && !s.probing && s.runner->state() == ServiceRunner::State::stopped && s.runner->idle()) {
          // The instance of the definition it was started under is proven stopped: now (and only now, before
          // any claim) the file's definition applies and its copy is saved. Its up entry is released next.
          log::notice("the instance of the old definition is stopped: the file's definition applies now", {{"service", n}});
          ServiceDefinition d = std::move(*s.replace_with);
          add_service(std::move(d), now, false);  // replaces s (same map node)
        }
        if (s.replace_with || s.probing || s.runner->state() != ServiceRunner::State::stopped) all = false;
      }
      if (all) {
        settled_ = true;
        log::info("start-up probes done: services may be claimed", {});
      }
    }
    // A lease we cannot prove any more: stop at once; past its end, kill and leave.
    if (services_stopped_sent_ && !link_.connected()) {
      log::notice("quorumd left the cluster after every service stopped: svcmgr exits", {});
      return 0;
    }
    // A lease that looks expired may only be old news: quorumd's renewals may be waiting unread (a start-up
    // with many services takes longer than the lease). Read them before concluding anything.
    if (link_.connected() && lease_expiry_ && now >= *lease_expiry_) {
      link_.process();
      now = clock_.now();
    }
    if (!link_.connected() || (lease_expiry_ && now >= *lease_expiry_)) {
      if (!link_.connected()) log::critical("lost quorumd: every service is killed", {});
      else log::critical("the lease expired: every service is killed", {});
      services_.clear();
      return 3;
    }
    if (now >= next_tick_) tick(now);
    std::vector<pollfd> fds;
    fds.push_back({sfd.get(), POLLIN, 0});
    fds.push_back({server_->fd(), POLLIN, 0});
    fds.push_back({link_.request_fd(), short(POLLIN | (link_.wants_write() ? POLLOUT : 0)), 0});
    fds.push_back({link_.event_fd(), POLLIN, 0});
    TimePoint wake = next_tick_;
    if (lease_expiry_) wake = std::min(wake, *lease_expiry_);
    if (leaving_) wake = std::min(wake, leave_deadline);
    for (auto& [n, s] : services_) {
      for (int fd : s.runner->fds()) fds.push_back({fd, POLLIN, 0});
      wake = std::min(wake, s.runner->next_deadline());
    }
    int timeout = wake <= now ? 0 : int(std::min<int64_t>(to_ms(wake - now) + 1, 1000));
    int r = ::poll(fds.data(), fds.size(), timeout);
    if (r < 0 && errno != EINTR) return 1;
    now = clock_.now();
    bool terminate = false, hangup = false;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sfd.get(), &si, sizeof si) == ssize_t(sizeof si)) {
        if (si.ssi_signo == SIGHUP) hangup = true;
        else terminate = true;
      }
    }
    if (hangup) {
      log::notice("SIGHUP: reloading the service definitions", {{"dir", config_.services_dir}});
      reload(now);
    }
    if (terminate) {
      if (!leaving_) {
        leaving_ = true;
        stop_everything("svcmgr is stopping (signal)", now);
      } else {
        return 1;
      }
    }
    if (leaving_ && leave_deadline == TimePoint{}) leave_deadline = now + std::chrono::minutes(10);
    if (fds[1].revents) server_->process(*this);
    link_.process();
    if (exit_code_ >= 0) break;
    for (size_t i = 4; i < fds.size(); ++i)
      if (fds[i].revents)
        for (auto& [n, s] : services_) {
          auto own_fds = s.runner->fds();
          if (std::find(own_fds.begin(), own_fds.end(), fds[i].fd) != own_fds.end()) s.runner->on_ready(fds[i].fd);
        }
    for (auto& [n, s] : services_) {
      auto before = s.runner->state();
      s.runner->poll(now);
      if (s.runner->state() != before || s.runner->state() == ServiceRunner::State::stopped) after_runner(s, now);
    }
    // Reloaded definitions take effect once their service is idle here.
    for (auto it = services_.begin(); it != services_.end();) {
      Service& s = it->second;
      // A finished start-up probe's result is read at the top of the loop: not idle before that.
      const bool idle = !s.own->holding() && s.runner->state() == ServiceRunner::State::stopped && s.runner->idle() && !s.probing;
      if (idle && removed_.count(it->first)) {
        log::notice("service dropped", {{"service", it->first}});
        if (Status st = definitions_.remove(it->first); !st.ok())
          log::warning("the saved copy of a dropped service's definition stays", {{"service", it->first}, {"reason", st.to_string()}});
        removed_.erase(it->first);
        it = services_.erase(it);
        continue;
      }
      if (idle && pending_defs_.count(it->first)) {
        const std::string name = it->first;
        ServiceDefinition d = std::move(pending_defs_[name]);
        pending_defs_.erase(name);
        log::notice("service definition changed (applied now that it is stopped here)", {{"service", name}});
        add_service(std::move(d), now, false);
        it = services_.find(name);
        if (it == services_.end()) break;
      }
      ++it;
    }
    // (leaving_ may have been set just now, by quorumd's "leaving" event in link_.process(): its deadline too.)
    if (leaving_ && leave_deadline == TimePoint{}) leave_deadline = now + std::chrono::minutes(10);
    if (leaving_) {
      bool all_stopped = true, orphans = false;
      for (auto& [n, s] : services_) {
        if (s.orphaned) {
          orphans = true;
          continue;
        }
        if (s.runner->state() != ServiceRunner::State::stopped) all_stopped = false;
        if (s.own->phase() != OwnershipPhase::idle) all_stopped = false;
        else drive(s, now);  // write released
      }
      if (all_stopped && orphans) {
        // Never say "every service stopped" (quorumd would write DOWN and the peer would start them at once)
        // while an orphaned service may still run here: exit without it; the peer waits the dead time.
        log::critical("orphaned services may still run here: svcmgr exits without reporting every service stopped", {});
        return 1;
      }
      if (all_stopped && !quorumd_leaving_) {
        log::notice("every service stopped and released: svcmgr exits", {});
        return 0;
      }
      if (all_stopped && !services_stopped_sent_) {
        services_stopped_sent_ = true;
        log::notice("every service stopped and released: telling quorumd, then exiting", {});
        link_.request("services-stopped", [this](const Result<std::string>& reply) {
          if (!reply.ok()) log::error("quorumd did not take services-stopped", {{"error", reply.status().to_string()}});
          exit_code_ = 0;
        });
      }
      if (now >= leave_deadline) return 1;
    }
  }
  return exit_code_;
}

}  // namespace castor
