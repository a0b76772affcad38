// Which definition svcmgr probes/stops a service with when its entry is up at start (review R3): the one
// the running instance was started under, never an edited file's that may not see it.
#include <doctest/doctest.h>

#include "svcmgr/adopt_definition.h"

using namespace castor;

TEST_CASE("adopt definition: no entry up: the file's definition") {
  AdoptFacts f;
  f.entry_digest = 1;
  f.file_digest = 2;
  CHECK(choose_adopt_definition(f) == AdoptDefinition::file);
}

TEST_CASE("adopt definition: entry up, copy is the file's: the file's definition") {
  AdoptFacts f{true, 5, true, true, 5};
  CHECK(choose_adopt_definition(f) == AdoptDefinition::file);
}

TEST_CASE("adopt definition: entry up, file changed since the copy: the saved copy first (R3)") {
  AdoptFacts f{true, 5, true, false, 6, 5};
  CHECK(choose_adopt_definition(f) == AdoptDefinition::saved);
  f.entry_digest = 0;  // an entry that carries no digest: the copy of the last start
  CHECK(choose_adopt_definition(f) == AdoptDefinition::saved);
}

// review14b finding 1: svcmgr runs the copy as root; a copy that is not what the entry was written under is
// stale or not svcmgr's, and is never preferred to the file: decided as with no copy.
TEST_CASE("adopt definition: a saved copy whose digest is not the entry's is not used") {
  AdoptFacts f{true, 5, true, false, 6, 9};
  CHECK(choose_adopt_definition(f) == AdoptDefinition::unknown);  // neither the copy nor the file is the entry's
  f.entry_digest = 6;  // the entry was written under the file's definition
  CHECK(choose_adopt_definition(f) == AdoptDefinition::file);
  f.copy_same_as_file = true;  // a copy that is the file's is the file's definition (the admin's, trusted)
  f.entry_digest = 5;
  CHECK(choose_adopt_definition(f) == AdoptDefinition::file);
}

TEST_CASE("adopt definition: entry up, no copy, digest on disk is the file's: the file's definition") {
  AdoptFacts f{true, 7, false, false, 7};
  CHECK(choose_adopt_definition(f) == AdoptDefinition::file);
}

TEST_CASE("adopt definition: entry up, no copy, digest on disk differs: unknown, never the file's") {
  AdoptFacts f{true, 7, false, false, 8};
  CHECK(choose_adopt_definition(f) == AdoptDefinition::unknown);
  f.entry_digest = 0;  // no digest recorded: not known to be the file's either
  CHECK(choose_adopt_definition(f) == AdoptDefinition::unknown);
  CHECK(std::string(adopt_definition_name(AdoptDefinition::unknown)) == "unknown");
}
