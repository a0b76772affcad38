// DefinitionStore: the saved copies svcmgr stops a service with when its file was removed while svcmgr was
// down (issue 12, item 10). A copy is saved only when the file still holds the definition in force, loads
// back to exactly that definition, and goes away with remove().
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "svcmgr/definition_store.h"
#include "config/service_loader.h"
#include "tests/support/sample_service_file.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;
using castor::testing::kWebServiceText;
using castor::testing::load_web_service;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("definition store: save, load back the same definition, remove") {
  ScratchDir dir;
  LoadResult r = load_web_service(dir);
  DefinitionStore store(dir.file("state/definitions/a"));
  REQUIRE(store.save(r.services[0], {"a", "b"}).ok());
  REQUIRE(store.save(r.services[0], {"a", "b"}).ok());  // unchanged: a no-op
  auto back = store.load("web", {"a", "b"});
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  ServiceDefinition want = r.services[0];
  want.file = dir.file("state/definitions/a/web.ini");
  CHECK(**back == want);
  CHECK((**back).resources[0].stop_line == "rm -f /tmp/web");
  // No copy of a service never saved.
  auto none = store.load("db", {"a", "b"});
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  REQUIRE(store.remove("web").ok());
  REQUIRE(store.remove("web").ok());  // already gone: fine
  auto gone = store.load("web", {"a", "b"});
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
}

TEST_CASE("definition store: a file changed since it was loaded is not saved as the definition in force") {
  ScratchDir dir;
  LoadResult r = load_web_service(dir);
  write(dir.file("web.ini"), std::string(kWebServiceText) + "stop_timeout = 9s\n");
  DefinitionStore store(dir.file("state"));
  CHECK_FALSE(store.save(r.services[0], {"a", "b"}).ok());
  auto back = store.load("web", {"a", "b"});
  REQUIRE(back.ok());
  CHECK_FALSE(back->has_value());
}

TEST_CASE("definition store: a damaged copy is an error, not a missing one") {
  ScratchDir dir;
  write(dir.file("web.ini"), "[service]\nname = web\n");  // no nodes: does not load
  DefinitionStore store(dir.path());
  auto back = store.load("web", {"a", "b"});
  CHECK_FALSE(back.ok());
}

// review14b finding 1/4: every path the store builds comes from a valid service name, so no call leaves its
// directory (a service table entry named "../../etc/castor/castor" would unlink castor.ini).
TEST_CASE("definition store: a name that is not a service name is refused, nothing outside the store touched") {
  ScratchDir dir;
  write(dir.file("victim.ini"), "precious\n");
  REQUIRE(::mkdir(dir.file("state").c_str(), 0700) == 0);
  DefinitionStore store(dir.file("state/a"));
  REQUIRE(::mkdir(dir.file("state/a").c_str(), 0700) == 0);
  for (const char* bad : {"../../victim", "../victim", "..", ".", "x/../../../victim", "", "/abs"}) {
    INFO("name: '" << bad << "'");
    Status st = store.remove(bad);
    CHECK(st.code() == Code::invalid_argument);
    auto l = store.load(bad, {"a", "b"});
    CHECK_FALSE(l.ok());
  }
  struct stat sb;
  CHECK(::stat(dir.file("victim.ini").c_str(), &sb) == 0);
  CHECK(store.remove("web").ok());  // a valid name with no copy: fine
}

// review14b finding 1: a stale temporary file svcmgr left is replaced; anything else there is refused, and a
// copy that is a symlink is never read.
TEST_CASE("definition store: a stale .tmp of root's is replaced, a planted link is refused") {
  ScratchDir dir;
  LoadResult r = load_web_service(dir);
  const std::string store_dir = dir.file("state");
  REQUIRE(::mkdir(store_dir.c_str(), 0700) == 0);
  DefinitionStore store(store_dir);
  write(store_dir + "/web.ini.tmp", "half a copy");  // svcmgr died before the rename
  REQUIRE(store.save(r.services[0], {"a", "b"}).ok());
  struct stat sb;
  CHECK(::lstat((store_dir + "/web.ini.tmp").c_str(), &sb) != 0);
  auto back = store.load("web", {"a", "b"});
  REQUIRE(back.ok());
  CHECK(back->has_value());

  // A symlink in place of the copy (even root's own): never read.
  REQUIRE(::rename((store_dir + "/web.ini").c_str(), dir.file("elsewhere.ini").c_str()) == 0);
  REQUIRE(::symlink(dir.file("elsewhere.ini").c_str(), (store_dir + "/web.ini").c_str()) == 0);
  auto linked = store.load("web", {"a", "b"});
  CHECK_FALSE(linked.ok());
  if (!linked.ok()) CHECK(linked.status().code() == Code::refused);
  REQUIRE(::unlink((store_dir + "/web.ini").c_str()) == 0);

  // A link planted as the temporary file: refused, its target untouched.
  write(dir.file("victim"), "precious\n");
  REQUIRE(::symlink(dir.file("victim").c_str(), (store_dir + "/web.ini.tmp").c_str()) == 0);
  CHECK(store.save(r.services[0], {"a", "b"}).code() == Code::refused);
  std::ifstream f(dir.file("victim"));
  std::string first;
  std::getline(f, first);
  CHECK(first == "precious");
}
