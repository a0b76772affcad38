// castor-web's PAM helper (tools/web/pam_helper.h) with real PAM: a service file of its own in /etc/pam.d
// (removed at the end), root as the admin (gid 0). Shows the helper's own throttle: after
// LoginFailures::kMaxFailures refusals by PAM of one name it refuses that name without asking PAM (the file
// then permits everything, and the login is still refused), names outside the admin group never count, and
// a good login starts a name's count again.
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tools/web/login_failures.h"
#include "tools/web/pam_helper.h"

using namespace castor;

namespace {

struct PamServiceFile {
  std::string name = "castor-helper-test-" + std::to_string(::getpid());
  std::string path = "/etc/pam.d/" + name;
  void write(bool permit) {
    std::ofstream f(path, std::ios::trunc);
    f << "auth required " << (permit ? "pam_permit.so" : "pam_deny.so") << "\naccount required pam_permit.so\n";
    REQUIRE(f.good());
  }
  ~PamServiceFile() { ::unlink(path.c_str()); }
};

}  // namespace

TEST_CASE("PAM helper: its own throttle by name, whatever the console asks") {
  if (::geteuid() != 0) return;
  PamServiceFile service;
  service.write(true);
  auto helper = PamHelper::start(service.name, 0);
  REQUIRE_MESSAGE(helper.ok(), helper.status().to_string());
  PamHelper& h = **helper;
  CHECK(h.login("root", "any").ok());  // PAM permits

  service.write(false);
  for (size_t i = 0; i < LoginFailures::kMaxFailures; ++i) {
    Status st = h.login("root", "wrong");
    CHECK(st.code() == Code::permission_denied);
    CHECK(st.message().find("refused by PAM") != std::string::npos);
  }
  // A name outside the admin group is no question for PAM and takes no count.
  for (int i = 0; i < 10; ++i) CHECK(h.login("nobody", "x").code() == Code::not_found);

  // Now PAM would say yes: the helper does not ask it for this name.
  service.write(true);
  Status st = h.login("root", "right");
  CHECK(st.code() == Code::permission_denied);
  CHECK(st.message().find("refused without asking PAM") != std::string::npos);
}

TEST_CASE("PAM helper: a good login starts the name's count again") {
  if (::geteuid() != 0) return;
  PamServiceFile service;
  service.write(false);
  auto helper = PamHelper::start(service.name, 0);
  REQUIRE(helper.ok());
  PamHelper& h = **helper;
  for (size_t i = 0; i + 1 < LoginFailures::kMaxFailures; ++i) CHECK(h.login("root", "wrong").code() == Code::permission_denied);
  service.write(true);
  CHECK(h.login("root", "right").ok());
  service.write(false);
  for (size_t i = 0; i + 1 < LoginFailures::kMaxFailures; ++i) {
    Status st = h.login("root", "wrong");
    CHECK(st.message().find("refused by PAM") != std::string::npos);
  }
}
