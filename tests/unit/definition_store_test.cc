// DefinitionStore: the saved copies svcmgr stops a service with when its file was removed while svcmgr was
// down (issue 12, item 10). A copy is saved only when the file still holds the definition in force, loads
// back to exactly that definition, and goes away with remove().
#include <doctest/doctest.h>

#include <fstream>

#include "svcmgr/definition_store.h"
#include "config/service_loader.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;

namespace {

const char* kWeb =
    "[service]\nname = web\nnodes = a, b\n\n[resource r]\nagent = exec\nshell = yes\n"
    "start = touch /tmp/web\nstop = rm -f /tmp/web\nmonitor = test -e /tmp/web || exit 7\n";

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("definition store: save, load back the same definition, remove") {
  ScratchDir dir;
  write(dir.file("web.ini"), kWeb);
  LoadResult r = load_service_file(dir.file("web.ini"), {"a", "b"});
  REQUIRE(r.ok());
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
  write(dir.file("web.ini"), kWeb);
  LoadResult r = load_service_file(dir.file("web.ini"), {"a", "b"});
  REQUIRE(r.ok());
  write(dir.file("web.ini"), std::string(kWeb) + "stop_timeout = 9s\n");
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
