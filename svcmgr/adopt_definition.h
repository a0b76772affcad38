// AdoptDefinition: which definition svcmgr may probe and stop a service with when it finds the service's
// entry up at start (an instance from an earlier life may still run here). The instance must be stopped with
// the definition it was started under (as Pacemaker stops with the parameters of the last start): a probe
// with an edited definition (another marker, address, pid file...) may not see it, call it "stopped", and
// the entry would be released while it still runs (review R3).
// Pure decision: must never read files, start, stop or claim anything; the daemon does.
#pragma once

#include <cstdint>
#include <string>

namespace castor {

enum class AdoptDefinition {
  file,     // the file's definition is the one the instance runs under (or nothing runs from an earlier life)
  saved,    // probe/stop with the saved copy first; the file's definition applies once that is proven stopped
            // (only a copy whose digest is the entry's, when the entry carries one: the copy is run as root,
            // and a copy the entry was not written under is not the definition the instance runs under)
  unknown,  // the running instance's definition is unknown: keep the entry up, an admin must act
};

struct AdoptFacts {
  bool entry_up = false;         // my entry is claiming/owned/releasing
  uint64_t entry_digest = 0;     // the definition digest in my entry (what it was written under)
  bool have_copy = false;        // a usable saved copy exists
  bool copy_same_as_file = false;  // ... and it is the file's definition
  uint64_t file_digest = 0;      // the digest of the file's definition (agent defaults applied, as written)
  uint64_t copy_digest = 0;      // the digest of the saved copy's definition (computed the same way)
};

AdoptDefinition choose_adopt_definition(const AdoptFacts& f);
const char* adopt_definition_name(AdoptDefinition a);

}  // namespace castor
