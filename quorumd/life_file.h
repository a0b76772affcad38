// The life file: where quorumd keeps the last life number this node took on a set of quorum devices
// (lib/disk/life_number.h), so that every life of the node -- a process start or a rejoin after a fence --
// takes a number strictly above every earlier one, also when the disk shows none of them (their writes lost
// on a member that does not answer now). One decimal number and a newline, in
// STATE_DIR/life.CLUSTER-UUID.node-ID (one file per cluster and node: a re-initialised cluster starts anew).
// Must never: let a life write before its number is durable (write_life_file returns after the fsyncs),
// guess a number from a file it cannot read or parse, or wrap around (next_life refuses at the top).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/uuid.h"

namespace castor {

std::string life_file_path(const std::string& state_dir, const Uuid& cluster, uint32_t node_id);
// The node lock (kNodeLockDir/quorumd.CLUSTER-UUID.node-ID.lock): the process that holds it is the only one
// that takes lives of this node and writes its blocks of the set; a second quorumd of the node (the first
// stopped, frozen or stuck on I/O, so its writes may still land) refuses to start while it is held. In one
// directory of the host, whatever state_dir or socket a castor.ini names: a copy of the file with other
// paths must not escape it. Under /run: a lock is about processes, and a boot ends them all.
inline constexpr const char* kNodeLockDir = "/run/castor";
std::string node_lock_path(const std::string& lock_dir, const Uuid& cluster, uint32_t node_id);
// Creates the directory of PATH with MODE if it is missing.
Status make_dir_for(const std::string& path, mode_t mode);
// 0 when the file does not exist; an error when it cannot be read or does not hold one number.
Result<uint32_t> read_life_file(const std::string& path);
// Creates the state directory (0700) if it is missing, then replaces the file durably.
Status write_life_file(const std::string& path, uint32_t life);
// The next life's number: above the stored one and above every life of this node the disk shows.
Result<uint32_t> next_life(uint32_t stored, uint32_t highest_on_disk);

}  // namespace castor
