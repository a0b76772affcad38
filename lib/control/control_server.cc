#include "control/control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/errno_status.h"
#include "common/trusted_path.h"
#include "common/log.h"
#include "control/reply_codec.h"

namespace castor {
namespace {

constexpr uint64_t kListenKey = 0;
constexpr size_t kReadChunk = 16 * 1024;
// Input a connection may send in one process() call before others get their turn.
constexpr size_t kReadBudget = kFrameHeaderSize + kMaxPayload;

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path)
    return Error(Code::invalid_argument, "socket path '" + path + "' is too long for a Unix socket");
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

// Removes a stale socket file at `path`; refuses a live one or anything that is not a socket.
Status clear_stale_socket(const std::string& path, const sockaddr_un& addr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return errno_status("lstat", path);
  }
  if (!S_ISSOCK(st.st_mode))
    return Error(Code::already_exists, path + " exists and is not a socket: refusing to replace it");
  // Non-blocking: a live daemon that is stopped, its backlog full, must not hang this one's start (EAGAIN).
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe.valid()) return errno_status("socket", "AF_UNIX");
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 || errno == EAGAIN)
    return Error(Code::busy, "another quorumd is already listening on " + path);
  if (errno != ECONNREFUSED && errno != ENOENT) return errno_status("connect (probing for a live quorumd)", path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status("unlink stale socket", path);
  log::info("removed a stale control socket", {{"socket", path}});
  return Status::Ok();
}

Status ensure_parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Status::Ok();
  const std::string dir = path.substr(0, slash);
  if (::mkdir(dir.c_str(), 0755) == 0) {
    log::info("created the control socket directory", {{"dir", dir}});
    return Status::Ok();
  }
  if (errno == EEXIST) return Status::Ok();
  return errno_status("mkdir", dir);
}

// The socket's directory must be root's alone (common/trusted_path.h): in a directory others can write to,
// anyone could replace the socket with their own and impersonate the daemon to its clients.
Status check_parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  auto t = check_trusted_path(dir);
  if (!t.ok()) return t.status().with_context("control socket " + path + ": its directory");
  if (!S_ISDIR(t->st.st_mode)) return Error(Code::refused, "control socket " + path + ": " + dir + " is not a directory");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::listen(const std::string& path, ControlAccess access) {
  ASSIGN_OR_RETURN(sockaddr_un addr, unix_address(path));
  RETURN_IF_ERROR(ensure_parent_dir(path));
  RETURN_IF_ERROR(check_parent_dir(path));
  RETURN_IF_ERROR(clear_stale_socket(path, addr));

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_status("socket", "AF_UNIX");
  // Bound under umask 077: the socket file is never, not even between bind() and chmod(), reachable by
  // others. (umask is per process: the daemons bind before anything else could create files.)
  const mode_t old_umask = ::umask(077);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_umask);
  if (bound != 0) return errno_status("bind", path, bind_errno);
  // Access is checked per connection (SO_PEERCRED) as well; the mode keeps other users from connecting at all.
  // With a status group, its members may connect (group rw: connect() needs write permission on the file);
  // the group is set before the mode opens, so nobody else ever could.
  if (access.status_group && ::chown(path.c_str(), 0, *access.status_group) != 0) {
    Status st = errno_status("chown root:" + std::to_string(*access.status_group), path);
    ::unlink(path.c_str());
    return st;
  }
  const mode_t mode = access.status_group ? 0660 : 0600;
  if (::chmod(path.c_str(), mode) != 0) {
    Status st = errno_status(access.status_group ? "chmod 0660" : "chmod 0600", path);
    ::unlink(path.c_str());
    return st;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_status("stat", path);
  if (::listen(fd.get(), 16) != 0) {
    Status s = errno_status("listen", path);
    ::unlink(path.c_str());
    return s;
  }
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) {
    ::unlink(path.c_str());
    return errno_status("epoll_create1", "control socket");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenKey;
  if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    ::unlink(path.c_str());
    return errno_status("epoll_ctl ADD", path);
  }
  return std::unique_ptr<ControlServer>(
      new ControlServer(path, std::move(fd), std::move(ep), st.st_dev, st.st_ino, std::move(access)));
}

ControlServer::~ControlServer() {
  conns_.clear();
  listen_.reset();
  struct stat st;
  // Remove the file only if it is still the socket we bound (a successor may have replaced it).
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
}

size_t ControlServer::subscriber_count() const {
  size_t n = 0;
  for (const auto& [id, c] : conns_)
    if (c->subscriber && !c->dead) ++n;
  return n;
}

void ControlServer::accept_all() {
  // At most kAcceptsPerPass a pass: clients that reconnect as fast as they are refused cannot keep the
  // loop accepting (the rest wait in the backlog for the next pass).
  for (int accepted = 0; accepted < kAcceptsPerPass; ++accepted) {
    UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // EMFILE/ENFILE/ENOBUFS: leave the rest in the backlog; the next process() tries again.
      log::warning("cannot accept a control connection", {{"socket", path_}, {"error", std::strerror(errno)}});
      return;
    }
    auto c = std::make_unique<Conn>();
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      log::warning("cannot read a control client's credentials; disconnected",
                   {{"socket", path_}, {"error", std::strerror(errno)}});
      continue;
    }
    c->pid = cred.pid;
    c->uid = cred.uid;
    c->fd = std::move(fd);
    c->events = EPOLLIN;
    const ConnId id = next_id_++;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->fd.get(), &ev) != 0) {
      log::warning("cannot watch a control connection; disconnected",
                   {{"socket", path_}, {"error", std::strerror(errno)}});
      continue;
    }
    conns_.emplace(id, std::move(c));
    if (cred.uid != 0 && cred.uid != ::geteuid()) {
      const auto role = limited_role(conns_.at(id)->fd.get(), cred);
      if (!role) {
        log::warning("control client refused: not root",
                     {{"socket", path_}, {"pid", int64_t(cred.pid)}, {"uid", uint64_t(cred.uid)}});
        reply_error(id, "permission denied: the control socket is for root only", true);
        continue;
      }
      if (limited_connections() >= kMaxLimitedConnections || limited_connections(cred.uid) >= kMaxLimitedPerUser) {
        warn_limited("control client refused: too many non-root connections", *conns_.at(id),
                     "limit " + std::to_string(kMaxLimitedConnections));
        reply_error(id, "too many non-root control connections (limit " + std::to_string(kMaxLimitedConnections) + ")", true);
        continue;
      }
      conns_.at(id)->role = *role;
    }
    if (live_connections() > kMaxConnections) {
      warn_limited("control client refused: too many connections", *conns_.at(id), "limit " + std::to_string(kMaxConnections));
      reply_error(id, "too many control connections (limit " + std::to_string(kMaxConnections) + ")", true);
      continue;
    }
  }
}

// A non-root client: a reader if the socket has a status group and the client is in it (the socket file's
// mode let it connect only then, but the file's group may have been changed by hand: checked here again),
// an operator if it is in the operator group as well; nullopt: refused.
std::optional<ControlServer::Conn::Role> ControlServer::limited_role(int fd, const ::ucred& cred) const {
  if (!access_.status_group) return std::nullopt;
  std::vector<gid_t> groups(64);
  socklen_t len = socklen_t(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) {
    if (errno != ERANGE) {
      log::warning("cannot read a control client's groups", {{"socket", path_}, {"error", std::strerror(errno)}});
      return std::nullopt;
    }
    groups.resize(len / sizeof(gid_t) + 1);
    len = socklen_t(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) return std::nullopt;
  }
  groups.resize(len / sizeof(gid_t));
  groups.push_back(cred.gid);
  auto in = [&](gid_t g) { return std::find(groups.begin(), groups.end(), g) != groups.end(); };
  if (!in(*access_.status_group)) return std::nullopt;
  if (access_.operator_group && in(*access_.operator_group)) return Conn::Role::operator_;
  return Conn::Role::reader;
}

size_t ControlServer::limited_connections(std::optional<uid_t> uid) const {
  size_t n = 0;
  for (const auto& [id, c] : conns_)
    if (!c->dead && c->role != Conn::Role::full && (!uid || c->uid == *uid)) ++n;
  return n;
}

size_t ControlServer::live_connections() const {
  size_t n = 0;
  for (const auto& [id, c] : conns_) n += !c->dead;
  return n;
}

bool ControlServer::take_token(Conn& c) {
  // One budget per uid, kept across its connections: reconnecting does not refill it.
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = buckets_.try_emplace(c.uid, Bucket{kLimitedBurst, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(kLimitedBurst, b.tokens + elapsed * kLimitedRate);
    b.refilled = now;
  }
  if (buckets_.size() > 256) {  // uids are few; a bound all the same (full buckets are forgotten first)
    for (auto i = buckets_.begin(); i != buckets_.end();)
      i = i->first != c.uid && now - i->second.refilled > std::chrono::seconds(10) ? buckets_.erase(i) : std::next(i);
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void ControlServer::warn_limited(const std::string& what, const Conn& c, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  if (now - warn_window_ > std::chrono::seconds(1)) {
    if (warnings_suppressed_ > 0)
      log::warning("control warnings about non-root clients suppressed",
                   {{"socket", path_}, {"count", int64_t(warnings_suppressed_)}});
    warn_window_ = now;
    warnings_in_window_ = 0;
    warnings_suppressed_ = 0;
  }
  if (++warnings_in_window_ > 5) {
    ++warnings_suppressed_;
    return;
  }
  log::warning(what, {{"socket", path_}, {"pid", int64_t(c.pid)}, {"uid", uint64_t(c.uid)}, {"detail", detail}});
}

bool ControlServer::allowed(Conn::Role role, const std::string& verb) const {
  if (role == Conn::Role::full) return true;
  if (access_.read_verbs.count(verb)) return true;
  return role == Conn::Role::operator_ && access_.operator_verbs.count(verb) > 0;
}

std::optional<uid_t> ControlServer::peer_uid(ConnId conn) const {
  auto it = conns_.find(connection_of(conn));
  if (it == conns_.end() || it->second->dead) return std::nullopt;
  return it->second->uid;
}

void ControlServer::update_events(ConnId id, Conn& c) {
  if (c.dead) return;
  // A closing connection reads nothing more; EPOLLERR/EPOLLHUP are reported regardless.
  const uint32_t want = (c.closing ? 0u : uint32_t(EPOLLIN)) | (c.out.empty() ? 0u : uint32_t(EPOLLOUT));
  if (want == c.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) {
    drop(id, c, std::string("epoll_ctl MOD failed: ") + std::strerror(errno));
    return;
  }
  c.events = want;
}

void ControlServer::drop(ConnId id, Conn& c, const std::string& why) {
  if (c.dead) return;
  if (!why.empty())
    log::warning("control connection dropped",
                 {{"socket", path_}, {"conn", id}, {"pid", int64_t(c.pid)}, {"reason", why}});
  c.dead = true;
  c.fd.reset();  // closing also removes it from the epoll set
  c.in.clear();
  c.out.clear();
}

void ControlServer::write_to(ConnId id, Conn& c) {
  while (!c.dead && !c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // EPIPE/ECONNRESET: the client went away; nothing to say about it.
    drop(id, c, (errno == EPIPE || errno == ECONNRESET) ? "" : std::string("send: ") + std::strerror(errno));
    return;
  }
  if (c.dead) return;
  if (c.out.empty() && c.closing) {
    drop(id, c, "");
    return;
  }
  update_events(id, c);
}

bool ControlServer::queue(ConnId id, Conn& c, std::string_view json) {
  if (c.dead) return false;
  auto frame = encode_frame(json, kMaxReplyPayload);
  if (!frame.ok()) {
    // The client still gets an answer (a reply it never gets would leave it waiting for its timeout).
    log::error("control reply not sent", {{"socket", path_}, {"conn", id}, {"error", frame.status().to_string()}});
    frame = encode_frame(encode_error_reply("the reply is too large to send: " + frame.status().message()), kMaxReplyPayload);
    if (!frame.ok()) return false;
  }
  if (c.out.size() + frame->size() > kMaxOutputBytes) {
    drop(id, c, "client too slow: " + std::to_string(c.out.size()) + " bytes not yet read by it");
    return false;
  }
  c.out += *frame;
  write_to(id, c);
  return !c.dead || c.closing;
}

void ControlServer::fill(ConnId id, Conn& c, uint64_t seq, std::optional<std::string> payload, bool close) {
  for (auto& slot : c.slots) {
    if (slot.seq != seq) continue;
    slot.filled = true;
    slot.payload = std::move(payload);
    slot.close = close;
    if (slot.payload && &slot != &c.slots.front()) {
      // Held until the replies before it are given: counted as output not yet read by the client.
      slot.held = kFrameHeaderSize + slot.payload->size();
      c.held += slot.held;
      if (c.out.size() + c.held > kMaxOutputBytes) {
        drop(id, c, "client too slow: " + std::to_string(c.out.size() + c.held) +
                        " bytes of replies queued or held behind an unanswered request");
        return;
      }
    }
    break;
  }
  while (!c.dead && !c.slots.empty() && c.slots.front().filled) {
    Slot slot = std::move(c.slots.front());
    c.slots.pop_front();
    c.held -= slot.held;
    if (slot.close) c.closing = true;  // before queueing, so that write_to() closes once it is out
    if (slot.payload) queue(id, c, *slot.payload);
    else if (slot.close) write_to(id, c);
  }
}

bool ControlServer::answer(ConnId id, std::optional<std::string> payload, bool close) {
  uint64_t seq = 0;
  bool in_order = false;
  if (id & kDeferredBit) {
    auto h = deferred_.find(id);
    if (h == deferred_.end()) return false;  // answered already
    id = h->second.first;
    seq = h->second.second;
    deferred_.erase(h);
    in_order = true;
  }
  auto it = conns_.find(id);
  if (it == conns_.end()) return false;
  Conn& c = *it->second;
  if (c.dead) return false;
  if (!in_order && c.current) {
    // Inside on_request(): this is the reply to the request being handled, unless that one was deferred.
    for (const auto& slot : c.slots)
      if (slot.seq == *c.current && !slot.filled && !slot.deferred) {
        seq = slot.seq;
        in_order = true;
      }
  }
  if (in_order) {
    fill(id, c, seq, std::move(payload), close);
    return !c.dead || c.closing;
  }
  // Outside any request (or a second reply to one): sent at once, as before.
  if (close) c.closing = true;
  if (payload) return queue(id, c, *payload);
  write_to(id, c);
  return !c.dead || c.closing;
}

ControlServer::ConnId ControlServer::defer(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end() || !it->second->current) return id;
  Conn& c = *it->second;
  for (auto& slot : c.slots) {
    if (slot.seq != *c.current || slot.filled || slot.deferred) continue;
    slot.deferred = true;
    const ConnId handle = next_handle_++;
    deferred_[handle] = {id, slot.seq};
    return handle;
  }
  return id;
}

ControlServer::ConnId ControlServer::connection_of(ConnId handle) const {
  if (!(handle & kDeferredBit)) return handle;
  auto h = deferred_.find(handle);
  return h == deferred_.end() ? 0 : h->second.first;
}

bool ControlServer::reply(ConnId id, std::string_view json) { return answer(id, std::string(json), false); }

void ControlServer::reply_error(ConnId id, std::string_view message, bool close) {
  answer(id, encode_error_reply(message), close);
}

void ControlServer::subscribe(ConnId id) {
  auto it = conns_.find(id);
  if (it != conns_.end() && !it->second->dead) it->second->subscriber = true;
}

void ControlServer::broadcast(std::string_view json) {
  for (auto& [id, c] : conns_)
    if (c->subscriber && !c->dead && !c->closing) queue(id, *c, json);
}

void ControlServer::flush_all() {
  for (auto& [id, c] : conns_) write_to(id, *c);
}

void ControlServer::read_from(ConnId id, Conn& c, Handler& handler) {
  size_t budget = kReadBudget;
  char buf[kReadChunk];
  while (!c.dead && !c.closing && budget > 0) {
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {
      drop(id, c, errno == ECONNRESET ? "" : std::string("recv: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      // The client closed its side: finish sending what is queued, then close.
      if (c.out.empty()) drop(id, c, "");
      else {
        c.closing = true;
        update_events(id, c);
      }
      return;
    }
    budget -= std::min(budget, size_t(n));
    c.in.append(buf, size_t(n));
    for (;;) {
      auto frame = take_frame(c.in);
      if (!frame.ok()) {
        log::warning("malformed control message; connection closed",
                     {{"socket", path_}, {"conn", id}, {"pid", int64_t(c.pid)}, {"error", frame.status().message()}});
        c.in.clear();
        reply_error(id, frame.status().message(), true);
        return;
      }
      if (!frame->has_value()) break;
      auto req = parse_request(**frame);
      if (!req.ok()) {
        log::warning("malformed control request; connection closed",
                     {{"socket", path_}, {"conn", id}, {"pid", int64_t(c.pid)}, {"error", req.status().message()}});
        c.in.clear();
        reply_error(id, req.status().message(), true);
        return;
      }
      if (c.slots.size() >= kMaxPendingRequests) {
        drop(id, c, "client too slow: " + std::to_string(c.slots.size()) +
                        " requests waiting behind an unanswered one");
        return;
      }
      const uint64_t seq = c.next_seq++;
      c.slots.push_back(Slot{seq});
      c.current = seq;
      if (c.role != Conn::Role::full && !take_token(c)) {
        c.current.reset();
        warn_limited("control client dropped: a non-root client sends too fast", c,
                     "over " + std::to_string(int(kLimitedRate)) + " requests a second");
        drop(id, c, "");
        return;
      }
      if (allowed(c.role, req->verb) && (c.role == Conn::Role::full || req->args.size() <= kLimitedArgs)) {
        handler.on_request(id, *req);
      } else {
        const bool verb_ok = allowed(c.role, req->verb);
        warn_limited(verb_ok ? "control request refused: arguments too long" : "control request refused: not allowed to this client",
                     c, req->verb);
        c.in.clear();
        reply_error(id, verb_ok ? "arguments longer than " + std::to_string(kLimitedArgs) + " bytes"
                                : "permission denied: '" + req->verb + "' needs root (this connection may only " +
                                      (c.role == Conn::Role::operator_ ? "read and ask for admin actions)" : "read)"),
                    true);
        c.closing = true;  // read nothing more from it, even while an earlier reply is still awaited
        update_events(id, c);
      }
      c.current.reset();
      // Neither answered nor deferred: it holds nothing back.
      for (const auto& slot : c.slots)
        if (slot.seq == seq && !slot.filled && !slot.deferred) {
          fill(id, c, seq, std::nullopt, false);
          break;
        }
      if (c.dead || c.closing) return;
    }
  }
}

void ControlServer::process(Handler& handler) {
  epoll_event events[32];
  int n = ::epoll_wait(epoll_.get(), events, 32, 0);
  if (n < 0 && errno != EINTR)
    log::error("epoll_wait on the control socket set failed", {{"socket", path_}, {"error", std::strerror(errno)}});
  for (int i = 0; i < n; ++i) {
    const uint64_t key = events[i].data.u64;
    if (key == kListenKey) {
      accept_all();
      continue;
    }
    auto it = conns_.find(key);
    if (it == conns_.end()) continue;
    Conn& c = *it->second;
    if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) write_to(key, c);
    if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_from(key, c, handler);
  }
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->dead) {
      const ConnId id = it->first;
      it = conns_.erase(it);
      handler.on_closed(id);
    } else {
      ++it;
    }
  }
}

}  // namespace castor
