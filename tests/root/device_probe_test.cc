// Root-only tests of lib/disk/device_probe: real loop devices, real mkfs/mount/swapon, real libblkid.
#include "disk/device_probe.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/scratch.h"

using namespace castor;
using namespace castor::testing;

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string unique_label() { return "castortest" + std::to_string(getpid() % 100000); }

// Writes bytes at an offset of a device or file and flushes them.
void write_at(const std::string& path, uint64_t offset, const std::vector<uint8_t>& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE_MESSAGE(fd >= 0, "open " << path << ": " << std::strerror(errno));
  ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
  int err = errno;
  CHECK(::fsync(fd) == 0);
  ::close(fd);
  REQUIRE_MESSAGE(n == static_cast<ssize_t>(bytes.size()), "pwrite " << path << ": " << std::strerror(err));
}

void put_le(std::vector<uint8_t>& b, size_t off, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A classic MBR with one Linux partition from sector 2048 to the end, disk id 0x12345678.
std::vector<uint8_t> dos_mbr(uint64_t total_sectors) {
  std::vector<uint8_t> b(512, 0);
  put_le(b, 440, 0x12345678, 4);
  b[446 + 4] = 0x83;
  put_le(b, 446 + 8, 2048, 4);
  put_le(b, 446 + 12, total_sectors - 2048, 4);
  b[510] = 0x55;
  b[511] = 0xAA;
  return b;
}

uint32_t crc32_ieee(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// Protective MBR + primary GPT header + an empty 128-entry array (LBA 0..33), 512-byte sectors.
std::vector<uint8_t> empty_gpt(uint64_t total_sectors) {
  std::vector<uint8_t> b(34 * 512, 0);
  b[446 + 4] = 0xEE;
  put_le(b, 446 + 8, 1, 4);
  put_le(b, 446 + 12, std::min<uint64_t>(total_sectors - 1, 0xFFFFFFFFu), 4);
  b[510] = 0x55;
  b[511] = 0xAA;
  std::vector<uint8_t> hdr(92, 0);
  std::memcpy(hdr.data(), "EFI PART", 8);
  put_le(hdr, 8, 0x00010000, 4);
  put_le(hdr, 12, 92, 4);
  put_le(hdr, 24, 1, 8);
  put_le(hdr, 32, total_sectors - 1, 8);
  put_le(hdr, 40, 34, 8);
  put_le(hdr, 48, total_sectors - 34, 8);
  for (int i = 0; i < 16; ++i) hdr[56 + i] = static_cast<uint8_t>(0xA0 + i);  // disk GUID
  put_le(hdr, 72, 2, 8);
  put_le(hdr, 80, 128, 4);
  put_le(hdr, 84, 128, 4);
  put_le(hdr, 88, crc32_ieee(&b[1024], 128 * 128), 4);
  put_le(hdr, 16, crc32_ieee(hdr.data(), hdr.size()), 4);
  std::memcpy(&b[512], hdr.data(), hdr.size());
  return b;
}

// Mounts a device on a directory; unmounts at destruction.
class Mount {
 public:
  Mount(const std::string& dev, const std::string& dir) : dir_(dir) {
    ::mkdir(dir.c_str(), 0755);
    ok_ = run_command("mount '" + dev + "' '" + dir + "'", &error_) == 0;
  }
  ~Mount() {
    if (ok_) run_command("umount '" + dir_ + "'");
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_, error_;
  bool ok_ = false;
};

// A loop device with partition scanning (losetup -P), which tests/support's LoopDevice does not offer.
class PartscanLoop {
 public:
  explicit PartscanLoop(const std::string& file) {
    std::string out;
    if (run_command("losetup -f --show -P '" + file + "'", &out) != 0) {
      error_ = out;
      return;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    device_ = out;
  }
  ~PartscanLoop() {
    if (!device_.empty()) run_command("losetup -d '" + device_ + "'");
  }
  bool ok() const { return !device_.empty(); }
  const std::string& device() const { return device_; }
  const std::string& error() const { return error_; }

 private:
  std::string device_, error_;
};

bool is_block_device(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

bool wait_for_block_device(const std::string& path) {
  for (int i = 0; i < 100; ++i) {
    if (is_block_device(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

DeviceInfo probe_ok(const std::string& path) {
  auto r = probe_device(path);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

}  // namespace

TEST_CASE("an empty loop device holds nothing and may be initialised (root)") {
  ScratchDir dir;
  {
    LoopDevice loop(dir.file("disk.img"), 8);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    DeviceInfo info = probe_ok(loop.device());
    CHECK(info.path == loop.device());
    CHECK(info.is_block_device);
    CHECK(info.size_bytes == 8 * kMiB);
    CHECK(info.logical_sector_size == 512);
    CHECK(info.physical_sector_size >= info.logical_sector_size);
    CHECK_FALSE(info.read_only);
    CHECK(info.mounted_at.empty());
    CHECK(info.holders.empty());
    CHECK(info.content_type.empty());
    CHECK(info.content_usage.empty());
    CHECK_FALSE(info.content_ambivalent);
    Status s = check_device_for_init(info, 4 * kMiB, false);
    CHECK_MESSAGE(s.ok(), s.to_string());

    // The caller found a Castor superblock: refused without force, naming the cluster.
    s = check_device_for_init(info, 4 * kMiB, false, std::string("prod"));
    CHECK(s.code() == Code::refused);
    CHECK(contains(s.message(), "cluster prod"));
    CHECK(contains(s.message(), "--force"));
    s = check_device_for_init(info, 4 * kMiB, false, std::string());
    CHECK(s.code() == Code::refused);
    CHECK(contains(s.message(), "a Castor quorum disk"));
    CHECK(check_device_for_init(info, 4 * kMiB, true, std::string("prod")).ok());
  }
  {
    LoopDevice loop(dir.file("disk4k.img"), 8, 4096);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    DeviceInfo info = probe_ok(loop.device());
    CHECK(info.logical_sector_size == 4096);
    CHECK(info.physical_sector_size >= 4096);
    CHECK(info.size_bytes == 8 * kMiB);
    CHECK(info.content_type.empty());
  }
}

TEST_CASE("an ext4 filesystem is found, refused without force, and found by LABEL= and UUID= (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  const std::string label = unique_label();
  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q -L " + label + " " + loop.device(), &out) == 0, out);

  DeviceInfo info = probe_ok(loop.device());
  CHECK(info.content_type == "ext4");
  CHECK(info.content_usage == "filesystem");
  CHECK(info.content_label == label);
  CHECK(info.content_uuid.size() == 36);
  CHECK_FALSE(info.content_ambivalent);

  Status s = check_device_for_init(info, 4 * kMiB, false);
  CHECK(s.code() == Code::refused);
  CHECK(contains(s.message(), loop.device()));
  CHECK(contains(s.message(), "an ext4 filesystem"));
  CHECK(contains(s.message(), "LABEL=" + label));
  CHECK(contains(s.message(), "UUID=" + info.content_uuid));
  CHECK(contains(s.message(), "--force"));
  s = check_device_for_init(info, 4 * kMiB, true);
  CHECK_MESSAGE(s.ok(), s.to_string());

  auto by_label = resolve_device("LABEL=" + label);
  REQUIRE_MESSAGE(by_label.ok(), by_label.status().to_string());
  CHECK(*by_label == loop.device());
  auto quoted = resolve_device("LABEL=\"" + label + "\"");
  REQUIRE_MESSAGE(quoted.ok(), quoted.status().to_string());
  CHECK(*quoted == loop.device());
  auto by_uuid = resolve_device("UUID=" + info.content_uuid);
  REQUIRE_MESSAGE(by_uuid.ok(), by_uuid.status().to_string());
  CHECK(*by_uuid == loop.device());

  // Probing through another name (a symlink, as /dev/disk/by-label/... would be) sees the same device.
  const std::string link = dir.file("by-label-link");
  REQUIRE(::symlink(loop.device().c_str(), link.c_str()) == 0);
  DeviceInfo via_link = probe_ok(link);
  CHECK(via_link.is_block_device);
  CHECK(via_link.content_label == label);
}

TEST_CASE("a LABEL= or UUID= that two devices carry (a clone) is refused, naming both (root)") {
  ScratchDir dir;
  LoopDevice a(dir.file("a.img"), 8);
  REQUIRE_MESSAGE(a.ok(), a.error());
  const std::string label = "cdup" + std::to_string(getpid() % 100000);  // ext4 labels: 16 bytes at most
  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q -L " + label + " " + a.device(), &out) == 0, out);
  DeviceInfo info = probe_ok(a.device());
  auto one = resolve_device("LABEL=" + label);
  REQUIRE_MESSAGE(one.ok(), one.status().to_string());
  CHECK(*one == a.device());

  // A block-for-block copy of it: same LABEL, same UUID (a snapshot or cloned LUN looks exactly like this).
  REQUIRE_MESSAGE(run_command("cp --sparse=always " + dir.file("a.img") + " " + dir.file("b.img"), &out) == 0, out);
  LoopDevice b(dir.file("b.img"), 8, 512, true, /*create_file=*/false);
  REQUIRE_MESSAGE(b.ok(), b.error());
  for (const std::string& spec : {"LABEL=" + label, "UUID=" + info.content_uuid}) {
    auto r = resolve_device(spec);
    REQUIRE_FALSE_MESSAGE(r.ok(), spec << " resolved to " << (r.ok() ? *r : ""));
    CHECK(r.status().code() == Code::refused);
    CHECK_MESSAGE(contains(r.status().message(), "matches 2 devices"), r.status().message());
    CHECK_MESSAGE(contains(r.status().message(), a.device()), r.status().message());
    CHECK_MESSAGE(contains(r.status().message(), b.device()), r.status().message());
  }
  // A plain path is still taken as given.
  auto plain = resolve_device(a.device());
  REQUIRE(plain.ok());
  CHECK(*plain == a.device());
}

// udev's tag links (by-label, by-uuid, by-partuuid, by-partlabel) name a tag, not a device: a link to either
// clone -- directly, through another link, or with udev's \xHH escapes in its name -- is refused like the tag.
// by-id names the LUN (WWN, serial) and by-path its port: taken as plain paths. A tag one device carries:
// the link is taken as given.
TEST_CASE("udev tag links are checked for clones like the tag; by-id links and unique tags are paths (root)") {
  ScratchDir dir;
  LoopDevice a(dir.file("a.img"), 8);
  REQUIRE_MESSAGE(a.ok(), a.error());
  const std::string label = "c l" + std::to_string(getpid() % 100000);  // a space: udev writes it \x20
  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q -L '" + label + "' " + a.device(), &out) == 0, out);
  DeviceInfo info = probe_ok(a.device());
  REQUIRE(!info.content_uuid.empty());
  std::string escaped = label;
  escaped.replace(escaped.find(' '), 1, "\\x20");
  REQUIRE(run_command("mkdir -p " + dir.file("disk/by-label") + " " + dir.file("disk/by-uuid") + " " +
                          dir.file("disk/by-id"), &out) == 0);
  const std::string by_label = dir.file("disk/by-label/" + escaped);
  const std::string by_uuid = dir.file("disk/by-uuid/" + info.content_uuid);
  const std::string by_id = dir.file("disk/by-id/wwn-0x5000c500a1b2c3d4");
  const std::string indirect = dir.file("qdisk");
  REQUIRE(::symlink(a.device().c_str(), by_label.c_str()) == 0);
  REQUIRE(::symlink(a.device().c_str(), by_uuid.c_str()) == 0);
  REQUIRE(::symlink(a.device().c_str(), by_id.c_str()) == 0);
  const std::string relative = "disk/by-label/" + escaped;  // a relative target, read hop by hop
  REQUIRE(::symlink(relative.c_str(), indirect.c_str()) == 0);

  // One device carries the tag: every spelling is taken as given.
  for (const std::string& p : {by_label, by_uuid, by_id, indirect}) {
    auto r = resolve_device(p);
    REQUIRE_MESSAGE(r.ok(), p << ": " << r.status().to_string());
    CHECK(*r == p);
  }

  REQUIRE_MESSAGE(run_command("cp --sparse=always " + dir.file("a.img") + " " + dir.file("b.img"), &out) == 0, out);
  LoopDevice b(dir.file("b.img"), 8, 512, true, /*create_file=*/false);
  REQUIRE_MESSAGE(b.ok(), b.error());
  for (const std::string& p : {by_label, by_uuid, indirect}) {
    auto r = resolve_device(p);
    REQUIRE_FALSE_MESSAGE(r.ok(), p << " resolved to " << (r.ok() ? *r : "") << " with a clone present");
    CHECK(r.status().code() == Code::refused);
    CHECK_MESSAGE(contains(r.status().message(), "matches 2 devices"), r.status().message());
    CHECK_MESSAGE(contains(r.status().message(), b.device()), r.status().message());
  }
  auto id = resolve_device(by_id);
  REQUIRE_MESSAGE(id.ok(), id.status().to_string());
  CHECK(*id == by_id);
}

TEST_CASE("partition tables (dos and gpt) are refused without force (root)") {
  ScratchDir dir;
  const uint64_t sectors = 8 * kMiB / 512;
  SUBCASE("dos") {
    LoopDevice loop(dir.file("dos.img"), 8);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    write_at(loop.device(), 0, dos_mbr(sectors));
    DeviceInfo info = probe_ok(loop.device());
    CHECK(info.content_type == "dos");
    CHECK(info.content_usage == "partition table");
    CHECK(info.content_uuid == "12345678");
    Status s = check_device_for_init(info, 4 * kMiB, false);
    CHECK(s.code() == Code::refused);
    CHECK(contains(s.message(), "a dos partition table"));
    CHECK(check_device_for_init(info, 4 * kMiB, true).ok());
  }
  SUBCASE("gpt") {
    LoopDevice loop(dir.file("gpt.img"), 8);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    write_at(loop.device(), 0, empty_gpt(sectors));
    DeviceInfo info = probe_ok(loop.device());
    CHECK(info.content_type == "gpt");
    CHECK(info.content_usage == "partition table");
    Status s = check_device_for_init(info, 4 * kMiB, false);
    CHECK(s.code() == Code::refused);
    CHECK(contains(s.message(), "a gpt partition table"));
    CHECK(check_device_for_init(info, 4 * kMiB, true).ok());
  }
}

TEST_CASE("conflicting signatures (ambivalent) are refused without force (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q " + loop.device(), &out) == 0, out);
  write_at(loop.device(), 0, {0xce, 0xfa, 0xad, 0x1b});  // a BFS magic at offset 0, beside the ext4 superblock
  DeviceInfo info = probe_ok(loop.device());
  CHECK(info.content_ambivalent);
  CHECK(contains(info.content_type, "ext4"));
  CHECK(contains(info.content_type, "bfs"));
  Status s = check_device_for_init(info, 4 * kMiB, false);
  CHECK(s.code() == Code::refused);
  CHECK(contains(s.message(), "conflicting signatures"));
  CHECK(check_device_for_init(info, 4 * kMiB, true).ok());
}

TEST_CASE("a mounted device is busy, even with force (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q " + loop.device(), &out) == 0, out);
  const std::string mnt = dir.file("mnt");
  {
    Mount m(loop.device(), mnt);
    REQUIRE_MESSAGE(m.ok(), m.error());
    DeviceInfo info = probe_ok(loop.device());
    CHECK(info.mounted_at == mnt);
    for (bool force : {false, true}) {
      Status s = check_device_for_init(info, 4 * kMiB, force);
      CHECK(s.code() == Code::busy);
      CHECK(contains(s.message(), "mounted at " + mnt));
    }
    // Matched by device number, not by name.
    const std::string link = dir.file("other-name");
    REQUIRE(::symlink(loop.device().c_str(), link.c_str()) == 0);
    CHECK(probe_ok(link).mounted_at == mnt);
  }
  CHECK(probe_ok(loop.device()).mounted_at.empty());
}

TEST_CASE("a whole disk with a mounted partition is busy (root)") {
  ScratchDir dir;
  const std::string img = dir.file("disk.img");
  REQUIRE(run_command("truncate -s 8M '" + img + "'") == 0);
  write_at(img, 0, dos_mbr(8 * kMiB / 512));
  PartscanLoop loop(img);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  const std::string part = loop.device() + "p1";
  std::string out;
  // Kernels built without partition-table parsers (no CONFIG_MSDOS_PARTITION) leave the scan to user space.
  if (!is_block_device(part)) REQUIRE_MESSAGE(run_command("partx -a " + loop.device(), &out) == 0, out);
  REQUIRE_MESSAGE(wait_for_block_device(part), part << " did not appear");
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q " + part, &out) == 0, out);
  const std::string mnt = dir.file("mnt");
  {
    Mount m(part, mnt);
    REQUIRE_MESSAGE(m.ok(), m.error());
    DeviceInfo info = probe_ok(loop.device());
    const std::string part_name = part.substr(part.rfind('/') + 1);
    CHECK(info.mounted_at == mnt + " (partition " + part_name + ")");
    Status s = check_device_for_init(info, 4 * kMiB, true);
    CHECK(s.code() == Code::busy);
    CHECK(contains(s.message(), part_name));
  }
  CHECK(probe_ok(loop.device()).mounted_at.empty());
}

TEST_CASE("a swap signature is refused, active swap is busy even with force (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  std::string out;
  REQUIRE_MESSAGE(run_command("mkswap " + loop.device(), &out) == 0, out);
  DeviceInfo info = probe_ok(loop.device());
  CHECK(info.content_type == "swap");
  Status s = check_device_for_init(info, 4 * kMiB, false);
  CHECK(s.code() == Code::refused);
  CHECK(contains(s.message(), "swap signature"));

  out.clear();
  if (run_command("swapon " + loop.device(), &out) != 0) {
    MESSAGE("swapon not possible here, active-swap check not exercised: " << out);
    return;
  }
  struct SwapOff {
    std::string dev;
    ~SwapOff() { run_command("swapoff " + dev); }
  } swapoff{loop.device()};
  info = probe_ok(loop.device());
  CHECK(info.mounted_at == "[SWAP]");
  s = check_device_for_init(info, 4 * kMiB, true);
  CHECK(s.code() == Code::busy);
  CHECK(contains(s.message(), "swap"));
}

TEST_CASE("a read-only device is refused, even with force (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 8);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  std::string out;
  REQUIRE_MESSAGE(run_command("blockdev --setro " + loop.device(), &out) == 0, out);
  struct SetRw {
    std::string dev;
    ~SetRw() { run_command("blockdev --setrw " + dev); }
  } setrw{loop.device()};
  DeviceInfo info = probe_ok(loop.device());
  CHECK(info.read_only);
  for (bool force : {false, true}) {
    Status s = check_device_for_init(info, 4 * kMiB, force);
    CHECK(s.code() == Code::permission_denied);
    CHECK(contains(s.message(), "read-only"));
  }
}

TEST_CASE("a device smaller than the minimum is refused, even with force (root)") {
  ScratchDir dir;
  LoopDevice loop(dir.file("disk.img"), 1);
  REQUIRE_MESSAGE(loop.ok(), loop.error());
  DeviceInfo info = probe_ok(loop.device());
  CHECK(info.size_bytes == 1 * kMiB);
  for (bool force : {false, true}) {
    Status s = check_device_for_init(info, 4 * kMiB, force);
    CHECK(s.code() == Code::unsupported);
    CHECK(contains(s.message(), "1.0 MiB"));
    CHECK(contains(s.message(), "4.0 MiB"));
  }
  CHECK(check_device_for_init(info, 1 * kMiB, false).ok());
}

TEST_CASE("resolve_device: missing tags, plain paths, malformed specs (root)") {
  const std::string missing = "castor-missing-" + std::to_string(getpid());
  auto r = resolve_device("LABEL=" + missing);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::not_found);
  CHECK(contains(r.status().message(), "LABEL=" + missing));
  r = resolve_device("PARTUUID=00000000-dead-beef-0000-" + std::to_string(100000000000 + getpid()));
  CHECK(r.status().code() == Code::not_found);

  for (const char* plain : {"/dev/sdz9", "/dev/disk/by-id/x=y", "disk.img", "./LABEL=x", "my=disk.img"}) {
    auto p = resolve_device(plain);
    REQUIRE_MESSAGE(p.ok(), p.status().to_string());
    CHECK(*p == plain);
  }
  CHECK(resolve_device("").status().code() == Code::invalid_argument);
  CHECK(resolve_device("LABEL=").status().code() == Code::invalid_argument);
  auto bad = resolve_device("TYPE=ext4");
  CHECK(bad.status().code() == Code::invalid_argument);
  CHECK(contains(bad.status().message(), "TYPE="));
}

TEST_CASE("a regular file can be probed like a device (root)") {
  ScratchDir dir;
  const std::string img = dir.file("quorum.img");
  REQUIRE(run_command("truncate -s 8M '" + img + "'") == 0);
  DeviceInfo info = probe_ok(img);
  CHECK_FALSE(info.is_block_device);
  CHECK(info.size_bytes == 8 * kMiB);
  CHECK(info.logical_sector_size == 512);
  CHECK(info.physical_sector_size == 512);
  CHECK_FALSE(info.read_only);
  CHECK(info.mounted_at.empty());
  CHECK(info.holders.empty());
  CHECK(info.content_type.empty());
  CHECK(check_device_for_init(info, 4 * kMiB, false).ok());

  std::string out;
  REQUIRE_MESSAGE(run_command("mkfs.ext4 -q -F '" + img + "'", &out) == 0, out);
  info = probe_ok(img);
  CHECK(info.content_type == "ext4");
  CHECK(check_device_for_init(info, 4 * kMiB, false).code() == Code::refused);

  // A file that backs a loop device is in use, even with force.
  {
    LoopDevice loop(img, 8, 512, true, /*create_file=*/false);
    REQUIRE_MESSAGE(loop.ok(), loop.error());
    info = probe_ok(img);
    const std::string loop_name = loop.device().substr(loop.device().rfind('/') + 1);
    CHECK(info.holders == loop_name);
    Status s = check_device_for_init(info, 4 * kMiB, true);
    CHECK(s.code() == Code::busy);
    CHECK(contains(s.message(), loop_name));
  }
  CHECK(probe_ok(img).holders.empty());

  // Neither a block device nor a regular file.
  auto d = probe_device(dir.path());
  CHECK(d.status().code() == Code::invalid_argument);
  auto missing = probe_device(dir.file("nope"));
  CHECK(missing.status().code() == Code::not_found);
  CHECK(contains(missing.status().message(), dir.file("nope")));
}
