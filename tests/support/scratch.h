// Test support: scratch files, loop devices and shell commands for tests that run on the real kernel.
// Everything created here is removed by the destructors (loop devices detached, files deleted), and only
// processes started here are ever killed. Never used by production code.
#pragma once

#include <string>

namespace castor::testing {

// Runs a command through /bin/sh; returns its exit status (-1 if it could not run). Output is captured
// into *output when given (stdout and stderr merged).
int run_command(const std::string& command, std::string* output = nullptr);

// A temporary directory under /tmp (or $TMPDIR), removed recursively at destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A loop device over a sparse backing file of `size_mb` MiB: `losetup -f --show [--sector-size N] [--direct-io=on]`.
// Detached at destruction. ok() is false (and error() says why) if it could not be set up.
class LoopDevice {
 public:
  LoopDevice(const std::string& backing_file, int size_mb, int sector_size = 512, bool direct_io = true,
             bool create_file = true);
  ~LoopDevice();
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  bool ok() const { return !device_.empty(); }
  const std::string& device() const { return device_; }
  const std::string& error() const { return error_; }

 private:
  std::string device_;
  std::string error_;
};

bool running_as_root();

}  // namespace castor::testing
