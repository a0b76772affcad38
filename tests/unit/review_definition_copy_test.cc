// REVIEW FINDING R2 (issue 12 adversarial review, item 10): a saved definition copy that is NOT the
// definition in force survives a refused save, and svcmgr later stops the service with it.
//
// Schedule: svcmgr loaded web from v0 (copy v0 saved). The admin edits web.ini to v1 and sends SIGHUP while
// web runs here: v1 is pending until web is idle here. Before that, the admin edits the file again (v2)
// without a SIGHUP. web stops here; svcmgr applies the pending v1 (add_service) and tries to save it: the
// file no longer holds v1, the save is refused — and the v0 copy stays. web is later started here under v1.
// svcmgr is stopped (its agents keep running), the admin removes web.ini, svcmgr starts: adopt_removed()
// loads the v0 copy and stops web with v0's stop command (another address, pid file, mount...), which
// "succeeds" while v1's instance still runs; the entry is released and the peer starts web: two instances.
// The copy must be the definition in force, or absent (then the service is orphaned and an admin asked).
#include <doctest/doctest.h>

#include <fstream>

#include "svcmgr/definition_store.h"
#include "config/service_loader.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;

namespace {

std::string web(const std::string& marker) {
  return "[service]\nname = web\nnodes = a, b\n\n[resource r]\nagent = exec\nshell = yes\n"
         "start = touch /tmp/" + marker + "\nstop = rm -f /tmp/" + marker + "\nmonitor = test -e /tmp/" + marker +
         " || exit 7\n";
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("review R2: a refused save never leaves an older copy standing for the definition in force") {
  ScratchDir dir;
  DefinitionStore store(dir.file("state/definitions/a"));
  write(dir.file("web.ini"), web("v0"));
  LoadResult v0 = load_service_file(dir.file("web.ini"), {"a", "b"});
  REQUIRE(v0.ok());
  REQUIRE(store.save(v0.services[0], {"a", "b"}).ok());  // copy: v0

  write(dir.file("web.ini"), web("v1"));
  LoadResult v1 = load_service_file(dir.file("web.ini"), {"a", "b"});  // SIGHUP: v1 (pending, then in force)
  REQUIRE(v1.ok());
  write(dir.file("web.ini"), web("v2"));                                // edited again, no SIGHUP
  CHECK_FALSE(store.save(v1.services[0], {"a", "b"}).ok());             // refused: the file says v2

  // The service now runs under v1. Whatever the store has must not be v0.
  auto copy = store.load("web", {"a", "b"});
  if (copy.ok() && copy->has_value())
    CHECK_MESSAGE((**copy).resources[0].stop_line != "rm -f /tmp/v0",
                  "the saved copy is v0: a service running under v1 would be 'stopped' with v0's stop");
}
