#include "tools/web/cluster_poller.h"

#include <chrono>
#include <optional>

#include "common/log.h"
#include "control/control_client.h"
#include "control/json_codec.h"
#include "control/services_codec.h"
#include "tools/prometheus_metrics.h"

namespace castor {
namespace {

using json_codec::Json;
constexpr auto kAnswerTimeout = std::chrono::seconds(2);

// One request on a fresh connection: the status sockets are local and cheap to connect to, and a daemon
// restarted between two polls is simply found again.
Result<std::string> ask(const std::string& socket, const std::string& line, Duration timeout) {
  return ControlClient::ask(socket, line, timeout);
}

}  // namespace

ClusterView ClusterPoller::poll_once() const {
  Json view = Json::object();
  std::optional<Json> status;
  std::optional<ServicesReply> services;
  if (auto reply = ask(quorumd_socket_, "status", kAnswerTimeout); reply.ok()) {
    auto parsed = json_codec::parse_object(*reply);
    if (parsed.ok() && json_codec::check_ok(*parsed).ok()) status = std::move(*parsed);
    else view["quorumd_error"] = parsed.ok() ? json_codec::check_ok(*parsed).message() : parsed.status().message();
  } else {
    view["quorumd_error"] = "quorumd does not answer on " + quorumd_socket_ + ": " + reply.status().message();
  }
  view["quorumd"] = status ? *status : Json(nullptr);
  if (auto reply = ask(svcmgr_socket_, "services", kAnswerTimeout); reply.ok()) {
    auto parsed = json_codec::parse_object(*reply);
    auto typed = parse_services_reply(*reply);
    if (parsed.ok() && typed.ok()) {
      view["svcmgr"] = std::move(*parsed);
      services = std::move(*typed);
    } else {
      view["svcmgr"] = nullptr;
      view["svcmgr_error"] = typed.status().message();
    }
  } else {
    view["svcmgr"] = nullptr;
    view["svcmgr_error"] = "svcmgr does not answer on " + svcmgr_socket_ + ": " + reply.status().message();
  }
  view["history"] = Json::array();
  if (services) {
    if (auto reply = ask(svcmgr_socket_, "history", kAnswerTimeout); reply.ok()) {
      auto parsed = json_codec::parse_object(*reply);
      if (parsed.ok())
        if (auto records = json_codec::get_array(*parsed, "records"); records.ok()) view["history"] = **records;
    }
  }
  ClusterView out;
  out.json = json_codec::dump(view);
  MetricsInput in;
  in.quorumd = status ? &*status : nullptr;
  in.services = services ? &*services : nullptr;
  in.node = metrics_node_name(in.quorumd, in.services, "");
  out.metrics = render_prometheus_metrics(in);
  return out;
}

void ClusterPoller::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ClusterPoller::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ClusterPoller::run() {
  std::string last;
  while (!stopping_) {
    const auto started = std::chrono::steady_clock::now();
    try {
      auto view = std::make_shared<ClusterView>(poll_once());
      if (view->json != last) {
        last = view->json;
        sink_(std::move(view));
      }
    } catch (const std::exception& e) {  // never across the thread's edge (a bad_alloc, at worst)
      log::error("castor-web: polling the daemons failed", {{"error", e.what()}});
    }
    // Sleep out the interval in short steps, so that stop() never waits long.
    while (!stopping_ && std::chrono::steady_clock::now() - started < interval_)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<std::string> svcmgr_request(const std::string& socket, const std::string& line) {
  return ask(socket, line, std::chrono::seconds(10));
}

}  // namespace castor
