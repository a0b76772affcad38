// QuorumdLink: svcmgr's connections to the local quorumd's control socket, driven by svcmgr's epoll loop.
// One connection carries requests (answered in order, each with a callback); a second one is subscribed
// and carries quorumd's events (lease, fence, peer changes). Non-blocking: a slow quorumd never stalls
// svcmgr's loop. When quorumd goes away, every pending callback is answered with an error and the link
// reports itself down: svcmgr must then treat its lease as lost at the last known expiry.
// At most kMaxInFlight requests are on the wire at once (quorumd drops a client with more than
// ControlServer::kMaxPendingRequests unanswered: 1000 services claiming at once would be 1000); the rest
// wait here, in order. A callback never runs inside request(): a caller that retries from its callback
// (a failed write, written again) must not recurse without bound when quorumd is gone.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

class QuorumdLink {
 public:
  using ReplyFn = std::function<void(const Result<std::string>& json)>;
  using EventFn = std::function<void(const std::string& json)>;

  explicit QuorumdLink(std::string socket_path) : path_(std::move(socket_path)) {}

  // Opens both connections and subscribes. Fails if quorumd does not listen.
  Status connect(EventFn on_event);
  bool connected() const { return req_.valid() && events_.valid(); }
  void close();

  static constexpr size_t kMaxInFlight = 64;

  // Queues a request; `done` runs with the JSON reply (or an error) from process() (or close()), never here.
  void request(const std::string& line, ReplyFn done);

  // Descriptors for epoll (readable, and writable while output is queued).
  int request_fd() const { return req_.get(); }
  int event_fd() const { return events_.get(); }
  bool wants_write() const { return !out_.empty(); }
  // Requests on the wire and waiting behind them (for tests and the daemon's counters).
  size_t in_flight() const { return in_flight_; }
  size_t waiting() const { return waiting_.size(); }
  // Reads/writes whatever is ready on both connections and runs callbacks. Never blocks.
  void process();

 private:
  void fail_all(const Status& st);
  bool pump_events();
  bool pump_requests();

  std::string path_;
  UniqueFd req_, events_;
  std::string out_, in_, ev_in_;
  std::deque<ReplyFn> pending_;       // one per request, sent or waiting, in order
  std::deque<std::string> waiting_;   // frames not yet on the wire (kMaxInFlight are)
  size_t in_flight_ = 0;
  std::deque<std::pair<ReplyFn, Status>> failed_;  // refused while not connected: answered by process()
  EventFn on_event_;
};

}  // namespace castor
