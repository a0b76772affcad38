#include "disk/device_probe.h"

#include <blkid/blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/errno_status.h"
#include "common/read_file.h"
#include "common/unique_fd.h"

namespace castor {
namespace {

// ---- small text helpers -------------------------------------------------------------------------------

void append_joined(std::string& out, std::string_view item) {
  if (!out.empty()) out += ", ";
  out += item;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// /proc/self/mountinfo and /proc/swaps escape space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string human_size(uint64_t bytes) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

// ---- reading /proc and /sys ---------------------------------------------------------------------------

// Names in a directory, without "." and "..".
Result<std::vector<std::string>> list_dir(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), ::closedir);
  if (!d) return errno_status("opendir", path);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d.get());
    if (!e) {
      if (errno != 0) return errno_status("readdir", path);
      break;
    }
    std::string_view n(e->d_name);
    if (n == "." || n == "..") continue;
    names.emplace_back(n);
  }
  return names;
}

// Parses a sysfs "dev" file ("7:3\n").
Result<dev_t> read_sysfs_dev(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, read_file_to_string(path));
  unsigned maj = 0, min = 0;
  if (std::sscanf(text.c_str(), "%u:%u", &maj, &min) != 2)
    return Error(Code::corrupt, "parsing " + path + ": expected MAJOR:MINOR, got '" + trim(text) + "'");
  return makedev(maj, min);
}

// One device number to look for in the mount table, and how to name it if found ("" = the device itself).
struct DevNumber {
  dev_t dev;
  std::string partition;
};

std::string via(const std::string& partition) {
  return partition.empty() ? std::string() : " (partition " + partition + ")";
}

// The device itself plus every partition of it (entries of its sysfs directory that have a 'partition'
// file), and the holders of all of them.
Status scan_sysfs(dev_t rdev, std::vector<DevNumber>& devs, std::string& holders) {
  const std::string dir = "/sys/dev/block/" + std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
  devs.push_back({rdev, ""});
  std::vector<std::pair<std::string, std::string>> holder_dirs = {{dir + "/holders", ""}};

  auto entries = list_dir(dir);
  if (!entries.ok()) return entries.status().with_context("looking for partitions and holders in sysfs");
  for (const std::string& name : *entries) {
    const std::string sub = dir + "/" + name;
    struct stat st;
    if (::stat((sub + "/partition").c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return errno_status("stat", sub + "/partition");
    }
    auto d = read_sysfs_dev(sub + "/dev");
    if (!d.ok()) return d.status();
    devs.push_back({*d, name});
    holder_dirs.emplace_back(sub + "/holders", name);
  }

  for (const auto& [hdir, partition] : holder_dirs) {
    auto names = list_dir(hdir);
    if (!names.ok()) {
      if (names.status().code() == Code::not_found) continue;  // kernels without holder tracking
      return names.status();
    }
    for (const std::string& h : *names) append_joined(holders, h + via(partition));
  }
  return Status::Ok();
}

const DevNumber* find_dev(const std::vector<DevNumber>& devs, dev_t d) {
  for (const DevNumber& x : devs)
    if (x.dev == d) return &x;
  return nullptr;
}

// Loop devices whose backing file is this very file (same st_dev and st_ino): writing the file would write
// under whatever uses the loop device.
Status scan_loop_backing(const struct stat& file_st, std::string& holders) {
  const std::string sys_block = "/sys/block";
  auto names = list_dir(sys_block);
  if (!names.ok()) {
    if (names.status().code() == Code::not_found) return Status::Ok();  // no sysfs: no loop devices to see
    return names.status();
  }
  for (const std::string& name : *names) {
    if (name.rfind("loop", 0) != 0) continue;
    auto backing = read_file_to_string(sys_block + "/" + name + "/loop/backing_file");
    if (!backing.ok()) {
      if (backing.status().code() == Code::not_found) continue;  // not attached
      return backing.status();
    }
    std::string file = *backing;
    if (!file.empty() && file.back() == '\n') file.pop_back();
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) continue;  // e.g. "... (deleted)": cannot be this file
    if (st.st_dev == file_st.st_dev && st.st_ino == file_st.st_ino) append_joined(holders, name);
  }
  return Status::Ok();
}

// Mount points whose device number (or, for file systems with anonymous device numbers such as btrfs,
// whose /dev/... source node) is the device or one of its partitions.
Status scan_mountinfo(const std::vector<DevNumber>& devs, std::string& mounted_at) {
  const std::string path = "/proc/self/mountinfo";
  ASSIGN_OR_RETURN(std::string text, read_file_to_string(path));
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    // id parent MAJ:MIN root mountpoint options [optional...] - fstype source superoptions
    std::vector<std::string_view> f = split_fields(line);
    if (f.size() < 5) continue;
    unsigned maj = 0, min = 0;
    const DevNumber* hit = nullptr;
    if (std::sscanf(std::string(f[2]).c_str(), "%u:%u", &maj, &min) == 2) hit = find_dev(devs, makedev(maj, min));
    if (!hit) {
      size_t sep = 5;
      while (sep < f.size() && f[sep] != "-") ++sep;
      if (sep + 2 < f.size() && f[sep + 2].substr(0, 5) == "/dev/") {
        // Only /dev nodes are stat'ed: a stat of an arbitrary source path could hang on a dead network mount.
        struct stat st;
        std::string source = unescape_octal(f[sep + 2]);
        if (::stat(source.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) hit = find_dev(devs, st.st_rdev);
      }
    }
    if (hit) append_joined(mounted_at, unescape_octal(f[4]) + via(hit->partition));
  }
  return Status::Ok();
}

// Active swap on the device (or its partitions), or, for a regular file, on that very file.
Status scan_swaps(const std::vector<DevNumber>& devs, const struct stat& file_st, bool is_block,
                  std::string& mounted_at) {
  const std::string path = "/proc/swaps";
  auto text = read_file_to_string(path);
  if (!text.ok()) {
    if (text.status().code() == Code::not_found) return Status::Ok();  // kernel built without swap
    return text.status();
  }
  size_t pos = text->find('\n');  // skip the header line
  while (pos != std::string::npos && pos < text->size()) {
    size_t eol = text->find('\n', pos + 1);
    if (eol == std::string::npos) eol = text->size();
    std::string_view line(text->data() + pos + 1, eol - pos - 1);
    pos = eol;
    std::vector<std::string_view> f = split_fields(line);
    if (f.empty()) continue;
    std::string name = unescape_octal(f[0]);
    struct stat st;
    if (::stat(name.c_str(), &st) != 0) continue;  // e.g. a deleted swap file: cannot be ours
    if (is_block) {
      const DevNumber* hit = S_ISBLK(st.st_mode) ? find_dev(devs, st.st_rdev) : nullptr;
      if (hit) append_joined(mounted_at, "[SWAP]" + via(hit->partition));
    } else if (S_ISREG(st.st_mode) && st.st_dev == file_st.st_dev && st.st_ino == file_st.st_ino) {
      append_joined(mounted_at, "[SWAP]");
    }
  }
  return Status::Ok();
}

// ---- libblkid -----------------------------------------------------------------------------------------

struct ProbeDeleter {
  void operator()(blkid_probe p) const { blkid_free_probe(p); }
};
using ProbePtr = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeDeleter>;

std::string lookup(blkid_probe pr, const char* name) {
  const char* data = nullptr;
  size_t len = 0;
  if (blkid_probe_lookup_value(pr, name, &data, &len) != 0 || !data) return {};
  return std::string(data, strnlen(data, len));
}

Status blkid_error(const char* call, const std::string& path, int rc) {
  int err = errno;
  if (err != 0) return errno_status(call, path, err).with_context("libblkid");
  return Error(Code::io_error, std::string("libblkid: ") + call + " " + path + " failed (" + std::to_string(rc) + ")");
}

Status probe_content(int fd, const std::string& path, DeviceInfo& info) {
  ProbePtr pr(blkid_new_probe());
  if (!pr) return Error(Code::internal, "libblkid: blkid_new_probe for " + path + " failed (out of memory?)");
  errno = 0;
  if (int rc = blkid_probe_set_device(pr.get(), fd, 0, 0); rc != 0) return blkid_error("blkid_probe_set_device", path, rc);
  if (blkid_probe_enable_superblocks(pr.get(), 1) != 0 ||
      blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_LABEL |
                                                      BLKID_SUBLKS_UUID) != 0 ||
      blkid_probe_enable_partitions(pr.get(), 1) != 0 ||
      blkid_probe_set_partitions_flags(pr.get(), BLKID_PARTS_MAGIC) != 0)
    return Error(Code::internal, "libblkid: could not set up the probe of " + path);

  errno = 0;
  int rc = blkid_do_safeprobe(pr.get());
  if (rc == 1) return Status::Ok();  // nothing found
  if (rc == 0) {
    info.content_type = lookup(pr.get(), "TYPE");
    if (!info.content_type.empty()) {
      info.content_usage = lookup(pr.get(), "USAGE");
      info.content_label = lookup(pr.get(), "LABEL");
      info.content_uuid = lookup(pr.get(), "UUID");
    } else {
      info.content_type = lookup(pr.get(), "PTTYPE");
      if (!info.content_type.empty()) info.content_usage = "partition table";
      info.content_uuid = lookup(pr.get(), "PTUUID");
    }
    if (info.content_type.empty()) info.content_type = "unknown";  // found, but named nothing: still content
    return Status::Ok();
  }
  if (rc == -2) {
    // Several signatures that contradict each other. List every candidate, one probe step at a time.
    info.content_ambivalent = true;
    blkid_reset_probe(pr.get());
    for (int i = 0; i < 64 && blkid_do_probe(pr.get()) == 0; ++i) {
      std::string t = lookup(pr.get(), "TYPE");
      if (t.empty()) t = lookup(pr.get(), "PTTYPE");
      if (t.empty() || ("," + info.content_type + ",").find("," + t + ",") != std::string::npos) continue;
      if (!info.content_type.empty()) info.content_type += ',';
      info.content_type += t;
    }
    if (info.content_type.empty()) info.content_type = "unknown";
    return Status::Ok();
  }
  return blkid_error("blkid_do_safeprobe", path, rc);
}

// ---- messages -----------------------------------------------------------------------------------------

std::string describe_content(const DeviceInfo& info) {
  if (info.content_ambivalent) return "several conflicting signatures (" + info.content_type + ")";
  const std::string& t = info.content_type;
  const std::string& u = info.content_usage;
  std::string what;
  if (u == "partition table") {
    what = "a " + t + " partition table";
  } else if (u == "filesystem") {
    bool vowel = !t.empty() && std::strchr("aeiouAEIOU", t[0]) != nullptr;
    what = std::string(vowel ? "an " : "a ") + t + " filesystem";
  } else if (t == "swap") {
    what = "a swap signature";
  } else if (u == "raid") {
    what = "a " + t + " signature (a RAID or volume-manager member)";
  } else if (u == "crypto") {
    what = "a " + t + " signature (an encrypted volume)";
  } else {
    what = "a " + t + " signature";
  }
  std::string details;
  if (!info.content_label.empty()) append_joined(details, "LABEL=" + info.content_label);
  if (!info.content_uuid.empty())
    append_joined(details, (u == "partition table" ? "PTUUID=" : "UUID=") + info.content_uuid);
  if (!details.empty()) what += " (" + details + ")";
  return what;
}

// Whether the block device `rdev` is part of another one (its sysfs holders/ is not empty): a path of a
// multipath map, a RAID member, an LVM PV. Its tags are the holder's, so it is no second match.
bool has_holders(dev_t rdev) {
  auto names = list_dir("/sys/dev/block/" + std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev)) + "/holders");
  return names.ok() && !names->empty();
}

// Every device (distinct device numbers, devices held by another one left out) whose probed TOKEN is
// VALUE, named as libblkid names them; `found` (blkid_evaluate_tag's answer) is always among them.
std::vector<std::string> devices_with_tag(blkid_cache cache, const std::string& token, const std::string& value,
                                          const std::string& found) {
  std::vector<std::string> names;
  std::vector<dev_t> seen;
  auto add = [&](const std::string& name) {
    struct stat st;
    if (::stat(name.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) return;
    if (std::find(seen.begin(), seen.end(), st.st_rdev) != seen.end() || has_holders(st.st_rdev)) return;
    seen.push_back(st.st_rdev);
    names.push_back(name);
  };
  add(found);
  if (names.empty()) names.push_back(found);
  if (blkid_probe_all(cache) != 0) return names;
  blkid_dev_iterate it = blkid_dev_iterate_begin(cache);
  if (!it) return names;
  blkid_dev_set_search(it, token.c_str(), value.c_str());
  blkid_dev d = nullptr;
  while (blkid_dev_next(it, &d) == 0) {
    blkid_dev v = blkid_verify(cache, d);
    if (v && blkid_dev_has_tag(v, token.c_str(), value.c_str())) add(blkid_dev_devname(v));
  }
  blkid_dev_iterate_end(it);
  return names;
}

// udev escapes a link name's bytes outside its safe set as \xHH ("a/b" -> "a\x2fb", a space -> "\x20").
std::string decode_udev_escapes(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
      out += static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3]));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The tag a udev tag link names: ".../disk/by-label/X" -> LABEL=X (by-uuid, by-partuuid, by-partlabel alike),
// judged on the path as written; empty for any other path. by-id and by-path links are not tags: by-id
// names the LUN's own WWN or serial number and by-path the port it sits on, which a clone does not copy.
std::string tag_of_udev_link(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) return {};
  const size_t dir_slash = path.rfind('/', slash - 1);
  if (dir_slash == std::string::npos) return {};
  const std::string_view dir(path.data() + dir_slash + 1, slash - dir_slash - 1);
  if (dir_slash < 5 || path.compare(dir_slash - 5, 5, "/disk") != 0) return {};
  const char* token = dir == "by-label"      ? "LABEL"
                      : dir == "by-uuid"     ? "UUID"
                      : dir == "by-partuuid" ? "PARTUUID"
                      : dir == "by-partlabel" ? "PARTLABEL"
                                              : nullptr;
  if (!token) return {};
  return std::string(token) + "=" + decode_udev_escapes(std::string_view(path).substr(slash + 1));
}

// The path itself and every link it goes through (each hop read with readlink, a relative target taken
// from the link's directory), at most 40 hops: /etc/castor/qdisk -> /dev/disk/by-label/X -> ../../sdb.
std::vector<std::string> link_chain(const std::string& path) {
  std::vector<std::string> chain{path};
  std::string cur = path;
  for (int i = 0; i < 40; ++i) {
    char buf[4096];
    ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
    if (n <= 0) break;
    std::string target(buf, size_t(n));
    if (target[0] != '/') target = cur.substr(0, cur.rfind('/') + 1) + target;
    chain.push_back(target);
    cur = target;
  }
  return chain;
}

}  // namespace

Result<std::string> resolve_device(const std::string& spec) {
  if (spec.empty()) return Error(Code::invalid_argument, "empty device name");
  if (spec[0] == '/') {
    // A udev tag link (/dev/disk/by-label/X, ...) is the tag it names, spelled as a path: udev points it at
    // whichever device carrying the tag it probed last, so it gets the same check for clones as LABEL=X.
    for (const std::string& hop : link_chain(spec)) {
      const std::string tag = tag_of_udev_link(hop);
      if (tag.empty()) continue;
      auto r = resolve_device(tag);
      if (!r.ok() && r.status().code() == Code::refused)
        return Error(Code::refused, spec + (hop == spec ? "" : " (through " + hop + ")") + " is a udev link for a tag: " +
                                        r.status().message() + " (a /dev/disk/by-id/ path names one LUN)");
      break;  // one device carries it, or none that libblkid can see: the path is what the admin named
    }
    return spec;
  }
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) return spec;
  std::string token = spec.substr(0, eq);
  for (char c : token)
    if (c < 'A' || c > 'Z') return spec;  // "x=y" with a non-tag left side: a relative path
  std::string value = spec.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  if (token != "LABEL" && token != "UUID" && token != "PARTUUID" && token != "PARTLABEL")
    return Error(Code::invalid_argument,
                 "unknown device tag " + token + "= in '" + spec + "' (use LABEL=, UUID=, PARTUUID=, PARTLABEL= or a path)");
  if (value.empty()) return Error(Code::invalid_argument, "device tag " + token + "= has an empty value");

  // A private cache on /dev/null: never read a stale /run/blkid/blkid.tab, never write one.
  blkid_cache cache = nullptr;
  if (blkid_get_cache(&cache, "/dev/null") != 0 || !cache)
    return Error(Code::internal, "libblkid: blkid_get_cache failed while looking for " + token + "=" + value);
  char* dev = blkid_evaluate_tag(token.c_str(), value.c_str(), &cache);
  if (!dev) {
    blkid_put_cache(cache);
    return Error(Code::not_found,
                 "no device with " + token + "=" + value + " found (looked at udev links and every device in /proc/partitions)");
  }
  std::string path(dev);
  std::free(dev);
  // blkid_evaluate_tag returns one device even when several carry the tag (a cloned or snapshot LUN, a dd
  // copy): probe every device and refuse to choose.
  std::vector<std::string> matches = devices_with_tag(cache, token, value, path);
  blkid_put_cache(cache);
  if (matches.size() > 1) {
    std::string names;
    for (const auto& m : matches) append_joined(names, m);
    return Error(Code::refused, token + "=" + value + " matches " + std::to_string(matches.size()) + " devices (" + names +
                                    "): refusing to guess which is the quorum disk (a clone or snapshot of it?). Name "
                                    "the device by a path, or give the copies other labels");
  }
  return path;
}

Result<DeviceInfo> probe_device(const std::string& path) {
  DeviceInfo info;
  info.path = path;
  // O_NONBLOCK: opening a FIFO by mistake must not hang; it is refused below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return errno_status("open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path);

  std::vector<DevNumber> devs;
  if (S_ISBLK(st.st_mode)) {
    info.is_block_device = true;
    uint64_t size = 0;
    if (::ioctl(fd.get(), BLKGETSIZE64, &size) != 0) return errno_status("ioctl BLKGETSIZE64", path);
    info.size_bytes = size;
    int lss = 0;
    if (::ioctl(fd.get(), BLKSSZGET, &lss) != 0) return errno_status("ioctl BLKSSZGET", path);
    if (lss <= 0) return Error(Code::io_error, "ioctl BLKSSZGET " + path + ": bad sector size " + std::to_string(lss));
    info.logical_sector_size = static_cast<uint32_t>(lss);
    unsigned int pss = 0;
    if (::ioctl(fd.get(), BLKPBSZGET, &pss) != 0) {
      if (errno != ENOTTY && errno != EINVAL) return errno_status("ioctl BLKPBSZGET", path);
      pss = 0;
    }
    info.physical_sector_size = pss != 0 ? pss : info.logical_sector_size;
    int ro = 0;
    if (::ioctl(fd.get(), BLKROGET, &ro) != 0) return errno_status("ioctl BLKROGET", path);
    info.read_only = ro != 0;
    if (Status s = scan_sysfs(st.st_rdev, devs, info.holders); !s.ok()) return s.with_context(path);
    if (Status s = scan_mountinfo(devs, info.mounted_at); !s.ok()) return s.with_context("checking whether " + path + " is mounted");
  } else if (S_ISREG(st.st_mode)) {
    info.size_bytes = static_cast<uint64_t>(st.st_size);
    info.logical_sector_size = 512;
    info.physical_sector_size = 512;
    if (::access(path.c_str(), W_OK) != 0) {
      if (errno != EACCES && errno != EROFS && errno != EPERM) return errno_status("access W_OK", path);
      info.read_only = true;
    }
    if (Status s = scan_loop_backing(st, info.holders); !s.ok())
      return s.with_context("checking whether a loop device uses " + path);
  } else {
    return Error(Code::invalid_argument, path + " is neither a block device nor a regular file");
  }
  if (Status s = scan_swaps(devs, st, info.is_block_device, info.mounted_at); !s.ok())
    return s.with_context("checking whether " + path + " is in use as swap");
  if (Status s = probe_content(fd.get(), path, info); !s.ok()) return s;
  return info;
}

Status check_device_for_init(const DeviceInfo& info, uint64_t min_size_bytes, bool force,
                             const std::optional<std::string>& existing_castor_cluster) {
  const std::string& p = info.path;
  const std::string never = " (--force does not override this)";
  if (!info.mounted_at.empty()) {
    if (info.mounted_at.rfind("[SWAP]", 0) == 0)
      return Error(Code::busy, p + " is in use as swap (" + info.mounted_at + "); swapoff it first" + never);
    return Error(Code::busy, p + " is mounted at " + info.mounted_at + "; unmount it first" + never);
  }
  if (!info.holders.empty())
    return Error(Code::busy, p + " is in use by " + info.holders +
                                 " (device-mapper, MD, a loop device or similar); release it first" + never);
  if (info.read_only)
    return Error(Code::permission_denied,
                 p + " is read-only; a quorum partition cannot be written to it" + never);
  if (info.size_bytes < min_size_bytes)
    return Error(Code::unsupported, p + " is " + human_size(info.size_bytes) + " (" +
                                             std::to_string(info.size_bytes) + " bytes); a quorum disk needs at least " +
                                             human_size(min_size_bytes) + never);
  if (force) return Status::Ok();
  if (existing_castor_cluster.has_value()) {
    std::string whose = existing_castor_cluster->empty() ? "a Castor quorum disk"
                                                         : "the Castor quorum disk of cluster " + *existing_castor_cluster;
    return Error(Code::refused, p + " already holds " + whose + "; refusing to overwrite it (use --force)");
  }
  if (info.content_ambivalent || !info.content_type.empty())
    return Error(Code::refused, p + " holds " + describe_content(info) + "; refusing to overwrite it (use --force)");
  return Status::Ok();
}

}  // namespace castor
