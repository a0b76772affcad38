// IniReader: the one way Castor reads INI text (castor.ini and the service files), built on inih.
// It returns the document as it is written: sections in file order, each with its entries in file order
// (a key given twice is kept twice), every section and entry with its line, and every syntax error as
// file:line. What the keys mean, which sections exist, and whether a key may repeat is the caller's
// business (quorumd_config, svcmgr_config, service_loader), with the shared helpers at the end.
//
// Syntax (one set of rules for every file):
//   - Lines end with "\n" ("\r\n" works: the "\r" is trimmed). A UTF-8 byte-order mark at the start of
//     the file is skipped. Leading and trailing whitespace is ignored everywhere: there are no
//     continuation lines (an indented line is a line of its own).
//   - Comments: a line whose first non-blank character is ';' or '#'; after "key = value", a ';' that
//     follows whitespace starts a comment (so a value cannot contain " ;"; "a;b" stays whole).
//   - "[name]": a section header; name is the trimmed text between the brackets. Only whitespace or a
//     comment may follow the ']'.
//   - "key = value" or "key : value": the key is the text up to the first '=' or ':' (trimmed), the value
//     the rest (trimmed, inline comment cut). Empty values are kept (""); an empty key is an error.
//   - Keys and section names are case-sensitive (values are whatever their parser says).
//   - Keys before the first header land in a section with line 0 and an empty name.
//   - Lines of at most IniLimits::max_line_bytes (4096) bytes, no NUL bytes; a bad line is reported and
//     skipped. After max_errors errors the reader stops (the last error says so).
// inih does the "key = value" splitting. The reader feeds it one line at a time through
// ini_parse_stream, so it knows every line's number (the Debian build has no INI_HANDLER_LINENO), handles
// headers itself (inih keeps only 49 bytes of a section name), and never hands inih a line longer than
// inih's own 200-byte buffer: such a line is split by inih's rules here instead of being cut in two.
//
// Must never throw, read files (the caller reads the text), or interpret a key or a value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace castor {

// One problem with an INI file. line 0 = the file as a whole.
struct IniError {
  std::string file;
  int line = 0;
  std::string message;
  // "web.ini:7: unknown key 'recover' in [service] (did you mean 'recovery'?)"; "web.ini: ..." when line is 0.
  std::string to_string() const;
};

struct IniEntry {
  std::string key, value;
  int line = 0;
};

struct IniSection {
  std::string name;  // "" with line 0: the keys before the first header
  int line = 0;      // line of the header
  std::vector<IniEntry> entries;

  // "[name]" as used in messages ("before any section" for line 0).
  std::string title() const;
  // The first entry with this key, or nullptr.
  const IniEntry* find(std::string_view key) const;
};

struct IniLimits {
  size_t max_line_bytes = 4096;  // without the newline
  size_t max_errors = 100;
};

struct IniDocument {
  std::string file;
  std::vector<IniSection> sections;  // in file order; a name may appear more than once
  std::vector<IniError> errors;      // syntax errors, in line order
  bool stopped = false;              // max_errors reached: the rest of the text was not read

  bool ok() const { return errors.empty(); }
};

// Parses `text`; errors name `file`. A header with a syntax error starts no section: the keys under it
// are checked for syntax but dropped (the header's error already covers them).
IniDocument parse_ini(std::string_view text, const std::string& file, const IniLimits& limits = {});

// --- helpers for the rules every caller shares ---

// A user-supplied string for a message: quoted, and cut short if it is long.
std::string ini_quoted(std::string_view s);
// " (did you mean 'recovery'?)" when one candidate is within a small edit distance of `word`, else "".
std::string ini_did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);
// Edit distance counting a swap of two neighbours as one edit ("agnet" is one edit from "agent").
size_t ini_edit_distance(std::string_view a, std::string_view b);
// The messages every file uses for its keys (the caller adds file:line):
//   "unknown key 'k' in [section]" + hint
//   "duplicate key 'k' in [section] (first at line N)"
//   "key 'k' in [section]: " + problem (a bad value)
// `title` is the section as the caller names it ("[service]", "[resource web]", "[quorumd]").
std::string ini_unknown_key(std::string_view key, std::string_view title, const std::string& hint = "");
std::string ini_duplicate_key(std::string_view key, std::string_view title, int first_line);
std::string ini_bad_value(std::string_view key, std::string_view title, const std::string& problem);

}  // namespace castor
