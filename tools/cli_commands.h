// The verbs of the `castor` admin CLI. Each takes its arguments (after the verb), prints to stdout/stderr,
// and returns the process exit code (tools/exit_codes.h). None of them exits the process itself.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace castor {

int cmd_init(const std::vector<std::string>& args);
int cmd_dump(const std::vector<std::string>& args);
int cmd_status(const std::vector<std::string>& args);
int cmd_check(const std::vector<std::string>& args);
int cmd_keygen(const std::vector<std::string>& args);
// enable, disable, relocate, restart, freeze, unfreeze, reset
int cmd_service(const std::string& verb, const std::vector<std::string>& args);
int cmd_node(const std::string& verb, const std::vector<std::string>& args);  // standby, unstandby
int cmd_fence_check(const std::vector<std::string>& args);  // castor fence-check (tools/cmd_fence.cc)
int cmd_fence(const std::vector<std::string>& args);        // castor fence NODE
int cmd_disk(const std::vector<std::string>& args);         // castor disk replace OLD NEW (tools/cmd_disk.cc)
int cmd_export(const std::vector<std::string>& args);       // castor export pacemaker (tools/cmd_export.cc)
int cmd_import(const std::vector<std::string>& args);       // castor import pacemaker (tools/cmd_import.cc)
int cmd_history(const std::vector<std::string>& args);      // castor history (tools/cmd_history.cc)
int cmd_simulate(const std::vector<std::string>& args);     // castor simulate (tools/cmd_simulate.cc)
int cmd_drill(const std::vector<std::string>& args);        // castor drill (tools/cmd_drill.cc)
std::string services_status_text(const std::string& svcmgr_socket, bool as_json);

// Prints "castor VERB: message" to stderr and returns the exit code for `st`.
int report_error(const std::string& verb, const Status& st);

}  // namespace castor
