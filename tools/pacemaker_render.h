// Pacemaker export, the three renderings of one PcmkExport (pacemaker_export.h), which must say the same
// thing: a CIB fragment (a <configuration> element holding <resources>, <constraints> and, when there is
// fencing, <fencing-topology>; values XML-escaped), a pcs script (staged in a CIB file, pushed at the end;
// every word shell-quoted) and a crm configure script (for `crm configure load update FILE`). Each begins
// with the export's not-expressed and approximation lines and the sbd setup steps as comments.
// Must never do I/O or decide anything about the mapping (pacemaker_export.cc does).
#pragma once

#include <string>
#include <string_view>

#include "tools/pacemaker_export.h"

namespace castor {

std::string render_pacemaker_cib(const PcmkExport& e);
std::string render_pacemaker_pcs(const PcmkExport& e);
std::string render_pacemaker_crmsh(const PcmkExport& e);

// Helpers, exposed for their tests.
std::string xml_escape(std::string_view text);         // & < > " ' as entities
std::string xml_comment_text(std::string_view text);   // no "--" inside, no '-' at the end
std::string shell_quote(std::string_view word);        // as is when plain, else '...' ('\'' for ')
std::string crmsh_quote(std::string_view value);       // as is when plain, else "..." (\" and \\)

}  // namespace castor
