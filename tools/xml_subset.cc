// A reader for the XML subset of a CIB: see xml_subset.h.
#include "tools/xml_subset.h"

#include <cstdint>

namespace castor {

namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxElements = 1000000;

bool name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

class Reader {
 public:
  explicit Reader(std::string_view t) : t_(t) {}

  Result<XmlElement> document() {
    if (t_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (Status st = misc(); !st.ok()) return st;
    if (!at("<")) return fail("no root element");
    XmlElement root;
    if (Status st = element(root, 1); !st.ok()) return st;
    if (Status st = misc(); !st.ok()) return st;
    if (pos_ != t_.size()) return fail("content after the root element");
    return root;
  }

 private:
  std::string_view t_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t elements_ = 0;

  bool at(std::string_view s) const { return t_.substr(pos_, s.size()) == s; }
  void advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < t_.size(); ++i, ++pos_)
      if (t_[pos_] == '\n') ++line_;
  }
  Status fail(const std::string& what) const {
    return Error(Code::invalid_argument, "line " + std::to_string(line_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < t_.size() && space(t_[pos_])) advance(1);
  }
  Status skip_until(std::string_view end, const std::string& what) {
    const size_t e = t_.find(end, pos_);
    if (e == std::string_view::npos) return fail("unterminated " + what);
    advance(e + end.size() - pos_);
    return Status::Ok();
  }
  // Whitespace, comments and processing instructions between markup outside the root.
  Status misc() {
    for (;;) {
      skip_space();
      if (at("<!--")) {
        if (Status st = skip_until("-->", "comment"); !st.ok()) return st;
      } else if (at("<?")) {
        if (Status st = skip_until("?>", "processing instruction"); !st.ok()) return st;
      } else if (at("<!DOCTYPE") || at("<!doctype")) {
        return fail("a DOCTYPE is not read (a CIB has none)");
      } else {
        return Status::Ok();
      }
    }
  }
  Result<std::string> name() {
    const size_t start = pos_;
    if (pos_ >= t_.size() || !name_start(t_[pos_])) return fail("a name was expected");
    while (pos_ < t_.size() && name_char(t_[pos_])) advance(1);
    return std::string(t_.substr(start, pos_ - start));
  }
  Status decode_entity(std::string& out) {
    const size_t semi = t_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return fail("an '&' that starts no entity");
    const std::string_view ent = t_.substr(pos_ + 1, semi - pos_ - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      uint32_t cp = 0;
      const bool hex = ent[1] == 'x';
      const std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return fail("an empty character reference");
      for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (hex && c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else return fail("a bad character reference &" + std::string(ent) + ";");
        cp = cp * (hex ? 16 : 10) + uint32_t(v);
        if (cp > 0x10FFFF) return fail("a character reference beyond Unicode");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("a character reference to no XML character");
      put_utf8(out, cp);
    } else {
      return fail("the entity &" + std::string(ent) + "; is not defined");
    }
    advance(semi + 1 - pos_);
    return Status::Ok();
  }
  Status attributes(XmlElement& e) {
    for (;;) {
      const size_t before = pos_;
      skip_space();
      if (at("/>") || at(">")) return Status::Ok();
      if (pos_ == before) return fail("a space was expected between attributes of <" + e.name + ">");
      auto key = name();
      if (!key.ok()) return key.status();
      skip_space();
      if (!at("=")) return fail("'=' expected after attribute " + *key);
      advance(1);
      skip_space();
      if (!at("\"") && !at("'")) return fail("a quoted value expected for attribute " + *key);
      const char quote = t_[pos_];
      advance(1);
      std::string value;
      for (;;) {
        if (pos_ >= t_.size()) return fail("unterminated value of attribute " + *key);
        const char c = t_[pos_];
        if (c == quote) break;
        if (c == '<') return fail("'<' inside the value of attribute " + *key);
        if (c == '&') {
          if (Status st = decode_entity(value); !st.ok()) return st;
          continue;
        }
        value += c == '\t' || c == '\n' || c == '\r' ? ' ' : c;  // attribute value normalisation
        advance(1);
      }
      advance(1);
      for (const auto& [k, v] : e.attrs)
        if (k == *key) return fail("attribute " + *key + " given twice in <" + e.name + ">");
      e.attrs.emplace_back(*key, std::move(value));
    }
  }
  Status element(XmlElement& e, int depth) {
    if (depth > kMaxDepth) return fail("elements nested deeper than 64");
    if (++elements_ > kMaxElements) return fail("more than 1000000 elements");
    e.line = line_;
    advance(1);  // '<'
    auto n = name();
    if (!n.ok()) return n.status();
    e.name = *n;
    if (Status st = attributes(e); !st.ok()) return st;
    if (at("/>")) {
      advance(2);
      return Status::Ok();
    }
    advance(1);  // '>'
    for (;;) {
      if (pos_ >= t_.size()) return fail("<" + e.name + "> is not closed");
      if (at("</")) {
        advance(2);
        auto close = name();
        if (!close.ok()) return close.status();
        if (*close != e.name) return fail("</" + *close + "> closes <" + e.name + ">");
        skip_space();
        if (!at(">")) return fail("'>' expected after </" + *close);
        advance(1);
        return Status::Ok();
      }
      if (at("<!--")) {
        if (Status st = skip_until("-->", "comment"); !st.ok()) return st;
      } else if (at("<![CDATA[")) {
        return fail("CDATA sections are not read (a CIB has none)");
      } else if (at("<!")) {
        return fail("a declaration inside an element");
      } else if (at("<?")) {
        if (Status st = skip_until("?>", "processing instruction"); !st.ok()) return st;
      } else if (at("<")) {
        e.children.emplace_back();
        if (Status st = element(e.children.back(), depth + 1); !st.ok()) return st;
      } else if (at("&")) {
        std::string ignored;
        if (Status st = decode_entity(ignored); !st.ok()) return st;
      } else {
        advance(1);  // text: ignored
      }
    }
  }
};

}  // namespace

const std::string* XmlElement::attr(std::string_view key) const {
  for (const auto& [k, v] : attrs)
    if (k == key) return &v;
  return nullptr;
}

const XmlElement* XmlElement::child(std::string_view child_name) const {
  for (const XmlElement& c : children)
    if (c.name == child_name) return &c;
  return nullptr;
}

Result<XmlElement> parse_xml_subset(std::string_view text) { return Reader(text).document(); }

}  // namespace castor
