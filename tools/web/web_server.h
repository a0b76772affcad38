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
// most 16 KiB, a reply must be taken within 10 s, at most kMaxConnections connections (kMaxPerAddress from
// one address) and kMaxStreams event streams (kMaxStreamsPerAddress) at once, an event stream that falls
// 1 MiB behind is closed; logins and actions run on pools of their own (a login flood cannot hold the
// actions back), never on the loop, which no client can stall. Every refused login is answered after the
// same delay (no timing oracle) and an address or a user name with LoginFailures::kMaxFailures failed logins
// within LoginFailures::kWindow is refused without asking PAM for that long. A POST must be JSON from this origin (no
// cross-site form post, login included); on a console bound to loopback the Host header must name
// loopback (a DNS-rebound page cannot read it). An action re-checks the admin group.
// Never runs as root (castor_web_main drops privileges before run()); never throws out of run().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
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
  static constexpr size_t kMaxPerAddress = 64;
  static constexpr size_t kMaxStreamsPerAddress = 16;
  static constexpr size_t kMaxLoginsWaiting = 4;
  static constexpr size_t kMaxActionsWaiting = 8;
  static constexpr std::chrono::seconds kRefusalDelay{3};
  // Checks a login (PamHelper::login): OK, or why not (for the log).
  using LoginCheck = std::function<Status(const std::string& user, const std::string& password)>;

  // Binds the address and port and, with HTTPS, loads the certificate and key (while still root, if
  // started so). `admin_gid`: the group whose members may log in.
  static Result<std::unique_ptr<WebServer>> create(const WebConfig& config, gid_t admin_gid, LoginCheck login);
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
