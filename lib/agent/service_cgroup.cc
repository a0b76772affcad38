#include "agent/service_cgroup.h"
#include "agent/service_cgroup_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/errno_status.h"
#include "common/log.h"

namespace castor {
namespace {

Status check_relative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/' || rel.back() == '/')
    return Error(Code::invalid_argument, "cgroup path '" + rel + "': must be relative, without a trailing '/'");
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string_view c(rel.data() + start, end - start);
    if (c.empty() || c == "." || c == "..")
      return Error(Code::invalid_argument, "cgroup path '" + rel + "': empty, '.' or '..' component");
    for (char ch : c)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-'))
        return Error(Code::invalid_argument, "cgroup path '" + rel + "': only [A-Za-z0-9._-] in names");
    start = end + 1;
  }
  return Status::Ok();
}

Status write_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("open", path);
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  if (n < 0) {
    ::close(fd);
    return errno_status("write '" + std::string(text) + "' to", path, err);
  }
  if (size_t(n) != text.size()) {
    ::close(fd);
    return Error(Code::io_error, "write to " + path + ": short write");
  }
  if (::close(fd) != 0) return errno_status("close", path);
  return Status::Ok();
}

Result<std::string> read_small(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("open", path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = errno_status("read", path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
    if (out.size() > (16u << 20)) {
      ::close(fd);
      return Error(Code::io_error, "read " + path + ": larger than 16 MiB");
    }
  }
  ::close(fd);
  return out;
}

Status parse_pids(const std::string& text, const std::string& path, std::vector<pid_t>& out) {
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    if (nl > i) {
      pid_t p = 0;
      auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + nl, p);
      if (ec != std::errc() || ptr != text.data() + nl || p <= 0)
        return Error(Code::corrupt, path + ": not a pid: '" + text.substr(i, nl - i) + "'");
      out.push_back(p);
    }
    i = nl + 1;
  }
  return Status::Ok();
}

// Creates the cgroup directory `path`, or takes the one that exists. Something else at that name (a cgroup
// control file: a service or node named "tasks", "cgroup.procs", "memory.max", ...) is an error naming it,
// never "the cgroup exists".
Status make_cgroup_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0) return Status::Ok();
  if (errno != EEXIST) return errno_status("mkdir", path);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno_status("lstat", path);
  if (!S_ISDIR(st.st_mode))
    return Error(Code::already_exists, path + " is a cgroup control file, not a cgroup: the name '" +
                                             path.substr(path.rfind('/') + 1) +
                                             "' is reserved by the kernel (rename the service or node)");
  return Status::Ok();
}

Status mkdir_p(const std::string& base, const std::string& rel) {
  std::string path = base;
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    path += "/" + rel.substr(start, end - start);
    RETURN_IF_ERROR(make_cgroup_dir(path));
    start = end + 1;
  }
  return Status::Ok();
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Every cgroup directory at and below `dir`, parents before children. A `dir` that does not exist: none;
// a cgroup below it removed while it is walked (svcmgr removes a service's emptied cgroup while the
// fence walks the node's tree) held no process: skipped, never an error that would stop the fence.
Status walk(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return Status::Ok();
    return errno_status("opendir", dir);
  }
  out.push_back(dir);
  std::vector<std::string> subs;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR) continue;
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    subs.push_back(dir + "/" + e->d_name);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return errno_status("readdir", dir, err);
  for (const auto& s : subs) RETURN_IF_ERROR(walk(s, out));
  return Status::Ok();
}

// Every pid listed in `dirs`' cgroup.procs files, into `out`, reading on past a file that fails: the
// first failure is returned, with whatever the other files listed (a kill must not spare a whole tree
// because one directory could not be read).
Status collect_pids(const std::vector<std::string>& dirs, std::vector<pid_t>& out) {
  Status first;
  for (const auto& d : dirs) {
    const std::string f = d + "/cgroup.procs";
    Result<std::string> text = read_small(f);
    if (!text.ok()) {
      // Removed meanwhile (every cgroup has a cgroup.procs, so ENOENT means the cgroup went away, even if
      // one of the same name was created again since): it held nothing to kill.
      const Code code = text.status().code();
      if (code == Code::not_found || (code == Code::io_error && !exists(d))) continue;
      if (first.ok()) first = text.status();
      continue;
    }
    if (Status st = parse_pids(*text, f, out); !st.ok() && first.ok()) first = st;
  }
  return first;
}

Result<std::vector<pid_t>> pids_in(const std::vector<std::string>& dirs) {
  std::vector<pid_t> out;
  RETURN_IF_ERROR(collect_pids(dirs, out));
  return out;
}

void sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

Result<std::string> read_state(const CgroupStateReader& read, const std::string& path) {
  return read ? read(path) : read_small(path);
}

Status write_freeze(CgroupVersion v, const std::string& dir) {
  return v == CgroupVersion::v1 ? write_file(dir + "/freezer.state", "FROZEN") : write_file(dir + "/cgroup.freeze", "1");
}

// Whether the kernel reports `dir` frozen.
Result<bool> is_frozen(CgroupVersion v, const std::string& dir, const CgroupStateReader& read) {
  if (v == CgroupVersion::v1) {
    ASSIGN_OR_RETURN(std::string s, read_state(read, dir + "/freezer.state"));
    return s.rfind("FROZEN", 0) == 0;
  }
  ASSIGN_OR_RETURN(std::string s, read_state(read, dir + "/cgroup.events"));
  return s.find("frozen 1") != std::string::npos;
}

Status not_frozen_in_time(const std::string& dir) {
  return Error(Code::timeout, "cgroup " + dir + " not frozen within " + format_duration(ServiceCgroup::kFreezeLimit));
}

// Writes the freeze and waits until the kernel reports it frozen (bounded: kFreezeLimit).
Status freeze(CgroupVersion v, const std::string& dir, const CgroupStateReader& read) {
  RETURN_IF_ERROR(write_freeze(v, dir));
  BootClock clock;
  const TimePoint until = clock.now() + ServiceCgroup::kFreezeLimit;
  for (;;) {
    ASSIGN_OR_RETURN(bool frozen, is_frozen(v, dir, read));
    if (frozen) return Status::Ok();
    if (clock.now() >= until) return not_frozen_in_time(dir);
    sleep_ms(1);
  }
}

Status thaw(CgroupVersion v, const std::string& dir) {
  return v == CgroupVersion::v1 ? write_file(dir + "/freezer.state", "THAWED") : write_file(dir + "/cgroup.freeze", "0");
}

// After the freeze (`frozen`: how it went): SIGKILL every process in `dirs` (top and below), thaw. A freeze
// that does not complete (a task in D state) still gets everyone signalled (and the error is logged, not
// returned: the caller sees the result through empty()). A freeze that fails outright (the freezer cannot
// be written or read) gets everyone signalled too -- a fence must not spare what it can see -- and that
// error is returned once they are.
Result<size_t> kill_and_thaw(CgroupVersion v, const std::string& top, const std::vector<std::string>& dirs,
                             const Status& frozen) {
  if (!frozen.ok()) log::warning("cgroup did not freeze; killing what it holds anyway", {{"error", frozen.to_string()}});
  std::vector<pid_t> pids;
  const Status listed = collect_pids(dirs, pids);  // what could be read is killed even if a file failed
  size_t n = 0;
  Status kill_st;
  for (pid_t p : pids) {
    if (::kill(p, SIGKILL) == 0) {
      ++n;
    } else if (errno != ESRCH && kill_st.ok()) {
      kill_st = errno_status("kill -KILL", "pid " + std::to_string(p) + " of cgroup " + top);
    }
  }
  Status thawed = thaw(v, top);
  if (!frozen.ok() && frozen.code() != Code::timeout) return frozen;
  if (!listed.ok()) return listed;
  if (!kill_st.ok()) return kill_st;
  if (!thawed.ok()) return thawed;
  return n;
}

// Freeze `top`, SIGKILL every process in `dirs`, thaw (blocking while the kernel freezes).
Result<size_t> freeze_kill_thaw(CgroupVersion v, const std::string& top, const std::vector<std::string>& dirs,
                                const CgroupStateReader& read = {}) {
  return kill_and_thaw(v, top, dirs, freeze(v, top, read));
}

std::vector<std::string> v1_hierarchies(const std::string& root) {
  std::vector<std::string> out;
  DIR* d = ::opendir(root.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;  // symlinks (cpu -> cpu,cpuacct) skipped
    std::string h = root + "/" + e->d_name;
    struct statfs fs;
    if (::statfs(h.c_str(), &fs) == 0 && fs.f_type == CGROUP_SUPER_MAGIC) out.push_back(h);
  }
  ::closedir(d);
  return out;
}

}  // namespace

Result<CgroupVersion> detect_cgroup_version(const std::string& root) {
  struct statfs fs;
  if (::statfs(root.c_str(), &fs) != 0) return errno_status("statfs", root);
  return fs.f_type == CGROUP2_SUPER_MAGIC ? CgroupVersion::v2 : CgroupVersion::v1;
}

Status cgroups_usable(const std::string& root) {
  ASSIGN_OR_RETURN(CgroupVersion v, detect_cgroup_version(root));
  if (v == CgroupVersion::v2) return Status::Ok();
  struct statfs fs;
  const std::string freezer = root + "/freezer";
  if (::statfs(freezer.c_str(), &fs) != 0) return errno_status("statfs", freezer + " (the cgroup v1 freezer)");
  if (fs.f_type != CGROUP_SUPER_MAGIC)
    return Error(Code::unsupported, freezer + " is not a cgroup v1 hierarchy: no cgroup freezer here");
  return Status::Ok();
}

Result<ServiceCgroup> ServiceCgroup::open(const std::string& relative, const CgroupLimits& limits,
                                          const std::string& root) {
  RETURN_IF_ERROR(check_relative(relative));
  ASSIGN_OR_RETURN(CgroupVersion v, detect_cgroup_version(root));
  std::vector<std::string> dirs;
  if (v == CgroupVersion::v2) {
    // Controllers for the limits must be enabled in every ancestor's subtree_control.
    std::string ctl;
    if (limits.memory_max) ctl += "+memory ";
    if (limits.cpu_weight) ctl += "+cpu ";
    if (limits.tasks_max) ctl += "+pids ";
    std::string path = root;
    size_t start = 0;
    while (start < relative.size()) {
      size_t end = relative.find('/', start);
      if (end == std::string::npos) end = relative.size();
      if (!ctl.empty()) RETURN_IF_ERROR(write_file(path + "/cgroup.subtree_control", ctl.substr(0, ctl.size() - 1)));
      path += "/" + relative.substr(start, end - start);
      RETURN_IF_ERROR(make_cgroup_dir(path));
      start = end + 1;
    }
    if (limits.memory_max) RETURN_IF_ERROR(write_file(path + "/memory.max", std::to_string(*limits.memory_max)));
    if (limits.cpu_weight) RETURN_IF_ERROR(write_file(path + "/cpu.weight", std::to_string(*limits.cpu_weight)));
    if (limits.tasks_max) RETURN_IF_ERROR(write_file(path + "/pids.max", std::to_string(*limits.tasks_max)));
    dirs.push_back(path);
  } else {
    const std::string freezer = root + "/freezer";
    if (!exists(freezer + "/freezer.state") && !exists(freezer + "/cgroup.procs"))
      return Error(Code::unsupported, "cgroup v1 without a freezer hierarchy at " + freezer +
                                          ": a service's processes could not be killed surely");
    RETURN_IF_ERROR(mkdir_p(freezer, relative));
    dirs.push_back(freezer + "/" + relative);
    auto limit = [&](const char* ctrl, const char* file, uint64_t value) -> Status {
      const std::string h = root + "/" + ctrl;
      if (!exists(h + "/cgroup.procs"))
        return Error(Code::unsupported, std::string("limit ") + file + ": no cgroup v1 '" + ctrl + "' hierarchy at " + h);
      RETURN_IF_ERROR(mkdir_p(h, relative));
      dirs.push_back(h + "/" + relative);
      return write_file(dirs.back() + "/" + file, std::to_string(value));
    };
    if (limits.tasks_max) RETURN_IF_ERROR(limit("pids", "pids.max", *limits.tasks_max));
    if (limits.memory_max) RETURN_IF_ERROR(limit("memory", "memory.limit_in_bytes", *limits.memory_max));
    if (limits.cpu_weight)
      RETURN_IF_ERROR(limit("cpu", "cpu.shares", std::max<uint64_t>(2, *limits.cpu_weight * 1024 / 100)));
  }
  return ServiceCgroup(v, relative, std::move(dirs));
}

std::vector<std::string> ServiceCgroup::procs_files() const {
  std::vector<std::string> out;
  for (const auto& d : dirs_) out.push_back(d + "/cgroup.procs");
  return out;
}

Result<std::vector<pid_t>> ServiceCgroup::pids() const {
  std::vector<std::string> dirs;
  RETURN_IF_ERROR(walk(main_dir(), dirs));
  return pids_in(dirs);
}

Result<bool> ServiceCgroup::empty() const {
  ASSIGN_OR_RETURN(std::vector<pid_t> p, pids());
  if (!p.empty()) return false;
  if (version_ != CgroupVersion::v2) return true;
  // rmdir refuses (EBUSY) a cgroup the kernel counts as populated, and whether cgroup.procs still lists a
  // process that is exiting differs between kernels: "populated 0" is the kernel's own word for "empty".
  const std::string f = main_dir() + "/cgroup.events";
  Result<std::string> events = read_small(f);
  if (!events.ok()) {
    if (events.status().code() == Code::not_found) return true;  // no such cgroup: nothing in it
    return events.status();
  }
  if (events->find("populated 0") != std::string::npos) return true;
  if (events->find("populated 1") != std::string::npos) return false;
  return Error(Code::corrupt, f + ": no populated field");
}

Status ServiceCgroup::kill_all(const CgroupStateReader& read) const {
  if (version_ == CgroupVersion::v2 && exists(main_dir() + "/cgroup.kill"))
    return write_file(main_dir() + "/cgroup.kill", "1");
  std::vector<std::string> dirs;
  RETURN_IF_ERROR(walk(main_dir(), dirs));
  if (dirs.empty()) return Status::Ok();
  Result<size_t> n = freeze_kill_thaw(version_, main_dir(), dirs, read);
  return n.ok() ? Status::Ok() : n.status();
}

Result<bool> ServiceCgroup::thaw_if_left_frozen() const {
  if (version_ != CgroupVersion::v1) return false;
  const std::string f = main_dir() + "/freezer.self_freezing";
  Result<std::string> self = read_small(f);
  if (!self.ok()) {
    if (self.status().code() == Code::not_found) return false;  // no such cgroup (yet): nothing frozen
    return self.status();
  }
  if (self->rfind("1", 0) != 0) return false;
  RETURN_IF_ERROR(thaw(version_, main_dir()));
  log::warning("a service's cgroup was left frozen (a kill was cut short): thawed", {{"cgroup", main_dir()}});
  return true;
}

std::unique_ptr<CgroupKill> CgroupKill::start(const ServiceCgroup& cgroup, TimePoint now, CgroupStateReader read) {
  std::unique_ptr<CgroupKill> k(new CgroupKill(cgroup.version(), cgroup.main_dir(), std::move(read)));
  if (k->version_ == CgroupVersion::v2 && exists(k->top_ + "/cgroup.kill")) {
    k->result_ = write_file(k->top_ + "/cgroup.kill", "1");
    k->done_ = true;
    return k;
  }
  std::vector<std::string> dirs;
  if (Status st = walk(k->top_, dirs); !st.ok() || dirs.empty()) {
    k->result_ = st;  // a cgroup that does not exist holds nothing to kill
    k->done_ = true;
    return k;
  }
  if (Status st = write_freeze(k->version_, k->top_); !st.ok()) {
    k->finish(st);  // the freezer cannot be written: everyone is signalled at once, and the error returned
    return k;
  }
  k->until_ = now + ServiceCgroup::kFreezeLimit;
  k->next_ = now;
  k->step(now);  // usually frozen already: then done without a timer
  return k;
}

void CgroupKill::step(TimePoint now) {
  if (done_ || now < next_) return;
  Result<bool> frozen = is_frozen(version_, top_, read_);
  if (!frozen.ok()) return finish(frozen.status());
  if (*frozen) return finish(Status::Ok());
  if (now >= until_) return finish(not_frozen_in_time(top_));
  next_ = now + kPoll;
}

void CgroupKill::finish(Status frozen) {
  // The cgroups below it as they are now (created since start() too), all frozen with it.
  std::vector<std::string> dirs;
  if (Status st = walk(top_, dirs); !st.ok()) {
    log::warning("cannot list the cgroups below a frozen one; killing its own processes", {{"error", st.to_string()}});
    dirs = {top_};
  }
  Result<size_t> n = kill_and_thaw(version_, top_, dirs, frozen);
  result_ = n.ok() ? Status::Ok() : n.status();
  signalled_ = n.ok() ? *n : 0;
  done_ = true;
}

CgroupKill::~CgroupKill() {
  if (done_) return;
  // Destroyed mid-freeze (svcmgr exits, its runner goes): end it now rather than leave the cgroup frozen.
  finish(Error(Code::timeout, "cgroup " + top_ + ": kill ended before the freeze completed (its owner went away)"));
  if (!result_.ok()) log::error("ending a cgroup kill cut short failed", {{"cgroup", top_}, {"error", result_.to_string()}});
}

Status ServiceCgroup::remove() const {
  // Limit hierarchies first, the membership one last.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    if (::rmdir(it->c_str()) == 0 || errno == ENOENT) continue;
    if (errno == EBUSY) return Error(Code::busy, "rmdir " + *it + ": the cgroup still holds processes");
    return errno_status("rmdir", *it);
  }
  return Status::Ok();
}

Result<size_t> kill_cgroup_tree(const std::string& relative, const std::string& root) {
  RETURN_IF_ERROR(check_relative(relative));
  ASSIGN_OR_RETURN(CgroupVersion v, detect_cgroup_version(root));
  const std::string top = (v == CgroupVersion::v2 ? root : root + "/freezer") + "/" + relative;
  std::vector<std::string> dirs;
  RETURN_IF_ERROR(walk(top, dirs));
  if (dirs.empty()) return size_t(0);
  if (v == CgroupVersion::v2 && exists(top + "/cgroup.kill")) {
    ASSIGN_OR_RETURN(std::vector<pid_t> pids, pids_in(dirs));
    RETURN_IF_ERROR(write_file(top + "/cgroup.kill", "1"));
    return pids.size();
  }
  return freeze_kill_thaw(v, top, dirs);
}

Result<bool> cgroup_tree_busy(const std::string& relative, const std::string& root) {
  RETURN_IF_ERROR(check_relative(relative));
  ASSIGN_OR_RETURN(CgroupVersion v, detect_cgroup_version(root));
  std::vector<std::string> dirs;
  RETURN_IF_ERROR(walk((v == CgroupVersion::v2 ? root : root + "/freezer") + "/" + relative, dirs));
  ASSIGN_OR_RETURN(std::vector<pid_t> pids, pids_in(dirs));
  return !pids.empty();
}

Result<bool> pid_in_cgroup_tree(pid_t pid, const std::string& relative, const std::string& root) {
  RETURN_IF_ERROR(check_relative(relative));
  ASSIGN_OR_RETURN(CgroupVersion v, detect_cgroup_version(root));
  const std::string f = "/proc/" + std::to_string(pid) + "/cgroup";
  Result<std::string> text = read_small(f);
  if (!text.ok()) {
    if (!exists("/proc/" + std::to_string(pid))) return Error(Code::not_found, "no process " + std::to_string(pid));
    return text.status();
  }
  const std::string want = "/" + relative;
  size_t i = 0;
  while (i < text->size()) {
    size_t nl = text->find('\n', i);
    if (nl == std::string::npos) nl = text->size();
    std::string_view line(text->data() + i, nl - i);
    i = nl + 1;
    // "ID:CONTROLLERS:PATH"
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view ctrls = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    bool ours = false;
    if (v == CgroupVersion::v2) {
      ours = line.substr(0, c1) == "0" && ctrls.empty();
    } else {
      size_t s = 0;
      while (s <= ctrls.size()) {
        size_t e = ctrls.find(',', s);
        if (e == std::string_view::npos) e = ctrls.size();
        if (ctrls.substr(s, e - s) == "freezer") ours = true;
        s = e + 1;
      }
    }
    if (!ours) continue;
    return path == want || (path.size() > want.size() && path.substr(0, want.size()) == want && path[want.size()] == '/');
  }
  return false;
}

Result<bool> process_group_in_cgroup_tree(pid_t pgid, const std::string& relative, const std::string& root) {
  if (pgid <= 1) return false;
  DIR* d = ::opendir("/proc");
  if (!d) return errno_status("opendir", "/proc");
  std::vector<pid_t> members;
  char buf[512];
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (!e) {
      int err = errno;
      ::closedir(d);
      if (err != 0) return errno_status("readdir", "/proc", err);
      break;
    }
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    const std::string path = std::string("/proc/") + e->d_name + "/stat";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // exited meanwhile
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    const char* paren = std::strrchr(buf, ')');  // "PID (COMM) STATE PPID PGRP ..."
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (!paren || std::sscanf(paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') members.push_back(pid_t(std::atoi(e->d_name)));
  }
  if (members.empty()) return false;
  for (pid_t p : members) {
    Result<bool> in = pid_in_cgroup_tree(p, relative, root);
    if (!in.ok() && in.status().code() == Code::not_found) continue;  // exited meanwhile
    if (!in.ok()) return in.status();
    if (!*in) return false;
  }
  return true;
}

Status remove_cgroup_tree(const std::string& relative, const std::string& root) {
  RETURN_IF_ERROR(check_relative(relative));
  ASSIGN_OR_RETURN(CgroupVersion v, detect_cgroup_version(root));
  std::vector<std::string> bases = v == CgroupVersion::v2 ? std::vector<std::string>{root} : v1_hierarchies(root);
  Status first;
  for (const auto& b : bases) {
    std::vector<std::string> dirs;
    if (Status st = walk(b + "/" + relative, dirs); !st.ok()) {
      if (first.ok()) first = st;
      continue;
    }
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) continue;
      if (first.ok())
        first = errno == EBUSY ? Error(Code::busy, "rmdir " + *it + ": the cgroup still holds processes")
                               : errno_status("rmdir", *it);
    }
  }
  return first;
}

namespace cgroup_internal {

Result<size_t> freeze_kill_thaw(CgroupVersion version, const std::string& top) {
  std::vector<std::string> dirs;
  RETURN_IF_ERROR(walk(top, dirs));
  if (dirs.empty()) return size_t(0);
  return castor::freeze_kill_thaw(version, top, dirs);
}

}  // namespace cgroup_internal

}  // namespace castor
