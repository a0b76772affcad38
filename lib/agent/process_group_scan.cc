#include "agent/process_group_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace castor {
namespace {
std::atomic<uint64_t> scans{0};
}  // namespace

uint64_t group_scans() { return scans.load(std::memory_order_relaxed); }

bool group_has_live_member(pid_t pgid) {
  if (pgid <= 1) return false;
  if (kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  scans.fetch_add(1, std::memory_order_relaxed);
  DIR* d = opendir("/proc");
  if (!d) return true;
  bool found = false;
  char path[300];
  char buf[512];
  while (!found) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (!e) {
      if (errno != 0) found = true;
      break;
    }
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // "PID (COMM) STATE PPID PGRP ...": COMM may hold anything, so parse after the last ')'.
    const char* paren = std::strrchr(buf, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (!paren || std::sscanf(paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') found = true;
  }
  closedir(d);
  return found;
}

}  // namespace castor
