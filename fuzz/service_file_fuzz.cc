// Fuzz target: svcmgr's service file loader (load_service_text, the code load_service_file() runs on a
// file's text), for a cluster of nodes alpha and beta.
// Checks: no crash, leak or sanitizer report; a file gives either one valid definition or errors (never
// both, never neither); every error names the file; what loads passes definition_problems() and has a digest.
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_require.h"
#include "config/service_loader.h"

using namespace castor;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> kNodes = {"alpha", "beta"};
  const std::string text(reinterpret_cast<const char*>(data), size);
  LoadResult r = load_service_text(text, "fuzz.ini", kNodes);
  require(r.services.size() + (r.errors.empty() ? 0 : 1) == 1);
  require(r.errors.size() <= kMaxErrorsPerFile);
  for (const auto& e : r.errors) require(e.file == "fuzz.ini" && !e.message.empty());
  for (const auto& s : r.services) {
    require(definition_problems(s, kNodes).empty());
    (void)definition_digest(s);
  }
  return 0;
}
