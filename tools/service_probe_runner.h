// ServiceProbeRunner: runs one probe of a service (config/service_probe.h) from this node, for `castor
// drill`: an HTTP GET, a TCP connect or a command, each bounded by `timeout` (a probe that hangs is a
// failed probe, never a hung drill). Never throws; a probe that cannot even be tried is a failed probe.
#pragma once

#include "common/clock.h"
#include "config/service_probe.h"

namespace castor {

// Whether the service answered within `timeout`.
bool run_service_probe(const ServiceProbe& probe, Duration timeout);

}  // namespace castor
