// A reader for the subset of XML a Pacemaker CIB is written in: elements, attributes (single or double
// quoted, the five predefined entities and numeric character references decoded), comments, processing
// instructions and the XML declaration (skipped), text between elements (ignored: a CIB keeps everything
// in attributes). Used by `castor import pacemaker` (pacemaker_import.h).
// Refuses, with the line, what it does not read rather than guess: a DOCTYPE (and so any entity it would
// define), CDATA sections, undefined entities, mismatched or unclosed tags, a second root, nesting deeper
// than 64, more than 1,000,000 elements.
// Must never do I/O or throw.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace castor {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attrs;  // in document order, values decoded
  std::vector<XmlElement> children;
  int line = 0;

  // The attribute's value, or nullptr.
  const std::string* attr(std::string_view key) const;
  // The first child named `child_name`, or nullptr.
  const XmlElement* child(std::string_view child_name) const;
};

// The document's root element. Errors: invalid_argument, "line N: ...".
Result<XmlElement> parse_xml_subset(std::string_view text);

}  // namespace castor
