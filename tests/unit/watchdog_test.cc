// Watchdog::open accepts only a watchdog device or, behind the test-only switch, the stand-in FIFO; the pet
// quorumd uses is withheld unless the lease has at least W left (issue 12, items 8 and 11).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/unique_fd.h"
#include "quorumd/watchdog.h"

using namespace castor;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/castor-wd-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    for (const char* f : {"/wd.fifo", "/wd.file"}) (void)::unlink((path + f).c_str());
    (void)::rmdir(path.c_str());
  }
};

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("watchdog: /dev/null, a regular file, a directory are refused: they are not watchdogs") {
  TempDir d;
  auto null_dev = Watchdog::open("/dev/null", Millis(2000), true);
  REQUIRE_FALSE(null_dev.ok());
  CHECK(null_dev.status().code() == Code::refused);
  CHECK_MESSAGE(contains(null_dev.status().message(), "not a watchdog device"), null_dev.status().message());

  const std::string file = d.path + "/wd.file";
  { UniqueFd fd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)); REQUIRE(fd.valid()); }
  auto reg = Watchdog::open(file, Millis(2000), true);
  REQUIRE_FALSE(reg.ok());
  CHECK(reg.status().code() == Code::refused);
  CHECK_MESSAGE(contains(reg.status().message(), "not a character device"), reg.status().message());
  struct stat st;
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK(st.st_size == 0);  // nothing written to it

  auto dir = Watchdog::open(d.path, Millis(2000), true);
  CHECK(dir.status().code() == Code::refused);
  CHECK(Watchdog::open(d.path + "/missing", Millis(2000), true).status().code() == Code::not_found);
}

TEST_CASE("watchdog: the stand-in FIFO only behind the test switch") {
  TempDir d;
  const std::string fifo = d.path + "/wd.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto refused = Watchdog::open(fifo, Millis(400), false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::refused);
  CHECK_MESSAGE(contains(refused.status().message(), "CASTOR_TEST_WATCHDOG_STANDIN=1"), refused.status().message());

  auto ok = Watchdog::open(fifo, Millis(400), true);
  REQUIRE_MESSAGE(ok.ok(), ok.status().to_string());
  CHECK((*ok)->is_standin());
  CHECK(std::string((*ok)->kind()) == "test-standin");
  CHECK(contains((*ok)->describe(), "TEST STAND-IN"));

  // The two-argument open follows the environment.
  ::unsetenv(kWatchdogStandinEnv);
  CHECK_FALSE(watchdog_standin_allowed_by_env());
  CHECK(Watchdog::open(fifo, Millis(400)).status().code() == Code::refused);
  ::setenv(kWatchdogStandinEnv, "yes", 1);
  CHECK_FALSE(watchdog_standin_allowed_by_env());  // exactly "1"
  ::setenv(kWatchdogStandinEnv, "1", 1);
  CHECK(watchdog_standin_allowed_by_env());
  CHECK(Watchdog::open(fifo, Millis(400)).ok());
  ::unsetenv(kWatchdogStandinEnv);
}

TEST_CASE("watchdog: a pet needs at least W of lease left (a freeze after the check still lands before the lease end)") {
  TempDir d;
  const std::string fifo = d.path + "/wd.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  REQUIRE(reader.valid());
  auto wd = Watchdog::open(fifo, Millis(400), true);
  REQUIRE(wd.ok());
  CHECK((*wd)->pet_guard() == Millis(400));
  auto pets_seen = [&] {
    char buf[64];
    ssize_t n = ::read(reader.get(), buf, sizeof buf);
    return n < 0 ? 0 : int(n);
  };
  const TimePoint now(std::chrono::seconds(100));
  // No lease: no pet.
  auto r = (*wd)->pet_within_lease(now, std::nullopt);
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  // Lease valid, but less than W left: withheld.
  r = (*wd)->pet_within_lease(now, now + Millis(399));
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  r = (*wd)->pet_within_lease(now, now - Millis(1));
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  CHECK(pets_seen() == 0);
  // W or more left: petted.
  r = (*wd)->pet_within_lease(now, now + Millis(400));
  REQUIRE(r.ok());
  CHECK(*r);
  r = (*wd)->pet_within_lease(now, now + Millis(1800));
  REQUIRE(r.ok());
  CHECK(*r);
  CHECK(pets_seen() == 2);
  REQUIRE((*wd)->disarm().ok());
  char v = 0;
  CHECK(::read(reader.get(), &v, 1) == 1);
  CHECK(v == 'V');
}
