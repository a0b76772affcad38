// Test support: cluster keys made from a seed and the disk-record seals derived from them, for tests that
// authenticate records (a cluster's key, another cluster's, an attacker's guess). Two seeds give two keys;
// the same seed always the same key. Never used by production code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/auth_key.h"
#include "disk/record_seal.h"

namespace castor::testing {

// A key of `n` bytes (48: what castor keygen writes) that depends on `seed`.
AuthKey test_auth_key(uint8_t seed, size_t n = 48);

// The disk-record seal of test_auth_key(seed) (disk_record_seal: the HMAC subkey); REQUIREs it derives.
RecordSeal test_seal(uint8_t seed);

}  // namespace castor::testing
