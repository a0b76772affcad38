// Test support: the sample service file "web" the definition-store tests save and load (nodes a and b, one
// exec resource of shell lines), written to a scratch directory and loaded as svcmgr loads it. Never used by
// production code.
#pragma once

#include <string>

#include "config/service_loader.h"
#include "tests/support/scratch.h"

namespace castor::testing {

// The text of web.ini: start touches /tmp/web, stop is "rm -f /tmp/web", monitor tests the file.
extern const char* const kWebServiceText;

// Writes kWebServiceText to `dir`/web.ini and loads it for nodes a and b; REQUIREs that it loads.
LoadResult load_web_service(const ScratchDir& dir);

}  // namespace castor::testing
