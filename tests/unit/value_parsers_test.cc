// Tests for the one set of value parsers every INI file uses (lib/common/value_parsers.h).
#include <doctest/doctest.h>

#include <string>

#include "common/value_parsers.h"

using namespace castor;

TEST_CASE("value parsers: booleans, one rule for every file, case-insensitive") {
  for (const char* t : {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"}) {
    CAPTURE(t);
    auto b = parse_bool(t);
    REQUIRE(b.ok());
    CHECK(*b == true);
  }
  for (const char* f : {"no", "No", "NO", "false", "False", "off", "OFF", "0"}) {
    CAPTURE(f);
    auto b = parse_bool(f);
    REQUIRE(b.ok());
    CHECK(*b == false);
  }
  for (const char* bad : {"", "y", "n", "2", "yess", "-1", "enabled", " yes", "yes ", "no no", "00", "0x1"}) {
    CAPTURE(bad);
    auto b = parse_bool(bad);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Code::invalid_argument);
    CHECK(b.status().message() == "'" + std::string(bad) + "' is not a boolean (yes/no, true/false, on/off, 1/0)");
  }
}

TEST_CASE("value parsers: integers in a range") {
  CHECK(*parse_integer("0", 0, 10) == 0);
  CHECK(*parse_integer("10", 0, 10) == 10);
  CHECK(*parse_integer("007", 0, 10) == 7);
  CHECK(*parse_integer("86400000", 1, 86400000) == 86400000);
  CHECK(*parse_integer("9000000000", 0, 9000000000LL) == 9000000000LL);
  for (const char* bad : {"", "11", "-1", "+1", "1x", " 1", "1 ", "0x10", "1e3", "1.0", "99999999999999999999"}) {
    CAPTURE(bad);
    auto v = parse_integer(bad, 0, 10);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().message() == "'" + std::string(bad) + "' is not an integer from 0 to 10");
  }
  CHECK_FALSE(parse_integer("0", 1, 10).ok());
}

TEST_CASE("value parsers: durations") {
  CHECK(*parse_duration("30s") == Millis(30000));
  CHECK(*parse_duration("500ms") == Millis(500));
  CHECK(*parse_duration("2m") == Millis(120000));
  CHECK(*parse_duration("1h") == Millis(3600000));
  CHECK(*parse_duration("45") == Millis(45000));  // a bare integer is seconds
  CHECK(*parse_duration("0") == Millis(0));
  CHECK(*parse_duration("168h") == kMaxDuration);  // 7 days, the upper bound
  CHECK(*parse_duration("604800s") == kMaxDuration);
  for (const char* bad : {"", "s", "-1s", "1.5s", "10 s", "10x", "10S", "10MS", "99999999999999999999s", "8d",
                          "169h", "604801s"}) {
    CAPTURE(bad);
    auto d = parse_duration(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Code::invalid_argument);
    CHECK(d.status().message().find(bad) != std::string::npos);
  }
  CHECK(parse_duration("5 minutes").status().message().find("is not a duration") != std::string::npos);
  CHECK(parse_duration("200h").status().message().find("too long (at most 7 days)") != std::string::npos);
}

TEST_CASE("value parsers: names") {
  CHECK(check_name("web").ok());
  CHECK(check_name("0db-2.primary_x").ok());
  CHECK(check_name(std::string(kMaxNameLength, 'a')).ok());
  CHECK(check_name(std::string(64, 'a')).message() == "name is 64 characters long (at most 63)");
  CHECK(check_name("").message() == "empty name");
  CHECK(check_name("-web").message() == "'-web' must start with a letter or digit");
  CHECK_FALSE(check_name(".web").ok());
  CHECK(check_name("web/x").message() == "'web/x' may only contain letters, digits, '.', '_' and '-'");
  CHECK_FALSE(check_name("we b").ok());
  CHECK_FALSE(check_name("wéb").ok());
}
