// svcmgr's exit codes (svcmgr --help lists them), one name per meaning. Several meanings share a number:
// the numbers are what systemd units, castor and the integration tests already see, so they stay.
// Must never be renumbered: only named.
#pragma once

namespace castor {

enum SvcmgrExit : int {
  // 0: nothing runs here any more and the entries say so.
  kSvcmgrExitStopped = 0,         // SIGTERM/SIGINT: every service stopped and released
  kSvcmgrExitLeftWithQuorumd = 0, // quorumd left the cluster after every service stopped (services-stopped sent)
  kSvcmgrExitHelp = 0,            // --help, --version
  // 1: svcmgr did not start, or stopped without being able to say that nothing runs here.
  kSvcmgrExitStartup = 1,         // could not start (config, quorumd, the admin socket, the signalfd)
  kSvcmgrExitWaitFailed = 1,      // the event loop's wait failed (poll/epoll error other than EINTR)
  kSvcmgrExitSecondSignal = 1,    // a second SIGTERM/SIGINT while still stopping: exits at once
  kSvcmgrExitOrphansLeft = 1,     // leaving while orphaned services may still run here (never "all stopped")
  kSvcmgrExitLeaveTimeout = 1,    // leaving took longer than 10 minutes
  // 2: bad command line.
  kSvcmgrExitUsage = 2,
  // 3: every service was killed: the node must not be trusted to run anything.
  kSvcmgrExitFenced = 3,          // quorumd fenced this node
  kSvcmgrExitLeaseLost = 3,       // the lease expired, or quorumd went away (its lease cannot be proven)
};

}  // namespace castor
