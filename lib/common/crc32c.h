// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and Btrfs.
// Every on-disk record carries one. Pure function; must never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace castor {

// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::span<const std::byte> data, uint32_t crc = 0);

}  // namespace castor
