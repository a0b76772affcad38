// castor.ini's shared rules, for the two daemons that read it (quorumd_config: [quorumd] and [lan]
// (lan_config), svcmgr_config: [svcmgr]). Each daemon reads the file through the INI reader
// (common/ini_reader.h) with these rules:
//   - the file holds [quorumd], [svcmgr], [lan], [fence NODE] (config/fence_config.h) and [alert NAME]
//     (config/alert_config.h, svcmgr's); any other section, and any key before the first
//     section, is an error for both daemons (each reports it, so neither starts on a file the other refuses);
//   - a daemon reads only its own sections and skips the others' keys;
//   - its section may be split in several [NAME] blocks; a key given twice across them is an error;
//   - an unknown key, a bad value or a syntax error is an error naming file:line;
//   - values use common/value_parsers.h (booleans: yes/no, true/false, on/off, 1/0, any case).
// Must never read the file (the caller does), or interpret the daemon's keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ini_reader.h"
#include "common/status.h"

namespace castor {

// One daemon's section of castor.ini, ready for the daemon to interpret its keys.
struct CastorIniSection {
  std::string file;
  std::string name;               // "quorumd", "svcmgr" or "lan"
  std::vector<IniEntry> entries;  // the section's known keys, each once, in file order
  std::vector<IniError> errors;   // syntax, structure and key errors, then the daemon's own (bad values)

  std::string title() const { return "[" + name + "]"; }
  void error(int line, std::string message) { errors.push_back({file, line, std::move(message)}); }
  // OK, or invalid_argument with every error as "file:line: message", in line order, joined by "; ".
  Status status() const;
};

// Reads `text` (errors name `file`) with castor.ini's rules and returns section `name`'s entries whose
// keys are in `known`. Checked in the service files' order: a key not in `known` is an unknown key (with
// a "did you mean" hint, or the list of known keys), then a known key seen before is a duplicate.
CastorIniSection read_castor_ini_section(std::string_view text, const std::string& file, std::string_view name,
                                         const std::vector<std::string_view>& known);

// A section a daemon reads, and the keys it knows there.
struct CastorIniWanted {
  std::string_view name;
  std::vector<std::string_view> known;
};
// The same for several sections of one text, read once: one CastorIniSection per `wanted`, in that
// order. The file's own errors (syntax, unknown sections, keys outside any section) are reported once, in
// the first; each section's unknown and duplicate keys in its own.
std::vector<CastorIniSection> read_castor_ini_sections(std::string_view text, const std::string& file,
                                                       const std::vector<CastorIniWanted>& wanted);

}  // namespace castor
