// WebAssets: the web console's page, script and style sheet, compiled into castor-web (nothing to install
// or to fetch from elsewhere: the page loads nothing but its own three files, as its CSP requires). The
// script renders every text with textContent, never as HTML (a service name or a failure reason from an
// agent cannot inject markup), and talks only to castor-web's /api/*.
#pragma once

#include <string_view>

namespace castor {

std::string_view web_page_html();
std::string_view web_page_script();
std::string_view web_page_style();

}  // namespace castor
