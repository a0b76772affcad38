#include "tools/web/pam_auth.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>

#include "common/group_lookup.h"

namespace castor {
namespace {

// PAM's conversation: the password for every prompt that hides its echo, nothing for the rest.
int converse(int n, const pam_message** msg, pam_response** resp, void* data) {
  if (n <= 0 || n > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
  auto* replies = static_cast<pam_response*>(std::calloc(size_t(n), sizeof(pam_response)));
  if (!replies) return PAM_BUF_ERR;
  const auto* password = static_cast<const std::string*>(data);
  for (int i = 0; i < n; ++i) {
    if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
      replies[i].resp = ::strdup(password->c_str());
      if (!replies[i].resp) {
        for (int j = 0; j < i; ++j) std::free(replies[j].resp);
        std::free(replies);
        return PAM_BUF_ERR;
      }
    } else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
      for (int j = 0; j < i; ++j) std::free(replies[j].resp);
      std::free(replies);
      return PAM_CONV_ERR;  // a second factor or a user name prompt: not something a password form answers
    }
  }
  *resp = replies;
  return PAM_SUCCESS;
}

}  // namespace

Status pam_login(const std::string& service, const std::string& user, const std::string& password, gid_t admin_gid) {
  if (user.empty() || user.size() > 256 || password.size() > 4096)
    return Error(Code::permission_denied, "login refused: empty or oversized user name or password");
  // A NUL or a control character would cut or bend the name PAM checks against the name the session keeps.
  for (char c : user)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f || c == ':')
      return Error(Code::not_found, "login refused: a control character, space or ':' in the user name");
  for (char c : password)
    if (c == '\0' || c == '\n' || c == '\r') return Error(Code::permission_denied, "login refused: a NUL or line break in the password");
  // The group first, and only then PAM: the console answers every refusal after the same delay, and a user
  // outside the group is never a question put to PAM (no password oracle for accounts that may not log in).
  // Not a member (or no such user): not_found, so that the console's throttle does not count it against the name.
  auto member = user_in_group(user, admin_gid);
  if (!member.ok()) return Error(Code::not_found, "login of " + user + ": " + member.status().message());
  if (!*member)
    return Error(Code::not_found, "login of " + user + " refused: not in the admin group (gid " +
                                      std::to_string(admin_gid) + ")");
  pam_conv conv{converse, const_cast<std::string*>(&password)};
  pam_handle_t* pamh = nullptr;
  int rc = ::pam_start(service.c_str(), user.c_str(), &conv, &pamh);
  if (rc != PAM_SUCCESS) return Error(Code::internal, "pam_start(" + service + "): " + std::to_string(rc));
  rc = ::pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
  std::string step = "pam_authenticate";
  if (rc == PAM_SUCCESS) {
    rc = ::pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
    step = "pam_acct_mgmt";
  }
  const std::string why = rc == PAM_SUCCESS ? "" : ::pam_strerror(pamh, rc);
  ::pam_end(pamh, rc);
  if (rc != PAM_SUCCESS) return Error(Code::permission_denied, "login of " + user + " refused by PAM (" + step + "): " + why);
  return Status::Ok();
}

}  // namespace castor
