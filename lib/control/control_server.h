// ControlServer: quorumd's control socket — an AF_UNIX SOCK_STREAM listener and its connections, framed
// as in control_protocol.h. It owns the sockets, the per-connection buffers and the access check; what a
// request means is the Handler's business (quorum_daemon).
//
//  - Access: root only. A peer whose SO_PEERCRED uid is neither 0 nor quorumd's own euid gets an error
//    reply and is disconnected. The socket file is mode 0600, bound under umask 077. Its directory must be
//    trusted (common/trusted_path.h: root-owned, not writable by group or others, through every
//    directory and symlink on the way); listen() refuses otherwise. Clients check in turn that the server
//    runs as root (common/unix_socket.h).
//  - Everything is non-blocking and driven from the daemon's epoll loop through one descriptor (fd(), an
//    inner epoll set). A client that does not read its replies/events is dropped once kMaxOutputBytes are
//    queued for it: a slow client never blocks the loop and never grows memory without bound.
//  - Malformed input (see control_protocol.h) gets an error reply; the connection is then closed.
//  - At most kMaxConnections at once; more are accepted and closed at once with an error reply.
// Must never block, never throw, and never let a client's input crash or stall quorumd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"
#include "control/control_protocol.h"

namespace castor {

class ControlServer {
 public:
  using ConnId = uint64_t;
  static constexpr size_t kMaxOutputBytes = 2 * (kFrameHeaderSize + kMaxReplyPayload);  // per connection
  static constexpr size_t kMaxConnections = 32;

  struct Handler {
    virtual ~Handler() = default;
    // A well-formed request from an authorised client. The handler answers with reply() now or later.
    virtual void on_request(ConnId conn, const ControlRequest& req) = 0;
    // The connection is gone (closed by the client, dropped, or after an error): forget it.
    virtual void on_closed(ConnId) {}
  };

  // Creates the socket at `path` (creating its parent directory if missing, mode 0755). A stale socket
  // file is replaced; a live one (another quorumd answers) or a non-socket file there is refused.
  static Result<std::unique_ptr<ControlServer>> listen(const std::string& path);
  // Closes every connection and removes the socket file (if it is still ours).
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Readable when process() has something to do; put it in the daemon's epoll set.
  int fd() const { return epoll_.get(); }
  // Accepts, reads, dispatches requests to `handler` and writes queued output. Never blocks.
  void process(Handler& handler);

  // Queues one JSON payload for `conn`. False if the connection is gone or was dropped for being slow.
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
  size_t connection_count() const { return conns_.size(); }
  size_t subscriber_count() const;

 private:
  struct Conn {
    UniqueFd fd;
    std::string in, out;
    bool subscriber = false;
    bool closing = false;   // close once `out` is written
    bool dead = false;      // closed: erased at the end of process()
    uint32_t events = 0;      // the epoll mask registered for it
    pid_t pid = 0;
    uid_t uid = 0;
  };

  ControlServer(std::string path, UniqueFd listen_fd, UniqueFd epoll_fd, dev_t dev, ino_t ino)
      : path_(std::move(path)), listen_(std::move(listen_fd)), epoll_(std::move(epoll_fd)), dev_(dev), ino_(ino) {}
  void accept_all();
  void read_from(ConnId id, Conn& c, Handler& handler);
  void write_to(ConnId id, Conn& c);
  bool queue(ConnId id, Conn& c, std::string_view json);
  void drop(ConnId id, Conn& c, const std::string& why);
  void update_events(ConnId id, Conn& c);

  std::string path_;
  UniqueFd listen_;
  UniqueFd epoll_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  ConnId next_id_ = 1;  // 0 is the listening socket in the epoll set
  std::map<ConnId, std::unique_ptr<Conn>> conns_;
};

}  // namespace castor
