// common/text_sanitize: valid UTF-8 out of any bytes, cuts on character boundaries, controls stripped for
// what daemons keep, everything non-printable escaped for what the CLI prints; and tools/terminal_output's
// ASCII-only JSON. Also the agent's last line (agent_result) through it.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "agent/agent_result.h"
#include "common/text_sanitize.h"
#include "tools/terminal_output.h"

using namespace castor;

namespace {

// No raw C0/C1 control character and no DEL anywhere in `s` (which must be valid UTF-8 for the C1 test).
bool has_no_controls(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return false;
  }
  return true;
}

const std::string kFffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("valid_utf8 keeps valid text and replaces every invalid sequence by U+FFFD") {
  CHECK(valid_utf8("") == "");
  CHECK(valid_utf8("plain ascii") == "plain ascii");
  CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(valid_utf8("\xFF\xFE bad") == kFffd + kFffd + " bad");
  CHECK(valid_utf8("x\xC3") == "x" + kFffd);                  // cut after the lead byte
  CHECK(valid_utf8("x\xE2\x82") == "x" + kFffd);              // cut inside a 3-byte sequence: one U+FFFD
  CHECK(valid_utf8("\x80z") == kFffd + "z");                  // stray continuation byte
  CHECK(valid_utf8("\xC0\xAF") == kFffd + kFffd);             // overlong '/'
  CHECK(valid_utf8("\xED\xA0\x80") == kFffd + kFffd + kFffd); // a surrogate (E0..9F only after ED)
  CHECK(valid_utf8("\xF4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
  CHECK(is_valid_utf8(valid_utf8("\xF0\x9F\x98")));
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));
  // Every byte value, alone and in pairs: the result is always valid UTF-8.
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; b += 7) {
      const std::string s{char(a), char(b), char(0xE2)};
      CHECK(is_valid_utf8(valid_utf8(s)));
    }
}

TEST_CASE("utf8_prefix never cuts a character in two") {
  const std::string euro = "\xE2\x82\xAC";  // 3 bytes
  CHECK(utf8_prefix("abc", 10) == "abc");
  CHECK(utf8_prefix("abc", 2) == "ab");
  CHECK(utf8_prefix("a" + euro, 1) == "a");
  CHECK(utf8_prefix("a" + euro, 2) == "a");
  CHECK(utf8_prefix("a" + euro, 3) == "a");
  CHECK(utf8_prefix("a" + euro, 4) == "a" + euro);
  CHECK(utf8_prefix("", 0) == "");
}

TEST_CASE("clean_text: valid UTF-8, no control characters, trimmed, capped on a boundary") {
  const std::string nasty = "\xFF\xFE bad \x1B[31m red\t\xC2\x9B" "2J end\x7F";
  const std::string c = clean_text(nasty, 512);
  CHECK(is_valid_utf8(c));
  CHECK(has_no_controls(c));
  CHECK(c == kFffd + kFffd + " bad  [31m red  2J end");
  CHECK(clean_text("  \t\r\n  ", 100) == "");
  // A cap that falls inside a character: the whole character goes, never half of it.
  const std::string cut = clean_text(std::string(511, 'a') + "\xC3\xA9" + "tail", 512);
  CHECK(cut == std::string(511, 'a'));
  CHECK(clean_text(std::string(600, 'x'), 512).size() == 512);
}

TEST_CASE("printable escapes everything a terminal could act on") {
  CHECK(printable("svc-1 on alpha (caf\xC3\xA9)") == "svc-1 on alpha (caf\xC3\xA9)");
  CHECK(printable("a\x1B[31mred") == "a\\x1B[31mred");
  CHECK(printable("line\nforged") == "line\\x0Aforged");
  CHECK(printable("\xC2\x9B" "2J") == "\\u{009B}2J");                  // C1 CSI
  CHECK(printable("\xFF\xFE") == "\\xFF\\xFE");                        // invalid bytes shown as bytes
  CHECK(printable("x\xC3") == "x\\xC3");                               // a cut character
  CHECK(printable("evil\xE2\x80\xAEtxt.exe") == "evil\\u{202E}txt.exe");  // bidi override
  CHECK(printable("back\\slash") == "back\\\\slash");                  // unambiguous
  CHECK(printable("del\x7F") == "del\\x7F");
  // Whatever the input, the output is valid UTF-8 with no control character.
  for (int a = 0; a < 256; ++a) {
    const std::string p = printable(std::string{char(a), char(0xC2), char(0x85), char(0xE2)});
    CHECK(is_valid_utf8(p));
    CHECK(has_no_controls(p));
  }
}

TEST_CASE("terminal_json is ASCII-only JSON that parses back to the same text") {
  nlohmann::ordered_json j;
  j["reason"] = std::string("\xC3\xA9t\xC3\xA9 \x1B[31m \xC2\x9B");
  j["bad"] = std::string("\xFF x\xC3");
  const std::string text = terminal_json(j);
  for (char c : text) {
    CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(static_cast<unsigned char>(c) < 0x7f);
  }
  auto back = nlohmann::ordered_json::parse(text, nullptr, false);
  REQUIRE_FALSE(back.is_discarded());
  CHECK(back["reason"] == j["reason"]);
  CHECK(back["bad"].get<std::string>() == kFffd + " x" + kFffd);
}

TEST_CASE("an agent's last line with invalid bytes, escapes and a cut character is kept clean") {
  // What a failing monitor printed: bytes that are not UTF-8, an ANSI colour, a C1 CSI, and (the 4 KiB
  // tail's cap or the 512-byte line cap) a character cut in two.
  const std::string out = "starting\n\xFF\xFE bad \x1B[31m red \xC2\x9B" "2J " + std::string(490, 'z') + "\xE2\x82\xAC\n";
  const std::string line = last_output_line(out);
  CHECK(is_valid_utf8(line));
  CHECK(has_no_controls(line));
  CHECK(line.size() <= 512);
  CHECK(line.rfind(kFffd + kFffd + " bad  [31m red  2J ", 0) == 0);
  CHECK(line.find("\xE2\x82") == std::string::npos);  // the euro sign did not fit: gone whole, not half
  const std::string reason = parse_exit_reason("ocf-exit-reason:\xFF oops \xC2\x85 next\n");
  CHECK(reason == kFffd + " oops   next");
  AgentOutcome o;
  o.exit_code = 1;
  o.output_tail = out;
  const Classified c = classify(AgentKind::exec, AgentAction::monitor, o);
  CHECK(is_valid_utf8(c.text));
  CHECK(has_no_controls(c.text));
}

TEST_CASE("the control codecs' dump replaces invalid UTF-8: every reply stays valid JSON") {
  // What svcmgr and quorumd send goes through nlohmann's dump with error_handler_t::replace (json_codec::dump,
  // svcmgr_admin, quorumd/reply_json.h): a string that is not UTF-8 never throws and never makes the text
  // unreadable. Guarded here because the CLI's ability to read any reply depends on it.
  nlohmann::ordered_json j;
  j["reason"] = std::string("\xFF\xFE bad \x1B[31m x\xE2\x82");
  const std::string text = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  CHECK(is_valid_utf8(text));
  auto back = nlohmann::ordered_json::parse(text, nullptr, false);
  REQUIRE_FALSE(back.is_discarded());
  CHECK(back["reason"].get<std::string>() == kFffd + kFffd + " bad \x1B[31m x" + kFffd);
}
