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
  fail_all(Error(Code::io_error, "the connection to quorumd (" + path_ + ") is closed"));
}

void QuorumdLink::fail_all(const Status& st) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& fn : pending) fn(st);
}

void QuorumdLink::request(const std::string& line, ReplyFn done) {
  if (!connected()) {
    done(Error(Code::io_error, "quorumd is not connected"));
    return;
  }
  auto frame = encode_frame(line);
  if (!frame.ok()) {
    done(frame.status());
    return;
  }
  out_ += *frame;
  pending_.push_back(std::move(done));
}

bool QuorumdLink::pump_requests() {
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
  for (;;) {
    auto frame = take_frame(in_, kMaxReplyPayload);
    if (!frame.ok()) return false;
    if (!*frame) break;
    if (pending_.empty()) continue;  // an unsolicited reply: ignore
    auto fn = std::move(pending_.front());
    pending_.pop_front();
    fn(std::move(**frame));
  }
  return true;
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
  if (!connected()) return;
  if (!pump_requests() || !pump_events()) close();
}

}  // namespace castor
