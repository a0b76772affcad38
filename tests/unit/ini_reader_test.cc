// Tests for the one INI reader every Castor file goes through (lib/common/ini_reader.h): sections and
// entries with their lines, the syntax rules, the limits, and the shared message helpers.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/ini_reader.h"

using namespace castor;

namespace {

IniDocument read(const std::string& text, const IniLimits& limits = {}) { return parse_ini(text, "t.ini", limits); }

std::string errors_of(const IniDocument& d) {
  std::string out;
  for (const auto& e : d.errors) out += e.to_string() + "\n";
  return out;
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("ini reader: sections and entries in file order, each with its line") {
  IniDocument d = read("; comment\n[a]\nx = 1\n\n# another\ny : two words  \n[b c]\nx=\n[a]\nx = 3\n");
  REQUIRE_MESSAGE(d.ok(), errors_of(d));
  CHECK(d.file == "t.ini");
  REQUIRE(d.sections.size() == 3);
  CHECK(d.sections[0].name == "a");
  CHECK(d.sections[0].line == 2);
  REQUIRE(d.sections[0].entries.size() == 2);
  CHECK(d.sections[0].entries[0].key == "x");
  CHECK(d.sections[0].entries[0].value == "1");
  CHECK(d.sections[0].entries[0].line == 3);
  CHECK(d.sections[0].entries[1].key == "y");
  CHECK(d.sections[0].entries[1].value == "two words");  // "key : value" form, trimmed
  CHECK(d.sections[0].entries[1].line == 6);
  CHECK(d.sections[1].name == "b c");
  CHECK(d.sections[1].line == 7);
  REQUIRE(d.sections[1].entries.size() == 1);
  CHECK(d.sections[1].entries[0].value.empty());  // empty values are kept
  CHECK(d.sections[2].name == "a");               // a section may repeat: the caller decides
  CHECK(d.sections[2].line == 9);
  CHECK(d.sections[2].entries.at(0).line == 10);
  CHECK(d.sections[0].find("y") == &d.sections[0].entries[1]);
  CHECK(d.sections[0].find("z") == nullptr);
  CHECK(d.sections[0].title() == "[a]");
}

TEST_CASE("ini reader: duplicate keys are kept, keys before any header get a line-0 section") {
  IniDocument d = read("k = 1\n[s]\nk = 1\nk = 2\n");
  REQUIRE_MESSAGE(d.ok(), errors_of(d));
  REQUIRE(d.sections.size() == 2);
  CHECK(d.sections[0].line == 0);
  CHECK(d.sections[0].name.empty());
  CHECK(d.sections[0].title() == "before any section");
  CHECK(d.sections[0].entries.at(0).line == 1);
  REQUIRE(d.sections[1].entries.size() == 2);
  CHECK(d.sections[1].find("k")->value == "1");
  CHECK(d.sections[1].entries[1].value == "2");
}

TEST_CASE("ini reader: comments, whitespace, CRLF, byte-order mark, no continuation lines") {
  IniDocument d = read("\xEF\xBB\xBF[s]\r\n  a = x;y ; comment\r\n\tb = \"quoted\" # not a comment\n"
                       "c = v;\n   d = indented\n  ;e = commented\n[t] ; comment after a header\n");
  REQUIRE_MESSAGE(d.ok(), errors_of(d));
  REQUIRE(d.sections.size() == 2);
  const IniSection& s = d.sections[0];
  CHECK(s.name == "s");
  REQUIRE(s.entries.size() == 4);
  CHECK(s.entries[0].value == "x;y");                        // ';' starts a comment only after whitespace
  CHECK(s.entries[1].value == "\"quoted\" # not a comment");  // '#' only at the start of a line
  CHECK(s.entries[2].value == "v;");
  CHECK(s.entries[3].key == "d");  // an indented line is a key of its own, not a continuation
  CHECK(s.entries[3].line == 5);
  CHECK(d.sections[1].name == "t");
  // Section names are trimmed, and case is kept.
  IniDocument p = read("[ Mixed Case ]\nK = V\n");
  REQUIRE(p.ok());
  CHECK(p.sections.at(0).name == "Mixed Case");
  CHECK(p.sections[0].entries.at(0).key == "K");
  CHECK(p.sections[0].entries[0].value == "V");
}

TEST_CASE("ini reader: syntax errors name file:line, and every error is reported") {
  IniDocument d = read("[s]\njust words\n[t\nx = 1\n[u] junk\ny = 2\n= value\n[v]\nz = 3\n");
  const std::string all = errors_of(d);
  CHECK(has(all, "t.ini:2: syntax error: expected 'key = value', '[section]' or a comment"));
  CHECK(has(all, "t.ini:3: syntax error: section header without ']'"));
  CHECK(has(all, "t.ini:5: unexpected text 'junk' after the section header"));
  CHECK(d.errors.size() == 3);  // the keys under a broken header are dropped, not reported again
  REQUIRE(d.sections.size() == 2);
  CHECK(d.sections[0].name == "s");
  CHECK(d.sections[0].entries.empty());
  CHECK(d.sections[1].name == "v");
  CHECK(d.sections[1].entries.at(0).key == "z");

  IniDocument e = read("[s]\n= value\n");
  REQUIRE(e.errors.size() == 1);
  CHECK(e.errors[0].to_string() == "t.ini:2: empty key name in [s]");
  IniDocument f = read(": value\n");
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].to_string() == "t.ini:1: empty key name before any section");
}

TEST_CASE("ini reader: long lines keep their whole value, and the limit is exact") {
  // inih's own buffer holds 198 characters: longer lines are split by inih's rules, never cut.
  const std::string value(4000, 'v');
  IniDocument d = read("[s]\nk = " + value + "   ; comment\nshort = x\n");
  REQUIRE_MESSAGE(d.ok(), errors_of(d));
  CHECK(d.sections[0].entries.at(0).value == value);
  CHECK(d.sections[0].entries.at(1).line == 3);
  const std::string pad(300, ' ');
  for (const char* line : {"k = a;b ; c", "k=a b  ", "k : x = y", "k = ;x", "k = #x"}) {
    CAPTURE(line);
    IniDocument s = read(std::string("[s]\n") + line + "\n");
    IniDocument l = read(std::string("[s]\n") + line + pad + "; padding comment\n");
    REQUIRE(s.ok());
    REQUIRE(l.ok());
    CHECK(s.sections[0].entries.at(0).value == l.sections[0].entries.at(0).value);
  }
  IniDocument n = read("[s]\n" + std::string(300, 'x') + "\n");
  REQUIRE(n.errors.size() == 1);
  CHECK(has(n.errors[0].to_string(), "t.ini:2: syntax error"));
  // A long section header too.
  const std::string name(300, 'n');
  IniDocument h = read("[" + name + "]\nk = v\n");
  REQUIRE(h.ok());
  CHECK(h.sections.at(0).name == name);

  CHECK(read("[s]\nk = " + std::string(4092, 'y') + "\n").ok());  // 4096 bytes
  IniDocument t = read("[s]\nk = " + std::string(4093, 'y') + "\nj = 1\n");
  REQUIRE(t.errors.size() == 1);
  CHECK(t.errors[0].to_string() == "t.ini:2: line too long (4097 bytes, at most 4096)");
  CHECK(t.sections.at(0).entries.at(0).key == "j");  // the next lines are still read
  // The limit is the caller's.
  IniDocument small = read("[s]\nk = 123456\n", {.max_line_bytes = 8, .max_errors = 100});
  CHECK(has(errors_of(small), "t.ini:2: line too long (10 bytes, at most 8)"));
}

TEST_CASE("ini reader: NUL bytes, error limit, no trailing newline, empty text") {
  IniDocument d = read(std::string("[s]\nk = a\0b\nj = 1", 17));
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].to_string() == "t.ini:2: line contains a NUL byte");
  CHECK(d.sections.at(0).entries.at(0).key == "j");  // the last line, without "\n"

  std::string garbage;
  for (int i = 0; i < 1000; ++i) garbage += "no equals sign\n";
  IniDocument g = read(garbage, {.max_line_bytes = 4096, .max_errors = 7});
  CHECK(g.errors.size() == 7);
  CHECK(g.stopped);
  CHECK(has(g.errors.back().message, "[too many errors: stopped here]"));
  CHECK(g.errors.back().line == 7);

  IniDocument e = read("");
  CHECK(e.ok());
  CHECK(e.sections.empty());
  CHECK_FALSE(e.stopped);
}

TEST_CASE("ini reader: the shared message helpers") {
  CHECK(IniError{"f.ini", 3, "bad"}.to_string() == "f.ini:3: bad");
  CHECK(IniError{"f.ini", 0, "bad"}.to_string() == "f.ini: bad");
  CHECK(ini_quoted("x") == "'x'");
  CHECK(ini_quoted(std::string(100, 'a')) == "'" + std::string(60, 'a') + "...' (100 bytes)");
  CHECK(ini_edit_distance("agnet", "agent") == 1);
  CHECK(ini_edit_distance("", "abc") == 3);
  CHECK(ini_did_you_mean("recover", {"recovery", "nodes"}) == " (did you mean 'recovery'?)");
  CHECK(ini_did_you_mean("zzzzzz", {"recovery", "nodes"}).empty());
  CHECK(ini_unknown_key("k", "[s]", " (hint)") == "unknown key 'k' in [s] (hint)");
  CHECK(ini_duplicate_key("k", "[s]", 4) == "duplicate key 'k' in [s] (first at line 4)");
  CHECK(ini_bad_value("k", "[s]", "'x' is not a boolean") == "key 'k' in [s]: 'x' is not a boolean");
}

TEST_CASE("ini reader: hostile input never crashes and every error names the file") {
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const char alphabet[] = "[]=:;# \n\r\t\"\\ab\xef\xbb\xbf";
  for (int round = 0; round < 2000; ++round) {
    std::string t;
    const size_t n = next() % 400;
    for (size_t i = 0; i < n; ++i) t += alphabet[next() % (sizeof alphabet - 1)];
    if (next() % 4 == 0) t += std::string(next() % 600, 'k') + " = " + std::string(next() % 600, 'v');
    IniDocument d = read(t, {.max_line_bytes = 512, .max_errors = 100});
    CHECK(d.errors.size() <= 100);
    for (const auto& e : d.errors) CHECK((e.file == "t.ini" && !e.message.empty() && e.line >= 0));
    for (const auto& s : d.sections)
      for (const auto& e : s.entries) CHECK((!e.key.empty() && e.line > s.line));
  }
}
