#include "agent/fence_agent.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "common/errno_status.h"
#include "common/ini_reader.h"
#include "common/trusted_path.h"
#include "common/trusted_program.h"
#include "common/unique_fd.h"

namespace castor {
namespace {

constexpr size_t kMaxPasswordBytes = 4096;

// The first line of a root-only file: the fence device's password.
Result<std::string> read_password_file(const std::string& path) {
  ASSIGN_OR_RETURN(TrustedObject t, check_trusted_path(path));
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return errno_status("open (fence password file)", path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return errno_status("fstat (fence password file)", path);
  if (st.st_dev != t.st.st_dev || st.st_ino != t.st.st_ino)
    return Error(Code::refused, path + ": changed while it was checked");
  if (!S_ISREG(st.st_mode)) return Error(Code::refused, path + ": not a regular file");
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    return Error(Code::refused, path + ": mode " + mode +
                                    ": a fence password file must be readable by root only (chmod 600)");
  }
  if (st.st_size > off_t(kMaxPasswordBytes)) return Error(Code::refused, path + ": longer than 4 KiB");
  std::string text(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("read (fence password file)", path);
    if (n == 0) break;
    got += size_t(n);
  }
  text.resize(got);
  const size_t nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return Error(Code::refused, path + ": empty (its first line is the password)");
  if (text.find('\0') != std::string::npos) return Error(Code::refused, path + ": holds a NUL byte");
  return text;
}

}  // namespace

const char* fence_agent_action_name(FenceAgentAction a) {
  switch (a) {
    case FenceAgentAction::off: return "off";
    case FenceAgentAction::on: return "on";
    case FenceAgentAction::status: return "status";
    case FenceAgentAction::monitor: return "monitor";
    case FenceAgentAction::reboot: return "reboot";
    case FenceAgentAction::metadata: return "metadata";
  }
  return "?";
}

Result<AgentCommand> fence_agent_command(const FenceDeviceConfig& device, FenceAgentAction action) {
  const std::string path = device.agent_path();
  RETURN_IF_ERROR(check_trusted_program(path).with_context("fence agent of " + device.node));
  AgentCommand c;
  c.argv = {path};
  c.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"};
  c.timeout = device.timeout;
  c.kill_grace = std::chrono::seconds(2);
  // The stale bound of a fence intent (power_fencer.h) counts on each call ending within its round even when
  // quorumd is frozen and cannot send the SIGTERM: the agent ends itself a second after the grace.
  c.hard_limit = device.timeout + c.kill_grace + std::chrono::seconds(1);
  std::string in = std::string("action=") + fence_agent_action_name(action) + "\n";
  if (action != FenceAgentAction::metadata) {
    for (const auto& [k, v] : device.options) in += k + "=" + v + "\n";
    if (device.password_file) {
      ASSIGN_OR_RETURN(std::string pw, read_password_file(*device.password_file));
      in += "password=" + pw + "\n";
    }
  }
  c.stdin_data = std::move(in);
  if (action == FenceAgentAction::metadata) c.keep_output_bytes = 256 * 1024;  // the whole document
  return c;
}

FenceAgentResult interpret_fence_outcome(FenceAgentAction action, const AgentOutcome& o) {
  const std::string name = fence_agent_action_name(action);
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f s", std::chrono::duration<double>(o.elapsed).count());
  const std::string line = last_output_line(o.output_tail);
  auto failed = [&](const std::string& why) {
    return FenceAgentResult{FenceVerdict::failed, name + ": failed after " + secs + " (" + why + ")"};
  };
  if (o.timed_out) return failed("timed out after " + format_duration(o.timeout));
  if (o.signal != 0) return failed("killed by signal " + std::to_string(o.signal));
  const std::string detail = line.empty() ? "" : ": " + line;
  if (action == FenceAgentAction::status) {
    if (o.exit_code == 0) return {FenceVerdict::power_on, name + ": on (" + secs + ")"};
    if (o.exit_code == 2) return {FenceVerdict::power_off, name + ": off (" + secs + ")"};
    return failed("exit " + std::to_string(o.exit_code) + detail);
  }
  if (o.exit_code == 0) return {FenceVerdict::done, name + ": done in " + secs};
  return failed("exit " + std::to_string(o.exit_code) + detail);
}

std::set<std::string> parse_fence_metadata_parameters(std::string_view xml) {
  std::set<std::string> out;
  constexpr std::string_view kTag = "<parameter ";
  for (size_t pos = xml.find(kTag); pos != std::string_view::npos; pos = xml.find(kTag, pos + 1)) {
    const size_t end = xml.find('>', pos);
    if (end == std::string_view::npos) break;
    const std::string_view tag = xml.substr(pos, end - pos);
    for (std::string_view attr : {std::string_view("name=\""), std::string_view("obsoletes=\"")}) {
      size_t a = tag.find(attr);
      if (a == std::string_view::npos || (a > 0 && tag[a - 1] != ' ')) continue;
      a += attr.size();
      const size_t q = tag.find('"', a);
      if (q != std::string_view::npos && q > a) out.emplace(tag.substr(a, q - a));
    }
  }
  return out;
}

std::optional<std::string> fence_metadata_default(std::string_view xml, std::string_view parameter) {
  const std::string open = "<parameter name=\"" + std::string(parameter) + "\"";
  const size_t pos = xml.find(open);  // the name's closing quote is in `open`: no longer name matches
  if (pos == std::string_view::npos) return std::nullopt;
  const size_t close = xml.find("</parameter>", pos);
  const std::string_view body = xml.substr(pos, close == std::string_view::npos ? std::string_view::npos : close - pos);
  const size_t content = body.find("<content ");
  if (content == std::string_view::npos) return std::nullopt;
  const std::string_view tag = body.substr(content, body.find('>', content) - content);
  constexpr std::string_view kDefault = " default=\"";
  const size_t d = tag.find(kDefault);
  if (d == std::string_view::npos) return std::nullopt;
  const size_t from = d + kDefault.size(), q = tag.find('"', from);
  if (q == std::string_view::npos) return std::nullopt;
  return std::string(tag.substr(from, q - from));
}

int fence_agent_power_wait_s(const FenceDeviceConfig& device, std::string_view xml) {
  std::optional<std::string> v;
  for (const auto& [name, value] : device.options)
    if (name == "power_wait") v = value;
  if (!v) v = fence_metadata_default(xml, "power_wait");
  if (!v) return 0;
  int s = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') break;  // fencing.py takes int(): "2", "4"; nothing else is expected here
    s = s * 10 + (c - '0');
    if (s > 3600) break;
  }
  return s;
}

namespace {

// Agents whose "off" leaves the node running: fabric fences (a SCSI reservation removed), a poison pill, a
// human's acknowledgement, test agents. Their confirmation proves nothing about what the node still runs.
constexpr std::string_view kNotPowerFences[] = {"fence_scsi",    "fence_mpath", "fence_sbd",
                                                "fence_dummy",   "fence_ack_manual", "fence_kdump",
                                                "fence_heuristics_ping"};

std::string agent_basename(const std::string& agent) {
  const size_t slash = agent.rfind('/');
  return slash == std::string::npos ? agent : agent.substr(slash + 1);
}

}  // namespace

Status check_power_fence_metadata(const FenceDeviceConfig& device, std::string_view xml) {
  // Fabric fences declare an automatic unfencing: <action name="on" on_target="1" automatic="1"/>.
  constexpr std::string_view kTag = "<action ";
  for (size_t pos = xml.find(kTag); pos != std::string_view::npos; pos = xml.find(kTag, pos + 1)) {
    const size_t end = xml.find('>', pos);
    if (end == std::string_view::npos) break;
    const std::string_view tag = xml.substr(pos, end - pos);
    if (tag.find("name=\"on\"") != std::string_view::npos && tag.find("on_target=\"1\"") != std::string_view::npos &&
        tag.find("automatic=\"1\"") != std::string_view::npos)
      return Error(Code::invalid_argument,
                   device.file + ":" + std::to_string(device.line) + ": [fence " + device.node + "]: " + device.agent +
                       " is a fabric fence (its metadata declares unfencing): its off leaves the node running, so "
                       "its confirmation cannot let the peer take over; Castor takes power fences only");
  }
  return Status::Ok();
}

Status check_fence_options(const FenceDeviceConfig& device, const std::set<std::string>& parameters) {
  std::vector<std::string_view> known(parameters.begin(), parameters.end());
  std::string errors;
  auto add = [&](const std::string& e) { errors += (errors.empty() ? "" : "; ") + e; };
  const std::string where = device.file + ":" + std::to_string(device.line) + ": [fence " + device.node + "]";
  for (std::string_view bad : kNotPowerFences)
    if (agent_basename(device.agent) == bad)
      add(where + ": " + device.agent + " is not a power fence (its off leaves the node running, or powers "
                  "nothing): Castor takes over at once only on a confirmed power-off");
  for (const auto& [k, v] : device.options)
    if (!parameters.count(k))
      add(where + ": option." + k + " is not an option of " + device.agent + " (its metadata does not list it; "
                  "the agent would ignore it)" + ini_did_you_mean(k, known));
  if (device.password_file && !parameters.count("password"))
    add(where + ": password_file is given but " + device.agent + " takes no password");
  if (!errors.empty()) return Error(Code::invalid_argument, errors);
  return Status::Ok();
}

}  // namespace castor
