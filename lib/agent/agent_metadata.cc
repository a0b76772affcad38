#include "agent/agent_metadata.h"

#include "agent/agent_command_builder.h"
#include "agent/agent_process.h"
#include "common/log.h"

namespace castor {
namespace {

std::optional<std::string> attribute(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  auto p = tag.find(key);
  if (p == std::string::npos) return std::nullopt;
  p += key.size();
  auto e = tag.find('"', p);
  if (e == std::string::npos) return std::nullopt;
  return tag.substr(p, e - p);
}

std::optional<Millis> duration(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  auto d = service_syntax::parse_duration(*v);
  if (!d.ok()) return std::nullopt;
  return *d;
}

}  // namespace

AgentTimings parse_agent_timings(const std::string& xml) {
  AgentTimings t;
  size_t pos = 0;
  while ((pos = xml.find("<action ", pos)) != std::string::npos) {
    size_t end = xml.find('>', pos);
    if (end == std::string::npos) break;
    const std::string tag = " " + xml.substr(pos + 8, end - pos - 8);
    pos = end;
    const auto name = attribute(tag, "name");
    if (!name) continue;
    const auto timeout = duration(attribute(tag, "timeout"));
    if (*name == "start") t.start_timeout = timeout;
    else if (*name == "stop") t.stop_timeout = timeout;
    else if (*name == "monitor" && !t.monitor_timeout) {  // the first monitor action is the default one
      t.monitor_timeout = timeout;
      t.monitor_interval = duration(attribute(tag, "interval"));
    }
  }
  return t;
}

void apply_agent_timings(ResourceDefinition& r, const AgentTimings& t) {
  using R = ResourceDefinition;
  if (!(r.explicit_timings & R::kStartTimeout) && t.start_timeout && *t.start_timeout > Millis(0)) r.start_timeout = *t.start_timeout;
  if (!(r.explicit_timings & R::kStopTimeout) && t.stop_timeout && *t.stop_timeout > Millis(0)) r.stop_timeout = *t.stop_timeout;
  if (!(r.explicit_timings & R::kMonitorTimeout) && t.monitor_timeout && *t.monitor_timeout > Millis(0))
    r.monitor_timeout = *t.monitor_timeout;
  if (!(r.explicit_timings & R::kMonitorInterval) && t.monitor_interval && *t.monitor_interval > Millis(0))
    r.monitor_interval = *t.monitor_interval;
}

std::string apply_metadata_defaults(ServiceDefinition& def, const std::string& ocf_root,
                                    std::map<std::string, AgentTimings>& cache) {
  std::string problems;
  BootClock clock;
  for (auto& r : def.resources) {
    if (r.kind != ResourceDefinition::AgentKind::ocf || r.explicit_timings == 0xF) continue;
    const std::string key = r.provider + ":" + r.type;
    auto it = cache.find(key);
    if (it == cache.end()) {
      RunContext ctx;
      ctx.service = def.name;
      ctx.ocf_root = ocf_root;
      auto cmd = build_agent_command(r, AgentAction::meta_data, ctx);
      AgentTimings t;
      if (Status trust = cmd.ok() ? check_agent_program(*cmd) : Status::Ok(); !trust.ok()) {
        problems += key + ": " + trust.message() + "; ";  // never run an agent anyone but root can change
      } else if (cmd.ok()) {
        auto out = run_agent(*cmd, clock);
        if (out.ok() && !out->timed_out && out->exit_code == 0) t = parse_agent_timings(out->output_tail);
        else problems += key + ": meta-data failed; ";
      } else {
        problems += key + ": " + cmd.status().message() + "; ";
      }
      it = cache.emplace(key, t).first;
    }
    apply_agent_timings(r, it->second);
  }
  return problems;
}

bool AgentMetadataFetcher::needs(const ResourceDefinition& r) {
  return r.kind == ResourceDefinition::AgentKind::ocf && r.explicit_timings != 0xF;
}

bool AgentMetadataFetcher::ready(const ServiceDefinition& def) const {
  for (const auto& r : def.resources)
    if (needs(r) && !read_.count(key_of(r))) return false;
  return true;
}

bool AgentMetadataFetcher::request(const ServiceDefinition& def, TimePoint now) {
  for (const auto& r : def.resources) {
    if (!needs(r)) continue;
    const std::string key = key_of(r);
    if (read_.count(key)) continue;
    bool running = false;
    for (const Fetch& f : running_) running = running || f.key == key;
    if (running) continue;
    RunContext ctx;
    ctx.service = def.name;
    ctx.ocf_root = ocf_root_;
    Result<AgentCommand> cmd = build_agent_command(r, AgentAction::meta_data, ctx);
    Status st = cmd.ok() ? check_agent_program(*cmd) : cmd.status();  // never run what anyone but root can change
    if (st.ok()) {
      Result<std::unique_ptr<AgentProcess>> p = AgentProcess::spawn(*cmd, now);
      if (p.ok()) {
        log::event(log::Level::info, "reading an agent's meta-data", {{"agent", key}, {"service", def.name}});
        running_.push_back(Fetch{key, std::move(p).value()});
        continue;
      }
      read_[key].problem = key + ": meta-data failed";  // as the blocking form says of a spawn error
      continue;
    }
    read_[key].problem = key + ": " + st.message();
  }
  return ready(def);
}

std::string AgentMetadataFetcher::apply(ServiceDefinition& def) {
  std::string problems;
  for (auto& r : def.resources) {
    if (!needs(r)) continue;
    auto it = read_.find(key_of(r));
    if (it == read_.end()) continue;
    if (!it->second.problem.empty() && !it->second.reported) {
      it->second.reported = true;
      problems += it->second.problem + "; ";
    }
    apply_agent_timings(r, it->second.timings);
  }
  return problems;
}

std::vector<int> AgentMetadataFetcher::fds() const {
  std::vector<int> out;
  for (const Fetch& f : running_) {
    if (int fd = f.proc->output_fd(); fd >= 0) out.push_back(fd);
    if (int fd = f.proc->pid_fd(); fd >= 0) out.push_back(fd);
  }
  return out;
}

void AgentMetadataFetcher::on_ready(int fd) {
  for (Fetch& f : running_)
    if (fd >= 0 && fd == f.proc->output_fd()) f.proc->on_output_ready();
}

bool AgentMetadataFetcher::poll(TimePoint now) {
  bool ended = false;
  for (auto it = running_.begin(); it != running_.end();) {
    std::optional<AgentOutcome> o = it->proc->poll(now);
    if (!o) {
      ++it;
      continue;
    }
    Read& r = read_[it->key];
    if (!o->timed_out && o->exit_code == 0) {
      r.timings = parse_agent_timings(o->output_tail);
      log::event(log::Level::info, "agent meta-data read", {{"agent", it->key}, {"elapsed", format_duration(o->elapsed)}});
    } else {
      r.problem = it->key + ": meta-data failed";
      log::event(log::Level::warning, "agent meta-data not read: Castor's default timings apply to it",
                 {{"agent", it->key},
                  {"timed_out", o->timed_out ? "yes" : "no"},
                  {"exit_code", int64_t(o->exit_code)},
                  {"elapsed", format_duration(o->elapsed)}});
    }
    ended = true;
    it = running_.erase(it);
  }
  return ended;
}

TimePoint AgentMetadataFetcher::next_deadline() const {
  TimePoint t = TimePoint::max();
  for (const Fetch& f : running_) t = std::min(t, f.proc->next_deadline());
  return t;
}

}  // namespace castor
