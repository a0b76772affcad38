#include "tests/support/scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>

namespace castor::testing {

int run_command(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    if (output) output->append(buf.data(), n);
  int st = pclose(p);
  if (st == -1) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

ScratchDir::ScratchDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/castor-test.XXXXXX";
  if (mkdtemp(tmpl.data())) path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

LoopDevice::LoopDevice(const std::string& backing_file, int size_mb, int sector_size, bool direct_io,
                       bool create_file) {
  std::string out;
  if (create_file &&
      run_command("truncate -s " + std::to_string(size_mb) + "M '" + backing_file + "'", &out) != 0) {
    error_ = "truncate failed: " + out;
    return;
  }
  std::string cmd = "losetup -f --show";
  if (sector_size != 512) cmd += " --sector-size " + std::to_string(sector_size);
  if (direct_io) cmd += " --direct-io=on";
  cmd += " '" + backing_file + "'";
  out.clear();
  if (run_command(cmd, &out) != 0) {
    error_ = cmd + ": " + out;
    return;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  device_ = out;
}

LoopDevice::~LoopDevice() {
  if (!device_.empty()) run_command("losetup -d '" + device_ + "'");
}

bool running_as_root() { return geteuid() == 0; }

}  // namespace castor::testing
