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
