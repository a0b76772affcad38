// castor drill [--service NAME] [--json] [--timeout S] [--config FILE] [--socket P] [--svcmgr-socket P]
// [--services DIR] (issue 20): a planned failover drill. Refuses to start when anything is degraded
// (tools/drill_report.h); then, one service at a time, relocates it to the other node and back through
// svcmgr (as `castor relocate --wait` does), probes it all the while from here (its file's `probe`, every
// 50 ms, each try bounded to 1 s) and measures each move's outage, and prints a report an auditor can keep.
// Stops at the first move that fails: a drill must never leave a second service moving.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/cli_args.h"
#include "common/clock.h"
#include "common/log.h"
#include "config/quorumd_config.h"
#include "config/service_loader.h"
#include "config/service_probe.h"
#include "config/svcmgr_config.h"
#include "control/control_client.h"
#include "control/json_codec.h"
#include "control/services_codec.h"
#include "tools/cli_commands.h"
#include "tools/drill_report.h"
#include "tools/exit_codes.h"
#include "tools/service_probe_runner.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

using json_codec::Json;
constexpr const char* kDefaultConfig = "/etc/castor/castor.ini";
constexpr auto kProbeEvery = std::chrono::milliseconds(50);
constexpr auto kProbeTimeout = std::chrono::seconds(1);
constexpr auto kAnswerAgain = std::chrono::seconds(30);  // after the start, for the probe to answer

const char* kDrillHelp =
    "usage: castor drill [--service NAME] [--json] [--timeout SECONDS] [--config FILE]\n"
    "                    [--socket QUORUMD_SOCKET] [--svcmgr-socket SOCKET] [--services DIR]\n"
    "  A planned failover drill: refuses to start if anything is degraded; then relocates each running\n"
    "  service (or NAME) to the other node and back, one at a time, measures each outage from the\n"
    "  service's probe (castor-service(5): probe = http://..., tcp://..., exec ...) and prints a report.\n"
    "  --timeout: how long one move may take to be started on its target (default 120 s).\n";

Result<std::string> ask(const std::string& socket, const std::string& line) {
  return ControlClient::ask(socket, line, std::chrono::seconds(10));
}

Result<ServicesReply> services_of(const std::string& socket) {
  ASSIGN_OR_RETURN(std::string text, ask(socket, "services"));
  return parse_services_reply(text);
}

const ServiceStatus* find_service(const ServicesReply& r, const std::string& name) {
  for (const auto& s : r.services)
    if (s.name == name) return &s;
  return nullptr;
}

// Probes one service every kProbeEvery on a thread of its own until stopped.
class ProbeLoop {
 public:
  explicit ProbeLoop(ServiceProbe probe) : probe_(std::move(probe)), thread_([this] { run(); }) {}
  ~ProbeLoop() {
    stop_ = true;
    thread_.join();
  }
  std::vector<ProbeSample> samples() {
    std::lock_guard<std::mutex> l(mu_);
    return samples_;
  }
  // Waits for a good probe taken after `after`, at most `limit`.
  bool wait_ok_after(TimePoint after, Duration limit) {
    const TimePoint end = clock_.now() + limit;
    while (clock_.now() < end) {
      {
        std::lock_guard<std::mutex> l(mu_);
        for (auto it = samples_.rbegin(); it != samples_.rend() && it->at >= after; ++it)
          if (it->ok) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  void run() {
    while (!stop_) {
      const TimePoint at = clock_.now();
      const bool ok = run_service_probe(probe_, kProbeTimeout);
      {
        std::lock_guard<std::mutex> l(mu_);
        samples_.push_back({at, ok});
      }
      const auto took = clock_.now() - at;
      if (took < kProbeEvery) std::this_thread::sleep_for(kProbeEvery - took);
    }
  }
  BootClock clock_;
  ServiceProbe probe_;
  std::mutex mu_;
  std::vector<ProbeSample> samples_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once the rest is ready
};

// One move: relocate, wait for it started on `to`, then for the probe to answer again.
DrillMove move(const std::string& socket, const std::string& service, const std::string& from, const std::string& to,
               const std::string& probe_text, ProbeLoop* probes, Duration limit) {
  BootClock clock;
  DrillMove m{service, from, to};
  m.probe = probe_text;
  const TimePoint asked = clock.now();
  auto reply = ask(socket, "relocate " + service + " " + to);
  if (!reply.ok()) {
    m.error = "relocate: " + reply.status().message();
    return m;
  }
  if (auto accepted = parse_admin_reply(*reply); !accepted.ok()) {
    m.error = "svcmgr refused the relocation: " + accepted.status().message();
    return m;
  }
  bool started = false;
  while (clock.now() - asked < limit) {
    auto s = services_of(socket);
    if (s.ok())
      if (const ServiceStatus* st = find_service(*s, service); st && st->owner == to && st->state == "started" && !st->pending) {
        started = true;
        break;
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!started) {
    m.error = "not started on " + to + " within " + format_duration(limit);
    return m;
  }
  m.started_after_ms = to_ms(clock.now() - asked);
  if (probes) {
    if (!probes->wait_ok_after(clock.now(), kAnswerAgain)) {
      m.error = "started on " + to + " but its probe did not answer within " + format_duration(kAnswerAgain);
      return m;
    }
    const auto samples = probes->samples();
    for (const auto& p : samples) m.probes += p.at >= asked;
    if (auto o = probe_outage(samples, asked)) {
      m.outage_ms = to_ms(o->length);
      m.failed_probes = o->failed;
    } else {
      m.outage_ms = 0;
    }
  }
  m.ok = true;
  return m;
}

}  // namespace

int cmd_drill(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--service", true}, {"--json", false}, {"--timeout", true}, {"--config", true},
                                    {"--socket", true}, {"--svcmgr-socket", true}, {"--services", true}});
  if (!args.ok()) return report_error("drill", args.status());
  if (args->has("--help")) {
    std::cout << kDrillHelp;
    return kExitOk;
  }
  if (!args->positional.empty()) return report_error("drill", Error(Code::invalid_argument, "unexpected argument '" + args->positional[0] + "'"));
  Duration limit = std::chrono::seconds(120);
  if (auto v = args->value("--timeout")) {
    auto s = parse_int(*v, 1, 3600, "--timeout");
    if (!s.ok()) return report_error("drill", s.status());
    limit = std::chrono::seconds(*s);
  }
  const std::string config_path = args->value("--config").value_or(kDefaultConfig);
  QuorumdConfig qconfig;
  SvcmgrConfig sconfig;
  if (Status st = load_quorumd_ini(config_path, qconfig); !st.ok() && args->value("--config")) return report_error("drill", st);
  (void)load_svcmgr_config(config_path, sconfig);
  const std::string qsocket = args->value("--socket").value_or(qconfig.socket_path);
  const std::string socket = args->value("--svcmgr-socket").value_or(sconfig.socket);

  auto services = services_of(socket);
  if (!services.ok()) return report_error("drill", services.status().with_context("svcmgr on " + socket));
  std::optional<Json> status;
  if (auto text = ask(qsocket, "status"); text.ok())
    if (auto parsed = json_codec::parse_object(*text); parsed.ok() && json_codec::check_ok(*parsed).ok()) status = *parsed;
  const std::vector<std::string> blockers = drill_blockers(*services, status ? &*status : nullptr);
  if (!blockers.empty()) {
    std::cerr << "castor drill: refused: the cluster is not healthy enough for a drill:\n";
    for (const auto& b : blockers) std::cerr << "  - " << printable(b) << "\n";
    return kExitRefused;
  }
  const std::string services_dir = args->value("--services").value_or(sconfig.services_dir);
  LoadResult loaded = load_service_dir(services_dir, {services->node, services->peer});
  std::map<std::string, ServiceProbe> probes;
  std::map<std::string, std::string> probe_texts;
  std::map<std::string, std::vector<std::string>> domains;
  for (const auto& d : loaded.services) {
    domains[d.name] = d.nodes;
    if (d.probe.empty()) continue;
    if (auto p = parse_service_probe(d.probe); p.ok()) {
      probes[d.name] = *p;
      probe_texts[d.name] = d.probe;
    }
  }

  DrillReport report;
  report.node = services->node;
  report.peer = services->peer;
  report.when = format_wall_time(wall_time_ns());
  if (status) {
    if ((*status).contains("cluster") && (*status)["cluster"].is_object())
      report.cluster = (*status)["cluster"].value("name", std::string());
    if ((*status).contains("timing_ms") && (*status)["timing_ms"].is_object())
      report.io_timeout_ms = (*status)["timing_ms"].value("io_timeout", int64_t(0));
  }
  const auto only = args->value("--service");
  if (only && !find_service(*services, *only))
    return report_error("drill", Error(Code::not_found, "no service named '" + *only + "' (castor status lists them)"));
  std::vector<const ServiceStatus*> todo;
  for (const auto& s : services->services) {
    if (only && s.name != *only) continue;
    const std::string other = s.owner == services->node ? services->peer : services->node;
    const auto& dom = domains[s.name];
    if (s.state != "started" || s.owner.empty()) {
      report.skipped.push_back(s.name + ": " + s.state + ", not running");
    } else if (!dom.empty() && std::find(dom.begin(), dom.end(), other) == dom.end()) {
      report.skipped.push_back(s.name + ": " + other + " is not in its nodes");
    } else {
      todo.push_back(&s);
    }
  }
  // Every probe must answer before anything moves: a probe that already fails would measure nothing.
  for (const ServiceStatus* s : todo)
    if (auto p = probes.find(s->name); p != probes.end() && !run_service_probe(p->second, kProbeTimeout))
      return report_error("drill", Error(Code::refused, "refused: " + s->name + "'s probe (" + probe_texts[s->name] +
                                                            ") fails before the drill; fix it or the service first"));
  for (const ServiceStatus* s : todo) {
    const std::string home = s->owner, away = home == services->node ? services->peer : services->node;
    std::unique_ptr<ProbeLoop> loop;
    if (auto p = probes.find(s->name); p != probes.end()) loop = std::make_unique<ProbeLoop>(p->second);
    if (!args->has("--json")) std::cerr << "castor drill: " << printable(s->name) << ": " << home << " -> " << away << " ...\n";
    DrillMove there = move(socket, s->name, home, away, probe_texts[s->name], loop.get(), limit);
    report.moves.push_back(there);
    if (!there.ok) break;
    if (!args->has("--json")) std::cerr << "castor drill: " << printable(s->name) << ": " << away << " -> " << home << " ...\n";
    DrillMove back = move(socket, s->name, away, home, probe_texts[s->name], loop.get(), limit);
    report.moves.push_back(back);
    if (!back.ok) break;
  }
  std::cout << (args->has("--json") ? render_drill_json(report) : render_drill_text(report));
  return report.ok() ? kExitOk : kExitFailure;
}

}  // namespace castor
