#include "common/trusted_program.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/errno_status.h"
#include "common/trusted_path.h"
#include "common/unique_fd.h"

namespace castor {
namespace {

constexpr size_t kHeaderBytes = 256;  // BINPRM_BUF_SIZE: the kernel reads no more of a '#!' line
constexpr int kMaxInterpreters = 4;   // binfmt_script nesting the kernel allows

bool blank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (blank(s[i]) || s[i] == '\n' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && !blank(s[j]) && s[j] != '\n' && s[j] != '\r') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string from_root(const std::string& p) { return !p.empty() && p[0] == '/' ? p : "/" + p; }

// {true, the '#!' line without "#!" and the newline} for a script; {false, ""} for anything else.
Result<std::pair<bool, std::string>> shebang(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    // Not readable by this process (only for a non-root caller): the kernel could not hand it to an
    // interpreter we run either.
    if (errno == EACCES) return std::pair<bool, std::string>{false, {}};
    return errno_status("open", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path);
  if (!S_ISREG(st.st_mode)) return std::pair<bool, std::string>{false, {}};
  char buf[kHeaderBytes];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = ::read(fd.get(), buf + got, sizeof buf - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("read", path);
    if (n == 0) break;
    got += size_t(n);
  }
  std::string_view head(buf, got);
  if (!head.starts_with("#!")) return std::pair<bool, std::string>{false, {}};
  head.remove_prefix(2);
  if (size_t nl = head.find('\n'); nl != std::string_view::npos) head = head.substr(0, nl);
  return std::pair<bool, std::string>{true, std::string(head)};
}

Status check_program(const std::string& path, std::string_view search_path, int depth);

// The program `#!.../env ARG` runs (see the header), checked; Ok when there is none to find.
Status check_env_program(const std::string& arg, std::string_view search_path, int depth) {
  std::vector<std::string> w = words(arg);
  std::string program;
  for (size_t i = 0; i < w.size(); ++i) {
    const std::string& x = w[i];
    if (x == "-u" || x == "--unset" || x == "-C" || x == "--chdir") {
      ++i;
      continue;
    }
    if (x[0] == '-' || x.find('=') != std::string::npos) continue;
    program = x;
    break;
  }
  if (program.empty()) return Status::Ok();
  if (program.find('/') != std::string::npos) {
    Status st = check_program(from_root(program), search_path, depth + 1);
    return st.code() == Code::not_found ? Status::Ok() : st.with_context("program run by env " + program);
  }
  size_t i = 0;
  while (i <= search_path.size()) {
    size_t j = search_path.find(':', i);
    if (j == std::string_view::npos) j = search_path.size();
    std::string dir(search_path.substr(i, j - i));
    i = j + 1;
    if (dir.empty()) dir = ".";
    const std::string candidate = from_root(dir) + "/" + program;
    auto t = check_trusted_path(candidate);
    if (!t.ok()) {
      if (t.status().code() == Code::not_found) continue;  // not here, and only root could put it here
      return t.status().with_context("program run by env " + program + " (searched along " + std::string(search_path) + ")");
    }
    // execvp runs the first executable one (a directory or a non-executable file is skipped).
    if (!S_ISREG(t->st.st_mode) || !(t->st.st_mode & 0111)) continue;
    return check_program(candidate, search_path, depth + 1).with_context("program run by env " + program);
  }
  return Status::Ok();
}

Status check_program(const std::string& path, std::string_view search_path, int depth) {
  if (depth > kMaxInterpreters) return Error(Code::refused, path + ": more than 4 levels of #! interpreters");
  auto t = check_trusted_path(path);
  if (!t.ok()) return t.status();
  auto line = shebang(path);
  if (!line.ok()) return line.status();
  if (!line->first) return Status::Ok();
  const std::string& text = line->second;
  size_t b = 0;
  while (b < text.size() && blank(text[b])) ++b;
  size_t e = b;
  while (e < text.size() && !blank(text[e]) && text[e] != '\r' && text[e] != '\0') ++e;
  if (e == b) return Status::Ok();  // "#!" alone: the kernel refuses to run it (ENOEXEC)
  const std::string interpreter = from_root(text.substr(b, e - b));
  Status st = check_program(interpreter, search_path, depth + 1);
  if (st.code() == Code::not_found) st = Status::Ok();  // not installed: nothing runs
  if (!st.ok()) return st.with_context(path + ": #! interpreter " + interpreter);
  const size_t slash = interpreter.rfind('/');
  if (interpreter.substr(slash + 1) == "env") {
    std::string arg = e < text.size() ? text.substr(e) : std::string();
    RETURN_IF_ERROR(check_env_program(arg, search_path, depth + 1).with_context(path + ": #! " + interpreter));
  }
  return Status::Ok();
}

}  // namespace

Status check_trusted_program(const std::string& path, std::string_view search_path) {
  return check_program(path, search_path, 0);
}

std::string shell_line_program(std::string_view line) {
  std::vector<std::string> w = words(line);
  if (w.empty() || w[0][0] != '/') return {};
  // A shell word ends at an operator ("/bin/x;rm", "/bin/x>out"); one with an expansion or a quote before
  // that is not known until the shell runs it.
  std::string first = w[0].substr(0, w[0].find_first_of(";&|<>()"));
  if (first.find_first_of("`$\"'\\*?[~{") != std::string::npos) return {};
  return first;
}

}  // namespace castor
