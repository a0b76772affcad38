// quorumd/life_file: the life number's file (issue 17, ordered lives): read, written durably, the next one.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "quorumd/life_file.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;

TEST_CASE("life file: none is 0; written and read back; a new directory is made 0700") {
  ScratchDir dir;
  Uuid u;
  u.bytes[0] = 0x42;
  const std::string path = life_file_path(dir.file("state"), u, 2);
  CHECK(path == dir.file("state") + "/life." + u.to_string() + ".node-2");
  auto none = read_life_file(path);
  REQUIRE(none.ok());
  CHECK(*none == 0);
  REQUIRE(write_life_file(path, 7).ok());
  struct stat st;
  REQUIRE(::stat(dir.file("state").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(*read_life_file(path) == 7);
  REQUIRE(write_life_file(path, 4294967295u).ok());
  CHECK(*read_life_file(path) == 4294967295u);
}

TEST_CASE("life file: a file that is not one number is an error, never a guess") {
  ScratchDir dir;
  const std::string path = dir.file("life");
  for (const char* bad : {"", "x\n", "-1\n", "4294967296\n", "12 13\n"}) {
    std::ofstream(path) << bad;
    auto r = read_life_file(path);
    CHECK_MESSAGE(!r.ok(), "'" << bad << "' read as " << (r.ok() ? *r : 0));
  }
}

TEST_CASE("life file: the next life is above the stored one and above every life the disk shows; never wraps") {
  CHECK(*next_life(0, 0) == 1);
  CHECK(*next_life(5, 3) == 6);
  CHECK(*next_life(3, 9) == 10);  // a lost or old file: the devices show a later life
  auto top = next_life(4294967295u, 1);
  REQUIRE_FALSE(top.ok());
  CHECK(top.status().code() == Code::refused);
}
