// castor enable | disable | relocate | restart | freeze | unfreeze | reset: admin requests to the local
// svcmgr. A request for a service the peer runs travels through the quorum disk (svcmgr writes it into its
// service entry; the peer reads it), so it works with no network between the nodes.
// --wait[=S] returns when the request took effect, or fails with the reason when it cannot.
#include <iostream>
#include <thread>

#include "agent/agent_command_builder.h"
#include "agent/agent_process.h"
#include "config/service_loader.h"
#include "common/cli_args.h"
#include "common/names.h"
#include "tools/cli_commands.h"
#include "control/control_client.h"
#include "control/services_codec.h"
#include "tools/exit_codes.h"
#include "tools/standby_wait.h"
#include "tools/terminal_output.h"

namespace castor {
namespace {

constexpr const char* kSvcmgrSocket = "/run/castor/svcmgr.sock";

const char* kServiceHelp =
    "Usage: castor VERB SERVICE [--on NODE | --to NODE] [--wait[=SECONDS]] [--socket PATH]\n"
    "\n"
    "  enable SERVICE [--on NODE]      allow it to run (on NODE, or where the policy says); each OCF\n"
    "                                  resource's validate-all runs here first (--no-validate to skip;\n"
    "                                  --services DIR, default /etc/castor/services.d)\n"
    "  disable SERVICE                 stop it and keep it stopped on both nodes\n"
    "  relocate SERVICE [--to NODE]    move it (to the other node by default); no constraint stays behind\n"
    "  restart SERVICE                 stop and start it in place (on the node that runs it)\n"
    "  freeze SERVICE / unfreeze       stop monitoring and moving it / resume\n"
    "  reset SERVICE                   forget its failures (restart counts, hard errors)\n"
    "\n"
    "  --wait[=S]   wait until it took effect (default 60 s); exit 0 when it did, 8 when it timed out,\n"
    "               1 when the service failed\n"
    "  --socket P   svcmgr's socket (default /run/castor/svcmgr.sock)\n";

// svcmgr's reply to `line`, decoded by `parse`: a refusal keeps svcmgr's text; a reply that does not
// decode is Code::corrupt.
template <typename Parse>
auto ask(const std::string& socket, const std::string& line, Parse parse) -> decltype(parse(std::string_view())) {
  ASSIGN_OR_RETURN(std::string reply, ControlClient::ask(socket, line, std::chrono::seconds(10)));
  auto r = parse(reply);
  if (!r.ok() && r.status().code() != Code::refused)
    return Error(Code::corrupt, "unreadable reply from svcmgr: " + r.status().message());
  return r;
}

Result<ServicesReply> ask_services(const std::string& socket) { return ask(socket, "services", parse_services_reply); }

// An admin verb: svcmgr's message when it accepted it.
Result<std::string> ask_admin(const std::string& socket, const std::string& line) {
  return ask(socket, line, parse_admin_reply);
}

// Takes "--wait=S" out of argv (a plain "--wait" stays for the option parser).
Status take_wait_seconds(const std::vector<std::string>& argv, std::vector<std::string>& rest, std::optional<int>& wait_s) {
  for (const auto& a : argv) {
    if (a.rfind("--wait=", 0) == 0) {
      auto v = parse_int(a.substr(7), 1, 86400, "--wait");
      if (!v.ok()) return v.status();
      wait_s = int(*v);
    } else {
      rest.push_back(a);
    }
  }
  return Status::Ok();
}

std::optional<ServiceStatus> find_service(const ServicesReply& all, const std::string& name) {
  for (const auto& s : all.services)
    if (s.name == name) return s;
  return std::nullopt;
}

// Runs every OCF resource's validate-all here before a service is enabled (as Pacemaker validates
// before it starts): a service that cannot run is refused with the agent's own reason.
Status validate_here(const std::string& name, const std::string& dir) {
  LoadResult r = load_service_dir(dir, {});
  for (const auto& def : r.services) {
    if (def.name != name) continue;
    BootClock clock;
    for (const auto& res : def.resources) {
      if (res.kind != ResourceDefinition::AgentKind::ocf) continue;
      RunContext ctx;
      ctx.service = def.name;
      auto cmd = build_agent_command(res, AgentAction::validate, ctx);
      if (!cmd.ok()) return cmd.status().with_context("validating " + res.name);
      RETURN_IF_ERROR(check_agent_program(*cmd).with_context("validating " + res.name));
      auto out = run_agent(*cmd, clock);
      if (!out.ok()) return out.status().with_context("validating " + res.name);
      Classified c = classify(AgentKind::ocf, AgentAction::validate, *out);
      if (c.severity != Severity::ok)
        return Error(Code::refused, name + ": resource " + res.name + " does not validate here: " + c.text +
                                        " (fix it, or --no-validate)");
      std::cout << "validate-all " << name << "/" << res.name << ": ok\n";
    }
    return Status::Ok();
  }
  std::cerr << "castor: note: " << name << " is not defined in " << dir << " here: not validated\n";
  return Status::Ok();
}

}  // namespace

int cmd_service(const std::string& verb, const std::vector<std::string>& argv) {
  const std::vector<OptionSpec> spec = {{"--on", true},       {"--to", true},          {"--wait", false},
                                       {"--socket", true},   {"--services", true},    {"--no-validate", false}};
  auto args = parse_cli_args(argv, spec);
  std::vector<std::string> rest;
  std::optional<int> wait_s;
  if (Status st = take_wait_seconds(argv, rest, wait_s); !st.ok()) return report_error(verb, st);
  args = parse_cli_args(rest, spec);
  if (!args.ok()) return report_error(verb, args.status());
  if (args->has("--help")) {
    std::cout << kServiceHelp;
    return kExitOk;
  }
  if (args->has("--wait") && !wait_s) wait_s = 60;
  if (args->positional.size() != 1)
    return report_error(verb, Error(Code::invalid_argument, "expected one SERVICE (see castor " + verb + " --help)"));
  const std::string name = args->positional[0];
  if (!is_valid_service_name(name))
    return report_error(verb, Error(Code::invalid_argument, "'" + name + "' is not a valid service name (1-63 of [A-Za-z0-9._-], starting with a letter or digit)"));
  const std::string socket = args->value("--socket").value_or(kSvcmgrSocket);
  std::string node = args->value("--to").value_or(args->value("--on").value_or(""));
  if (args->value("--to") && verb != "relocate") return report_error(verb, Error(Code::invalid_argument, "--to goes with relocate"));
  if (args->value("--on") && verb != "enable") return report_error(verb, Error(Code::invalid_argument, "--on goes with enable"));

  auto before = ask_services(socket);
  if (!before.ok()) return report_error(verb, before.status());
  auto svc = find_service(*before, name);
  if (!svc) return report_error(verb, Error(Code::not_found, "no service named '" + name + "'"));
  const std::string old_owner = svc->owner;
  const uint64_t old_epoch = svc->epoch;
  if (verb == "relocate" && node.empty()) {
    if (old_owner.empty()) return report_error(verb, Error(Code::refused, name + " does not run anywhere: use enable"));
    node = old_owner == before->node ? before->peer : before->node;
  }
  if (verb == "enable" && !args->has("--no-validate")) {
    if (Status st = validate_here(name, args->value("--services").value_or(kDefaultServiceDir)); !st.ok())
      return report_error(verb, st);
  }
  auto r = ask_admin(socket, verb + " " + name + (node.empty() ? "" : " " + node));
  if (!r.ok()) return report_error(verb, r.status());
  std::cout << printable(*r) << "\n";
  if (!wait_s) return kExitOk;

  BootClock clock;
  const TimePoint start = clock.now(), deadline = start + std::chrono::seconds(*wait_s);
  std::string last = "no status";
  bool left_source = false;  // relocate: seen stopped or away from the node it ran on
  while (clock.now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now_all = ask_services(socket);
    if (!now_all.ok()) continue;
    auto s = find_service(*now_all, name);
    if (!s) continue;
    const std::string state = s->state, owner = s->owner;
    last = printable(state) + (owner.empty() ? "" : " on " + printable(owner));
    if (s->pending && s->pending_blocked) last += "; " + printable(*s->pending) + ", waiting: " + printable(*s->pending_blocked);
    bool done = false;
    if (verb == "disable") done = state == "disabled";
    else if (verb == "relocate") done = state == "started" && owner == node;
    else if (verb == "enable") done = state == "started" && (node.empty() || owner == node);
    else if (verb == "restart") done = state == "started" && s->restarts > svc->restarts;
    else done = true;  // freeze, unfreeze, reset take effect at once
    if (verb == "restart" && state == "started" && s->epoch == old_epoch && owner == old_owner &&
        s->restarts <= svc->restarts)
      done = false;
    if (done) {
      std::cout << printable(name) << ": " << last << " (" << format_duration(clock.now() - start) << ")\n";
      return kExitOk;
    }
    if (verb == "relocate") {
      if (state != "started" || owner != old_owner) left_source = true;
      // Back where it was, under a new grant: the target did not keep it (it failed there, or placement sent
      // it back). Said now rather than after the whole wait.
      if (left_source && state == "started" && owner == old_owner && owner != node && s->epoch > old_epoch) {
        std::string why = s->last_failure ? s->last_failure->reason : "";
        std::cerr << "castor relocate: " << printable(name) << " went back to " << printable(owner) << " instead of staying on "
                  << printable(node) << (why.empty() ? "" : " (last failure: " + printable(why) + ")")
                  << "; `castor history` says why\n";
        return kExitFailure;
      }
    }
    if (state == "failed" && verb != "disable") {
      std::string why = s->last_failure ? s->last_failure->reason : "";
      std::cerr << "castor " << verb << ": " << printable(name) << " failed: " << printable(why) << "\n";
      return kExitFailure;
    }
  }
  std::cerr << "castor " << verb << ": " << name << " did not get there within " << *wait_s << " s (now: " << last << ")\n";
  return kExitIo;
}

// The services part of `castor status`: empty string when svcmgr does not answer.
std::string services_status_text(const std::string& socket, bool as_json) {
  if (as_json) {  // svcmgr's reply as it sent it, once it decodes
    auto c = ControlClient::connect(socket, std::chrono::seconds(10));
    if (!c.ok()) return "";
    auto reply = c->request("services");
    return reply.ok() && parse_services_reply(*reply).ok() ? *reply : "";
  }
  auto all = ask_services(socket);
  if (!all.ok()) return "\nServices: svcmgr does not answer on " + socket + " (" + printable(all.status().message()) + ")\n";
  std::string out = "\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "  %-16s %-11s %-10s %-7s %-9s %s\n", "Service", "State", "Owner", "Epoch", "Restarts",
                "Last failure / pending");
  out += buf;
  for (const auto& s : all->services) {
    std::string note;
    if (s.last_failure)
      note = s.last_failure->reason + " (" + format_duration(Millis(s.last_failure->ago_ms)) + " ago)";
    if (s.pending) note += (note.empty() ? "" : "; ") + *s.pending + (s.pending_blocked ? " (waiting: " + *s.pending_blocked + ")" : "");
    if (s.peer_entry) note += (note.empty() ? "" : "; ") + std::string("peer: ") + *s.peer_entry;
    if (s.orphaned) note += (note.empty() ? "" : "; ") + *s.orphaned;
    // Every text from svcmgr shown escaped; the free-text note appended whole (a fixed buffer could cut a
    // character in two).
    const std::string name = printable(s.name), state = printable(s.state), owner = printable(s.owner);
    std::snprintf(buf, sizeof buf, "  %-16s %-11s %-10s %-7llu %-9s ", name.c_str(), state.c_str(),
                  owner.empty() ? "-" : owner.c_str(), static_cast<unsigned long long>(s.epoch),
                  (std::to_string(s.restarts) + "/" + std::to_string(s.max_restarts)).c_str());
    out += buf;
    out += printable(note) + "\n";
  }
  if (!all->definitions_match) out += "\n  WARNING: the two nodes hold different service definitions: moves are blocked\n";
  for (const auto& e : all->load_errors) out += "  definition error: " + printable(e) + "\n";
  return out;
}

}  // namespace castor

namespace castor {

// castor standby NODE / unstandby NODE: a node in standby runs no service (its services move to the peer,
// or stop if the peer cannot take them). Run on either node: for the peer, svcmgr carries the request in this
// node's heartbeat and the peer's svcmgr acts on it as on its own admin's.
int cmd_node(const std::string& verb, const std::vector<std::string>& argv) {
  std::vector<std::string> rest;
  std::optional<int> wait_s;
  if (Status st = take_wait_seconds(argv, rest, wait_s); !st.ok()) return report_error(verb, st);
  auto args = parse_cli_args(rest, {{"--wait", false}, {"--socket", true}});
  if (!args.ok()) return report_error(verb, args.status());
  if (args->has("--help")) {
    std::cout << "Usage: castor standby NODE [--wait[=S]] [--socket PATH] | castor unstandby NODE [--wait[=S]]\n"
                 "A node in standby runs no service: each moves to the peer (or stops if the peer cannot run it).\n"
                 "NODE is either node: the peer reads the request in this node's next heartbeat (it must be up\n"
                 "and run a Castor that takes requests). --wait returns once NODE is in standby, runs no service\n"
                 "and none is starting, stopping or recovering (standby), or is out of standby (unstandby).\n";
    return kExitOk;
  }
  if (args->has("--wait") && !wait_s) wait_s = 60;
  if (args->positional.size() != 1) return report_error(verb, Error(Code::invalid_argument, "expected one NODE"));
  const std::string node = args->positional[0];
  const std::string socket = args->value("--socket").value_or(kSvcmgrSocket);
  auto r = ask_admin(socket, verb + " " + node);
  if (!r.ok()) return report_error(verb, r.status());
  std::cout << printable(*r) << "\n";
  if (!wait_s) return kExitOk;
  const bool want = verb == "standby";
  BootClock clock;
  const TimePoint start = clock.now(), deadline = start + std::chrono::seconds(*wait_s);
  std::string unsettled;
  while (clock.now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto all = ask_services(socket);
    if (!all.ok()) continue;
    if (!want) {
      if (node == all->node ? all->standby : all->peer_standby) continue;
      std::cout << printable(node) << " is out of standby (" << format_duration(clock.now() - start) << ")\n";
      return kExitOk;
    }
    // Done once NODE runs nothing and every move it caused has settled, so that "standby --wait" then
    // "status" shows where each service landed.
    unsettled = standby_unsettled(*all, node).value_or("");
    if (unsettled.empty()) {
      std::cout << printable(node) << " is in standby and runs no service; its services have settled ("
                << format_duration(clock.now() - start) << ")\n";
      return kExitOk;
    }
  }
  std::cerr << "castor " << verb << ": " << printable(node)
            << (want ? " is not in standby with its services settled" : " is still in standby") << " after " << *wait_s
            << " s" << (unsettled.empty() ? "" : " (" + printable(unsettled) + ")") << "\n";
  return kExitIo;
}

}  // namespace castor
