// The text of a service file (the format service_loader.h reads) for a ServiceDefinition, every key
// written out (timings included, so nothing depends on defaults or on an agent's meta-data). Used by
// `castor import pacemaker`, which re-reads what it wrote and keeps it only if it loads back to the same
// definition (definition_digest): a value the format cannot hold (" ;", a newline, leading blanks) shows
// there rather than in a silently different file.
// Must never do I/O or throw.
#pragma once

#include <string>

#include "config/service_definition.h"

namespace castor {

// `header` (may be empty) is written first as comment lines.
std::string service_file_text(const ServiceDefinition& def, const std::string& header = "");

}  // namespace castor
