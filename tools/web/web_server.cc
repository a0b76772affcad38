#include "tools/web/web_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/log.h"
#include "control/json_codec.h"
#include "common/group_lookup.h"
#include "tools/web/host_check.h"
#include "tools/web/login_failures.h"
#include "tools/web/web_assets.h"
#include "tools/web/web_sessions.h"

namespace castor {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json_codec::Json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto kRequestDeadline = std::chrono::seconds(10);
constexpr auto kWriteDeadline = std::chrono::seconds(10);
constexpr size_t kMaxBody = 16 * 1024;
constexpr size_t kMaxHeader = 8 * 1024;
constexpr size_t kMaxStreamBacklog = 1 << 20;
constexpr auto kStreamPing = std::chrono::seconds(15);
constexpr const char* kCookie = "castor_session";

// A name svcmgr could take as one argument: no space can smuggle a second one in.
bool plain_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

// A client's address as the per-address limits count it: IPv4 whole, IPv6 by its /64 (one host holds a
// whole /64 and could otherwise take every slot with addresses of its own).
std::string client_key(const net::ip::address& a) {
  if (a.is_v6() && !a.to_v6().is_v4_mapped()) {
    auto bytes = a.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return net::ip::address_v6(bytes).to_string() + "/64";
  }
  return a.is_v6() ? net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string() : a.to_string();
}

// A user name as a login may carry it: what pam_auth accepts, at most 64 bytes. Anything else is refused
// before any key of the throttle is made of it.
bool plausible_user(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  for (char c : u)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) >= 0x7f || c == ':') return false;
  return true;
}

std::string cookie_value(const Request& req, std::string_view name) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return "";
  std::string_view all(it->value().data(), it->value().size());
  while (!all.empty()) {
    size_t end = all.find(';');
    std::string_view part = all.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
    if (end == std::string_view::npos) break;
    all.remove_prefix(end + 1);
  }
  return "";
}

}  // namespace

// What every connection shares: the view, the sessions, the streams, the work pool. Used on the loop's
// thread only, except publish() and stop(), which post into it.
struct WebServer::Impl {
  WebConfig config;
  gid_t admin_gid = 0;
  std::atomic<size_t> connections{0};  // these three before io: connections still queued in it end after it
  std::mutex per_address_mu;
  std::map<std::string, size_t> per_address;  // open connections by client address (IPv6: by /64)
  std::optional<ssl::context> tls;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  net::signal_set signals{io, SIGINT, SIGTERM};
  net::steady_timer ping{io};
  net::thread_pool logins{1};   // PAM (through the helper): blocking, never on the loop
  net::thread_pool actions{2};  // svcmgr requests: a pool of their own, so a login flood holds none back
  size_t logins_waiting = 0, actions_waiting = 0;
  WebServer::LoginCheck login_check;
  bool loopback = false;  // bound to a loopback address: the Host header must name loopback
  LoginFailures failures;  // failed logins by "ip ADDR" and "user NAME"
  std::shared_ptr<const ClusterView> view = std::make_shared<ClusterView>();
  WebSessions sessions;
  struct EventSink {
    virtual ~EventSink() = default;
    virtual void push(std::shared_ptr<const std::string> event) = 0;
    virtual const std::string& address() const = 0;
  };
  std::vector<std::weak_ptr<EventSink>> streams;

  explicit Impl(const WebConfig& c, gid_t g, WebServer::LoginCheck l)
      : config(c), admin_gid(g), login_check(std::move(l)), sessions(c.session_timeout) {}

  void accept();
  void broadcast(const std::shared_ptr<const std::string>& event) {
    std::vector<std::weak_ptr<EventSink>> live;
    for (auto& w : streams)
      if (auto s = w.lock()) {
        s->push(event);
        live.push_back(w);
      }
    streams.swap(live);
  }
  size_t live_streams() {
    size_t n = 0;
    for (auto& w : streams) n += !w.expired();
    return n;
  }
  size_t live_streams_from(const std::string& address) {
    size_t n = 0;
    for (auto& w : streams)
      if (auto s = w.lock(); s && s->address() == address) ++n;
    return n;
  }
  void schedule_ping() {
    ping.expires_after(kStreamPing);
    ping.async_wait([this](beast::error_code ec) {
      if (ec) return;
      broadcast(std::make_shared<const std::string>(": ping\n\n"));
      schedule_ping();
    });
  }
  // Runs `job` on `pool` and `done(result)` back on the loop; false when `limit` jobs wait there already.
  bool offload(net::thread_pool& pool, size_t& waiting, size_t limit, std::function<Status()> job,
               std::function<void(Status)> done) {
    if (waiting >= limit) return false;
    ++waiting;
    net::post(pool, [this, &waiting, job = std::move(job), done = std::move(done)]() mutable {
      Status st = job();
      net::post(io, [&waiting, st = std::move(st), done = std::move(done)]() mutable {
        --waiting;
        done(std::move(st));
      });
    });
    return true;
  }
};

namespace {

template <class Stream>
class Connection : public WebServer::Impl::EventSink, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... Args>
  Connection(WebServer::Impl& server, bool https, std::string peer, Args&&... args)
      : server_(server), https_(https), stream_(std::forward<Args>(args)...), peer_(std::move(peer)) {
    ++server_.connections;
    std::lock_guard<std::mutex> l(server_.per_address_mu);
    ++server_.per_address[peer_];
  }
  ~Connection() override {
    --server_.connections;
    std::lock_guard<std::mutex> l(server_.per_address_mu);
    if (auto it = server_.per_address.find(peer_); it != server_.per_address.end() && --it->second == 0)
      server_.per_address.erase(it);
  }
  const std::string& address() const override { return peer_; }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(kRequestDeadline);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code e) {
        if (e) return self->close();
        self->read();
      });
    }
  }

  void push(std::shared_ptr<const std::string> event) override {
    if (closed_) return;
    if (backlog_ + event->size() > kMaxStreamBacklog) {
      log::warning("castor-web: an event stream fell too far behind; closed", {{"client", peer_}});
      return close();
    }
    backlog_ += event->size();
    queue_.push_back(std::move(event));
    if (!writing_) write_next();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    parser_->header_limit(kMaxHeader);
    // One deadline for the whole request: a client that trickles bytes cannot hold the connection.
    beast::get_lowest_layer(stream_).expires_after(kRequestDeadline);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->handle(self->parser_->release());
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

  Response reply(http::status status, std::string content_type, std::string body, const Request& req) {
    Response res{status, req.version()};
    res.set(http::field::server, "castor-web");
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
    res.set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
    if (https_) res.set("Strict-Transport-Security", "max-age=31536000");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }
  Response json_reply(http::status status, const Json& j, const Request& req) {
    return reply(status, "application/json", json_codec::dump(j), req);
  }
  Response error_reply(http::status status, const std::string& why, const Request& req) {
    return json_reply(status, Json{{"ok", false}, {"error", why}}, req);
  }

  void send(Response res) {
    if (closed_) return;
    res_ = std::make_shared<Response>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(kWriteDeadline);
    http::async_write(stream_, *res_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->res_->need_eof()) return self->close();
      self->res_.reset();
      self->read();
    });
  }

  void handle(Request req) {
    std::string path(req.target());
    if (size_t q = path.find('?'); q != std::string::npos) path.resize(q);
    const bool get = req.method() == http::verb::get;
    const bool post = req.method() == http::verb::post;
    if (!host_allowed(req)) return send(error_reply(http::status::forbidden, "unexpected Host header", req));
    if (post) {
      // JSON from this origin only: a cross-site form (text/plain, urlencoded) never reaches a handler, login included.
      auto type = req.find(http::field::content_type);
      if (type == req.end() || std::string_view(type->value().data(), type->value().size()).rfind("application/json", 0) != 0)
        return send(error_reply(http::status::unsupported_media_type, "POST needs Content-Type: application/json", req));
      if (auto origin = req.find(http::field::origin); origin != req.end() && std::string(origin->value()) != own_origin(req))
        return send(error_reply(http::status::forbidden, "cross-origin request refused", req));
    }
    if (get && path == "/") return send(reply(http::status::ok, "text/html; charset=utf-8", std::string(web_page_html()), req));
    if (get && path == "/app.js")
      return send(reply(http::status::ok, "text/javascript; charset=utf-8", std::string(web_page_script()), req));
    if (get && path == "/app.css") return send(reply(http::status::ok, "text/css; charset=utf-8", std::string(web_page_style()), req));
    if (get && path == "/api/view") return send(reply(http::status::ok, "application/json", server_.view->json, req));
    if (get && path == "/metrics")
      return send(reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", server_.view->metrics, req));
    if (get && path == "/api/session") return session(req);
    if (get && path == "/api/events") return stream(req);
    if (post && path == "/api/login") return login(std::move(req));
    if (post && path == "/api/logout") return logout(req);
    if (post && path == "/api/action") return action(std::move(req));
    if (path == "/" || path == "/app.js" || path == "/app.css" || path.rfind("/api/", 0) == 0 || path == "/metrics")
      return send(error_reply(http::status::method_not_allowed, "method not allowed", req));
    send(error_reply(http::status::not_found, "not found", req));
  }

  // The origin a page of this console has: scheme and the Host it was asked for.
  std::string own_origin(const Request& req) const {
    auto host = req.find(http::field::host);
    return std::string(https_ ? "https://" : "http://") + (host == req.end() ? "" : std::string(host->value()));
  }

  // DNS rebinding: tools/web/host_check.h.
  bool host_allowed(const Request& req) const {
    auto h = req.find(http::field::host);
    std::optional<std::string_view> header;
    if (h != req.end()) header = std::string_view(h->value().data(), h->value().size());
    return castor::host_allowed(header, req.version() < 11, server_.loopback, server_.config.server_names);
  }

  void session(const Request& req) {
    const std::string token = cookie_value(req, kCookie);
    const TimePoint now = BootClock().now();
    auto user = server_.sessions.user_of(token, now);
    Json j{{"ok", true}, {"https", https_}, {"user", user ? Json(*user) : Json(nullptr)}};
    if (user) j["csrf"] = *server_.sessions.csrf_of(token, now);
    send(json_reply(http::status::ok, j, req));
  }

  void stream(const Request& req) {
    if (server_.live_streams() >= WebServer::kMaxStreams || server_.live_streams_from(peer_) >= WebServer::kMaxStreamsPerAddress) {
      // A 200 stream that says when to try again and ends (an EventSource gives up for good on an error status).
      auto busy = std::make_shared<Response>(http::status::ok, req.version());
      busy->set(http::field::content_type, "text/event-stream");
      busy->set(http::field::cache_control, "no-store");
      busy->keep_alive(false);
      busy->body() = "retry: 5000\nevent: busy\ndata: {\"error\":\"too many open pages\"}\n\n";
      busy->prepare_payload();
      return send(std::move(*busy));
    }
    streaming_ = true;
    auto head = std::make_shared<const std::string>(
        "HTTP/1.1 200 OK\r\nServer: castor-web\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 1000\n\n");
    push(head);
    push(std::make_shared<const std::string>("data: " + server_.view->json + "\n\n"));
    server_.streams.push_back(this->weak_from_this());
    watch_close();
  }

  // An event stream reads nothing more; a read that ends is the page going away.
  void watch_close() {
    stream_.async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->watch_close();
    });
  }

  void write_next() {
    if (closed_ || queue_.empty()) return;
    writing_ = true;
    beast::get_lowest_layer(stream_).expires_after(kWriteDeadline);
    net::async_write(stream_, net::buffer(*queue_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->close();
      self->backlog_ -= self->queue_.front()->size();
      self->queue_.pop_front();
      if (self->queue_.empty()) beast::get_lowest_layer(self->stream_).expires_never();
      else self->write_next();
    });
  }

  void login(Request req) {
    if (!https_)
      return send(error_reply(http::status::forbidden,
                              "log in needs HTTPS: this console serves plain HTTP and is read-only ([web] certificate)", req));
    auto body = json_codec::parse_object(req.body());
    auto user = body.ok() ? json_codec::get_string(*body, "user") : Result<std::string>(body.status());
    auto password = body.ok() ? json_codec::get_string(*body, "password") : Result<std::string>(body.status());
    if (!user.ok() || !password.ok())
      return send(error_reply(http::status::bad_request, "expected {\"user\":..., \"password\":...}", req));
    const TimePoint asked = BootClock().now();
    auto shared_req = std::make_shared<Request>(std::move(req));
    if (!plausible_user(*user)) {
      log::warning("castor-web: login refused: not a user name", {{"client", peer_}});
      return refuse_login_later(asked, http::status::unauthorized, "login refused", shared_req);
    }
    const std::string ip_key = "ip " + peer_, user_key = "user " + *user;
    if (server_.failures.full(asked)) {
      log::warning("castor-web: login refused without asking PAM: the failed-login table is full", {{"client", peer_}});
      return refuse_login_later(asked, http::status::too_many_requests, "too many failed logins: try again later", shared_req);
    }
    if (server_.failures.too_many(ip_key, asked) || server_.failures.too_many(user_key, asked)) {
      log::warning("castor-web: login refused without asking PAM: too many failures", {{"user", *user}, {"client", peer_}});
      return refuse_login_later(asked, http::status::too_many_requests, "too many failed logins: try again later", shared_req);
    }
    auto self = this->shared_from_this();
    auto check = server_.login_check;
    const bool queued = server_.offload(
        server_.logins, server_.logins_waiting, WebServer::kMaxLoginsWaiting,
        [check, u = *user, p = *password] { return check(u, p); },
        [self, shared_req, u = *user, asked, ip_key, user_key](Status st) {
          if (!st.ok()) {
            log::warning("castor-web: login refused", {{"user", u}, {"client", self->peer_}, {"reason", st.message()}});
            // Every refusal counts against the address; against the name only when PAM said no to a member
            // of the admin group (permission_denied): names that cannot log in anyway take no room.
            self->server_.failures.note(ip_key, asked);
            if (st.code() == Code::permission_denied) self->server_.failures.note(user_key, asked);
            return self->refuse_login_later(asked, http::status::unauthorized, "login refused", shared_req);
          }
          self->server_.failures.forget(ip_key);  // a login from this address worked: its count starts again
          auto created = self->server_.sessions.create(u, BootClock().now());
          log::notice("castor-web: login", {{"user", u}, {"client", self->peer_}});
          Response res = self->json_reply(http::status::ok, Json{{"ok", true}, {"user", u}, {"csrf", created.csrf}}, *shared_req);
          res.set(http::field::set_cookie, std::string(kCookie) + "=" + created.token +
                                               "; Path=/; HttpOnly; Secure; SameSite=Strict");
          self->send(std::move(res));
        });
    if (!queued) refuse_login_later(asked, http::status::service_unavailable, "busy: try again", shared_req);
  }

  // Every refused login is answered kRefusalDelay after it was asked, whatever refused it (a wrong
  // password, a user outside the admin group, the throttle): how long it took says nothing.
  void refuse_login_later(TimePoint asked, http::status status, const std::string& why, std::shared_ptr<Request> req) {
    auto timer = std::make_shared<net::steady_timer>(server_.io);
    const auto elapsed = BootClock().now() - asked;
    timer->expires_after(elapsed < WebServer::kRefusalDelay
                             ? std::chrono::duration_cast<net::steady_timer::duration>(WebServer::kRefusalDelay - elapsed)
                             : net::steady_timer::duration::zero());
    timer->async_wait([self = this->shared_from_this(), timer, status, why, req](beast::error_code) {
      self->send(self->error_reply(status, why, *req));
    });
  }

  void logout(const Request& req) {
    server_.sessions.end(cookie_value(req, kCookie));
    Response res = json_reply(http::status::ok, Json{{"ok", true}}, req);
    res.set(http::field::set_cookie, std::string(kCookie) + "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    send(std::move(res));
  }

  void action(Request req) {
    const std::string token = cookie_value(req, kCookie);
    const TimePoint now = BootClock().now();
    auto user = server_.sessions.user_of(token, now);
    if (!user) return send(error_reply(http::status::unauthorized, "log in first: actions need a session", req));
    auto csrf = req.find("X-Castor-CSRF");
    if (csrf == req.end() || !server_.sessions.check_csrf(token, std::string(csrf->value()), now)) {
      log::warning("castor-web: action refused: no valid CSRF token", {{"user", *user}, {"client", peer_}});
      return send(error_reply(http::status::forbidden, "missing or wrong X-Castor-CSRF header", req));
    }
    auto body = json_codec::parse_object(req.body());
    if (!body.ok()) return send(error_reply(http::status::bad_request, "expected a JSON object", req));
    auto text = [&](const char* k) {
      auto v = json_codec::get_string(*body, k);
      return v.ok() ? *v : std::string();
    };
    const std::string verb = text("verb"), service = text("service"), node = text("node");
    static const std::set<std::string> with_service = {"relocate", "enable", "disable", "freeze", "unfreeze"};
    static const std::set<std::string> with_node = {"standby", "unstandby"};
    std::string line;
    if (with_service.count(verb) && plain_name(service) && (node.empty() || plain_name(node))) {
      line = verb + " " + service;
      if (!node.empty() && (verb == "relocate" || verb == "enable")) line += " " + node;
    } else if (with_node.count(verb) && plain_name(node)) {
      line = verb + " " + node;
    } else {
      return send(error_reply(http::status::bad_request,
                              "unknown action or bad names: verb relocate|enable|disable|freeze|unfreeze with a service "
                              "(and a node for relocate/enable), or standby|unstandby with a node",
                              req));
    }
    auto self = this->shared_from_this();
    auto shared_req = std::make_shared<Request>(std::move(req));
    auto reply_text = std::make_shared<std::string>();
    const std::string socket = server_.config.svcmgr_socket;
    const gid_t admin_gid = server_.admin_gid;
    const bool queued = server_.offload(
        server_.actions, server_.actions_waiting, WebServer::kMaxActionsWaiting,
        [socket, line, reply_text, admin_gid, u = *user]() -> Status {
          // Still in the admin group? (A session outlives a removal from it by no more than this request.)
          auto member = user_in_group(u, admin_gid);
          if (!member.ok() || !*member) return Error(Code::permission_denied, u + " is no longer in the admin group");
          auto r = svcmgr_request(socket, line);
          if (!r.ok()) return r.status();
          *reply_text = *r;
          return Status::Ok();
        },
        [self, shared_req, reply_text, line, u = *user, token](Status st) {
          if (st.code() == Code::permission_denied) {
            log::warning("castor-web: action refused, session ended", {{"user", u}, {"request", line}, {"reason", st.message()}});
            self->server_.sessions.end(token);
            return self->send(self->error_reply(http::status::forbidden, st.message(), *shared_req));
          }
          if (!st.ok()) {
            log::warning("castor-web: action failed", {{"user", u}, {"request", line}, {"reason", st.message()}});
            return self->send(self->error_reply(http::status::bad_gateway, "svcmgr: " + st.message(), *shared_req));
          }
          auto parsed = json_codec::parse_object(*reply_text);
          const bool ok = parsed.ok() && json_codec::check_ok(*parsed).ok();
          log::notice("castor-web: action", {{"user", u}, {"client", self->peer_}, {"request", line},
                                             {"result", ok ? "accepted" : "refused"}});
          if (!parsed.ok()) return self->send(self->error_reply(http::status::bad_gateway, "svcmgr's reply does not decode", *shared_req));
          self->send(self->json_reply(ok ? http::status::ok : http::status::conflict, *parsed, *shared_req));
        });
    if (!queued) send(error_reply(http::status::service_unavailable, "busy: try again", *shared_req));
  }

  WebServer::Impl& server_;
  bool https_;
  Stream stream_;
  std::string peer_;  // the client's address
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> res_;
  bool closed_ = false;
  bool streaming_ = false;
  bool writing_ = false;
  std::deque<std::shared_ptr<const std::string>> queue_;
  size_t backlog_ = 0;
  char discard_[512];
};

}  // namespace

void WebServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      log::warning("castor-web: accept failed", {{"error", ec.message()}});
    } else {
      beast::error_code e2;
      auto ep = socket.remote_endpoint(e2);
      std::string peer = e2 ? "?" : client_key(ep.address());
      size_t from_peer = 0;
      {
        std::lock_guard<std::mutex> l(per_address_mu);
        if (auto it = per_address.find(peer); it != per_address.end()) from_peer = it->second;
      }
      if (connections >= kMaxConnections || from_peer >= kMaxPerAddress) {
        beast::error_code ignored;
        socket.close(ignored);  // at a bound: the newcomer is turned away, the others keep being served
      } else if (tls) {
        std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(*this, true, std::move(peer), std::move(socket), *tls)
            ->start();
      } else {
        std::make_shared<Connection<beast::tcp_stream>>(*this, false, std::move(peer), std::move(socket))->start();
      }
    }
    accept();
  });
}

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebServer::~WebServer() {
  if (impl_) {
    impl_->logins.join();
    impl_->actions.join();
  }
}

Result<std::unique_ptr<WebServer>> WebServer::create(const WebConfig& config, gid_t admin_gid, LoginCheck login) {
  auto impl = std::make_unique<Impl>(config, admin_gid, std::move(login));
  beast::error_code ec;
  auto address = net::ip::make_address(config.listen, ec);
  if (ec) return Error(Code::invalid_argument, "[web] listen '" + config.listen + "': not an IP address");
  if (config.https()) {
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    impl->tls->use_certificate_chain_file(config.certificate, ec);
    if (ec) return Error(Code::invalid_argument, "[web] certificate " + config.certificate + ": " + ec.message());
    impl->tls->use_private_key_file(config.private_key, ssl::context::pem, ec);
    if (ec) return Error(Code::invalid_argument, "[web] private_key " + config.private_key + ": " + ec.message());
  }
  impl->loopback = address.is_loopback();
  if (!impl->loopback && config.server_names.empty())
    log::warning("castor-web: bound to a non-loopback address without [web] server_names: any Host is answered, "
                 "so a page whose name was rebound to this address can read the console (DNS rebinding)",
                 {{"listen", config.listen}});
  tcp::endpoint endpoint(address, config.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Error(Code::io_error, "castor-web: cannot listen on " + config.listen + ":" + std::to_string(config.port) +
                                     ": " + ec.message());
  return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

uint16_t WebServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void WebServer::run() {
  impl_->signals.async_wait([this](beast::error_code ec, int) {
    if (!ec) stop();
  });
  impl_->accept();
  impl_->schedule_ping();
  for (;;) {
    try {
      impl_->io.run();
      return;
    } catch (const std::exception& e) {  // a handler that threw: logged, the loop goes on
      log::error("castor-web: error in the event loop", {{"error", e.what()}});
    }
  }
}

void WebServer::stop() {
  net::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->signals.cancel(ec);
    impl_->ping.cancel();
    impl_->io.stop();
  });
}

void WebServer::publish(std::shared_ptr<const ClusterView> view) {
  net::post(impl_->io, [this, view = std::move(view)] {
    impl_->view = view;
    impl_->broadcast(std::make_shared<const std::string>("data: " + view->json + "\n\n"));
  });
}

}  // namespace castor
