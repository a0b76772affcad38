// PamAuth: checks a web console login — the user's password through PAM (the configured service, e.g.
// /etc/pam.d/castor-web: pam_unix, LDAP, SSSD, whatever the site uses) and the account (pam_acct_mgmt:
// expired or locked accounts are refused), then that the user is in the configured admin group.
// Blocking (PAM may sleep on a failure: pam_faildelay): run it off the event loop. Never logs or keeps the
// password; never throws. castor-web runs it in its PAM helper (pam_helper.h), which keeps root, so the
// web process itself needs no access to /etc/shadow. The group is checked before PAM is asked.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace castor {

// OK when PAM accepts `user` with `password` and the user is in group `admin_gid`; permission_denied
// otherwise (the message says which check failed, for the log: the browser is told less).
Status pam_login(const std::string& service, const std::string& user, const std::string& password, gid_t admin_gid);

}  // namespace castor
