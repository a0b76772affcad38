// ControlServer: quorumd's control socket — an AF_UNIX SOCK_STREAM listener and its connections, framed
// as in control_protocol.h. It owns the sockets, the per-connection buffers and the access check; what a
// request means is the Handler's business (quorum_daemon).
//
//  - Access: root only, unless the daemon grants a group read access (ControlAccess, issue 20: the web
//    console runs without root). A peer whose SO_PEERCRED uid is neither 0 nor the daemon's own euid gets
//    an error reply and is disconnected — or, when a status group is set, may send only the read-only
//    verbs the daemon lists (and the operator verbs too if the peer is in the operator group, read from
//    SO_PEERGROUPS); any other verb gets an error reply and the connection is closed. The socket file is
//    mode 0600 (0660 with group = the status group when one is set: only its members can connect at all),
//    bound under umask 077. Such a limited client can never stall the daemon's loop nor lock root out: it
//    may send at most kLimitedBurst requests at once and kLimitedRate a second (past that it is dropped),
//    its requests' arguments are at most kLimitedArgs bytes, at most kMaxLimitedConnections of them are
//    connected at once (root keeps the rest), and what is logged about them is rate-limited. Its directory must be
//    trusted (common/trusted_path.h: root-owned, not writable by group or others, through every
//    directory and symlink on the way); listen() refuses otherwise. Clients check in turn that the server
//    runs as root (common/unix_socket.h).
//  - Everything is non-blocking and driven from the daemon's epoll loop through one descriptor (fd(), an
//    inner epoll set). A client that does not read its replies/events is dropped once kMaxOutputBytes are
//    queued for it (replies waiting behind a deferred one count too, and at most kMaxPendingRequests
//    requests may wait): a slow client never blocks the loop and never grows memory without bound.
//  - Malformed input (see control_protocol.h) gets an error reply; the connection is then closed.
//  - At most kMaxConnections at once; more are accepted and closed at once with an error reply.
// Must never block, never throw, and never let a client's input crash or stall quorumd.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"
#include "control/control_protocol.h"

namespace castor {

// Who besides root may use a control socket, and for what. Empty groups: root only (the default).
struct ControlAccess {
  std::optional<gid_t> status_group;    // its members may connect and send `read_verbs`
  std::optional<gid_t> operator_group;  // a connected member of it may send `operator_verbs` too
  std::set<std::string> read_verbs;     // verbs that change nothing and reveal no secret
  std::set<std::string> operator_verbs;  // the admin actions an operator may ask for (svcmgr: relocate, ...)
};

class ControlServer {
 public:
  using ConnId = uint64_t;
  static constexpr size_t kMaxOutputBytes = 2 * (kFrameHeaderSize + kMaxReplyPayload);  // per connection
  static constexpr size_t kMaxConnections = 32;
  // Requests of one connection not yet answered in order (behind a deferred reply): past this the client
  // is dropped, like one that does not read. svcmgr pipelines two.
  static constexpr size_t kMaxPendingRequests = 256;
  // Non-root clients (ControlAccess): a status reader floods nothing (review 20b).
  static constexpr double kLimitedBurst = 20;   // requests at once
  static constexpr double kLimitedRate = 20;    // requests a second, sustained
  static constexpr size_t kLimitedArgs = 256;   // bytes of a request's arguments
  static constexpr size_t kMaxLimitedConnections = 8;
  static constexpr size_t kMaxLimitedPerUser = 4;  // one uid cannot take every non-root slot
  static constexpr int kAcceptsPerPass = 32;

  struct Handler {
    virtual ~Handler() = default;
    // A well-formed request from an authorised client. The handler answers with reply() now or later.
    virtual void on_request(ConnId conn, const ControlRequest& req) = 0;
    // The connection is gone (closed by the client, dropped, or after an error): forget it.
    virtual void on_closed(ConnId) {}
  };

  // Creates the socket at `path` (creating its parent directory if missing, mode 0755). A stale socket
  // file is replaced; a live one (another quorumd answers) or a non-socket file there is refused.
  static Result<std::unique_ptr<ControlServer>> listen(const std::string& path, ControlAccess access = {});
  // Closes every connection and removes the socket file (if it is still ours).
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Readable when process() has something to do; put it in the daemon's epoll set.
  int fd() const { return epoll_.get(); }
  // Accepts, reads, dispatches requests to `handler` and writes queued output. Never blocks.
  void process(Handler& handler);

  // Replies go out on a connection in the order of its requests, whenever the handler gives them: a reply
  // given inside on_request() answers that request; to answer later, on_request() takes a handle with
  // defer(conn) and later passes it to reply()/reply_error() instead of the connection. A pipelining client
  // (svcmgr sends table-set, then table-peer, on one connection) thus never gets one request's reply as
  // another's, whichever disk I/O completes first. A request the handler neither answers nor defers holds
  // nothing back. Outside on_request(), defer(conn) returns `conn` itself (no order to keep).
  ConnId defer(ConnId conn);
  // The connection a handle from defer() answers on (the connection itself for a connection id; 0 once
  // the handle has been used).
  ConnId connection_of(ConnId handle) const;
  // Queues one JSON payload for `conn` (a connection or a handle from defer()). False if the connection is
  // gone or was dropped for being slow.
  bool reply(ConnId conn, std::string_view json);
  // Queues an error reply {"ok":false,"error":...}; with `close`, the connection is closed once it is sent.
  void reply_error(ConnId conn, std::string_view message, bool close);
  // Marks a connection as a subscriber: it receives every broadcast() from now on.
  void subscribe(ConnId conn);
  // Queues an event to every subscriber.
  void broadcast(std::string_view json);
  // Best effort at exit: writes what is queued without waiting for slow clients.
  void flush_all();

  const std::string& path() const { return path_; }
  // The uid of the client on a connection (or a handle from defer()); nullopt when it is gone.
  std::optional<uid_t> peer_uid(ConnId conn) const;
  size_t connection_count() const { return conns_.size(); }
  size_t subscriber_count() const;

 private:
  // One request's place in its connection's reply order.
  struct Slot {
    uint64_t seq = 0;
    bool filled = false;    // its reply is given (or it needs none)
    bool deferred = false;  // a handle from defer() will give it
    bool close = false;     // close the connection once this reply is out
    std::optional<std::string> payload;
    size_t held = 0;        // what it adds to Conn::held while it waits
  };
  struct Conn {
    UniqueFd fd;
    std::deque<Slot> slots;          // requests not yet answered in order, oldest first
    uint64_t next_seq = 0;
    std::optional<uint64_t> current;  // the request on_request() is handling now
    std::string in, out;
    size_t held = 0;        // bytes of replies given but waiting in `slots` for an earlier one (framed)
    bool subscriber = false;
    bool closing = false;   // close once `out` is written
    bool dead = false;      // closed: erased at the end of process()
    uint32_t events = 0;      // the epoll mask registered for it
    pid_t pid = 0;
    uid_t uid = 0;
    enum class Role { full, reader, operator_ } role = Role::full;
  };
  // Limited roles' request budget, a token bucket per uid.
  struct Bucket {
    double tokens = kLimitedBurst;
    std::chrono::steady_clock::time_point refilled{};
  };
  std::map<uid_t, Bucket> buckets_;

  ControlServer(std::string path, UniqueFd listen_fd, UniqueFd epoll_fd, dev_t dev, ino_t ino, ControlAccess access)
      : path_(std::move(path)), listen_(std::move(listen_fd)), epoll_(std::move(epoll_fd)), dev_(dev), ino_(ino),
        access_(std::move(access)) {}
  std::optional<Conn::Role> limited_role(int fd, const ::ucred& cred) const;
  // Takes one request from a limited connection's budget; false when it has none left.
  bool take_token(Conn& c);
  // A warning about a limited client, at most a few a second (a flood must not flood the log too).
  void warn_limited(const std::string& what, const Conn& c, const std::string& detail);
  size_t limited_connections(std::optional<uid_t> uid = std::nullopt) const;
  size_t live_connections() const;
  std::chrono::steady_clock::time_point warn_window_{};
  int warnings_in_window_ = 0, warnings_suppressed_ = 0;
  // Whether a connection of this role may send `verb`.
  bool allowed(Conn::Role role, const std::string& verb) const;
  void accept_all();
  void read_from(ConnId id, Conn& c, Handler& handler);
  void write_to(ConnId id, Conn& c);
  bool queue(ConnId id, Conn& c, std::string_view json);
  // Gives request `seq` of `c` its reply (none: it needs none), then sends every answered reply at the
  // front of the order.
  void fill(ConnId id, Conn& c, uint64_t seq, std::optional<std::string> payload, bool close);
  // reply()/reply_error() on a connection id or a deferred handle.
  bool answer(ConnId id, std::optional<std::string> payload, bool close);
  void drop(ConnId id, Conn& c, const std::string& why);
  void update_events(ConnId id, Conn& c);

  std::string path_;
  UniqueFd listen_;
  UniqueFd epoll_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  ControlAccess access_;
  ConnId next_id_ = 1;  // 0 is the listening socket in the epoll set
  std::map<ConnId, std::unique_ptr<Conn>> conns_;
  static constexpr ConnId kDeferredBit = ConnId(1) << 63;  // handles from defer() never collide with connections
  ConnId next_handle_ = kDeferredBit | 1;
  std::map<ConnId, std::pair<ConnId, uint64_t>> deferred_;  // handle -> (connection, request seq)
};

}  // namespace castor
