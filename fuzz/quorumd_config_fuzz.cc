// Fuzz target: castor.ini's [quorumd] parser (parse_quorumd_ini, then check_quorumd_config), the same code
// load_quorumd_ini() runs on a file's text.
// Checks: no crash, leak or sanitizer report; an error always names the file.
#include <cstdlib>
#include <string>

#include "config/quorumd_config.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  QuorumdConfig config;
  Status st = parse_quorumd_ini(text, "fuzz.ini", config);
  if (!st.ok()) {
    if (st.message().find("fuzz.ini") == std::string::npos) std::abort();
    return 0;
  }
  (void)check_quorumd_config(config);
  return 0;
}
