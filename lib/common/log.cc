// The one translation unit that includes Boost.Log.
#include "common/log.h"

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/mutable_constant.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/async_frontend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/syslog_backend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/shared_ptr.hpp>
#include <boost/make_shared.hpp>
#include <iostream>
#include <mutex>

#include "common/clock.h"

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
      auto sink = boost::make_shared<bl::sinks::asynchronous_sink<Backend>>(backend);
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
      auto sink = boost::make_shared<bl::sinks::asynchronous_sink<Backend>>(backend);
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
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || c < 0x20) return true;
  return false;
}

void append_value(std::string& out, std::string_view v) {
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
    } else if (static_cast<unsigned char>(c) < 0x20) {
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
  std::string line;
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
  line += format_line(message, fields);
  try {
    BOOST_LOG_SEV(s.logger, level) << line;
  } catch (...) {
    // Logging must never take a daemon down.
  }
}

}  // namespace castor::log
