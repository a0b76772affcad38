#include "svcmgr/adopt_definition.h"

namespace castor {

AdoptDefinition choose_adopt_definition(const AdoptFacts& f) {
  // No entry up: by the protocol nothing was started here (a service runs only under an owned entry); the
  // start-up probe with the file's definition is only a safety net.
  if (!f.entry_up) return AdoptDefinition::file;
  if (f.have_copy) return f.copy_same_as_file ? AdoptDefinition::file : AdoptDefinition::saved;
  // No copy (never saved, refused, removed or unreadable): the digest on the disk tells whether the file's
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
