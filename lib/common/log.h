// Logging facade: one line per event, with the node, the subject (service, device, ...) and the reason.
// The only header the rest of Castor includes for logging; Boost.Log stays inside log.cc so that
// compile times stay short. Must never block the caller on a slow sink when started with async=true
// (daemons), must never hold more than kAsyncQueueRecords records per sink, and must never throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace castor::log {

enum class Level { debug = 0, info, notice, warning, error, critical };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int>>>
  Field(std::string_view k, Int v) : key(k), value(std::to_string(v)) {}
};

// An async sink holds at most this many records waiting for its writer thread; a record that finds the
// queue full is dropped and counted, and the next record that gets through is preceded by one warning
// line "N log records dropped (the log queue was full)".
inline constexpr size_t kAsyncQueueRecords = 10000;

struct Options {
  std::string program = "castor";
  std::string node;          // this node's name, put on every line
  bool to_stderr = true;
  bool to_syslog = false;
  bool async = false;        // daemons: a background thread writes, callers never wait on the sink
  Level min_level = Level::info;
};

void init(const Options& options);
void set_node(std::string_view node);
void flush();
// Records dropped on a full async queue since the process started.
uint64_t dropped_records();

// Formats "message key=value key2="value with spaces"" and emits it at `level`.
void event(Level level, std::string_view message, std::initializer_list<Field> fields = {});
// The same formatting, returned instead of emitted (tests, and callers that want the text).
std::string format_line(std::string_view message, std::initializer_list<Field> fields);

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { event(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { event(Level::info, m, f); }
inline void notice(std::string_view m, std::initializer_list<Field> f = {}) { event(Level::notice, m, f); }
inline void warning(std::string_view m, std::initializer_list<Field> f = {}) { event(Level::warning, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { event(Level::error, m, f); }
inline void critical(std::string_view m, std::initializer_list<Field> f = {}) { event(Level::critical, m, f); }

}  // namespace castor::log
