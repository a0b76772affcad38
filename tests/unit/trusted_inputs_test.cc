// Trusted inputs (issue 14): what Castor reads or runs as root must be changeable by root alone.
// common/trusted_path, and its callers: the service loader, castor.ini (quorumd, svcmgr), agent programs,
// the control socket's directory. Cases needing another owner (chown) run only as root.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "agent/agent_command_builder.h"
#include "agent/agent_metadata.h"
#include "common/trusted_path.h"
#include "config/quorumd_config.h"
#include "config/service_definition.h"
#include "config/service_loader.h"
#include "config/svcmgr_config.h"
#include "control/control_server.h"
#include "tests/support/scratch.h"

using namespace castor;

namespace {

const char* kWhy = "; only root may be able to change a file Castor runs";

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  { std::ofstream(path) << text; }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

void make_dir(const std::string& path, mode_t mode) {
  REQUIRE(::mkdir(path.c_str(), 0700) == 0);
  REQUIRE(::chmod(path.c_str(), mode) == 0);  // chmod: not subject to the umask
}

const char* kService = "[service]\nname = web\nnodes = alpha, beta\n[resource r]\nagent = exec\nstart = /bin/true\nstop = /bin/true\n";

std::string refused_message(const std::string& path) {
  auto t = check_trusted_path(path);
  if (t.ok()) return "(trusted)";
  return std::string(code_name(t.status().code())) + ": " + t.status().message();
}

}  // namespace

TEST_CASE("trusted path: mode 0644 in private directories is trusted; group or other write is refused") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string f = dir.file("web.ini");
  write_file(f, kService, 0644);
  auto t = check_trusted_path(f);
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  CHECK(t->resolved == f);

  write_file(f, kService, 0664);
  CHECK(refused_message(f) == "refused: " + f + ": writable by group (mode 0664)" + kWhy);
  write_file(f, kService, 0646);
  CHECK(refused_message(f) == "refused: " + f + ": writable by others (mode 0646)" + kWhy);
  write_file(f, kService, 0666);
  CHECK(refused_message(f) == "refused: " + f + ": writable by group and others (mode 0666)" + kWhy);

  // The same through a relative path and "..".
  write_file(f, kService, 0644);
  make_dir(dir.file("sub"), 0755);
  // Back to the working directory the binary started in, not "/": later tests read the source tree's
  // files (etc/castor.ini) relative to it.
  char started_in[4096];
  REQUIRE(::getcwd(started_in, sizeof started_in) != nullptr);
  REQUIRE(::chdir(dir.path().c_str()) == 0);
  CHECK(check_trusted_path("sub/../web.ini").ok());
  write_file(f, kService, 0620);
  CHECK(refused_message("sub/../web.ini") == "refused: sub/../web.ini: writable by group (mode 0620)" + std::string(kWhy));
  REQUIRE(::chdir(started_in) == 0);
}

TEST_CASE("trusted path: a directory on the way that others can write to is refused; a root sticky one is not") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string open_dir = dir.file("open");
  make_dir(open_dir, 0777);
  write_file(open_dir + "/web.ini", kService, 0644);
  CHECK(refused_message(open_dir + "/web.ini") ==
        "refused: " + open_dir + "/web.ini: directory " + open_dir + " is writable by group and others (mode 0777)" + kWhy);
  make_dir(dir.file("group"), 0775);
  write_file(dir.file("group") + "/web.ini", kService, 0644);
  CHECK(has(refused_message(dir.file("group/web.ini")), "directory " + dir.file("group") + " is writable by group (mode 0775)"));

  // Sticky like /tmp: acceptable on the way (nobody else can replace a root entry there)...
  const std::string sticky = dir.file("sticky");
  make_dir(sticky, 01777);
  write_file(sticky + "/web.ini", kService, 0644);
  CHECK(check_trusted_path(sticky + "/web.ini").ok());
  // ...but never as the object itself: /tmp is no services directory.
  CHECK(refused_message(sticky) == "refused: " + sticky + ": writable by group and others (mode 1777)" + kWhy);
  // And the object inside must still be root's alone.
  write_file(sticky + "/web.ini", kService, 0664);
  CHECK(has(refused_message(sticky + "/web.ini"), "writable by group (mode 0664)"));
}

TEST_CASE("trusted path: a symlink to a trusted file, placed in a directory others can write to, is refused") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string target = dir.file("real.ini");
  write_file(target, kService, 0644);
  make_dir(dir.file("open"), 0777);
  const std::string link = dir.file("open/web.ini");
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  CHECK(refused_message(link) ==
        "refused: " + link + ": directory " + dir.file("open") + " is writable by group and others (mode 0777)" + kWhy);

  // A trusted symlink (in a trusted directory) to a file in an open directory: the target's way counts too.
  write_file(dir.file("open/real2.ini"), kService, 0644);
  const std::string link2 = dir.file("web2.ini");
  REQUIRE(::symlink("open/real2.ini", link2.c_str()) == 0);
  CHECK(has(refused_message(link2), "directory " + dir.file("open") + " is writable by group and others"));

  // A trusted symlink to a trusted file: fine, resolved.
  const std::string link3 = dir.file("web3.ini");
  REQUIRE(::symlink("real.ini", link3.c_str()) == 0);
  auto t = check_trusted_path(link3);
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  CHECK(t->resolved == target);
  // A symlink loop is an error, not a hang.
  REQUIRE(::symlink("loop2", dir.file("loop1").c_str()) == 0);
  REQUIRE(::symlink("loop1", dir.file("loop2").c_str()) == 0);
  CHECK(has(refused_message(dir.file("loop1")), "more than 40 symlinks"));
}

TEST_CASE("trusted path: a file, directory or symlink owned by another user is refused (root)" *
          doctest::skip(::geteuid() != 0)) {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string f = dir.file("web.ini");
  write_file(f, kService, 0644);
  REQUIRE(::chown(f.c_str(), 65534, 65534) == 0);
  CHECK(refused_message(f) == "refused: " + f + ": owned by uid 65534, not root" + kWhy);

  // A user's own directory (mode 0755, but theirs): a root-owned symlink in it to a trusted file is refused.
  const std::string target = dir.file("real.ini");
  write_file(target, kService, 0644);
  make_dir(dir.file("user"), 0755);
  REQUIRE(::chown(dir.file("user").c_str(), 65534, 65534) == 0);
  REQUIRE(::symlink(target.c_str(), dir.file("user/web.ini").c_str()) == 0);
  CHECK(refused_message(dir.file("user/web.ini")) ==
        "refused: " + dir.file("user/web.ini") + ": directory " + dir.file("user") + " is owned by uid 65534, not root" + kWhy);

  // A symlink owned by another user (in a trusted directory) is refused too.
  const std::string link = dir.file("link.ini");
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  REQUIRE(::lchown(link.c_str(), 65534, 65534) == 0);
  CHECK(refused_message(link) == "refused: " + link + ": symlink " + link + " is owned by uid 65534, not root" + kWhy);

  // A sticky directory owned by a user is no /tmp.
  make_dir(dir.file("usersticky"), 01777);
  REQUIRE(::chown(dir.file("usersticky").c_str(), 65534, 65534) == 0);
  write_file(dir.file("usersticky/web.ini"), kService, 0644);
  CHECK(has(refused_message(dir.file("usersticky/web.ini")), "is owned by uid 65534, not root"));

  // The service loader says the same.
  LoadResult r = load_service_file(f, {"alpha", "beta"});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == f + ": owned by uid 65534, not root" + kWhy);
  CHECK(r.services.empty());
}

TEST_CASE("service loader: a group-writable service file is refused and the others still load") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string sd = dir.file("services.d");
  make_dir(sd, 0755);
  write_file(sd + "/web.ini", kService, 0664);
  std::string db = kService;
  db.replace(db.find("name = web"), 10, "name = db");
  write_file(sd + "/db.ini", db, 0644);

  LoadResult one = load_service_file(sd + "/web.ini", {"alpha", "beta"});
  REQUIRE(one.errors.size() == 1);
  CHECK(one.errors[0].to_string() == sd + "/web.ini: writable by group (mode 0664)" + kWhy);
  CHECK(one.services.empty());

  LoadResult all = load_service_dir(sd, {"alpha", "beta"});
  REQUIRE(all.errors.size() == 1);
  CHECK(all.errors[0].to_string() == sd + "/web.ini: writable by group (mode 0664)" + kWhy);
  REQUIRE(all.services.size() == 1);
  CHECK(all.services[0].name == "db");

  // The same file fixed loads.
  REQUIRE(::chmod((sd + "/web.ini").c_str(), 0644) == 0);
  CHECK(load_service_dir(sd, {"alpha", "beta"}).services.size() == 2);

  // A services directory others can write to: nothing in it is loaded.
  REQUIRE(::chmod(sd.c_str(), 0777) == 0);
  all = load_service_dir(sd, {"alpha", "beta"});
  REQUIRE(all.errors.size() == 1);
  CHECK(all.errors[0].to_string() == sd + ": writable by group and others (mode 0777)" + kWhy);
  CHECK(all.services.empty());
  // A symlink to a trusted file, in a world-writable directory.
  REQUIRE(::chmod(sd.c_str(), 0755) == 0);
  make_dir(dir.file("open"), 0777);
  REQUIRE(::symlink((sd + "/db.ini").c_str(), dir.file("open/db.ini").c_str()) == 0);
  one = load_service_file(dir.file("open/db.ini"), {"alpha", "beta"});
  REQUIRE(one.errors.size() == 1);
  CHECK(has(one.errors[0].message, "directory " + dir.file("open") + " is writable by group and others (mode 0777)"));
}

TEST_CASE("agent programs: one others (or group) can write to is refused before it runs, and by castor check") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string prog = dir.file("start.sh");
  write_file(prog, "#!/bin/sh\nexit 0\n", 0755);
  AgentCommand c;
  c.argv = {prog, "start"};
  CHECK(check_agent_program(c).ok());
  write_file(prog, "#!/bin/sh\nexit 0\n", 0757);
  Status st = check_agent_program(c);
  CHECK(st.code() == Code::refused);
  CHECK(st.message() == "agent program: " + prog + ": writable by others (mode 0757)" + kWhy);
  // A missing program is left to the spawn, which reports it as not installed.
  c.argv = {dir.file("missing"), "start"};
  CHECK(check_agent_program(c).ok());

  // castor check --agents (check_agents_exist) reports the same.
  const std::string sd = dir.file("services.d");
  make_dir(sd, 0755);
  std::string text = kService;
  text.replace(text.find("start = /bin/true"), 17, "start = " + prog);
  write_file(sd + "/web.ini", text, 0644);
  LoadResult r = load_service_dir(sd, {});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  std::vector<LoadError> errs = check_agents_exist(r.services[0]);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].to_string() == sd + "/web.ini:4: resource 'r': start command " + prog + ": writable by others (mode 0757)" + kWhy);
}

TEST_CASE("agent programs: svcmgr does not run meta-data of an OCF agent others can write to") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string ocf = dir.file("ocf");
  make_dir(ocf, 0755);
  make_dir(ocf + "/resource.d", 0755);
  make_dir(ocf + "/resource.d/test", 0755);
  const std::string agent = ocf + "/resource.d/test/Agent", ran = dir.file("ran");
  write_file(agent, "#!/bin/sh\ntouch " + ran + "\necho '<resource-agent/>'\n", 0757);
  LoadResult r = load_service_text("[service]\nname = web\nnodes = alpha, beta\n[resource r]\nagent = ocf:test:Agent\n",
                                   "web.ini", {});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  std::map<std::string, AgentTimings> cache;
  std::string problems = apply_metadata_defaults(r.services[0], ocf, cache);
  CHECK_MESSAGE(has(problems, "test:Agent: agent program: " + agent + ": writable by others (mode 0757)"), problems);
  CHECK(::access(ran.c_str(), F_OK) != 0);  // it never ran
  // Root's alone: it runs.
  REQUIRE(::chmod(agent.c_str(), 0755) == 0);
  cache.clear();
  apply_metadata_defaults(r.services[0], ocf, cache);
  CHECK(::access(ran.c_str(), F_OK) == 0);
}

TEST_CASE("castor.ini: quorumd and svcmgr refuse a config file group or others can write to") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string ini = dir.file("castor.ini");
  write_file(ini, "[quorumd]\ndevice = /dev/null\nnode = alpha\n[svcmgr]\nservices_dir = /x\n", 0644);
  QuorumdConfig q;
  CHECK(load_quorumd_ini(ini, q).ok());
  SvcmgrConfig s;
  CHECK(load_svcmgr_config(ini, s).ok());
  REQUIRE(::chmod(ini.c_str(), 0664) == 0);
  Status st = load_quorumd_ini(ini, q);
  CHECK(st.code() == Code::refused);
  CHECK(st.message() == "the config file: " + ini + ": writable by group (mode 0664)" + kWhy);
  st = load_svcmgr_config(ini, s);
  CHECK(st.code() == Code::refused);  // never not_found: svcmgr must not fall back to its defaults over it
  CHECK(has(st.message(), "writable by group (mode 0664)"));
  // A missing castor.ini stays not_found for svcmgr (it runs on defaults).
  CHECK(load_svcmgr_config(dir.file("none.ini"), s).code() == Code::not_found);
}

TEST_CASE("control socket: the server refuses a directory others can write to, sticky or not") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  for (mode_t m : {mode_t(0777), mode_t(01777), mode_t(0770)}) {
    const std::string d = dir.file("run" + std::to_string(m));
    make_dir(d, m);
    auto server = ControlServer::listen(d + "/q.sock");
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().code() == Code::refused);
    CHECK_MESSAGE(has(server.status().message(), "control socket " + d + "/q.sock: its directory: " + d + ": writable by"),
                  server.status().message());
    struct stat st;
    CHECK(::lstat((d + "/q.sock").c_str(), &st) != 0);  // nothing was bound
  }
  const std::string d = dir.file("run");
  make_dir(d, 0755);
  auto server = ControlServer::listen(d + "/q.sock");
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  struct stat st;
  REQUIRE(::stat((d + "/q.sock").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}
