#include "svcmgr/alert_event.h"

#include <time.h>

#include <cstdio>

namespace castor {
namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  return s;
}

}  // namespace

std::string format_alert_timestamp(int64_t wall_ns, const std::string& format) {
  const time_t secs = time_t(wall_ns / 1000000000);
  const int64_t nanos = wall_ns % 1000000000;
  struct tm tm {};
  if (!localtime_r(&secs, &tm)) return std::to_string(wall_ns);
  // The %N forms first (strftime does not know them), then strftime on the rest, one piece at a time.
  std::string out;
  std::string piece;
  auto flush = [&] {
    if (piece.empty()) return;
    char buf[256];
    const size_t n = strftime(buf, sizeof buf, piece.c_str(), &tm);
    out.append(buf, n);
    piece.clear();
  };
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      piece += format[i];
      continue;
    }
    size_t j = i + 1;
    while (j < format.size() && format[j] >= '0' && format[j] <= '9') ++j;
    if (j < format.size() && format[j] == 'N') {
      int digits = 9;
      if (j > i + 1) digits = std::atoi(format.substr(i + 1, j - i - 1).c_str());
      if (digits < 1 || digits > 9) digits = 9;
      char buf[16];
      std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(nanos));
      flush();
      out.append(buf, size_t(digits));
      i = j;
      continue;
    }
    piece += format[i];
    piece += format[i + 1];  // "%%" and every strftime conversion stay whole
    ++i;
  }
  flush();
  return out;
}

std::vector<std::string> alert_environment(const AlertEvent& e, const AlertConfig& alert, uint64_t sequence,
                                           const std::string& reporter) {
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  auto put = [&](const char* k, const std::string& v) { env.push_back(std::string(k) + "=" + one_line(v)); };
  const char* pcmk_kind = e.kind == AlertKind::node       ? "node"
                          : e.kind == AlertKind::fencing  ? "fencing"
                          : e.kind == AlertKind::resource ? "resource"
                                                          : "attribute";
  put("CRM_alert_kind", pcmk_kind);
  put("CRM_alert_version", CASTOR_VERSION);
  if (alert.recipient) put("CRM_alert_recipient", *alert.recipient);  // unset otherwise, as Pacemaker leaves it
  put("CRM_alert_node_sequence", std::to_string(sequence));
  put("CRM_alert_timestamp", format_alert_timestamp(e.wall_ns, alert.timestamp_format));
  put("CRM_alert_timestamp_epoch", std::to_string(e.wall_ns / 1000000000));
  put("CRM_alert_timestamp_usec", std::to_string((e.wall_ns % 1000000000) / 1000));
  put("CRM_alert_node", e.node);
  put("CRM_alert_desc", e.desc);
  switch (e.kind) {
    case AlertKind::node:
      put("CRM_alert_nodeid", e.node_id ? std::to_string(e.node_id) : "");
      break;
    case AlertKind::fencing:
      put("CRM_alert_task", e.task);
      put("CRM_alert_rc", std::to_string(e.rc));
      break;
    case AlertKind::resource:
      put("CRM_alert_rsc", e.service);
      put("CRM_alert_task", e.task);
      put("CRM_alert_interval", "0");
      put("CRM_alert_rc", std::to_string(e.rc));
      put("CRM_alert_target_rc", "0");
      put("CRM_alert_status", "0");  // the operation completed (PCMK_EXEC_DONE); rc says how
      break;
    case AlertKind::quorum:
      put("CRM_alert_attribute_name", e.attribute);
      put("CRM_alert_attribute_value", e.value);
      break;
  }
  put("CASTOR_ALERT_EVENT", e.event);
  put("CASTOR_ALERT_KIND", alert_kind_name(e.kind));
  put("CASTOR_ALERT_ALERT", alert.name);
  put("CASTOR_ALERT_REPORTER", reporter);
  put("CASTOR_ALERT_SERVICE", e.service);
  put("CASTOR_ALERT_EPOCH", e.epoch ? std::to_string(e.epoch) : "");
  put("CASTOR_ALERT_REASON", e.reason);
  return env;
}

std::string describe_alert_event(const AlertEvent& e) {
  std::string s = e.event;
  if (!e.service.empty()) s += " " + e.service;
  if (!e.node.empty()) s += (e.service.empty() ? " " : " on ") + e.node;
  if (!e.reason.empty()) s += " (" + e.reason + ")";
  return one_line(s);
}

}  // namespace castor
