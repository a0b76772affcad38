#include <doctest/doctest.h>

#include "tests/support/scratch.h"

using namespace castor::testing;

TEST_CASE("a loop device can be made and detached (root)") {
  ScratchDir dir;
  std::string dev;
  {
    LoopDevice loop(dir.file("disk.img"), 4);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    dev = loop.device();
    CHECK(run_command("test -b " + dev) == 0);
  }
  std::string out;
  run_command("losetup -a", &out);
  CHECK(out.find(dir.path()) == std::string::npos);
}
