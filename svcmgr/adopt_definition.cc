#include "svcmgr/adopt_definition.h"

namespace castor {

AdoptDefinition choose_adopt_definition(const AdoptFacts& f) {
  // No entry up: by the protocol nothing was started here (a service runs only under an owned entry); the
  // start-up probe with the file's definition is only a safety net.
  if (!f.entry_up) return AdoptDefinition::file;
  if (f.have_copy && f.copy_same_as_file) return AdoptDefinition::file;
  // A copy that differs from the file is used only if my entry was written under it (a digest of 0 is an
  // entry that carries none). Otherwise it is stale or not svcmgr's (svcmgr would run it as root): decide as
  // with no copy.
  if (f.have_copy && (f.entry_digest == 0 || f.copy_digest == f.entry_digest)) return AdoptDefinition::saved;
  // No usable copy (never saved, refused, removed, unreadable, or not the entry's): the digest on the disk tells whether the file's
  // definition is the one the entry was written under. If not, nothing here can stop the instance safely.
  return f.entry_digest == f.file_digest ? AdoptDefinition::file : AdoptDefinition::unknown;
}

const char* adopt_definition_name(AdoptDefinition a) {
  switch (a) {
    case AdoptDefinition::file: return "file";
    case AdoptDefinition::saved: return "saved";
    case AdoptDefinition::unknown: return "unknown";
  }
  return "?";
}

}  // namespace castor
