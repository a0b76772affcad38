// Ownership after a restart of svcmgr alone: an entry left "owned" by the previous life is not released
// until the service is known stopped here (the torture run found the peer mounting a filesystem this node
// still had mounted, when the release came first).
#include <doctest/doctest.h>

#include "svcmgr/ownership.h"
#include "tests/support/sample_records.h"

using namespace castor;

namespace {
ServiceEntry owned_entry() { return testing::service_entry("web", OwnershipState::owned, 1, 7, 12); }
}  // namespace

TEST_CASE("ownership: an owned entry from a previous life stays up until the service is known stopped") {
  Ownership o("web", 1, owned_entry());
  const TimePoint t0{std::chrono::seconds(100)};
  CHECK(o.holding());
  CHECK_FALSE(o.may_run());
  // However often it is stepped, and whatever the intent, nothing is written and nothing started.
  for (Intent i : {Intent::release, Intent::hold, Intent::disable}) {
    o.set_intent(i);
    OwnershipStep s = o.step(t0);
    CHECK_FALSE(s.write.has_value());
    CHECK_FALSE(s.start);
  }
  CHECK(o.mine().state == OwnershipState::owned);
  // The probe (and a stop, if it found the service running) ended: now it is released, keeping its epoch.
  o.set_intent(Intent::release);
  o.on_stopped();
  OwnershipStep s = o.step(t0);
  REQUIRE(s.write.has_value());
  CHECK(s.write->state == OwnershipState::released);
  CHECK(s.write->epoch == 7);
  CHECK(s.write->ballot >= 12);
}

TEST_CASE("ownership: an entry that was not up needs no stop before it is used") {
  ServiceEntry e = owned_entry();
  e.state = OwnershipState::released;
  Ownership o("web", 1, e);
  CHECK_FALSE(o.holding());
  CHECK(o.phase() == OwnershipPhase::idle);
}
