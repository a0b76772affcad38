#include "tools/history_view.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <tuple>

#include "common/text_sanitize.h"

namespace castor {

std::vector<HistoryRecord> parse_history_text(std::string_view text, size_t* skipped) {
  std::vector<HistoryRecord> out;
  size_t bad = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    auto r = parse_history_record(line);
    if (r.ok()) out.push_back(std::move(*r));
    else ++bad;
  }
  if (skipped) *skipped = bad;
  return out;
}

std::vector<HistoryRecord> merge_history(std::vector<std::vector<HistoryRecord>> files) {
  std::vector<HistoryRecord> all;
  for (auto& f : files)
    for (auto& r : f) all.push_back(std::move(r));
  std::stable_sort(all.begin(), all.end(), [](const HistoryRecord& a, const HistoryRecord& b) {
    return std::tie(a.wall_ns, a.node) < std::tie(b.wall_ns, b.node);
  });
  std::vector<HistoryRecord> out;
  std::set<std::string> seen;
  for (auto& r : all)
    if (seen.insert(encode_history_record(r)).second) out.push_back(std::move(r));
  return out;
}

std::vector<HistoryRecord> filter_history(const std::vector<HistoryRecord>& all, const HistoryFilter& f) {
  std::vector<HistoryRecord> out;
  for (const auto& r : all) {
    if (f.since_wall_ns && r.wall_ns < *f.since_wall_ns) continue;
    if (f.service && r.service != *f.service) continue;
    out.push_back(r);
  }
  return out;
}

Result<int64_t> parse_history_since(std::string_view text, int64_t now_wall_ns) {
  const std::string s(text);
  auto bad = [&] {
    return Error(Code::invalid_argument, "--since '" + s +
                                             "': give a duration before now (30s, 10m, 2h, 3d) or a local time "
                                             "(YYYY-MM-DD HH:MM[:SS], or HH:MM[:SS] for today)");
  };
  if (s.empty()) return bad();
  // A duration: digits and one unit.
  if (std::isdigit(static_cast<unsigned char>(s[0])) && s.size() <= 12 && std::string("smhd").find(s.back()) != std::string::npos &&
      std::all_of(s.begin(), s.end() - 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    const int64_t n = std::stoll(s.substr(0, s.size() - 1));
    const int64_t unit = s.back() == 's' ? 1 : s.back() == 'm' ? 60 : s.back() == 'h' ? 3600 : 86400;
    if (n > 3650LL * 86400 / unit) return bad();
    return now_wall_ns - n * unit * 1000000000LL;
  }
  struct tm tm {};
  const time_t now_s = time_t(now_wall_ns / 1000000000LL);
  if (!localtime_r(&now_s, &tm)) return bad();
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  char sep = 0;
  // Each form must use the whole text (%n): "03:12 junk" is not 03:12.
  auto whole = [&](const char* fmt, auto*... out) {
    used = -1;
    std::sscanf(s.c_str(), fmt, out..., &used);
    return used == int(s.size());
  };
  if (whole("%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec) ||
      (sec = 0, whole("%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi))) {
    if (sep != ' ' && sep != 'T') return bad();
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return bad();
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
  } else if (!whole("%2d:%2d:%2d%n", &h, &mi, &sec) && !(sec = 0, whole("%2d:%2d%n", &h, &mi))) {
    return bad();
  }
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return bad();
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  tm.tm_isdst = -1;
  const time_t t = mktime(&tm);
  if (t == time_t(-1)) return bad();
  return int64_t(t) * 1000000000LL;
}

std::string format_history_table(const std::vector<HistoryRecord>& records) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-23s  %-8s %-20s %-12s %-6s %s\n", "TIME (local)", "NODE", "EVENT", "SERVICE", "EPOCH",
                "WHAT (WHY)");
  out += buf;
  for (const auto& r : records) {
    const time_t secs = time_t(r.wall_ns / 1000000000LL);
    struct tm tm {};
    char when[40] = "?";
    if (localtime_r(&secs, &tm)) {
      char base[32];
      strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
      std::snprintf(when, sizeof when, "%s.%03lld", base, static_cast<long long>((r.wall_ns % 1000000000LL) / 1000000));
    }
    std::string what = r.subject.empty() ? r.desc : r.subject + (r.desc.empty() ? "" : ": " + r.desc);
    if (!r.reason.empty()) what += (what.empty() ? "" : " ") + std::string("(") + r.reason + ")";
    const std::string node = printable(r.node), event = printable(r.event);
    const std::string service = r.service.empty() ? "-" : printable(r.service);
    const std::string epoch = r.epoch ? std::to_string(r.epoch) : "-";
    std::snprintf(buf, sizeof buf, "%-23s  %-8s %-20s %-12s %-6s ", when, node.c_str(), event.c_str(), service.c_str(),
                  epoch.c_str());
    out += buf;
    out += printable(what) + "\n";
  }
  return out;
}

}  // namespace castor
