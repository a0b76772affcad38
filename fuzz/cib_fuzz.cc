// Fuzz target: `castor import pacemaker`'s reading of a CIB: the XML subset reader (tools/xml_subset.h) and
// the import (tools/pacemaker_import.h) on whatever parses.
// Checks: no crash, leak or sanitizer report; a refusal says why; every service the import maps is one
// Castor accepts (definition_problems() empty) and has a digest.
#include <string_view>

#include "fuzz/fuzz_require.h"
#include "tools/pacemaker_import.h"
#include "tools/xml_subset.h"

using namespace castor;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto root = parse_xml_subset(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!root.ok()) {
    require(!root.status().message().empty());
    return 0;
  }
  auto imported = import_pacemaker_cib(*root);
  if (!imported.ok()) return 0;
  for (const ServiceDefinition& s : imported->services) {
    require(definition_problems(s, {}).empty());
    (void)definition_digest(s);
  }
  return 0;
}
