#include "common/clock.h"

#include <time.h>

#include <cstdio>

namespace castor {

TimePoint BootClock::now() const {
  struct timespec ts;
  // CLOCK_BOOTTIME cannot fail on Linux >= 2.6.39 with a valid pointer.
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return TimePoint(Duration(int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec));
}

int64_t wall_time_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string format_wall_time(int64_t wall_ns) {
  if (wall_ns == 0) return "-";
  time_t secs = time_t(wall_ns / 1000000000);
  int ms = int((wall_ns / 1000000) % 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  const char* sign = ns < 0 ? "-" : "";
  uint64_t a = ns < 0 ? uint64_t(-ns) : uint64_t(ns);
  char buf[48];
  if (a < 1000000) {
    std::snprintf(buf, sizeof buf, "%s%.2fms", sign, double(a) / 1e6);
  } else if (a < 10000000000ull) {
    std::snprintf(buf, sizeof buf, "%s%llums", sign, static_cast<unsigned long long>(a / 1000000));
  } else {
    std::snprintf(buf, sizeof buf, "%s%.1fs", sign, double(a) / 1e9);
  }
  return buf;
}

}  // namespace castor
