#include "svcmgr/history_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/errno_status.h"
#include "common/log.h"
#include "common/private_dir.h"
#include "common/unique_fd.h"

namespace castor {

Result<std::unique_ptr<HistoryLog>> HistoryLog::open(const std::string& dir, const std::string& node, uint64_t rotate_bytes) {
  RETURN_IF_ERROR(make_private_dir(dir, "the event history"));
  if (node.empty() || node.find('/') != std::string::npos || node == "." || node == "..")
    return Error(Code::invalid_argument, "the event history: bad node name '" + node + "'");
  return std::unique_ptr<HistoryLog>(new HistoryLog(dir, dir + "/" + node + ".jsonl", rotate_bytes));
}

HistoryLog::HistoryLog(std::string dir, std::string path, uint64_t rotate_bytes)
    : dir_(std::move(dir)), path_(std::move(path)), rotate_bytes_(rotate_bytes) {
  writer_ = std::thread([this] { run(); });
}

HistoryLog::~HistoryLog() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void HistoryLog::append(const HistoryRecord& r) {
  std::string line = encode_history_record(r) + "\n";
  {
    std::lock_guard<std::mutex> g(mu_);
    ++appended_;
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      ++written_;  // accounted for: flush() must not wait for it
      return;
    }
    queue_.push_back(std::move(line));
  }
  cv_.notify_one();
}

bool HistoryLog::flush(int limit_ms) {
  std::unique_lock<std::mutex> g(mu_);
  const uint64_t target = appended_;
  return done_cv_.wait_for(g, std::chrono::milliseconds(limit_ms), [&] { return written_ >= target; });
}

Status HistoryLog::write_batch(const std::string& text) {
  // O_NOFOLLOW: never through a symlink planted at the file; 0600: the history names services and reasons.
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
  if (!fd.valid()) return errno_status("open", path_);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path_);
  if (!S_ISREG(st.st_mode)) return Error(Code::refused, path_ + ": not a regular file");
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("write", path_);
    off += size_t(n);
  }
  if (::fdatasync(fd.get()) != 0) return errno_status("fdatasync", path_);
  if (uint64_t(st.st_size) + text.size() >= rotate_bytes_) {
    const std::string old = path_ + ".1";
    if (::rename(path_.c_str(), old.c_str()) != 0) return errno_status("rename", path_ + " to " + old);
    UniqueFd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.valid()) (void)::fsync(d.get());
  }
  return Status::Ok();
}

void HistoryLog::run() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    cv_.wait(g, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    std::string text;
    size_t n = 0;
    while (!queue_.empty()) {
      text += queue_.front();
      queue_.pop_front();
      ++n;
    }
    const uint64_t dropped = dropped_;
    dropped_ = 0;
    g.unlock();
    if (dropped)
      log::error("event history: records dropped (the writer fell behind the disk)", {{"dropped", dropped}, {"file", path_}});
    Status st = write_batch(text);
    if (!st.ok() && !failing_) log::error("event history: cannot write", {{"file", path_}, {"reason", st.to_string()}});
    if (st.ok() && failing_) log::notice("event history: written again", {{"file", path_}});
    failing_ = !st.ok();
    g.lock();
    written_ += n;
    done_cv_.notify_all();
  }
}

}  // namespace castor
