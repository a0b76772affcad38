// Fuzz target: castor.ini as both daemons read it, through the one INI reader: quorumd's [quorumd] and
// [lan] (parse_quorumd_ini, then check_quorumd_config; a [lan] read without an error must pass
// check_lan_config) and svcmgr's [svcmgr] (parse_svcmgr_ini), the code
// load_quorumd_ini() and load_svcmgr_config() run on a file's text.
// Checks: no crash, leak or sanitizer report; an error always names the file.
#include <cstdlib>
#include <string>

#include "config/lan_config.h"
#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"

using namespace castor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  QuorumdConfig config;
  Status st = parse_quorumd_ini(text, "fuzz.ini", config);
  SvcmgrConfig svcmgr;
  Status ss = parse_svcmgr_ini(text, "fuzz.ini", svcmgr);
  if (!ss.ok() && ss.message().find("fuzz.ini") == std::string::npos) std::abort();
  if (!st.ok()) {
    if (st.message().find("fuzz.ini") == std::string::npos) std::abort();
    return 0;
  }
  (void)check_quorumd_config(config);
  // The parser and check_lan_config hold one set of [lan] rules: what one takes, the other must too.
  if (!check_lan_config(config.lan).ok()) std::abort();
  (void)describe_lan_config(config.lan);
  return 0;
}
