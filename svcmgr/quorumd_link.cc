#include "svcmgr/quorumd_link.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errno_status.h"
#include "common/unix_socket.h"
#include "control/control_protocol.h"

namespace castor {
namespace {


// Reads what is available into `buf`; false when the peer closed or an error occurred.
bool read_available(int fd, std::string& buf) {
  char tmp[16384];
  for (;;) {
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n > 0) {
      buf.append(tmp, size_t(n));
      if (buf.size() > 2 * (kFrameHeaderSize + kMaxReplyPayload)) return false;  // a runaway peer
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

}  // namespace

Status QuorumdLink::connect(EventFn on_event) {
  close();
  ASSIGN_OR_RETURN(req_, connect_unix_socket(path_, true));
  ASSIGN_OR_RETURN(events_, connect_unix_socket(path_, true));
  on_event_ = std::move(on_event);
  ASSIGN_OR_RETURN(std::string sub, encode_frame("subscribe service-manager"));
  if (::send(events_.get(), sub.data(), sub.size(), MSG_NOSIGNAL) != ssize_t(sub.size())) {
    Status st = errno_status("send subscribe", path_);
    close();
    return st;
  }
  return Status::Ok();
}

void QuorumdLink::close() {
  req_.reset();
  events_.reset();
  out_.clear();
  in_.clear();
  ev_in_.clear();
  waiting_.clear();
  in_flight_ = 0;
  fail_all(Error(Code::io_error, "the connection to quorumd (" + path_ + ") is closed"));
}

void QuorumdLink::fail_all(const Status& st) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& fn : pending) fn(st);
}

void QuorumdLink::request(const std::string& line, ReplyFn done) {
  if (!connected()) {
    failed_.emplace_back(std::move(done), Error(Code::io_error, "quorumd is not connected"));
    return;
  }
  auto frame = encode_frame(line);
  if (!frame.ok()) {
    failed_.emplace_back(std::move(done), frame.status());
    return;
  }
  pending_.push_back(std::move(done));
  if (in_flight_ < kMaxInFlight) {
    out_ += *frame;
    ++in_flight_;
  } else {
    waiting_.push_back(std::move(*frame));
  }
}

bool QuorumdLink::pump_requests() {
  for (;;) {
    while (!out_.empty()) {
      ssize_t n = ::send(req_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, size_t(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    if (!read_available(req_.get(), in_)) return false;
    bool answered = false;
    for (;;) {
      auto frame = take_frame(in_, kMaxReplyPayload);
      if (!frame.ok()) return false;
      if (!*frame) break;
      if (pending_.empty() || in_flight_ == 0) continue;  // an unsolicited reply: ignore
      auto fn = std::move(pending_.front());
      pending_.pop_front();
      --in_flight_;
      answered = true;
      // The next waiting request takes the place of the answered one.
      if (!waiting_.empty()) {
        out_ += waiting_.front();
        waiting_.pop_front();
        ++in_flight_;
      }
      fn(std::move(**frame));
      if (!connected()) return true;  // the callback closed the link (its requests are answered)
    }
    if (!answered || out_.empty()) return true;
  }
}

bool QuorumdLink::pump_events() {
  if (!read_available(events_.get(), ev_in_)) return false;
  for (;;) {
    auto frame = take_frame(ev_in_, kMaxReplyPayload);
    if (!frame.ok()) return false;
    if (!*frame) break;
    if (on_event_) on_event_(**frame);
  }
  return true;
}

void QuorumdLink::process() {
  // Requests refused while not connected, answered here (one batch: a retry from a callback waits for the
  // next pass).
  for (auto& [fn, st] : std::exchange(failed_, {})) fn(st);
  if (!connected()) return;
  if (!pump_requests() || !pump_events()) close();
}

}  // namespace castor
