// watchdog_standin: the hardware watchdog stand-in used by the integration tests.
//
//   watchdog_standin --fifo PATH --timeout-ms W --pgid PGID [--cgroup DIR] [--on-fire CMD] [--log FILE]
//   With --cgroup, every process listed in DIR/cgroup.procs is killed too (the whole node, as a reset),
//   and a frozen cgroup (freezer controller) is thawed so that the kills take effect at once. --on-fire
//   runs CMD (/bin/sh -c) right after the first SIGKILL: what else a reset takes away (the harness drops the node's
//   mounts, which a process stuck exiting, e.g. waiting for its aio on a hung disk, would keep alive).
//
// Creates the FIFO if missing and reads pet bytes from it (opened O_RDWR, so it never sees EOF when
// quorumd closes or dies). The first pet arms it; once armed, if no pet arrives for W ms (CLOCK_BOOTTIME)
// it SIGKILLs the whole process group PGID — what a hardware reset would do to the node — writes
// "watchdog fired" with the time, and exits 0. A 'V' byte (quorumd's magic close) disarms it: it writes
// "watchdog disarmed" and exits 0. Every line is also appended to FILE when --log is given, for tests to
// read. It kills nothing but PGID, and only when it fires. Test tool: never used in production.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "common/cli_args.h"

namespace {

using namespace castor;

const char* kUsage =
    "usage: watchdog_standin --fifo PATH --timeout-ms W --pgid PGID [--cgroup DIR] [--on-fire CMD] [--log FILE]\n"
    "  Stand-in hardware watchdog for tests: SIGKILLs process group PGID when no byte arrives on the FIFO\n"
    "  for W ms after the first one; a 'V' byte disarms it. Exits 0 after firing or disarming, 1 on error,\n"
    "  2 on a bad command line.\n";

std::string g_log_file;

// One line to the log facade and, if asked, appended to the --log file (the tests' record of the outcome).
void report(log::Level level, const std::string& message, std::initializer_list<log::Field> fields) {
  log::event(level, message, fields);
  if (g_log_file.empty()) return;
  std::string line = format_wall_time(wall_time_ns()) + " " + log::format_line(message, fields) + "\n";
  UniqueFd fd(::open(g_log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    log::error("cannot open the log file", {{"file", g_log_file}, {"error", std::strerror(errno)}});
    return;
  }
  if (::write(fd.get(), line.data(), line.size()) != ssize_t(line.size()))
    log::error("cannot write the log file", {{"file", g_log_file}, {"error", std::strerror(errno)}});
}

Result<UniqueFd> open_fifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) return errno_status("mkfifo", path);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_status("stat", path);
  if (!S_ISFIFO(st.st_mode)) return Error(Code::invalid_argument, path + " exists and is not a FIFO");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return errno_status("open", path);
  return fd;
}

int64_t ms_since(TimePoint a, TimePoint b) { return to_ms(b - a); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cli = parse_cli_args(args, {{"--fifo", true}, {"--timeout-ms", true}, {"--pgid", true}, {"--log", true},
                                   {"--cgroup", true}, {"--on-fire", true}});
  if (!cli.ok()) {
    std::fprintf(stderr, "watchdog_standin: %s\n%s", cli.status().message().c_str(), kUsage);
    return 2;
  }
  if (cli->has("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto fifo = cli->value("--fifo");
  auto tmo = cli->value("--timeout-ms");
  auto pg = cli->value("--pgid");
  if (!fifo || !tmo || !pg || !cli->positional.empty()) {
    std::fprintf(stderr, "watchdog_standin: --fifo, --timeout-ms and --pgid are required\n%s", kUsage);
    return 2;
  }
  auto timeout_ms = parse_int(*tmo, 1, 3600 * 1000, "--timeout-ms");
  auto pgid = parse_int(*pg, 2, INT_MAX, "--pgid");
  if (!timeout_ms.ok() || !pgid.ok()) {
    std::fprintf(stderr, "watchdog_standin: %s\n%s",
                 (!timeout_ms.ok() ? timeout_ms.status() : pgid.status()).message().c_str(), kUsage);
    return 2;
  }
  g_log_file = cli->value("--log").value_or("");
  log::Options lo;
  lo.program = "watchdog_standin";
  log::init(lo);

  auto fd = open_fifo(*fifo);
  if (!fd.ok()) {
    report(log::Level::error, "cannot open the FIFO", {{"error", fd.status().to_string()}});
    log::flush();
    return 1;
  }
  const Duration timeout = Millis(*timeout_ms);
  BootClock clock;
  bool armed = false;
  TimePoint last_pet{};
  uint64_t pets = 0;
  report(log::Level::info, "watchdog stand-in ready",
         {{"fifo", *fifo}, {"timeout_ms", *timeout_ms}, {"pgid", *pgid}, {"pid", int64_t(::getpid())}});

  for (;;) {
    TimePoint now = clock.now();
    if (armed && now - last_pet >= timeout) {
      const int rc = ::kill(-pid_t(*pgid), SIGKILL);
      const int err = errno;
      // The rest of the reset first (it must not wait for the kill loop below: a process stuck exiting
      // stays in the cgroup for as long as its I/O hangs).
      std::string hook_result;
      if (auto cmd = cli->value("--on-fire")) {
        const int st = std::system(cmd->c_str());
        hook_result = st == 0 ? "ok" : "exit status " + std::to_string(st);
      }
      if (auto cg = cli->value("--cgroup")) {
        // Everything in the node's cgroup, repeatedly until it is empty (a fork may race the first pass).
        // A reset does not wait for a paused machine to resume: a frozen node (freezer cgroup) is thawed
        // once the SIGKILLs are pending, so it dies now rather than when someone thaws it.
        const std::string freezer = *cg + "/freezer.state";
        for (int pass = 0; pass < 50; ++pass) {
          FILE* f = std::fopen((*cg + "/cgroup.procs").c_str(), "r");
          if (!f) break;
          int pid = 0, n = 0;
          while (std::fscanf(f, "%d", &pid) == 1) {
            ::kill(pid_t(pid), SIGKILL);
            ++n;
          }
          std::fclose(f);
          if (n == 0) break;
          if (FILE* fz = std::fopen(freezer.c_str(), "w")) {
            std::fputs("THAWED", fz);
            std::fclose(fz);
          }
          ::usleep(10000);
        }
      }
      report(log::Level::warning, "watchdog fired",
             {{"pgid", *pgid},
              {"since_last_pet_ms", ms_since(last_pet, now)},
              {"timeout_ms", *timeout_ms},
              {"pets", pets},
              {"boottime_ns", int64_t(now.time_since_epoch().count())},
              {"kill", rc == 0 ? std::string("SIGKILL sent") : std::string(std::strerror(err))},
              {"on_fire", hook_result.empty() ? std::string("none") : hook_result}});
      log::flush();
      return 0;
    }
    // Sleep until a pet arrives or, when armed, the deadline passes (ppoll: nanosecond resolution).
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (armed) {
      const Duration left = last_pet + timeout - now;
      ts.tv_sec = time_t(left.count() / 1000000000);
      ts.tv_nsec = long(left.count() % 1000000000);
      tsp = &ts;
    }
    struct pollfd p = {fd->get(), POLLIN, 0};
    int rc = ::ppoll(&p, 1, tsp, nullptr);
    if (rc < 0) {
      if (errno == EINTR) continue;
      report(log::Level::error, "ppoll failed", {{"error", std::strerror(errno)}});
      log::flush();
      return 1;
    }
    if (rc == 0) continue;
    char buf[512];
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      report(log::Level::error, "read failed", {{"fifo", *fifo}, {"error", std::strerror(errno)}});
      log::flush();
      return 1;
    }
    now = clock.now();
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == 'V') {
        report(log::Level::info, "watchdog disarmed (magic close)", {{"pets", pets}});
        log::flush();
        return 0;
      }
      if (!armed) report(log::Level::info, "watchdog armed by the first pet", {{"timeout_ms", *timeout_ms}});
      armed = true;
      last_pet = now;
      ++pets;
    }
  }
}
