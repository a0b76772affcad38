// common/file_lock: one holder at a time, released with its holder; never through a symlink.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "common/file_lock.h"

namespace castor {

TEST_CASE("file lock: a second lock of the file is refused (busy) while the first is held, taken once it is gone") {
  char tmpl[] = "/tmp/castor-lock.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/node.lock";
  {
    std::optional<FileLock> first;
    {
      auto l = FileLock::acquire(path);
      REQUIRE(l.ok());
      first.emplace(std::move(l).value());
    }
    CHECK(std::filesystem::status(path).permissions() == std::filesystem::perms(0600));
    auto second = FileLock::acquire(path);  // another open file of this process: refused as another process is
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == Code::busy);
    CHECK(second.status().to_string().find(path) != std::string::npos);
    first.reset();
    CHECK(FileLock::acquire(path).ok());
  }
  SUBCASE("a symlink at the path is not followed") {
    REQUIRE(::symlink((dir + "/elsewhere").c_str(), (dir + "/link.lock").c_str()) == 0);
    auto l = FileLock::acquire(dir + "/link.lock");
    CHECK_FALSE(l.ok());
    CHECK_FALSE(std::filesystem::exists(dir + "/elsewhere"));
  }
  SUBCASE("a FIFO at the path is refused (not a regular file)") {
    REQUIRE(::mkfifo((dir + "/f.lock").c_str(), 0600) == 0);
    auto l = FileLock::acquire(dir + "/f.lock");
    REQUIRE_FALSE(l.ok());
    CHECK(l.status().code() == Code::refused);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace castor
