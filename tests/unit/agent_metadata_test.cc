#include <doctest/doctest.h>

#include "agent/agent_metadata.h"

using namespace castor;

TEST_CASE("agent meta-data: default timings are read from <actions> and fill only what the file left out") {
  const std::string xml = R"(<?xml version="1.0"?>
<resource-agent name="Dummy" version="1.0">
<actions>
<action name="start"        timeout="20s" />
<action name="stop"         timeout="25s" />
<action name="monitor"      timeout="21s" interval="12s" depth="0"/>
<action name="monitor"      timeout="99s" interval="60s" depth="10"/>
<action name="meta-data"    timeout="5s" />
<action name="bogus" timeout="soon" />
</actions>
</resource-agent>)";
  AgentTimings t = parse_agent_timings(xml);
  REQUIRE(t.start_timeout);
  CHECK(*t.start_timeout == Millis(20000));
  CHECK(*t.stop_timeout == Millis(25000));
  CHECK(*t.monitor_timeout == Millis(21000));  // the first monitor action is the default one
  CHECK(*t.monitor_interval == Millis(12000));

  ResourceDefinition r;
  r.explicit_timings = ResourceDefinition::kStopTimeout;  // the file gave stop_timeout
  r.stop_timeout = Millis(3000);
  apply_agent_timings(r, t);
  CHECK(r.start_timeout == Millis(20000));
  CHECK(r.stop_timeout == Millis(3000));
  CHECK(r.monitor_interval == Millis(12000));

  CHECK_FALSE(parse_agent_timings("not xml at all").start_timeout);
}

// --- AgentMetadataFetcher: the same reading for svcmgr's event loop ---

#include <poll.h>
#include <sys/stat.h>

#include <fstream>

#include "config/service_loader.h"
#include "tests/support/scratch.h"

namespace {

// Polls `f` (its descriptors, its deadline) until nothing is in flight; false after `limit`.
bool settle(AgentMetadataFetcher& f, Duration limit = std::chrono::seconds(10)) {
  BootClock clock;
  const TimePoint until = clock.now() + limit;
  while (f.in_flight() > 0) {
    if (clock.now() >= until) return false;
    std::vector<pollfd> p;
    for (int fd : f.fds()) p.push_back({fd, POLLIN, 0});
    (void)::poll(p.data(), p.size(), 20);
    for (const auto& x : p)
      if (x.revents) f.on_ready(x.fd);
    f.poll(clock.now());
  }
  return true;
}

ServiceDefinition ocf_service(const std::string& name, const std::string& type, const std::string& extra = "") {
  LoadResult r = load_service_text("[service]\nname = " + name + "\nnodes = alpha, beta\n[resource r]\nagent = ocf:test:" +
                                       type + "\n" + extra,
                                   name + ".ini", {});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  return r.services[0];
}

void write_agent(const std::string& path, const std::string& body) {
  std::ofstream(path) << body;
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
}

}  // namespace

TEST_CASE("agent meta-data fetcher: runs each agent once without blocking, applies its timings; a failure is said once") {
  testing::ScratchDir dir;
  const std::string ocf = dir.file("ocf"), count = dir.file("count");
  REQUIRE(testing::run_command("mkdir -p " + ocf + "/resource.d/test && chmod 0755 " + dir.path() + " " + ocf + " " + ocf +
                               "/resource.d " + ocf + "/resource.d/test") == 0);
  write_agent(ocf + "/resource.d/test/Good",
              "#!/bin/sh\necho x >> " + count + "\nsleep 0.3\n"
              "echo '<resource-agent><actions><action name=\"start\" timeout=\"41s\"/>"
              "<action name=\"monitor\" timeout=\"43s\" interval=\"17s\"/></actions></resource-agent>'\n");
  write_agent(ocf + "/resource.d/test/Bad", "#!/bin/sh\nexit 1\n");

  AgentMetadataFetcher f(ocf);
  ServiceDefinition a = ocf_service("a", "Good"), b = ocf_service("b", "Good", "monitor_interval = 5s\n");
  BootClock clock;
  const TimePoint t0 = clock.now();
  CHECK_FALSE(f.request(a, clock.now()));
  CHECK_FALSE(f.request(b, clock.now()));  // the same agent: not run twice
  CHECK(clock.now() - t0 < Duration(std::chrono::milliseconds(200)));  // never waits for the agent's 0.3 s
  CHECK(f.in_flight() == 1);
  CHECK_FALSE(f.ready(a));
  REQUIRE(settle(f));
  CHECK(f.ready(a));
  CHECK(f.ready(b));
  CHECK(f.apply(a).empty());
  CHECK(a.resources[0].start_timeout == Millis(41000));
  CHECK(a.resources[0].monitor_timeout == Millis(43000));
  CHECK(a.resources[0].monitor_interval == Millis(17000));
  CHECK(f.apply(b).empty());
  CHECK(b.resources[0].monitor_interval == Millis(5000));  // the file's own value stays
  // Asked again (a reload, a changed definition): read already, not run again.
  CHECK(f.request(ocf_service("a", "Good"), clock.now()));
  CHECK(f.in_flight() == 0);
  std::string runs;
  REQUIRE(testing::run_command("wc -l < " + count, &runs) == 0);
  CHECK(std::stoi(runs) == 1);

  // A failing agent: Castor's defaults, said by the first apply() only, and never run again either.
  ServiceDefinition c = ocf_service("c", "Bad");
  CHECK_FALSE(f.request(c, clock.now()));
  REQUIRE(settle(f));
  const Millis default_start = c.resources[0].start_timeout;
  CHECK(f.apply(c) == "test:Bad: meta-data failed; ");
  CHECK(c.resources[0].start_timeout == default_start);
  CHECK(f.apply(c).empty());
  CHECK(f.request(c, clock.now()));
  CHECK(f.in_flight() == 0);
}
