// castor standby NODE --wait: when it may return (tools/standby_wait.h), from `services` replies of the
// kind svcmgr gives while a standby's moves are under way.
#include "tools/standby_wait.h"

#include <doctest/doctest.h>

using namespace castor;

namespace {

ServiceStatus service(const std::string& name, const std::string& state, const std::string& owner) {
  ServiceStatus s;
  s.name = name;
  s.state = state;
  s.owner = owner;
  return s;
}

// Asked on a for b (b is the peer); b put in standby.
ServicesReply reply_on_a(std::vector<ServiceStatus> services, bool b_standby = true) {
  ServicesReply r;
  r.node = "a";
  r.peer = "b";
  r.peer_view = PeerView::up;
  r.peer_standby = b_standby;
  r.services = std::move(services);
  return r;
}

}  // namespace

TEST_CASE("standby --wait: not before NODE says it is in standby, nor while it runs a service") {
  CHECK(standby_unsettled(reply_on_a({service("web", "started", "b")}, false), "b") == "b is not in standby yet");
  CHECK(standby_unsettled(reply_on_a({service("web", "started", "b")}), "b") == "web started on b");
  ServicesReply on_b = reply_on_a({service("web", "started", "b")}, false);
  on_b.node = "b";
  on_b.peer = "a";
  on_b.standby = true;
  CHECK(standby_unsettled(on_b, "b") == "web started on b");
}

TEST_CASE("standby --wait: a service released by NODE toward the peer and not yet claimed there is not settled") {
  // What CI met (svcmgr_two_nodes): b released ledger for a; a's reply showed it stopped, owner none, with
  // the relocation pending, and the wait returned before a started it.
  ServiceStatus ledger = service("ledger", "stopped", "");
  ledger.pending = "relocate to a";
  auto why = standby_unsettled(reply_on_a({service("dummy", "started", "a"), ledger}), "b");
  REQUIRE(why);
  CHECK(*why == "ledger stopped; relocate to a");
  CHECK(standby_unsettled(reply_on_a({service("ledger", "starting", "a")}), "b") == "ledger starting on a");
  CHECK(standby_unsettled(reply_on_a({service("ledger", "stopping", "b")}), "b") == "ledger stopping on b");
  CHECK(standby_unsettled(reply_on_a({service("ledger", "recovering", "a")}), "b") == "ledger recovering on a");
}

TEST_CASE("standby --wait: settled once every service is started elsewhere or at rest") {
  ServiceStatus blocked = service("db", "stopped", "");
  blocked.pending = "relocate to a";
  blocked.pending_blocked = "definitions differ";  // cannot move now: waiting on the admin, not on the cluster
  CHECK_FALSE(standby_unsettled(reply_on_a({service("ledger", "started", "a"), service("dummy", "failed", ""),
                                            service("off", "disabled", ""), service("idle", "stopped", ""), blocked}),
                                "b"));
}
