// SvcmgrDaemon, its service definitions: loading the service files at start, adopting what a previous life
// left (my entries that are up, with the saved copy of the definition an instance runs under), and SIGHUP's
// reload (added, changed, removed services). Builds each ServiceSupervisor.
// Must never start or claim a service (placement and Ownership do), never replace the definition of an
// instance that may still run here before it is proven stopped, and never drop a service whose entry is up.
#include <set>
#include <utility>

#include "common/log.h"
#include "config/service_loader.h"
#include "svcmgr/adopt_definition.h"
#include "svcmgr/svcmgr_daemon.h"

namespace castor {

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
  (void)metadata_.apply(def);  // add_service logs a problem
  return definition_digest(def);
}

void SvcmgrDaemon::on_metadata_read(TimePoint now) {
  for (auto& [name, s] : services_) {
    if (!s.metadata_pending || !metadata_.ready(s.file_def)) continue;
    if (s.adopt_pending && s.adopt_copy && !metadata_.ready(*s.adopt_copy)) continue;
    ServiceDefinition d = s.file_def;
    if (std::string p = metadata_.apply(d); !p.empty())
      log::warning("agent meta-data not read: Castor's default timings apply", {{"service", name}, {"reason", p}});
    s.def = std::move(d);
    s.metadata_pending = false;
    log::notice("the agents' meta-data is in: the service's timings apply and it may run", {{"service", name}});
    if (s.adopt_pending) {
      // Deferred from adopt_service() or adopt_removed(): decided now that every digest can be computed. (The
      // service was not placed, probed or written meanwhile: adopting it anew starts from the same state.)
      s.adopt_pending = false;
      const bool removed = s.adopt_removed;
      ServiceDefinition file = s.file_def;
      // A SIGHUP meanwhile parked the newest file's definition here (reload): the decision is taken with
      // it -- for a removed service, its file is back: adopted like a file present at start, never dropped
      // (review14c, finding B). Taken out, so it is not applied a second time when the service next stops.
      if (auto p = pending_defs_.find(name); p != pending_defs_.end()) {
        if (removed)
          log::notice("service file restored and reloaded while its removal waited for the agents' meta-data: "
                      "adopting it with the file's definition",
                      {{"service", name}, {"file", p->second.file}});
        file = std::move(p->second);
        pending_defs_.erase(p);
        adopt_service(std::move(file), now);
        continue;
      }
      if (removed) adopt_removed(name, now);
      else adopt_service(std::move(file), now);
      continue;
    }
    s.runner->set_timings(s.def, now);
  }
  for (auto it = orphan_recheck_.begin(); it != orphan_recheck_.end();) {
    if (!metadata_.ready(it->second)) {
      ++it;
      continue;
    }
    ServiceDefinition d = std::move(it->second);
    it = orphan_recheck_.erase(it);
    redefine_orphan(std::move(d), now);
  }
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
    // The digests decide when there is no copy, or a copy that is not the file's while the entry carries a
    // digest; they cover the agents' timings, so they wait for the agents' meta-data (every agent of the
    // file and of the copy), read by the loop (on_metadata_read), without making svcmgr wait. Meanwhile the
    // service counts as running here.
    const bool digests_decide = !copy || (!f.copy_same_as_file && f.entry_digest != 0);
    const bool file_ready = metadata_.request(def, now);
    const bool copy_ready = !copy || metadata_.request(*copy, now);
    if (digests_decide && !(file_ready && copy_ready)) {
      log::notice("service entry up here: choosing the definition it runs under once the agents' meta-data is read",
                  {{"service", name}, {"copy", copy ? copy->file : std::string("none")}});
      add_service(std::move(def), now, false, false);
      Service& s = services_.at(name);
      s.adopt_pending = true;
      s.adopt_copy = std::move(copy);
      // Held as a service waiting for its meta-data is (never probed, placed or reported stopped, and
      // looked at again by on_metadata_read), even when the file's own agents need none.
      s.metadata_pending = true;
      s.runner->hold_until_timings();
      return;
    }
    if (copy) f.copy_digest = digest_in_force(*copy);
    f.file_digest = digest_in_force(def);
    if (copy && !f.copy_same_as_file && f.entry_digest != 0 && f.copy_digest != f.entry_digest)
      log::error("the saved copy of a service's definition is not the one its entry was written under: not used",
                 {{"service", name}, {"copy", copy->file}});
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
      s.mark_orphaned(/*definition_unknown=*/true);  // nothing trusted to stop with: never reported stopped
      return;
    }
  }
}

void SvcmgrDaemon::add_service(ServiceDefinition def, TimePoint now, bool probe, bool save) {
  const std::string name = def.name;
  Service s;
  s.file_def = def;
  s.def = std::move(def);
  // The agents' meta-data is read by the event loop (metadata_); an agent read before (or failed) is not
  // read again. Until it is in, the runner holds every action (a probe too) and the service is not placed.
  s.metadata_pending = !metadata_.request(s.file_def, now);
  if (!s.metadata_pending) {
    if (std::string p = metadata_.apply(s.def); !p.empty())
      log::warning("agent meta-data not read: Castor's default timings apply", {{"service", name}, {"reason", p}});
  } else {
    log::notice("waiting for the agents' meta-data: the service does not run before its timings are known",
                {{"service", name}});
  }
  ServiceEntry e;
  if (auto it = own_entries_.find(name); it != own_entries_.end()) e = it->second;
  s.own = std::make_unique<Ownership>(name, node_id_, e);
  RunContext ctx;
  ctx.service = name;
  ctx.node = node_name_;
  ctx.ocf_root = config_.ocf_root;
  s.runner = env_.make_runner(s.def, ctx);
  if (s.metadata_pending) s.runner->hold_until_timings();
  // A copy of what it runs under, to stop it even if its file goes away while svcmgr is down.
  if (save) {
    if (Status st = definitions_.save(s.file_def, {node_name_, peer_name_}); !st.ok())
      log::warning("no saved copy of the service definition", {{"service", name}, {"reason", st.to_string()}});
  }
  // Is anything running here from an earlier life? (Probed like Pacemaker does; stopped if so, before this
  // node claims anything.)
  if (probe) s.begin_probe(now);
  services_.insert_or_assign(name, std::move(s));
}

void SvcmgrDaemon::adopt_removed(const std::string& name, TimePoint now) {
  auto saved = definitions_.load(name, {node_name_, peer_name_});
  // svcmgr stops the service with the copy, as root: only with the definition my entry was written under
  // (when the entry carries a digest); any other copy is stale or not svcmgr's.
  const uint64_t entry_digest = own_entries_.at(name).definition_digest;
  if (saved.ok() && *saved && entry_digest != 0 && !metadata_.request(**saved, now)) {
    // Its digest covers the agents' timings: decided once the loop has read the copy's agents' meta-data
    // (on_metadata_read). Meanwhile it counts as running here.
    log::notice("service file removed while svcmgr was down: checking the saved copy against its entry once the "
                "agents' meta-data is read",
                {{"service", name}, {"copy", (*saved)->file}});
    add_service(**saved, now, false, false);
    Service& s = services_.at(name);
    s.adopt_pending = true;
    s.adopt_removed = true;
    s.metadata_pending = true;  // (already: its copy's meta-data is not in) held, as above
    s.runner->hold_until_timings();
    return;
  }
  if (saved.ok() && *saved && entry_digest != 0 && digest_in_force(**saved) != entry_digest) {
    log::error("the saved copy of a removed service's definition is not the one its entry was written under: not used",
               {{"service", name}, {"copy", (*saved)->file}});
    saved->reset();  // (in place: a variant move-assignment here trips -Wmaybe-uninitialized under ASan)
  }
  if (saved.ok() && *saved) {
    log::warning("service file removed while svcmgr was down: stopping it with the saved copy of its "
                 "definition, then releasing it",
                 {{"service", name}, {"copy", (*saved)->file}});
    add_service(std::move(**saved), now, false);
    services_.at(name).stop(now);  // whatever a probe would say: stops are idempotent
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
  s.mark_orphaned(/*definition_unknown=*/false);  // nothing to stop with: never reported stopped
  s.own = std::make_unique<Ownership>(name, node_id_, own_entries_.at(name));
  RunContext ctx;
  ctx.service = name;
  ctx.node = node_name_;
  ctx.ocf_root = config_.ocf_root;
  s.runner = env_.make_runner(s.def, ctx);
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
    if (it->second.orphaned()) {
      redefine_orphan(std::move(d), now);
      continue;
    }
    if (it->second.replace_with) {
      // Still probing/stopping the instance of the saved copy: the newest file's definition replaces it.
      if (!(*it->second.replace_with == d)) log::notice("service definition changed: applies once the instance of its old definition is stopped", {{"service", d.name}});
      it->second.replace_with = std::move(d);
      continue;
    }
    if (it->second.adopt_pending) {
      // Its adoption waits for the agents' meta-data (on_metadata_read): it is decided with the newest file's
      // definition, parked here; none when that is the file it would use anyway (a file changed and changed
      // back), so no stale definition is applied later. (A removed service's file is back.)
      if (!it->second.adopt_removed && it->second.file_def == d) pending_defs_.erase(d.name);
      else pending_defs_.insert_or_assign(d.name, std::move(d));
      continue;
    }
    if (it->second.file_def == d) continue;
    // (Not while a start-up probe is in flight: replacing the runner would lose what it finds.)
    if (!it->second.own->holding() && it->second.runner->state() == ServiceRunner::State::stopped && !it->second.probing()) {
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
    // Its file is gone (again): a definition an earlier reload parked for a deferred adoption is stale.
    if (s.adopt_pending) pending_defs_.erase(name);
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
  link_->request("set-digest " + std::to_string(digest_), [](const Result<std::string>&) {});
}

void SvcmgrDaemon::redefine_orphan(ServiceDefinition d, TimePoint now) {
  // Its file is back. Stop it with it (it may run here, unmanaged) only if that is the definition my up
  // entry was written under; else it stays orphaned, with the new definition for after the admin's reset.
  // The digest covers the agents' timings: without them yet, decided once they are in (on_metadata_read).
  const std::string name = d.name;
  auto it = services_.find(name);
  if (it == services_.end() || !it->second.orphaned()) return;  // reset or dropped meanwhile
  if (!metadata_.request(d, now)) {
    log::notice("orphaned service defined again: compared with its entry once the agents' meta-data is read",
                {{"service", name}});
    orphan_recheck_.insert_or_assign(name, std::move(d));
    return;
  }
  const uint64_t entry_digest = own_entries_.count(name) ? own_entries_.at(name).definition_digest : 0;
  if (digest_in_force(d) != entry_digest) {
    log::critical("orphaned service defined again, but not with the definition it runs under: it stays "
                  "orphaned until an admin stopped it by hand and ran `castor reset " + name + "`",
                  {{"service", name}});
    add_service(std::move(d), now, false, false);
    services_.at(name).mark_orphaned(/*definition_unknown=*/true);
    return;
  }
  log::notice("orphaned service defined again: stopping it with its definition before anything else", {{"service", name}});
  add_service(std::move(d), now, false);
  services_.at(name).stop(now);
}

}  // namespace castor
