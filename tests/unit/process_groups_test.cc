// ProcessGroups::add prunes in turn (review14b finding 7): a registration costs a bounded number of
// /proc scans however many groups are registered, ended groups still do not pile up, and a group with a
// live member of Castor's is never forgotten.
#include <doctest/doctest.h>

#include <signal.h>

#include <cerrno>
#include <set>

#include "quorumd/process_groups.h"

using namespace castor;

namespace {
// Made-up group ids above the largest pid_max (4194304), so none is this process's own group, which add()
// refuses (a CI run had the test's own group at 5024, inside the range these ids used to take).
constexpr pid_t kIds = 4300000;
}  // namespace

TEST_CASE("process groups: ended groups are forgotten over later registrations, live ones kept") {
  std::set<pid_t> live;
  size_t scans = 0;
  ProcessGroups groups([&](pid_t g, int) { return live.count(g) ? 0 : ESRCH; },
                       [] { return Result<size_t>(size_t(0)); },
                       [&](pid_t g) -> Result<bool> {
                         ++scans;
                         return live.count(g) > 0;
                       });
  // Ten long-lived groups.
  for (pid_t g = kIds + 1000; g < kIds + 1010; ++g) {
    live.insert(g);
    REQUIRE(groups.add(g).ok());
  }
  // A thousand short-lived ones: each ends right after it registered.
  size_t most = 0;
  for (pid_t g = kIds + 5000; g < kIds + 6000; ++g) {
    live.insert(g);
    REQUIRE(groups.add(g).ok());
    live.erase(g);
    most = std::max(most, groups.groups().size());
  }
  CHECK(most <= 10 + 12);  // bounded: not a thousand
  CHECK(scans <= 2 * 1010);
  for (pid_t g = kIds + 1000; g < kIds + 1010; ++g) CHECK(groups.groups().count(g) == 1);  // never a live one
  // any_alive still checks every one.
  CHECK(groups.any_alive());
  CHECK(groups.groups().size() == 10);
}

TEST_CASE("process groups: a group whose members left Castor's cgroups is forgotten at a later add") {
  std::set<pid_t> castors{kIds + 2000, kIds + 2001};
  ProcessGroups groups([](pid_t, int) { return 0; }, [] { return Result<size_t>(size_t(0)); },
                       [&](pid_t g) -> Result<bool> { return castors.count(g) > 0; });
  REQUIRE(groups.add(kIds + 2000).ok());
  REQUIRE(groups.add(kIds + 2001).ok());
  castors.erase(kIds + 2000);  // its id reused by an unrelated group: exists, not Castor's
  castors.insert(kIds + 2002);
  REQUIRE(groups.add(kIds + 2002).ok());
  CHECK(groups.groups().count(kIds + 2000) == 0);
  CHECK(groups.groups().count(kIds + 2001) == 1);
  CHECK(groups.groups().count(kIds + 2002) == 1);
}
