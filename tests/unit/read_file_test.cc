// common/read_file: a whole file read into a string, errors as values.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/read_file.h"

using namespace castor;

namespace {
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/castor-read-file-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    path = name;
    REQUIRE(::write(fd, text.data(), text.size()) == ssize_t(text.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path.c_str()); }
};
}  // namespace

TEST_CASE("read_file_to_string: whole file, more than one read's worth") {
  std::string text(200000, 'x');
  text[199999] = 'y';
  TempFile f(text);
  auto r = read_file_to_string(f.path);
  REQUIRE(r.ok());
  CHECK(*r == text);
  TempFile empty("");
  auto e = read_file_to_string(empty.path);
  REQUIRE(e.ok());
  CHECK(e->empty());
}

TEST_CASE("read_file_to_string: missing file is not_found, too large is refused, a directory is a read error") {
  auto missing = read_file_to_string("/nonexistent/castor-read-file");
  REQUIRE(!missing.ok());
  CHECK(missing.status().code() == Code::not_found);
  CHECK(missing.status().message().find("open /nonexistent/castor-read-file") != std::string::npos);

  TempFile f("0123456789");
  CHECK(read_file_to_string(f.path, 10).ok());
  auto big = read_file_to_string(f.path, 9);
  REQUIRE(!big.ok());
  CHECK(big.status().code() == Code::invalid_argument);
  CHECK(big.status().message() == f.path + " is larger than 9 bytes");

  auto dir = read_file_to_string("/tmp");  // open succeeds, read fails with EISDIR
  REQUIRE(!dir.ok());
  CHECK(dir.status().message().find("read /tmp") != std::string::npos);
}
