#include "common/text_sanitize.h"

#include <cstdint>
#include <cstdio>

namespace castor {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Decodes the UTF-8 sequence at s[i]. Returns its length and sets *cp when valid; returns the length of
// the maximal invalid subpart (at least 1) and sets *cp = -1 when not (the Unicode "substitution of
// maximal subparts" practice, as WHATWG and nlohmann do it).
size_t decode(std::string_view s, size_t i, int32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  *cp = -1;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    v = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;        // no overlong forms
    if (c == 0xED) hi = 0x9F;        // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    v = c & 0x07;
    if (c == 0xF0) lo = 0x90;        // no overlong forms
    if (c == 0xF4) hi = 0x8F;        // nothing above U+10FFFF
  } else {
    return 1;  // a continuation byte or C0, C1, F5..FF: never a lead byte
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return k;  // cut short
    const unsigned char t = b(i + k);
    if (k == 1 ? (t < lo || t > hi) : (t < 0x80 || t > 0xBF)) return k;
    v = (v << 6) | (t & 0x3F);
  }
  *cp = static_cast<int32_t>(v);
  return len;
}

bool is_control(int32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Code points that reorder or hide text on a terminal: bidi embeddings/overrides/isolates, and the
// line / paragraph separators.
bool is_format_hazard(int32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

void append_hex_byte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", c);
  out += buf;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    const size_t n = decode(s, i, &cp);
    if (cp < 0) return false;
    i += n;
  }
  return true;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    const size_t n = decode(s, i, &cp);
    if (cp < 0) out += kReplacement;
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    const size_t n = decode(s, i, &cp);
    if (i + n > max_bytes) break;
    i += n;
    end = i;
  }
  return s.substr(0, end);
}

std::string clean_text(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    const size_t n = decode(s, i, &cp);
    if (cp < 0) out += kReplacement;
    else if (is_control(cp)) out += ' ';
    else out.append(s.substr(i, n));
    i += n;
  }
  // Trim blanks, then cut: `out` is valid UTF-8 now, so utf8_prefix cuts only between characters.
  size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  size_t e = out.find_last_not_of(' ');
  std::string_view v = utf8_prefix(std::string_view(out).substr(b, e + 1 - b), max_bytes);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return std::string(v);
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    const size_t n = decode(s, i, &cp);
    if (cp < 0) {
      for (size_t k = 0; k < n; ++k) append_hex_byte(out, static_cast<unsigned char>(s[i + k]));
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp < 0x80 && is_control(cp)) {
      append_hex_byte(out, static_cast<unsigned char>(cp));
    } else if (is_control(cp) || is_format_hazard(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace castor
