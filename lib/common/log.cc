// The one translation unit that includes Boost.Log.
#include "common/log.h"

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/mutable_constant.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/async_frontend.hpp>
#include <boost/log/sinks/bounded_fifo_queue.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/syslog_backend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/shared_ptr.hpp>
#include <boost/make_shared.hpp>
#include <atomic>
#include <iostream>
#include <mutex>

#include "common/clock.h"
#include "common/text_sanitize.h"

namespace castor::log {
namespace {

namespace bl = boost::log;

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::notice: return "notice";
    case Level::warning: return "warning";
    case Level::error: return "error";
    case Level::critical: return "critical";
  }
  return "?";
}

struct State {
  std::mutex mu;
  Options options;
  bool initialised = false;
  bl::sources::severity_logger_mt<Level> logger;
  std::vector<boost::shared_ptr<bl::sinks::sink>> sinks;
};

State& state() {
  static State* s = new State();  // never destroyed: logging works during static destruction
  return *s;
}

BOOST_LOG_ATTRIBUTE_KEYWORD(severity_kw, "Severity", Level)

// The async sinks' queues are bounded (quorumd mlocks its memory: an unbounded queue behind a stalled
// journald would grow until the OOM killer or mlock's limit hits). A record that finds its queue full is
// dropped and counted here; the next event() that gets through reports the count first.
std::atomic<uint64_t> g_dropped{0};        // dropped and not yet reported
std::atomic<uint64_t> g_dropped_total{0};  // since start (tests)
thread_local bool t_reporting_drops = false;
thread_local bool t_report_dropped = false;

// Boost.Log overflow strategy: drop, and count (runs in the logging thread, under the queue's lock: only
// atomics here, never a log call).
struct CountingDrop {
  template <typename LockT>
  static bool on_overflow(bl::record_view const&, LockT&) {
    if (t_reporting_drops) {
      t_report_dropped = true;  // the "N dropped" line itself did not fit: the count stays for next time
    } else {
      g_dropped.fetch_add(1, std::memory_order_relaxed);
      g_dropped_total.fetch_add(1, std::memory_order_relaxed);
    }
    return false;
  }
  static void on_queue_space_available() {}
  static void interrupt() {}
};

template <typename Backend>
using AsyncSink = bl::sinks::asynchronous_sink<Backend, bl::sinks::bounded_fifo_queue<kAsyncQueueRecords, CountingDrop>>;

bl::sinks::syslog::level to_syslog(Level l) {
  switch (l) {
    case Level::debug: return bl::sinks::syslog::debug;
    case Level::info: return bl::sinks::syslog::info;
    case Level::notice: return bl::sinks::syslog::notice;
    case Level::warning: return bl::sinks::syslog::warning;
    case Level::error: return bl::sinks::syslog::error;
    case Level::critical: return bl::sinks::syslog::critical;
  }
  return bl::sinks::syslog::info;
}

template <typename Frontend>
void add_sink(State& s, boost::shared_ptr<Frontend> sink) {
  sink->set_filter(severity_kw >= s.options.min_level);
  bl::core::get()->add_sink(sink);
  s.sinks.push_back(sink);
}

void install_sinks(State& s) {
  auto core = bl::core::get();
  for (auto& sink : s.sinks) core->remove_sink(sink);
  s.sinks.clear();

  const std::string program = s.options.program;
  auto stderr_formatter = [program](bl::record_view const& rec, bl::formatting_ostream& out) {
    auto lvl = rec[severity_kw];
    out << format_wall_time(wall_time_ns()) << ' ' << program << ' '
        << (lvl ? level_name(*lvl) : "?") << ": " << rec[bl::expressions::smessage];
  };
  if (s.options.to_stderr) {
    using Backend = bl::sinks::text_ostream_backend;
    auto backend = boost::make_shared<Backend>();
    backend->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
    backend->auto_flush(true);
    if (s.options.async) {
      auto sink = boost::make_shared<AsyncSink<Backend>>(backend);
      sink->set_formatter(stderr_formatter);
      add_sink(s, sink);
    } else {
      auto sink = boost::make_shared<bl::sinks::synchronous_sink<Backend>>(backend);
      sink->set_formatter(stderr_formatter);
      add_sink(s, sink);
    }
  }
  if (s.options.to_syslog) {
    using Backend = bl::sinks::syslog_backend;
    auto backend = boost::make_shared<Backend>(bl::keywords::facility = bl::sinks::syslog::daemon,
                                               bl::keywords::use_impl = bl::sinks::syslog::native,
                                               bl::keywords::ident = program);
    bl::sinks::syslog::custom_severity_mapping<Level> mapping("Severity");
    for (Level l : {Level::debug, Level::info, Level::notice, Level::warning, Level::error, Level::critical})
      mapping[l] = to_syslog(l);
    backend->set_severity_mapper(mapping);
    auto fmt = [](bl::record_view const& rec, bl::formatting_ostream& out) {
      out << rec[bl::expressions::smessage];
    };
    if (s.options.async) {
      auto sink = boost::make_shared<AsyncSink<Backend>>(backend);
      sink->set_formatter(fmt);
      add_sink(s, sink);
    } else {
      auto sink = boost::make_shared<bl::sinks::synchronous_sink<Backend>>(backend);
      sink->set_formatter(fmt);
      add_sink(s, sink);
    }
  }
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || c < 0x20 || c == 0x7f) return true;  // (char is signed: bytes >= 0x80 too)
  return false;
}

void append_value(std::string& out, std::string_view raw) {
  // Values carry external text (file names, agents' words): valid UTF-8 in every log line; C0 controls
  // and DEL become '?' below, C1 controls (U+0080..U+009F) here.
  std::string clean = valid_utf8(raw);
  for (size_t i = 0; i + 1 < clean.size(); ++i) {
    if (clean[i] == '\xC2' && static_cast<unsigned char>(clean[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(clean[i + 1]) <= 0x9F) {
      clean.replace(i, 2, "?");
    }
  }
  std::string_view v = clean;
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

std::string format_line(std::string_view message, std::initializer_list<Field> fields) {
  std::string line(message);
  for (const Field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  return line;
}

void init(const Options& options) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.options = options;
  s.initialised = true;
  try {
    install_sinks(s);
  } catch (const std::exception& e) {
    std::cerr << options.program << ": cannot set up logging: " << e.what() << '\n';
  }
}

void set_node(std::string_view node) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.options.node = node;
}

void flush() {
  try {
    bl::core::get()->flush();
  } catch (...) {
  }
}

void event(Level level, std::string_view message, std::initializer_list<Field> fields) {
  State& s = state();
  std::string line;  // "node=NAME " when known
  {
    std::lock_guard lock(s.mu);
    if (!s.initialised) {
      s.initialised = true;
      try {
        install_sinks(s);
      } catch (...) {
      }
    }
    if (!s.options.node.empty()) {
      line = "node=";
      append_value(line, s.options.node);
      line += ' ';
    }
  }
  const std::string prefix = line;
  line += format_line(message, fields);
  try {
    // Space again after drops: say how many first (one line; if it does not fit either, the count stays).
    if (const uint64_t n = g_dropped.load(std::memory_order_relaxed); n > 0) {
      t_reporting_drops = true;
      t_report_dropped = false;
      BOOST_LOG_SEV(s.logger, Level::warning) << prefix << n << " log records dropped (the log queue was full)";
      t_reporting_drops = false;
      if (!t_report_dropped) g_dropped.fetch_sub(n, std::memory_order_relaxed);
    }
    BOOST_LOG_SEV(s.logger, level) << line;
  } catch (...) {
    t_reporting_drops = false;
    // Logging must never take a daemon down.
  }
}

uint64_t dropped_records() { return g_dropped_total.load(std::memory_order_relaxed); }

}  // namespace castor::log
