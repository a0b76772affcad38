// A path whose object does not exist yet in a directory others can write to (a sticky one, like /tmp,
// is accepted on the way) is not "not installed": anyone may create it between the check and the open
// or exec. check_agent_program let such an agent program through as "not installed" (spawn then says
// so), so a local user creating /tmp/agent right after the check got it executed as root.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>

#include "agent/agent_command_builder.h"
#include "common/trusted_path.h"
#include "tests/support/scratch.h"

using namespace castor;

TEST_CASE("trusted path: a missing object in a directory others can write to (sticky) is refused, not 'not found'") {
  testing::ScratchDir dir;
  const std::string sticky = dir.file("sticky"), plain = dir.file("plain");
  REQUIRE(::mkdir(sticky.c_str(), 0755) == 0);
  REQUIRE(::chmod(sticky.c_str(), 01777) == 0);
  REQUIRE(::mkdir(plain.c_str(), 0755) == 0);

  auto t = check_trusted_path(sticky + "/agent");
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == Code::refused);
  CHECK(t.status().message().find("does not exist") != std::string::npos);

  AgentCommand cmd;
  cmd.argv = {sticky + "/agent"};
  Status st = check_agent_program(cmd);
  CHECK_FALSE(st.ok());
  CHECK(st.code() == Code::refused);

  // In a directory only root can write to, a missing program is still just not installed.
  auto p = check_trusted_path(plain + "/agent");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::not_found);
  cmd.argv = {plain + "/agent"};
  CHECK(check_agent_program(cmd).ok());
  // A missing directory inside the sticky one: the same (anyone could create it).
  auto d = check_trusted_path(sticky + "/sub/agent");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::refused);
}
