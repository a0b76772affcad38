// AlertEvent: one cluster event as svcmgr reports it to the [alert NAME] programs (config/alert_config.h),
// and the environment a program gets for it: Pacemaker's alert contract (CRM_alert_*), so that Pacemaker's
// sample agents work unchanged, plus CASTOR_ALERT_* for what that contract cannot carry (the event's own
// name, the epoch, the reason, the reporting node).
//
// Events and how they map to Pacemaker's kinds:
//   node_up, node_down, node_dead     CRM_alert_kind=node, CRM_alert_desc member / lost
//   peer_power_fenced                 kind=fencing, task off, rc 0, desc "Operation off of NODE by ME: OK"
//   service_started, service_stopped, service_failed, service_recovering, service_relocated
//                                     kind=resource, rsc = the service, task start / stop / monitor, rc and
//                                     desc as an OCF result (0 OK, 1 error, 7 not running), interval 0
//   lease_at_risk, lease_ok, definitions_differ, definitions_match, quorum_device_lost, quorum_device_back
//                                     kind=attribute (Pacemaker has no kind for them): attribute name
//                                     castor-lease / castor-definitions / castor-quorum-device-N, its value the
//                                     new state
// Pure: no I/O, no clock; the wall time comes in the event (display only: alerts never decide anything).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/alert_config.h"

namespace castor {

struct AlertEvent {
  AlertKind kind = AlertKind::node;
  std::string event;          // node_dead, service_failed, ... (CASTOR_ALERT_EVENT)
  std::string node;           // the node it is about (CRM_alert_node)
  uint32_t node_id = 0;       // its id (CRM_alert_nodeid), 0 when unknown
  std::string service;        // resource events (CRM_alert_rsc)
  std::string task;           // start, stop, monitor; reboot, off (CRM_alert_task)
  std::string desc;           // CRM_alert_desc
  int rc = 0;                 // CRM_alert_rc (an OCF result for resource events)
  std::string attribute;      // attribute events: CRM_alert_attribute_name
  std::string value;          //                   CRM_alert_attribute_value
  uint64_t epoch = 0;         // the service's epoch (CASTOR_ALERT_EPOCH), 0 when none
  std::string reason;         // why (CASTOR_ALERT_REASON)
  int64_t wall_ns = 0;        // when, wall clock (CRM_alert_timestamp*): display only
};

// The program's whole environment ("K=V" each; nothing else is inherited): PATH, the CRM_alert_* keys of
// the event's kind, CRM_alert_recipient (only when configured), CRM_alert_version, CRM_alert_node_sequence =
// `sequence`, the timestamps (CRM_alert_timestamp in `alert.timestamp_format`, _epoch, _usec), and
// CASTOR_ALERT_EVENT, _KIND, _ALERT (the section's name), _REPORTER (`reporter`: the node whose svcmgr ran
// it), _EPOCH, _REASON, _SERVICE. Values are single lines: a line feed in a reason becomes a space.
std::vector<std::string> alert_environment(const AlertEvent& e, const AlertConfig& alert, uint64_t sequence,
                                           const std::string& reporter);

// `format` applied to the wall time (local time, strftime), where %N is the nanoseconds (9 digits) and
// %<digits>N or %0<digits>N the first <digits> of them, as Pacemaker's CRM_alert_timestamp_format allows.
std::string format_alert_timestamp(int64_t wall_ns, const std::string& format);

// A one-line summary for the log: "service_failed web on alpha (reason)".
std::string describe_alert_event(const AlertEvent& e);

}  // namespace castor
