#include "tests/support/file_fence_agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace castor::testing {

std::string write_file_fence_agent(const std::string& dir) {
  const std::string path = dir + "/fence_file";
  std::ofstream f(path);
  f << "#!/bin/sh\n"
       "D=" << dir << "\n"
       "action=\n"
       "while IFS= read -r line; do case \"$line\" in action=*) action=${line#action=};; esac; done\n"
       "echo $$ > $D/$action.pid.tmp; mv $D/$action.pid.tmp $D/$action.pid\n"
       "case \"$action\" in\n"
       "metadata) echo '<?xml version=\"1.0\" ?><resource-agent name=\"fence_file\"><parameters>"
       "<parameter name=\"ip\" unique=\"0\"><content type=\"string\"/></parameter></parameters><actions>"
       "<action name=\"on\"/><action name=\"off\"/><action name=\"status\"/><action name=\"metadata\"/>"
       "</actions></resource-agent>'; exit 0;;\n"
       "status) while [ -e $D/hold ] || { [ -e $D/off ] && [ -e $D/hold-confirm ]; }; do sleep 0.005; done\n"
       "  if [ -e $D/off ]; then exit 2; else exit 0; fi;;\n"
       "off) while [ -e $D/hold-off ]; do sleep 0.005; done; : > $D/off; exit 0;;\n"
       "on) rm -f $D/off; exit 0;;\n"
       "esac\n"
       "exit 1\n";
  f.close();
  ::chmod(path.c_str(), 0755);
  return path;
}

FenceDeviceConfig file_fence_device(const std::string& node, const std::string& agent, Duration timeout) {
  FenceDeviceConfig d;
  d.node = node;
  d.agent = agent;
  d.retries = 0;
  d.timeout = timeout;
  d.settle = std::chrono::milliseconds(100);
  d.file = "castor.ini";
  d.line = node == "alpha" ? 1 : 10;
  return d;
}

void give_both_fences(Cluster& c, const std::string& dir_alpha, const std::string& dir_beta, Duration timeout) {
  const FenceDeviceConfig alpha = file_fence_device("alpha", write_file_fence_agent(dir_alpha), timeout);
  const FenceDeviceConfig beta = file_fence_device("beta", write_file_fence_agent(dir_beta), timeout);
  for (Node* n : {&c.beta(), &c.alpha()}) n->config.fence = {alpha, beta};
}

bool fence_each_other(Cluster& c, const std::string& dir_alpha, const std::string& dir_beta, Duration timeout,
                      bool beta_without_watchdog) {
  give_both_fences(c, dir_alpha, dir_beta, timeout);
  c.alpha().config.watchdog_device = "none";
  if (beta_without_watchdog) c.beta().config.watchdog_device = "none";
  if (!c.restart(c.beta()).ok() || !c.restart(c.alpha()).ok()) return false;
  return c.run_until([&] {
    return has_lease(c, c.alpha()) && has_lease(c, c.beta()) && sees(c.alpha(), PeerView::up) &&
           sees(c.beta(), PeerView::up) && c.beta().daemon->core().peer().no_dead_time() &&
           (!beta_without_watchdog || c.alpha().daemon->core().peer().no_dead_time());
  }, std::chrono::seconds(5));
}

bool alpha_fences_beta(Cluster& c, const std::string& agent) {
  c.alpha().config.fence.push_back(file_fence_device("beta", agent));
  if (!c.restart(c.alpha()).ok()) return false;
  const bool up = c.run_until([&] {
    return has_lease(c, c.alpha()) && sees(c.alpha(), PeerView::up) && sees(c.beta(), PeerView::up);
  }, std::chrono::seconds(5));
  c.run_for(std::chrono::milliseconds(300));
  return up;
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string fence_phase(Cluster& c, Node& n) { return c.status(n)["power_fence"]["phase"].get<std::string>(); }

}  // namespace castor::testing
