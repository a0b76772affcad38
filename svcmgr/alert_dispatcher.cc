#include "svcmgr/alert_dispatcher.h"

#include <algorithm>

#include "common/log.h"
#include "common/text_sanitize.h"
#include "common/trusted_program.h"

namespace castor {

AlertDispatcher::AlertDispatcher(std::vector<AlertConfig> alerts, std::string reporter, bool check_programs)
    : reporter_(std::move(reporter)) {
  for (AlertConfig& a : alerts) {
    if (check_programs) {
      if (Status st = check_trusted_program(a.program); !st.ok()) {
        log::error("alert disabled: its program may not be run", {{"alert", a.name}, {"program", a.program},
                                                                    {"reason", st.to_string()}});
        continue;
      }
      if (Status st = check_alert_recipient(a); !st.ok()) {
        log::error("alert disabled: its recipient may not be written", {{"alert", a.name}, {"reason", st.to_string()}});
        continue;
      }
    }
    log::info("alert configured", {{"alert", a.name}, {"program", a.program}});
    alerts_.push_back(std::move(a));
  }
}

AlertDispatcher::~AlertDispatcher() {  // AgentProcess's destructor kills what still runs
  if (!queue_.empty() || !running_.empty())
    log::warning("alerts lost: svcmgr exits", {{"waiting", queue_.size()}, {"running_killed", running_.size()}});
}

void AlertDispatcher::post(const AlertEvent& e) {
  bool wanted = false;
  for (size_t i = 0; i < alerts_.size(); ++i) {
    if (!alerts_[i].wants(e.kind)) continue;
    if (queue_.size() == kMaxQueued) {
      const Pending& old = queue_.front();
      ++counts_.dropped;
      log::error("alert dropped: too many waiting", {{"alert", alerts_[old.alert].name},
                                                      {"event", describe_alert_event(old.event)},
                                                      {"waiting", std::to_string(kMaxQueued)}});
      queue_.pop_front();
    }
    if (!wanted) ++sequence_;  // one number per event, shared by its alerts (Pacemaker's node_sequence)
    wanted = true;
    queue_.push_back({e, i, sequence_});
  }
}

void AlertDispatcher::launch(TimePoint now) {
  // One program a call: a spawn waits for its exec (AgentProcess::kExecWait at most, when the disk that holds
  // the program stalls), and the loop that calls this must not wait for several.
  if (running_.size() < kMaxRunning && !queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    const AlertConfig& a = alerts_[p.alert];
    AgentCommand cmd;
    cmd.argv = {a.program};
    cmd.env = alert_environment(p.event, a, p.sequence, reporter_);
    cmd.timeout = a.timeout;
    cmd.kill_grace = std::chrono::seconds(2);
    auto proc = AgentProcess::spawn(cmd, now);
    ++counts_.started;
    if (!proc.ok()) {
      ++counts_.failed;
      log::error("alert failed: cannot run its program", {{"alert", a.name}, {"event", describe_alert_event(p.event)},
                                                           {"reason", proc.status().to_string()}});
      return;
    }
    running_.push_back({std::move(proc).value(), std::move(p.event), p.alert});
  }
}

std::vector<int> AlertDispatcher::fds() const {
  std::vector<int> out;
  for (const Running& r : running_)
    for (int fd : {r.proc->output_fd(), r.proc->pid_fd()})
      if (fd >= 0) out.push_back(fd);
  return out;
}

void AlertDispatcher::on_ready(int fd) {
  for (Running& r : running_)
    if (r.proc->output_fd() == fd) r.proc->on_output_ready();
}

void AlertDispatcher::poll(TimePoint now) {
  for (auto it = running_.begin(); it != running_.end();) {
    auto outcome = it->proc->poll(now);
    if (!outcome) {
      ++it;
      continue;
    }
    const AlertConfig& a = alerts_[it->alert];
    const bool ok = !outcome->timed_out && outcome->exit_code == 0;
    std::string last_line = outcome->output_tail;
    while (!last_line.empty() && (last_line.back() == '\n' || last_line.back() == ' ')) last_line.pop_back();
    if (auto nl = last_line.rfind('\n'); nl != std::string::npos) last_line.erase(0, nl + 1);
    last_line = clean_text(last_line, 512);
    if (ok) {
      ++counts_.succeeded;
      log::info("alert sent", {{"alert", a.name}, {"event", describe_alert_event(it->event)},
                               {"took_ms", std::to_string(std::chrono::duration_cast<Millis>(outcome->elapsed).count())}});
    } else {
      ++counts_.failed;
      std::string why = outcome->timed_out ? "timed out after " + std::to_string(std::chrono::duration_cast<Millis>(a.timeout).count()) + " ms (killed)"
                        : outcome->signal ? "killed by signal " + std::to_string(outcome->signal)
                                          : "exit " + std::to_string(outcome->exit_code);
      if (!last_line.empty()) why += ": " + last_line;
      log::error("alert failed", {{"alert", a.name}, {"event", describe_alert_event(it->event)}, {"reason", why}});
    }
    it = running_.erase(it);
  }
  launch(now);
}

TimePoint AlertDispatcher::next_deadline() const {
  if (!queue_.empty() && running_.size() < kMaxRunning) return TimePoint{};  // one to launch: at once
  TimePoint t = TimePoint::max();
  for (const Running& r : running_) t = std::min(t, r.proc->next_deadline());
  return t;
}

}  // namespace castor
