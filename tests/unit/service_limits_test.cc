// The cgroup limit keys of a service file (memory_max, cpu_weight, tasks_max): parsed, checked, part of
// the digest only when set (files without limits keep the digest they had).
#include <doctest/doctest.h>

#include <string>

#include "config/service_definition.h"
#include "config/service_loader.h"

using namespace castor;

namespace {

const std::string kBase = "[service]\nname = web\nnodes = alpha, beta\n";
const std::string kResource = "[resource d]\nagent = ocf:heartbeat:Dummy\n";

LoadResult load(const std::string& service_lines) {
  return load_service_text(kBase + service_lines + kResource, "web.ini", {"alpha", "beta"});
}

}  // namespace

TEST_CASE("service limits: memory_max, cpu_weight and tasks_max are read") {
  LoadResult r = load("memory_max = 512M\ncpu_weight = 50\ntasks_max = 200\n");
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  REQUIRE(r.services.size() == 1);
  CHECK(r.services[0].memory_max == 512ull << 20);
  CHECK(r.services[0].cpu_weight == 50);
  CHECK(r.services[0].tasks_max == 200);

  LoadResult plain = load("memory_max = 1048576\n");
  REQUIRE(plain.ok());
  CHECK(plain.services[0].memory_max == 1048576);
  CHECK(load("memory_max = 2G\n").services.at(0).memory_max == 2ull << 30);

  LoadResult none = load("");
  REQUIRE(none.ok());
  CHECK(none.services[0].memory_max == 0);
  CHECK(none.services[0].cpu_weight == 0);
  CHECK(none.services[0].tasks_max == 0);
}

TEST_CASE("service limits: bad values are refused with the key and the line") {
  for (const char* bad : {"memory_max = 0\n", "memory_max = 12X\n", "memory_max = -1\n", "memory_max = M\n",
                          "cpu_weight = 0\n", "cpu_weight = 10001\n", "tasks_max = 0\n", "tasks_max = lots\n"}) {
    LoadResult r = load(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) {
      std::string key(bad, std::string(bad).find(' '));
      CHECK_MESSAGE(r.error_text().find(key) != std::string::npos, r.error_text());
      CHECK_MESSAGE(r.error_text().find("web.ini:4") != std::string::npos, r.error_text());
    }
  }
}

TEST_CASE("service limits: part of the digest only when set") {
  LoadResult none = load(""), limited = load("tasks_max = 10\n"), other = load("tasks_max = 11\n");
  REQUIRE(none.ok());
  REQUIRE(limited.ok());
  REQUIRE(other.ok());
  ServiceDefinition stripped = limited.services[0];
  stripped.tasks_max = 0;
  CHECK(definition_digest(stripped) == definition_digest(none.services[0]));
  CHECK(definition_digest(limited.services[0]) != definition_digest(none.services[0]));
  CHECK(definition_digest(limited.services[0]) != definition_digest(other.services[0]));
}
