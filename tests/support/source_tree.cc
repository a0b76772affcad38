#include "tests/support/source_tree.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/read_file.h"

namespace castor::testing {

Result<std::string> read_source_file(const std::string& relative) {
  std::vector<std::string> roots;
  if (const char* d = std::getenv("CASTOR_SOURCE_DIR")) roots.push_back(std::string(d) + "/");
  roots.push_back("");
  const std::string here = __FILE__;  // .../tests/support/source_tree.cc
  if (auto pos = here.rfind("tests/support/"); pos != std::string::npos) roots.push_back(here.substr(0, pos));
  for (const std::string& root : roots)
    if (auto text = read_file_to_string(root + relative); text.ok()) return text;
  return Error(Code::not_found, relative + " not found in the source tree (set CASTOR_SOURCE_DIR)");
}

std::string uncomment_settings(const std::string& text, size_t from) {
  std::string on = text.substr(0, from);
  for (size_t p = from; p < text.size();) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(p, e - p);
    if (line.rfind(";", 0) == 0 && line.size() > 1 && (line[1] == '[' || std::islower(static_cast<unsigned char>(line[1]))))
      line.erase(0, 1);
    on += line + "\n";
    p = e + 1;
  }
  return on;
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace castor::testing
