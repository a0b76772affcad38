// The admin CLI's exit codes: stable, documented in `castor --help` and castor(8). Scripts depend on them;
// never renumber one, only add.
#pragma once

#include "common/status.h"

namespace castor {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // anything not listed below
  kExitUsage = 2,         // bad command line
  kExitNotFound = 3,      // device (or LABEL=/UUID=) not found
  kExitRefused = 4,       // the device holds data (filesystem, RAID, partition table, a Castor disk): use --force
  kExitBusy = 5,          // the device is mounted or in use
  kExitPermission = 6,    // read-only device, or not allowed (not root)
  kExitTooSmall = 7,      // device too small, or unsupported sector size
  kExitIo = 8,            // I/O error or timeout on the device
  kExitCorrupt = 9,       // on-disk records are corrupt or belong to another cluster
  kExitLive = 10,         // castor init --force: the Castor disk is in use (a heartbeat changed while watched)
};

// Maps a Status code to the exit code above.
int exit_code_for(const Status& st);
// The table shown by `castor --help`.
const char* exit_code_help();

}  // namespace castor
