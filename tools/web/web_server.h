// WebServer: castor-web's HTTP(S) server (Boost.Beast on one Asio event loop): the page and its script,
// the cluster view as JSON and as a live stream (server-sent events), /metrics, and the admin actions for
// a logged-in member of the admin group (PAM login over HTTPS only; a session cookie plus a CSRF header).
//   GET  /  /app.js  /app.css       the console (no inline script: the page's CSP forbids it)
//   GET  /api/view                  the latest cluster view (web/cluster_poller.h)
//   GET  /api/events                the view again at every change, as server-sent events
//   GET  /api/session               {"https","user","csrf"} for this browser's session (user null: none)
//   GET  /metrics                   the Prometheus text exposition
//   POST /api/login                 {"user","password"} -> a session cookie (HTTPS only)
//   POST /api/logout
//   POST /api/action                {"verb","service","node"}: relocate, enable, disable, freeze, unfreeze,
//                                   standby, unstandby — forwarded to svcmgr, whose checks decide
// Bounded against slow or hostile clients: a request (headers and body) must arrive within 10 s and be at
// most 16 KiB, a reply must be taken within 10 s, at most kMaxConnections connections and kMaxStreams
// event streams at once, an event stream that falls 1 MiB behind is closed, logins and actions run on a
// small worker pool (at most kMaxWork waiting) — never on the loop, which no client can stall.
// Never runs as root (castor_web_main drops privileges before run()); never throws out of run().
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "tools/web/cluster_poller.h"
#include "config/web_config.h"

namespace castor {

class WebServer {
 public:
  static constexpr size_t kMaxConnections = 256;
  static constexpr size_t kMaxStreams = 64;
  static constexpr size_t kMaxWork = 8;

  // Binds the address and port and, with HTTPS, loads the certificate and key (while still root, if
  // started so). `admin_gid`: the group whose members may log in.
  static Result<std::unique_ptr<WebServer>> create(const WebConfig& config, gid_t admin_gid);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  uint16_t port() const;  // the bound port (port 0 in the config: the one the kernel chose)
  // Serves until SIGINT/SIGTERM or stop().
  void run();
  void stop();  // from any thread
  // A new cluster view, from the poller's thread: the loop takes it and streams it to every open page.
  void publish(std::shared_ptr<const ClusterView> view);

  struct Impl;  // the loop and everything its connections share (web_server.cc)

 private:
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace castor
