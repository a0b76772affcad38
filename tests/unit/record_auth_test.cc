// Authenticated quorum-disk records (issue 14): RecordSeal (disk/record_seal.h) on every record type at
// 4096- and 8192-byte blocks, the forgeries of a SAN writer without the key (a CRC-only block, another key's
// tag, a payload byte changed and the CRC recomputed), and the cluster key file (common/auth_key.h): what
// load_auth_key refuses and what write_new_auth_key (castor keygen) creates.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/auth_key.h"
#include "common/read_file.h"
#include "disk/disk_layout.h"
#include "disk/epoch_record.h"
#include "disk/heartbeat_record.h"
#include "disk/record_header.h"
#include "disk/record_seal.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"
#include "tests/support/scratch.h"
#include "tests/support/test_seal.h"

namespace castor {
namespace {

using testing::test_auth_key;
using testing::test_seal;

Uuid uuid_of(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed * 3 + i);
  return u;
}

// One record type: encode a sample with a seal, decode with a seal (the error, or OK).
struct Codec {
  std::string name;
  std::function<std::vector<std::byte>(const DiskLayout&, const RecordSeal&)> encode;
  std::function<Status(std::span<const std::byte>, const DiskLayout&, const RecordSeal&)> decode;
  uint32_t payload_byte;  // a payload byte the forgery changes
};

std::vector<Codec> codecs() {
  std::vector<Codec> out;
  out.push_back({"superblock",
                 [](const DiskLayout& l, const RecordSeal& s) {
                   Superblock sb;
                   sb.cluster_uuid = uuid_of(1);
                   sb.cluster_name = "alpha";
                   sb.sector_size = l.sector_size();
                   sb.nodes = {NodeEntry{1, "a"}, NodeEntry{2, "b"}};
                   sb.timing = *Timing::from_io_timeout(Millis(2000));
                   sb.service_slots = l.service_slots();
                   sb.records_authenticated = s.authenticated();
                   std::vector<std::byte> b(l.block_size());
                   REQUIRE(encode_superblock(sb, l, s, b).ok());
                   return b;
                 },
                 [](std::span<const std::byte> b, const DiskLayout& l, const RecordSeal& s) {
                   auto r = decode_superblock(b, l, s);
                   if (r.ok() && s.mode() != RecordSeal::Mode::tag_unchecked)
                     CHECK(r->records_authenticated == s.authenticated());
                   return r.status();
                 },
                 65});  // the cluster name's 2nd byte: 'l' -> another valid letter below
  out.push_back({"heartbeat",
                 [](const DiskLayout& l, const RecordSeal& s) {
                   HeartbeatRecord hb;
                   hb.cluster_uuid = uuid_of(2);
                   hb.node_id = 2;
                   hb.incarnation = 77;
                   hb.seq = 5;
                   hb.state = NodeState::up;
                   std::vector<std::byte> b(l.block_size());
                   encode_heartbeat(hb, l, s, b);
                   return b;
                 },
                 [](std::span<const std::byte> b, const DiskLayout& l, const RecordSeal& s) {
                   return decode_heartbeat(b, l, 2, s).status();
                 },
                 64});  // the state: UP -> DOWN
  out.push_back({"epoch record",
                 [](const DiskLayout& l, const RecordSeal& s) {
                   EpochRecord e;
                   e.cluster_uuid = uuid_of(3);
                   e.node_id = 1;
                   e.incarnation = 9;
                   e.epoch_floor = 40;
                   std::vector<std::byte> b(l.block_size());
                   REQUIRE(encode_epoch_record(e, l, s, b).ok());
                   return b;
                 },
                 [](std::span<const std::byte> b, const DiskLayout& l, const RecordSeal& s) {
                   return decode_epoch_record(b, l, 1, s).status();
                 },
                 64});  // the floor
  out.push_back({"service table",
                 [](const DiskLayout& l, const RecordSeal& s) {
                   ServiceTableRecord t;
                   t.cluster_uuid = uuid_of(4);
                   t.node_id = 2;
                   t.block_index = 5;
                   t.incarnation = 3;
                   t.entries.resize(l.services_per_block());
                   for (size_t i = 0; i < t.entries.size(); ++i) {  // full: the last entry is next to the tag
                     ServiceEntry& e = t.entries[i];
                     e.in_use = true;
                     e.state = OwnershipState::owned;
                     e.node = 2;
                     e.epoch = 4 + i;
                     e.name = "svc" + std::to_string(i);
                   }
                   std::vector<std::byte> b(l.block_size());
                   REQUIRE(encode_service_table(t, l, s, b).ok());
                   return b;
                 },
                 [](std::span<const std::byte> b, const DiskLayout& l, const RecordSeal& s) {
                   return decode_service_table(b, l, 2, 5, s).status();
                 },
                 64 + 1});  // entry 0's state: owned -> releasing
  return out;
}

bool bad_tag(const Status& st) {
  return st.code() == Code::corrupt && st.message().find("bad authentication tag") != std::string::npos;
}

}  // namespace

TEST_CASE("record seal: every record type round-trips with its HMAC at 4096 and 8192 bytes; the CRC covers the tag") {
  const RecordSeal seal = test_seal(1);
  for (uint32_t ss : {512u, 4096u, 8192u}) {
    const DiskLayout l = *DiskLayout::for_sector_size(ss);
    for (const auto& c : codecs()) {
      CAPTURE(ss);
      CAPTURE(c.name);
      auto b = c.encode(l, seal);
      Status st = c.decode(b, l, seal);
      CHECK_MESSAGE(st.ok(), st.to_string());
      CHECK(c.decode(b, l, RecordSeal::tag_unchecked()).ok());
      // A tag byte damaged: the CRC catches it first (damage, not forgery).
      auto d = b;
      d[d.size() - 1] ^= std::byte{1};
      Status damaged = c.decode(d, l, seal);
      CHECK(damaged.code() == Code::corrupt);
      CHECK(damaged.message().find("bad CRC") != std::string::npos);
      // A CRC-only block keeps its tag bytes zero and reads as before.
      auto plain = c.encode(l, RecordSeal::crc_only());
      CHECK(c.decode(plain, l, RecordSeal::crc_only()).ok());
    }
  }
}

TEST_CASE("record seal: a SAN writer without the key cannot forge a record that an authenticated reader accepts") {
  const RecordSeal seal = test_seal(1);
  const RecordSeal other = test_seal(2);
  for (uint32_t ss : {4096u, 8192u}) {
    const DiskLayout l = *DiskLayout::for_sector_size(ss);
    for (const auto& c : codecs()) {
      CAPTURE(ss);
      CAPTURE(c.name);
      // 1. A block sealed with the CRC alone: accepted without authentication, refused with it.
      auto plain = c.encode(l, RecordSeal::crc_only());
      CHECK(c.decode(plain, l, RecordSeal::crc_only()).ok());
      CHECK(bad_tag(c.decode(plain, l, seal)));
      // 2. Another key's tag: refused with authentication (tags unchecked, it decodes).
      auto foreign = c.encode(l, other);
      CHECK(c.decode(foreign, l, RecordSeal::tag_unchecked()).ok());
      CHECK(bad_tag(c.decode(foreign, l, seal)));
      // 3. A payload byte of a genuine block changed and the CRC recomputed (the tag cannot be): refused.
      // The same change to a CRC-only block is accepted by a CRC-only reader: the attack is real.
      auto genuine = c.encode(l, seal);
      for (auto* blk : {&genuine, &plain}) {
        std::byte& v = (*blk)[c.payload_byte];
        v = c.name == "superblock" ? std::byte{'m'} : std::byte{3};  // "ampha"; DOWN; floor 3; releasing
        seal_block(*blk, RecordSeal::crc_only());  // the attacker's CRC; a crc_only seal leaves the tag as it is
      }
      CHECK(bad_tag(c.decode(genuine, l, seal)));
      Status forged_plain = c.decode(plain, l, RecordSeal::crc_only());
      CHECK_MESSAGE(forged_plain.ok(), forged_plain.to_string());
    }
  }
}

TEST_CASE("record seal: every byte of a heartbeat changed with the CRC recomputed is refused with authentication") {
  const RecordSeal seal = test_seal(7);
  const DiskLayout l = *DiskLayout::for_sector_size(4096);
  const auto c = codecs()[1];
  REQUIRE(c.name == "heartbeat");
  const auto genuine = c.encode(l, seal);
  for (size_t i = 0; i < genuine.size(); ++i) {
    if (i >= 12 && i < 16) continue;  // the CRC itself is recomputed
    auto b = genuine;
    b[i] ^= std::byte{0x20};
    seal_block(b, RecordSeal::crc_only());
    Status st = c.decode(b, l, seal);
    if (st.ok()) FAIL("byte " << i << " changed with a valid CRC was accepted");
  }
}

TEST_CASE("record seal: the disk subkey depends on the whole cluster key and is not the key itself") {
  auto a = derive_subkey(test_auth_key(1), kDiskRecordsKeyLabel);
  auto b = derive_subkey(test_auth_key(2), kDiskRecordsKeyLabel);
  auto lan = derive_subkey(test_auth_key(1), "castor lan v1");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(lan.ok());
  CHECK(a->size() == kSubkeyBytes);
  CHECK(!std::equal(a->bytes().begin(), a->bytes().end(), b->bytes().begin()));
  CHECK(!std::equal(a->bytes().begin(), a->bytes().end(), lan->bytes().begin()));
  CHECK(!std::equal(a->bytes().begin(), a->bytes().end(), test_auth_key(1).bytes().begin()));
  CHECK(derive_subkey(test_auth_key(1, 16), kDiskRecordsKeyLabel).status().code() == Code::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------
// The key file

namespace {

void write_key(const std::string& path, size_t n, mode_t mode) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  for (size_t i = 0; i < n; ++i) f.put(char(i * 7 + 1));
  f.close();
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace

TEST_CASE("authkey: a root-only 0600 file of 32..4096 bytes loads; group/other access, short, long, not root refused") {
  testing::ScratchDir dir;
  const std::string k = dir.file("authkey");
  write_key(k, 32, 0600);
  auto ok = load_auth_key(k);
  REQUIRE_MESSAGE(ok.ok(), ok.status().to_string());
  CHECK(ok->size() == 32);
  CHECK(check_auth_key_file(k).ok());
  for (mode_t m : {mode_t(0640), mode_t(0604), mode_t(0644), mode_t(0620), mode_t(0602), mode_t(0610)}) {
    CAPTURE(m);
    REQUIRE(::chmod(k.c_str(), m) == 0);
    auto r = load_auth_key(k);
    CHECK(r.status().code() == Code::refused);
    CHECK(r.status().message().find(k) != std::string::npos);
    if ((m & 022) == 0) CHECK(r.status().message().find("chmod 0600") != std::string::npos);
    else CHECK(r.status().message().find("writable by") != std::string::npos);  // trusted_path says it first
    CHECK(check_auth_key_file(k).code() == Code::refused);
  }
  write_key(k, 31, 0600);
  CHECK(load_auth_key(k).status().code() == Code::refused);
  CHECK(load_auth_key(k).status().message().find("31 bytes") != std::string::npos);
  write_key(k, 4097, 0600);
  CHECK(load_auth_key(k).status().code() == Code::refused);
  write_key(k, 4096, 0600);
  CHECK(load_auth_key(k).ok());
  CHECK(load_auth_key(dir.file("missing")).status().code() == Code::not_found);
  // Not a regular file.
  REQUIRE(::mkdir(dir.file("d").c_str(), 0700) == 0);
  CHECK(load_auth_key(dir.file("d")).status().code() == Code::refused);
  if (testing::running_as_root()) {
    write_key(k, 32, 0600);
    REQUIRE(::chown(k.c_str(), 65534, 65534) == 0);
    auto r = load_auth_key(k);
    CHECK(r.status().code() == Code::refused);
    CHECK(r.status().message().find("owned by uid 65534") != std::string::npos);
  }
}

TEST_CASE("authkey: a key reached through a group-writable directory or symlink is refused (trusted path)") {
  testing::ScratchDir dir;
  const std::string g = dir.file("shared");
  REQUIRE(::mkdir(g.c_str(), 0700) == 0);
  write_key(g + "/authkey", 32, 0600);
  REQUIRE(::symlink((g + "/authkey").c_str(), dir.file("link").c_str()) == 0);
  CHECK(load_auth_key(dir.file("link")).ok());  // a symlink to a trusted key is fine
  REQUIRE(::chmod(g.c_str(), 0770) == 0);        // now anyone in the group may replace the key
  auto direct = load_auth_key(g + "/authkey");
  CHECK(direct.status().code() == Code::refused);
  auto via_link = load_auth_key(dir.file("link"));
  CHECK(via_link.status().code() == Code::refused);
  CHECK(via_link.status().message().find("writable by group") != std::string::npos);
}

TEST_CASE("authkey: keygen creates 0600 with 32 random bytes and never overwrites without --force") {
  testing::ScratchDir dir;
  const std::string k = dir.file("authkey");
  const mode_t old = ::umask(0);  // keygen must not depend on the caller's umask
  Status st = write_new_auth_key(k, false);
  ::umask(old);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  struct stat s {};
  REQUIRE(::stat(k.c_str(), &s) == 0);
  CHECK((s.st_mode & 07777) == 0600);
  CHECK(s.st_size == 32);
  auto first = read_file_to_string(k);
  REQUIRE(first.ok());
  CHECK(load_auth_key(k).ok());
  CHECK(write_new_auth_key(k, false).code() == Code::already_exists);
  CHECK(*read_file_to_string(k) == *first);  // untouched
  REQUIRE(write_new_auth_key(k, true).ok());
  REQUIRE(::stat(k.c_str(), &s) == 0);
  CHECK((s.st_mode & 07777) == 0600);
  CHECK(*read_file_to_string(k) != *first);
  CHECK(write_new_auth_key(dir.file("no/such/dir/key"), false).code() != Code::ok);
  // No temporary file is left behind by --force.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists();
  CHECK(entries == 1);
}

}  // namespace castor
