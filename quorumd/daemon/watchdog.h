// Watchdog: this node's hardware watchdog (the Linux watchdog API, /dev/watchdog), petted by quorumd only
// while its lease is valid, so that a node whose quorumd hangs, dies or is fenced is reset at most W (the
// superblock's watchdog time) after its last pet.
//
// open() asks the driver for W rounded UP to whole seconds (the API's unit) and reads back what it set;
// a device that would then wait longer than W is refused (magic-closed first), because the peer's dead
// time counts on the reset coming within W. A device that does not answer watchdog ioctls (ENOTTY: a FIFO,
// char device or regular file used as a test stand-in) gets one byte per pet and a 'V' on disarm.
// Must never block the event loop (writes are non-blocking) and must never disarm the device except in
// disarm(), which quorumd calls only after a clean leave: closing without it leaves the watchdog armed.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace castor {

class Watchdog {
 public:
  // Opens and arms `path`, checking that it fires within `max_timeout` (W) of the last pet.
  static Result<std::unique_ptr<Watchdog>> open(const std::string& path, Millis max_timeout);
  // Closes WITHOUT the magic close: a hardware watchdog keeps running and resets the node.
  ~Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Restarts the countdown. Errors (a full FIFO, a driver error) are reported, never retried here.
  Status pet();
  // Magic close: writes 'V' and closes, disarming a watchdog that allows it. Only after a clean leave.
  Status disarm();

  const std::string& path() const { return path_; }
  bool is_standin() const { return standin_; }
  // The timeout the driver runs with (hardware only).
  std::optional<Millis> timeout() const { return timeout_; }
  std::string describe() const;  // "/dev/watchdog (softdog, timeout 2s)" or "/tmp/wd.fifo (test stand-in)"

 private:
  Watchdog(std::string path, UniqueFd fd, bool standin, std::optional<Millis> timeout, std::string identity)
      : path_(std::move(path)), fd_(std::move(fd)), standin_(standin), timeout_(timeout),
        identity_(std::move(identity)) {}

  std::string path_;
  UniqueFd fd_;
  bool standin_ = false;
  std::optional<Millis> timeout_;
  std::string identity_;
};

}  // namespace castor
