#include "tests/support/sample_service_file.h"

#include <doctest/doctest.h>

#include <fstream>

namespace castor::testing {

const char* const kWebServiceText =
    "[service]\nname = web\nnodes = a, b\n\n[resource r]\nagent = exec\nshell = yes\n"
    "start = touch /tmp/web\nstop = rm -f /tmp/web\nmonitor = test -e /tmp/web || exit 7\n";

LoadResult load_web_service(const ScratchDir& dir) {
  {
    std::ofstream f(dir.file("web.ini"));
    f << kWebServiceText;
    REQUIRE(f.good());
  }
  LoadResult r = load_service_file(dir.file("web.ini"), {"a", "b"});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  return r;
}

}  // namespace castor::testing
