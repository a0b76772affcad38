// WebConfig: castor-web's settings, the [web] section of castor.ini (read with castor.ini's rules:
// config/castor_ini.h; the daemons skip it), plus the two daemons' socket paths from [quorumd] and
// [svcmgr], which castor-web reads over their status sockets.
//   [web]
//   listen = 127.0.0.1              ; the address to bind (default: localhost only)
//   port = 7630                     ; the TCP port (default 7630)
//   certificate = /etc/castor/web.crt  ; HTTPS with both certificate and private_key; without them plain
//   private_key = /etc/castor/web.key  ;   HTTP, read-only (nobody can log in over plain HTTP)
//   pam_service = castor-web        ; the PAM service that checks a login (/etc/pam.d/castor-web)
//   admin_group = castor-admin      ; users who may act once logged in (relocate, enable, ...)
//   session_timeout_s = 900         ; an idle session ends after this long
//   user = castor-web               ; started as root: drop to this user once the port is bound
//   server_names = console.example.com, 192.0.2.10  ; the names the console is reached by: a request whose Host
//                                   ;   names another is refused (DNS rebinding); loopback names are always
//                                   ;   answered on loopback, and any name on another address without this key
// Reading only: never opens the files, sockets or the port it names.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace castor {

struct WebConfig {
  std::string listen = "127.0.0.1";
  uint16_t port = 7630;
  std::string certificate, private_key;  // both or neither
  std::string pam_service = "castor-web";
  std::string admin_group = "castor-admin";
  std::chrono::seconds session_timeout{900};
  std::string user;
  std::vector<std::string> server_names;  // canonical (canonical_server_name)
  std::string quorumd_socket = "/run/castor/quorumd.sock";
  std::string svcmgr_socket = "/run/castor/svcmgr.sock";

  bool present = false;  // the file has a [web] section
  bool https() const { return !certificate.empty(); }
  // listen is a loopback address (127/8, ::1): only this machine's clients reach the console.
  bool loopback() const;
};

// One [web] server_names entry made canonical: a DNS name (letters, digits, '-', '.'), a numeric IPv4
// address, or an IPv6 address with or without brackets (kept with them), lower case. invalid_argument else.
Result<std::string> canonical_server_name(std::string_view name);

// Parses [web] (and the socket keys of [quorumd] and [svcmgr]) of castor.ini's text into `config`.
// invalid_argument with every error as "file:line: message".
Status parse_web_ini(const std::string& text, const std::string& file_name, WebConfig& config);
// Reads the file (it must be root's alone, as castor.ini always is) and parses it.
Status load_web_config(const std::string& path, WebConfig& config);

}  // namespace castor
