// ClusterPoller: castor-web's view of the cluster. A thread of its own asks this node's quorumd
// (`status`) and svcmgr (`services`, `history`) every `interval` over their status sockets (castor.ini
// status_group: castor-web runs without root) and hands each new view to the web server: the JSON the
// page renders and the Prometheus text of /metrics (tools/prometheus_metrics.h, as `castor status
// --prometheus` prints it). A daemon that does not answer is part of the view (its "…_error"), never a
// reason to stop. The blocking calls happen here, never in the server's event loop.
// Also svcmgr_request(): one admin request to svcmgr, for the web console's actions (blocking too).
// Never throws out of its thread; never reads the disk.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"

namespace castor {

struct ClusterView {
  std::string json;     // {"quorumd":{...}|null,"quorumd_error":"..","svcmgr":{...}|null,"svcmgr_error":"..","history":[...]}
  std::string metrics;  // Prometheus text exposition
};

class ClusterPoller {
 public:
  using Sink = std::function<void(std::shared_ptr<const ClusterView>)>;
  ClusterPoller(std::string quorumd_socket, std::string svcmgr_socket, Duration interval, Sink sink)
      : quorumd_socket_(std::move(quorumd_socket)), svcmgr_socket_(std::move(svcmgr_socket)), interval_(interval),
        sink_(std::move(sink)) {}
  ~ClusterPoller() { stop(); }
  ClusterPoller(const ClusterPoller&) = delete;
  ClusterPoller& operator=(const ClusterPoller&) = delete;

  void start();
  void stop();
  // One poll, now, on the caller's thread (the first view, and tests).
  ClusterView poll_once() const;

 private:
  void run();
  std::string quorumd_socket_, svcmgr_socket_;
  Duration interval_;
  Sink sink_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Sends `line` to svcmgr's socket and returns its reply's JSON text (an error when it cannot connect or
// does not answer within 10 s).
Result<std::string> svcmgr_request(const std::string& socket, const std::string& line);

}  // namespace castor
