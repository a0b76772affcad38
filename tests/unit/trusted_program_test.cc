// Trusted programs (review14b finding 3): a script's '#!' interpreter, and the program '#!/usr/bin/env NAME'
// runs, are held to the trusted-path rule like the program itself; the program a shell line starts when it
// is an absolute path.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "common/trusted_program.h"
#include "config/service_definition.h"
#include "config/service_loader.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;

namespace {

void script(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
}

void dir(const std::string& path, mode_t mode) {
  REQUIRE(::mkdir(path.c_str(), 0755) == 0);
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

// bin/ctl (a trusted directory) is a script whose #! interpreter is app/python, in a directory anyone can
// write to (0777): "#!<d>/app/python<args>".
void script_with_untrusted_interpreter(const ScratchDir& d, const std::string& args) {
  dir(d.file("app"), 0777);
  dir(d.file("bin"), 0755);
  script(d.file("app/python"), "#!/bin/sh\n");
  script(d.file("bin/ctl"), "#!" + d.file("app/python") + args + "\n");
}

}  // namespace

TEST_CASE("trusted program: a binary, and a script with a trusted interpreter, pass") {
  ScratchDir d;
  dir(d.file("bin"), 0755);
  script(d.file("bin/ctl"), "#!/bin/sh\nexit 0\n");
  CHECK(check_trusted_program(d.file("bin/ctl")).ok());
  script(d.file("bin/ctl2"), "#! /bin/sh -e\nexit 0\n");  // blanks after #!, an argument
  CHECK(check_trusted_program(d.file("bin/ctl2")).ok());
  CHECK(check_trusted_program("/bin/sh").ok());
  CHECK(check_trusted_program(d.file("bin/missing")).code() == Code::not_found);
  script(d.file("bin/gone"), "#!" + d.file("bin/no-such-interpreter") + "\n");  // nothing can run: not refused
  CHECK(check_trusted_program(d.file("bin/gone")).ok());
}

TEST_CASE("trusted program: an interpreter others can change is refused, also nested") {
  ScratchDir d;
  script_with_untrusted_interpreter(d, " -u");
  Status st = check_trusted_program(d.file("bin/ctl"));
  CHECK(st.code() == Code::refused);
  CHECK(st.message().find("interpreter") != std::string::npos);
  // Through a trusted interpreter that is itself a script of an untrusted one.
  script(d.file("bin/wrapper"), "#!" + d.file("app/python") + "\n");
  script(d.file("bin/ctl3"), "#!" + d.file("bin/wrapper") + "\n");
  CHECK(check_trusted_program(d.file("bin/ctl3")).code() == Code::refused);
  // An interpreter in a directory others can write to, not there yet: anyone could create it.
  script(d.file("bin/ctl4"), "#!" + d.file("app/later") + "\n");
  CHECK(check_trusted_program(d.file("bin/ctl4")).code() == Code::refused);
}

TEST_CASE("trusted program: #!/usr/bin/env NAME checks what env would run along the agents' PATH") {
  ScratchDir d;
  dir(d.file("open"), 0777);
  dir(d.file("bin"), 0755);
  script(d.file("bin/tool"), "#!/bin/sh\n");
  script(d.file("bin/ctl"), "#!/usr/bin/env tool\n");
  CHECK(check_trusted_program(d.file("bin/ctl"), d.file("bin")).ok());
  // A directory others can write to earlier in the PATH: anyone can plant 'tool' there.
  CHECK(check_trusted_program(d.file("bin/ctl"), d.file("open") + ":" + d.file("bin")).code() == Code::refused);
  // The program itself others can change.
  script(d.file("open/tool"), "#!/bin/sh\n");
  CHECK(check_trusted_program(d.file("bin/ctl"), d.file("open")).code() == Code::refused);
  // Options and assignments are skipped (env -S splits them); a path is checked as a path.
  script(d.file("bin/ctl5"), "#!/usr/bin/env -S A=1 -u B " + d.file("open/tool") + " -x\n");
  CHECK(check_trusted_program(d.file("bin/ctl5"), d.file("bin")).code() == Code::refused);
  script(d.file("bin/ctl6"), "#!/usr/bin/env -S A=1 tool\n");
  CHECK(check_trusted_program(d.file("bin/ctl6"), d.file("bin")).ok());
  // Nowhere on the PATH: env fails, nothing runs.
  script(d.file("bin/ctl7"), "#!/usr/bin/env no-such-tool\n");
  CHECK(check_trusted_program(d.file("bin/ctl7"), d.file("bin")).ok());
}

TEST_CASE("trusted program: the program a shell line starts") {
  CHECK(shell_line_program("/opt/app/ctl start") == "/opt/app/ctl");
  CHECK(shell_line_program("  /opt/app/ctl;rm -f x") == "/opt/app/ctl");
  CHECK(shell_line_program("/opt/app/ctl>/dev/null") == "/opt/app/ctl");
  CHECK(shell_line_program("touch /tmp/x") == "");  // a PATH lookup: the author's responsibility
  CHECK(shell_line_program("\"/opt/my app/ctl\" start") == "");
  CHECK(shell_line_program("/opt/$APP/ctl") == "");
  CHECK(shell_line_program("") == "");
}

// castor check --agents reports what svcmgr refuses: an untrusted interpreter, and with shell = yes an
// untrusted program a line starts.
TEST_CASE("trusted program: check_agents_exist reports an untrusted #! interpreter and shell-line program") {
  ScratchDir d;
  script_with_untrusted_interpreter(d, "");
  script(d.file("app/ctl"), "#!/bin/sh\n");
  const std::string head = "[service]\nname = app\nnodes = a, b\n\n[resource r]\nagent = exec\n";
  LoadResult r = load_service_text(head + "start = " + d.file("bin/ctl") + " start\nstop = " + d.file("bin/ctl") + " stop\n",
                                   "/etc/castor/services.d/app.ini", {"a", "b"});
  REQUIRE(r.ok());
  std::vector<LoadError> errs = check_agents_exist(r.services[0]);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].message.find("interpreter") != std::string::npos);
  LoadResult s = load_service_text(head + "shell = yes\nstart = " + d.file("app/ctl") + " start\nstop = true\n",
                                   "/etc/castor/services.d/app.ini", {"a", "b"});
  REQUIRE(s.ok());
  errs = check_agents_exist(s.services[0]);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].message.find("start command") != std::string::npos);
}
