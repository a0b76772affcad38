// AlertDispatcher: runs the [alert NAME] programs (config/alert_config.h) for svcmgr's events, asynchronously
// and bounded, so that an alert never blocks or slows a failover: post() only queues, poll() starts at most
// one program a call (a spawn waits for the exec); at most kMaxRunning programs run at once (each an AgentProcess in its own process group, with the alert's timeout, its output
// logged in one line); at most kMaxQueued wait, and past that the oldest waiting one is dropped and logged.
// Every failure (cannot run, exit status not 0, timeout, dropped) is logged with the alert, the event and
// the reason, and counted. Driven by the daemon's event loop like a ServiceRunner: fds() / on_ready() /
// poll() / next_deadline().
// Must never block the loop (beyond AgentProcess::spawn's bounded exec wait), never run a program whose
// path is not root's alone (checked at construction: such an alert is disabled and logged, as an agent is
// refused), never pass the program anything but the event's environment, and never run two programs for
// more than kMaxRunning events at once. Destroying it kills the programs still running (svcmgr exits).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_process.h"
#include "common/clock.h"
#include "config/alert_config.h"
#include "svcmgr/alert_event.h"

namespace castor {

class AlertDispatcher {
 public:
  static constexpr size_t kMaxRunning = 4;
  static constexpr size_t kMaxQueued = 64;

  // `reporter`: this node's name (CASTOR_ALERT_REPORTER). An alert whose program is not trusted
  // (common/trusted_program.h) is logged and left out; `check_programs` false skips that check (tests).
  AlertDispatcher(std::vector<AlertConfig> alerts, std::string reporter, bool check_programs = true);
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  // Queues the event for every alert that wants its kind; starts nothing (poll() does).
  void post(const AlertEvent& e);
  std::vector<int> fds() const;
  void on_ready(int fd);
  void poll(TimePoint now);
  // TimePoint::max() when nothing runs nor waits; the past when a waiting one can start now.
  TimePoint next_deadline() const;
  bool idle() const { return running_.empty() && queue_.empty(); }
  size_t alerts() const { return alerts_.size(); }

  struct Counts {
    uint64_t started = 0, succeeded = 0, failed = 0, dropped = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  struct Pending {
    AlertEvent event;
    size_t alert;
    uint64_t sequence;
  };
  struct Running {
    std::unique_ptr<AgentProcess> proc;
    AlertEvent event;
    size_t alert;
  };
  void launch(TimePoint now);

  std::vector<AlertConfig> alerts_;
  std::string reporter_;
  std::deque<Pending> queue_;
  std::vector<Running> running_;
  uint64_t sequence_ = 0;
  Counts counts_;
};

}  // namespace castor
