#include "svcmgr/history_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>

#include "common/errno_status.h"
#include "common/log.h"
#include "common/private_dir.h"
#include "common/unique_fd.h"

namespace castor {

struct HistoryLog::Shared {
  std::string dir, path;
  uint64_t rotate_bytes = kRotateBytes;
  std::mutex mu;
  std::condition_variable cv, done_cv;
  std::deque<std::string> queue;  // encoded lines
  uint64_t appended = 0, written = 0, dropped = 0;
  bool stop = false, exited = false;
  bool failing = false;  // the last write failed (logged once); the writer's alone
};

namespace {

Status write_batch(const std::string& dir, const std::string& path, uint64_t rotate_bytes, const std::string& text) {
  // O_NOFOLLOW: never through a symlink planted at the file; O_NONBLOCK: a FIFO there cannot hang the open
  // (refused just below; on a regular file it changes nothing); 0600: the history names services and reasons.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600));
  if (!fd.valid()) return errno_status("open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status("fstat", path);
  if (!S_ISREG(st.st_mode)) return Error(Code::refused, path + ": not a regular file");
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("write", path);
    off += size_t(n);
  }
  if (::fdatasync(fd.get()) != 0) return errno_status("fdatasync", path);
  if (uint64_t(st.st_size) + text.size() >= rotate_bytes) {
    const std::string old = path + ".1";
    if (::rename(path.c_str(), old.c_str()) != 0) return errno_status("rename", path + " to " + old);
    UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d.valid()) return errno_status("open", dir);
    if (::fsync(d.get()) != 0) return errno_status("fsync", dir);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<HistoryLog>> HistoryLog::open(const std::string& dir, const std::string& node, uint64_t rotate_bytes) {
  RETURN_IF_ERROR(make_private_dir(dir, "the event history"));
  if (node.empty() || node.find('/') != std::string::npos || node == "." || node == "..")
    return Error(Code::invalid_argument, "the event history: bad node name '" + node + "'");
  auto s = std::make_shared<Shared>();
  s->dir = dir;
  s->path = dir + "/" + node + ".jsonl";
  s->rotate_bytes = rotate_bytes;
  std::unique_ptr<HistoryLog> h(new HistoryLog(s));
  try {
    h->writer_ = std::thread(&HistoryLog::run, s);
  } catch (const std::system_error& e) {
    return Error(Code::io_error, std::string("the event history: cannot start its writer thread: ") + e.what());
  }
  return h;
}

const std::string& HistoryLog::path() const { return shared_->path; }

HistoryLog::~HistoryLog() {
  if (!writer_.joinable()) return;
  bool exited;
  {
    std::unique_lock<std::mutex> g(shared_->mu);
    shared_->stop = true;
    shared_->cv.notify_all();
    exited = shared_->done_cv.wait_for(g, kExitWait, [&] { return shared_->exited; });
  }
  if (exited) {
    writer_.join();
  } else {
    log::error("event history: its writer is stuck in the disk; svcmgr exits without it",
               {{"file", shared_->path}, {"waited_ms", std::chrono::duration_cast<std::chrono::milliseconds>(kExitWait).count()}});
    writer_.detach();  // it holds its own reference to the shared state
  }
}

void HistoryLog::append(const HistoryRecord& r) {
  std::string line = encode_history_record(r) + "\n";
  {
    std::lock_guard<std::mutex> g(shared_->mu);
    ++shared_->appended;
    if (shared_->queue.size() >= kMaxQueued) {
      ++shared_->dropped;
      ++shared_->written;  // accounted for: flush() must not wait for it
      return;
    }
    shared_->queue.push_back(std::move(line));
  }
  shared_->cv.notify_one();
}

bool HistoryLog::flush(int limit_ms) {
  std::unique_lock<std::mutex> g(shared_->mu);
  const uint64_t target = shared_->appended;
  return shared_->done_cv.wait_for(g, std::chrono::milliseconds(limit_ms), [&] { return shared_->written >= target; });
}

void HistoryLog::run(std::shared_ptr<Shared> s) {
  std::unique_lock<std::mutex> g(s->mu);
  for (;;) {
    s->cv.wait(g, [&] { return s->stop || !s->queue.empty(); });
    if (s->queue.empty() && s->stop) break;
    std::string text;
    size_t n = 0;
    while (!s->queue.empty()) {
      text += s->queue.front();
      s->queue.pop_front();
      ++n;
    }
    const uint64_t dropped = s->dropped;
    s->dropped = 0;
    g.unlock();
    if (dropped)
      log::error("event history: records dropped (the writer fell behind the disk)", {{"dropped", dropped}, {"file", s->path}});
    Status st = write_batch(s->dir, s->path, s->rotate_bytes, text);
    if (!st.ok() && !s->failing) log::error("event history: cannot write", {{"file", s->path}, {"reason", st.to_string()}});
    if (st.ok() && s->failing) log::notice("event history: written again", {{"file", s->path}});
    s->failing = !st.ok();
    g.lock();
    s->written += n;
    s->done_cv.notify_all();
  }
  s->exited = true;
  s->done_cv.notify_all();
}

}  // namespace castor
