// Pacemaker import: see pacemaker_import.h.
#include "tools/pacemaker_import.h"

#include "tools/pacemaker_colocation.h"

#include <regex.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <map>
#include <optional>
#include <set>

namespace castor {

namespace {

// A POSIX extended regular expression (regcomp/regexec), freed with the object: no exceptions, and the
// matcher Pacemaker itself uses for rsc-pattern.
class PosixRegex {
 public:
  explicit PosixRegex(const std::string& pattern) : ok_(::regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB) == 0) {}
  ~PosixRegex() {
    if (ok_) ::regfree(&re_);
  }
  PosixRegex(const PosixRegex&) = delete;
  PosixRegex& operator=(const PosixRegex&) = delete;
  bool ok() const { return ok_; }
  bool search(const std::string& text) const { return ok_ && ::regexec(&re_, text.c_str(), 0, nullptr, 0) == 0; }

 private:
  regex_t re_{};
  bool ok_;
};

using Kind = ResourceDefinition::AgentKind;

std::string id_of(const XmlElement& e) {
  const std::string* id = e.attr("id");
  return id ? *id : "(no id, line " + std::to_string(e.line) + ")";
}

// The nvpairs of the first child `set_name` of e (rules inside it are reported).
std::vector<std::pair<std::string, std::string>> nvpairs(const XmlElement& e, std::string_view set_name,
                                                         const std::string& what, std::vector<std::string>& notes) {
  std::vector<std::pair<std::string, std::string>> out;
  bool first = true;
  for (const XmlElement& set : e.children) {
    if (set.name != set_name) continue;
    if (!first) {
      notes.push_back(what + ": a second <" + std::string(set_name) + "> set (" + id_of(set) + ") not mapped");
      continue;
    }
    first = false;
    for (const XmlElement& nv : set.children) {
      if (nv.name == "nvpair" && nv.attr("name") && nv.attr("value")) out.emplace_back(*nv.attr("name"), *nv.attr("value"));
      else if (nv.name == "rule") notes.push_back(what + ": rule " + id_of(nv) + " in <" + std::string(set_name) + "> not mapped");
      else notes.push_back(what + ": <" + nv.name + "> in <" + std::string(set_name) + "> not mapped");
    }
  }
  return out;
}

// A Castor name back from an id: "_9x" (pcmk_id of "9x") is "9x".
std::string castor_name(const std::string& id) {
  if (id.size() > 1 && id[0] == '_' && id[1] >= '0' && id[1] <= '9') return id.substr(1);
  return id;
}

// A decimal integer, whole (no exceptions: std::from_chars).
bool to_long(const std::string& s, long& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

// The policy meta attributes onto `def`; the others are listed.
// With on_fail_stop (recovery disable), migration-threshold and failure-timeout do not matter to Castor.
void apply_meta(const std::map<std::string, std::string>& meta, const std::map<std::string, std::string>& defaults,
                bool on_fail_stop, ServiceDefinition& def, const std::string& what, std::vector<std::string>& notes) {
  auto get = [&](const std::string& k) -> const std::string* {
    if (auto it = meta.find(k); it != meta.end()) return &it->second;
    if (auto it = defaults.find(k); it != defaults.end()) return &it->second;
    return nullptr;
  };
  if (const std::string* v = get("target-role")) {
    if (*v == "Stopped") def.autostart = false;
    else if (*v != "Started") notes.push_back(what + ": target-role " + *v + " not mapped (autostart = yes)");
  }
  if (const std::string* v = get("resource-stickiness")) def.failback = *v == "0";
  else def.failback = true;  // Pacemaker's default stickiness is 0: a resource moves back to a better node
  if (on_fail_stop) {
    def.recovery = ServiceDefinition::Recovery::disable;
  } else if (const std::string* v = get("migration-threshold")) {
    long n = -1;
    if (!to_long(*v, n)) n = -1;
    if (n == 1) {
      def.recovery = ServiceDefinition::Recovery::relocate;
    } else if (n >= 2 && n - 1 <= kMaxRestarts) {
      def.recovery = ServiceDefinition::Recovery::restart;
      def.max_restarts = int(n - 1);
    } else {
      notes.push_back(what + ": migration-threshold " + *v + " (restart in place without end) not mapped: max_restarts " +
                      std::to_string(kMaxRestarts) + " instead");
      def.max_restarts = kMaxRestarts;
    }
  } else {
    notes.push_back(what + ": no migration-threshold (Pacemaker restarts in place without end): max_restarts " +
                    std::to_string(kMaxRestarts) + " instead");
    def.max_restarts = kMaxRestarts;
  }
  if (const std::string* v = get("failure-timeout")) {
    auto d = parse_pcmk_duration(*v);
    if (d.ok() && *d > Millis(0)) def.restart_window = *d;
    else notes.push_back(what + ": failure-timeout " + *v + " not mapped (restart_window stays " +
                         std::to_string(def.restart_window.count() / 1000) + "s)");
  }
  if (const std::string* v = get("is-managed"); v && (*v == "false" || *v == "0" || *v == "no"))
    notes.push_back(what + ": is-managed=false not mapped (castor freeze after the service starts)");
  static const std::set<std::string> known = {"target-role", "resource-stickiness", "migration-threshold",
                                              "failure-timeout", "is-managed"};
  for (const auto& [k, v] : meta)
    if (!known.count(k)) notes.push_back(what + ": meta attribute " + k + "=" + v + " not mapped");
}

// One primitive as a resource (false: not mapped, with the reason listed). on_fail_stop is set when a
// start or monitor op says on-fail=stop.
bool map_primitive(const XmlElement& p, const std::string& resource_name, ResourceDefinition& r, bool& on_fail_stop,
                   std::map<std::string, std::string>& meta_out, std::vector<std::string>& notes) {
  const std::string what = "primitive " + id_of(p);
  const std::string cls = p.attr("class") ? *p.attr("class") : "";
  const std::string type = p.attr("type") ? *p.attr("type") : "";
  r = ResourceDefinition{};
  r.name = resource_name;
  if (cls == "ocf") {
    r.kind = Kind::ocf;
    r.provider = p.attr("provider") ? *p.attr("provider") : "heartbeat";
    r.type = type;
  } else if (cls == "lsb") {
    r.kind = Kind::lsb;
    r.lsb_name = type;
  } else if (cls == "systemd") {
    r.kind = Kind::systemd;
    r.systemd_unit = type;
  } else if (cls.empty() && p.attr("template")) {
    notes.push_back(what + ": made from template " + *p.attr("template") + ", not mapped (Castor has no templates)");
    return false;
  } else {
    notes.push_back(what + ": class '" + cls + "' not mapped (Castor runs ocf, lsb and systemd agents)");
    return false;
  }
  for (auto& [k, v] : nvpairs(p, "instance_attributes", what, notes)) {
    if (r.kind != Kind::ocf) {
      notes.push_back(what + ": parameter " + k + " of a " + cls + " agent not mapped (only OCF agents take parameters)");
      continue;
    }
    r.params.emplace_back(k, v);
  }
  std::sort(r.params.begin(), r.params.end());
  for (auto& [k, v] : nvpairs(p, "meta_attributes", what, notes)) meta_out[k] = v;
  for (const auto& [k, v] : p.attrs)
    if (k != "id" && k != "class" && k != "provider" && k != "type" && k != "description")
      notes.push_back(what + ": " + k + "=" + v + " not mapped");
  for (const XmlElement& c : p.children)
    if (c.name != "instance_attributes" && c.name != "meta_attributes" && c.name != "operations")
      notes.push_back(what + ": <" + c.name + "> not mapped");
  bool have_monitor = false;
  r.monitor_interval = Millis(0);
  r.explicit_timings = ResourceDefinition::kStartTimeout | ResourceDefinition::kStopTimeout |
                       ResourceDefinition::kMonitorInterval | ResourceDefinition::kMonitorTimeout;
  if (const XmlElement* ops = p.child("operations")) {
    for (const XmlElement& o : ops->children) {
      if (o.name != "op") continue;
      const std::string name = o.attr("name") ? *o.attr("name") : "";
      const std::string op_what = what + ", op " + id_of(o);
      Millis interval{0}, timeout{0};
      bool have_timeout = false;
      if (const std::string* v = o.attr("interval")) {
        auto d = parse_pcmk_duration(*v);
        if (!d.ok()) {
          notes.push_back(op_what + ": interval " + *v + " not mapped");
          continue;
        }
        interval = *d;
      }
      if (const std::string* v = o.attr("timeout")) {
        auto d = parse_pcmk_duration(*v);
        if (d.ok() && *d > Millis(0)) {
          timeout = *d;
          have_timeout = true;
        } else {
          notes.push_back(op_what + ": timeout " + *v + " not mapped");
        }
      }
      const std::string* enabled = o.attr("enabled");
      if (enabled && (*enabled == "false" || *enabled == "0" || *enabled == "no" || *enabled == "off")) {
        notes.push_back(op_what + ": a disabled " + name + " (enabled=" + *enabled + ") not mapped" +
                        (name == "monitor" ? ": not monitored" : ""));
        continue;
      }
      // A monitor bound to a role other than Started runs where the resource is not, or is promoted: not
      // Castor's monitor.
      if (const std::string* role = o.attr("role"); role && *role != "Started") {
        notes.push_back(op_what + ": " + name + " with role=" + *role + " not mapped");
        continue;
      }
      for (const auto& [k, v] : o.attrs)
        if (k != "id" && k != "name" && k != "interval" && k != "timeout" && k != "on-fail" && k != "enabled" && k != "role")
          notes.push_back(op_what + ": " + k + "=" + v + " not mapped");
      const std::string on_fail = o.attr("on-fail") ? *o.attr("on-fail") : "";
      if (on_fail == "stop" && (name == "start" || name == "monitor")) on_fail_stop = true;
      else if (!on_fail.empty() && on_fail != "restart")
        notes.push_back(op_what + ": on-fail=" + on_fail + " not mapped");
      if (name == "start" || name == "stop") {
        if (!have_timeout) {
          notes.push_back(op_what + ": no timeout: Castor's default");
          continue;
        }
        (name == "start" ? r.start_timeout : r.stop_timeout) = timeout;
      } else if (name == "monitor" && interval > Millis(0)) {
        if (have_monitor) {
          notes.push_back(op_what + ": a second monitor not mapped (Castor runs one)");
          continue;
        }
        have_monitor = true;
        r.monitor_interval = interval;
        if (have_timeout) r.monitor_timeout = timeout;
        for (const XmlElement& c : o.children)
          if (c.name != "instance_attributes") notes.push_back(op_what + ": <" + c.name + "> not mapped");
        for (auto& [k, v] : nvpairs(o, "instance_attributes", op_what, notes)) {
          if (k == "OCF_CHECK_LEVEL" && r.kind == Kind::ocf && (v == "0" || v == "10" || v == "20")) r.check_level = v == "0" ? 0 : v == "10" ? 10 : 20;
          else notes.push_back(op_what + ": " + k + "=" + v + " not mapped");
        }
      } else {
        notes.push_back(op_what + ": operation " + name + " not mapped");
      }
    }
  }
  return true;
}

struct Domain {
  std::vector<std::pair<int, std::string>> scored;  // each node's summed score, in the order first named
  std::vector<std::vector<std::string>> rules;      // allowed nodes of a domain rule
};

// Pacemaker adds the scores of the constraints on one node: -INFINITY wins, then INFINITY.
int add_scores(int a, int b) {
  if (a == INT_MIN || b == INT_MIN) return INT_MIN;
  if (a == INT_MAX || b == INT_MAX) return INT_MAX;
  const long sum = long(a) + long(b);
  return sum >= 1000000 ? INT_MAX : sum <= -1000000 ? INT_MIN : int(sum);
}

int score_value(const std::string& s) {
  if (s.empty()) return 0;
  if (s == "INFINITY" || s == "+INFINITY") return INT_MAX;
  if (s == "-INFINITY") return INT_MIN;
  long n = 0;
  if (!to_long(s[0] == '+' ? s.substr(1) : s, n)) return 0;
  return n > INT_MAX ? INT_MAX : n < INT_MIN + 1 ? INT_MIN + 1 : int(n);
}

}  // namespace

Result<Millis> parse_pcmk_duration(std::string_view text) {
  std::string t(text);
  auto bad = [&] { return Error(Code::invalid_argument, "'" + std::string(text) + "' is not a duration"); };
  if (t.starts_with("PT") || t.starts_with("pt")) {  // ISO 8601, the time part: PT1H2M3S
    int64_t total = 0, n = 0;
    bool digits = false;
    for (size_t i = 2; i < t.size(); ++i) {
      const char c = t[i];
      if (c >= '0' && c <= '9') {
        n = n * 10 + (c - '0');
        digits = true;
        if (n > 1000000000) return bad();
        continue;
      }
      if (!digits) return bad();
      if (c == 'H' || c == 'h') total += n * 3600000;
      else if (c == 'M' || c == 'm') total += n * 60000;
      else if (c == 'S' || c == 's') total += n * 1000;
      else return bad();
      n = 0;
      digits = false;
    }
    if (digits) return bad();
    return Millis(total);
  }
  size_t i = 0;
  int64_t n = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    n = n * 10 + (t[i] - '0');
    if (n > 1000000000) return bad();
    ++i;
  }
  if (i == 0) return bad();
  const std::string unit = t.substr(i);
  if (unit.empty() || unit == "s" || unit == "sec") return Millis(n * 1000);
  if (unit == "ms" || unit == "msec") return Millis(n);
  if (unit == "m" || unit == "min") return Millis(n * 60000);
  if (unit == "h" || unit == "hr") return Millis(n * 3600000);
  return bad();
}

Result<PcmkImport> import_pacemaker_cib(const XmlElement& root) {
  const XmlElement* conf = nullptr;
  if (root.name == "configuration") conf = &root;
  else if (root.name == "cib") conf = root.child("configuration");
  if (!conf) return Error(Code::invalid_argument, "neither a <cib> nor a <configuration>");
  const XmlElement* resources = conf->child("resources");
  if (!resources) return Error(Code::invalid_argument, "no <resources> in the configuration");
  PcmkImport out;
  auto& notes = out.not_mapped;

  std::map<std::string, std::string> rsc_defaults;
  if (const XmlElement* d = conf->child("rsc_defaults"))
    for (auto& [k, v] : nvpairs(*d, "meta_attributes", "rsc_defaults", notes)) {
      if (k == "resource-stickiness" || k == "migration-threshold" || k == "failure-timeout") rsc_defaults[k] = v;
      else notes.push_back("rsc_defaults: " + k + "=" + v + " not mapped");
    }
  bool symmetric = true;  // Pacemaker's default: a resource may run on any node no constraint bans
  for (const XmlElement& section : conf->children) {
    if (section.name == "crm_config") {
      for (const XmlElement& set : section.children)
        for (const XmlElement& nv : set.children)
          if (nv.attr("name") && nv.attr("value") && *nv.attr("name") == "symmetric-cluster") {
            const std::string& v = *nv.attr("value");
            symmetric = !(v == "false" || v == "0" || v == "no" || v == "off");
          } else if (nv.attr("name") && nv.attr("value"))
            notes.push_back("cluster property " + *nv.attr("name") + "=" + *nv.attr("value") +
                            " not mapped (Castor's settings are castor.ini's and the quorum disk's)");
    } else if (section.name != "nodes" && section.name != "resources" && section.name != "constraints" &&
               section.name != "rsc_defaults" && section.name != "fencing-topology" && !section.children.empty()) {
      notes.push_back("<" + section.name + "> not mapped");
    }
  }
  std::vector<std::string> cib_nodes;
  if (const XmlElement* n = conf->child("nodes"))
    for (const XmlElement& node : n->children)
      if (node.name == "node" && node.attr("uname")) cib_nodes.push_back(*node.attr("uname"));

  // Location constraints by resource; everything else is listed.
  std::map<std::string, Domain> domains;
  std::set<std::string> stonith_ids;
  for (const XmlElement& r : resources->children)
    if (r.name == "primitive" && r.attr("class") && *r.attr("class") == "stonith") stonith_ids.insert(id_of(r));
  // Lone primitives tied by mandatory colocations: one service each set (tools/pacemaker_colocation.h).
  std::vector<std::string> lone;
  for (const XmlElement& r : resources->children)
    if (r.name == "primitive" && r.attr("id") && !stonith_ids.count(*r.attr("id"))) lone.push_back(*r.attr("id"));
  const XmlElement* cons = conf->child("constraints");
  const ColocationPlan plan = plan_colocations(lone, cons ? cons->children : std::vector<XmlElement>{});
  for (const std::string& n : plan.notes) notes.push_back(n);
  std::map<std::string, size_t> set_of;  // member id -> its set
  for (size_t i = 0; i < plan.sets.size(); ++i)
    for (const std::string& m : plan.sets[i].members) set_of[m] = i;
  if (cons) {
    for (const XmlElement& c : cons->children) {
      const std::string what = c.name + " " + id_of(c);
      if (c.attr("id") && plan.consumed.count(*c.attr("id"))) continue;  // expressed by a merged service
      if (c.name != "rsc_location") {
        notes.push_back(what + " not mapped (Castor's only constraint is the order inside a service)");
        continue;
      }
      const std::string* rsc = c.attr("rsc");
      const std::string* pattern = c.attr("rsc-pattern");
      if (!rsc && pattern && c.attr("node") && c.children.empty()) {
        // A node score for every top-level resource whose id the POSIX extended pattern matches (regexec, as
        // Pacemaker matches it: anywhere in the id). Patterns and ids are bounded, so a hostile CIB cannot
        // make the matcher's work grow without bound.
        constexpr size_t kMaxPatternMatch = 200;
        if (pattern->size() > kMaxPatternMatch) {
          notes.push_back(what + ": an rsc-pattern longer than " + std::to_string(kMaxPatternMatch) + " characters not mapped");
          continue;
        }
        PosixRegex re(*pattern);
        if (!re.ok()) {
          notes.push_back(what + ": rsc-pattern " + *pattern + " does not compile: not mapped");
          continue;
        }
        const int s = c.attr("score") ? score_value(*c.attr("score")) : 0;
        std::string matched;
        for (const XmlElement& r : resources->children)
          if (const std::string* id = r.attr("id"); id && id->size() <= kMaxPatternMatch && !stonith_ids.count(*id) &&
                                                    re.search(*id)) {
            auto& scored = domains[*id].scored;
            auto it = std::find_if(scored.begin(), scored.end(), [&](const auto& e) { return e.second == *c.attr("node"); });
            if (it == scored.end()) scored.emplace_back(s, *c.attr("node"));
            else it->first = add_scores(it->first, s);
            matched += (matched.empty() ? "" : ", ") + *id;
          }
        notes.push_back(what + ": rsc-pattern " + *pattern + " applied to " + (matched.empty() ? "no resource" : matched));
        continue;
      }
      if (!rsc) {
        notes.push_back(what + " (no rsc: a pattern or set) not mapped");
        continue;
      }
      if (stonith_ids.count(*rsc)) {
        notes.push_back(what + " (on fence device " + *rsc + ") not mapped");
        continue;
      }
      for (const auto& [k, v] : c.attrs)
        if (k != "id" && k != "rsc" && k != "node" && k != "score") notes.push_back(what + ": " + k + "=" + v + " not mapped");
      Domain& d = domains[*rsc];
      if (const std::string* node = c.attr("node")) {
        const int s = c.attr("score") ? score_value(*c.attr("score")) : 0;
        auto it = std::find_if(d.scored.begin(), d.scored.end(), [&](const auto& e) { return e.second == *node; });
        if (it == d.scored.end()) d.scored.emplace_back(s, *node);
        else it->first = add_scores(it->first, s);
        continue;
      }
      // The one rule form the export writes: -INFINITY where #uname is none of the domain's nodes.
      const XmlElement* rule = c.child("rule");
      bool ok = rule && c.children.size() == 1 && rule->attr("score") && *rule->attr("score") == "-INFINITY" &&
                (!rule->attr("boolean-op") || *rule->attr("boolean-op") == "and" || rule->children.size() == 1);
      std::vector<std::string> allowed;
      if (ok)
        for (const XmlElement& e : rule->children) {
          if (e.name == "expression" && e.attr("attribute") && *e.attr("attribute") == "#uname" && e.attr("operation") &&
              *e.attr("operation") == "ne" && e.attr("value"))
            allowed.push_back(*e.attr("value"));
          else
            ok = false;
        }
      if (ok && !allowed.empty()) d.rules.push_back(allowed);
      else notes.push_back(what + ": its rule not mapped");
    }
  }
  if (const XmlElement* ft = conf->child("fencing-topology"); ft && !ft->children.empty())
    notes.push_back("fencing-topology not mapped (castor.ini's [fence NODE], written by hand)");

  // The failover domain: the nodes a constraint scores positively, highest first; then, in a symmetric
  // cluster, the CIB's nodes no constraint scores, and in either kind the nodes scored 0 (allowed, no
  // preference); never a node with a negative score (Pacemaker does not place a resource there) or
  // one a domain rule bans.
  auto domain_of = [&](const std::string& rsc, ServiceDefinition& def) -> bool {
    Domain& d = domains[rsc];
    auto banned_by_rule = [&](const std::string& n) {
      for (const auto& allowed : d.rules)
        if (std::find(allowed.begin(), allowed.end(), n) == allowed.end()) return true;
      return false;
    };
    std::vector<std::pair<int, std::string>> positive = d.scored;
    std::erase_if(positive, [](const auto& e) { return e.first <= 0; });
    std::stable_sort(positive.begin(), positive.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 1; i < positive.size(); ++i)
      if (positive[i].first == positive[i - 1].first)
        notes.push_back("service " + def.name + ": nodes " + positive[i - 1].second + " and " + positive[i].second +
                        " score the same: Castor prefers " + positive[i - 1].second + ", the first the CIB names");
    for (const auto& [s, n] : positive) {
      if (banned_by_rule(n)) notes.push_back("service " + def.name + ": node " + n + " has a positive score but a rule bans it");
      def.nodes.push_back(n);
    }
    const bool any_score = !d.scored.empty();
    std::vector<std::string> unpreferred;  // allowed, no preference
    for (const auto& [s, n] : d.scored)
      if (s == 0 && !banned_by_rule(n)) unpreferred.push_back(n);
    if (symmetric)
      for (const std::string& n : cib_nodes)
        if (std::none_of(d.scored.begin(), d.scored.end(), [&](const auto& e) { return e.second == n; }) &&
            !banned_by_rule(n) && std::find(unpreferred.begin(), unpreferred.end(), n) == unpreferred.end())
          unpreferred.push_back(n);
    if (!unpreferred.empty() && any_score) {
      std::string list;
      for (const std::string& n : unpreferred) list += (list.empty() ? "" : ", ") + n;
      notes.push_back("service " + def.name + ": allowed without a preference (" +
                      (symmetric ? "symmetric cluster" : "score 0") + "), after the scored nodes: " + list);
    }
    for (const std::string& n : unpreferred) def.nodes.push_back(n);
    for (const auto& [s, n] : d.scored)
      if (s < 0 && s != INT_MIN)
        notes.push_back("service " + def.name + ": node " + n + " has a negative score (" + std::to_string(s) +
                        "): not in the failover domain");
    if (!any_score && !def.nodes.empty() && d.rules.empty())
      notes.push_back("service " + def.name + ": no location preference: nodes = the CIB's nodes in their order");
    if (def.nodes.size() > 2) {
      std::string dropped;
      for (size_t i = 2; i < def.nodes.size(); ++i) dropped += (dropped.empty() ? "" : ", ") + def.nodes[i];
      notes.push_back("service " + def.name + ": nodes beyond two not mapped (Castor is two-node): " + dropped);
      def.nodes.resize(2);
    }
    if (def.nodes.empty()) {
      notes.push_back("service " + def.name + " not mapped: no node to run on (" +
                      (cib_nodes.empty() && !any_score ? std::string("no location and no <nodes>")
                                                       : std::string("every node is banned or not enabled")) + ")");
      return false;
    }
    return true;
  };

  auto finish = [&](ServiceDefinition& def, const std::string& what) {
    auto problems = definition_problems(def, {});
    if (!problems.empty()) {
      std::string all;
      for (const std::string& p : problems) all += (all.empty() ? "" : "; ") + p;
      notes.push_back(what + " not mapped: " + all);
      return;
    }
    out.services.push_back(std::move(def));
  };

  // One service of a colocated set: its primitives in start order, their meta attributes together (a
  // conflict listed, the first member's value kept), their location scores summed on each node (Pacemaker
  // places the set by the scores of all its members).
  std::set<size_t> emitted_sets;
  auto merged_service = [&](const ColocatedSet& set) {
    ServiceDefinition def;
    def.name = castor_name(set.members.front());
    std::string what = "colocated primitives";
    for (const std::string& m : set.members) what += " " + m;
    std::map<std::string, std::string> meta;
    bool on_fail_stop = false, ok = true;
    Domain merged;
    for (const std::string& m : set.members) {
      const XmlElement* p = nullptr;
      for (const XmlElement& r : resources->children)
        if (r.name == "primitive" && r.attr("id") && *r.attr("id") == m) p = &r;
      ResourceDefinition res;
      std::map<std::string, std::string> pmeta;
      if (!p || !map_primitive(*p, castor_name(m), res, on_fail_stop, pmeta, notes)) {
        ok = false;
        continue;
      }
      for (const auto& [k, v] : pmeta) {
        auto [it, added] = meta.emplace(k, v);
        if (!added && it->second != v)
          notes.push_back("primitive " + m + ": meta attribute " + k + "=" + v + " not mapped (the service keeps " +
                          it->second + ", of " + set.members.front() + " or a member before it)");
      }
      def.resources.push_back(std::move(res));
      const Domain& d = domains[m];
      for (const std::pair<int, std::string>& scored : d.scored) {  // (not a structured binding: clang cannot capture one)
        const std::string& node = scored.second;
        auto it = std::find_if(merged.scored.begin(), merged.scored.end(), [&](const auto& e) { return e.second == node; });
        if (it == merged.scored.end()) merged.scored.push_back(scored);
        else it->first = add_scores(it->first, scored.first);
      }
      for (const auto& rule : d.rules) merged.rules.push_back(rule);
    }
    if (!ok) {
      notes.push_back(what + " not mapped: a member is not (a service without it would not be the same service)");
      return;
    }
    apply_meta(meta, rsc_defaults, on_fail_stop, def, what, notes);
    const std::string key = std::string("\x01set ") + def.name;  // no CIB id holds a control character
    domains[key] = merged;
    if (!domain_of(key, def)) return;
    finish(def, what);
  };

  for (const XmlElement& r : resources->children) {
    const std::string id = id_of(r);
    if (r.name == "group") {
      ServiceDefinition def;
      def.name = castor_name(id);
      const std::string what = "group " + id;
      std::map<std::string, std::string> meta;
      for (auto& [k, v] : nvpairs(r, "meta_attributes", what, notes)) meta[k] = v;
      bool on_fail_stop = false, ok = true;
      for (const XmlElement& p : r.children) {
        if (p.name == "meta_attributes") continue;
        if (p.name != "primitive") {
          notes.push_back(what + ": <" + p.name + "> not mapped");
          continue;
        }
        const std::string pid = id_of(p);
        const std::string prefix = id + "_";
        const std::string rname = pid.starts_with(prefix) && pid.size() > prefix.size() ? pid.substr(prefix.size()) : pid;
        ResourceDefinition res;
        std::map<std::string, std::string> pmeta;
        if (!map_primitive(p, rname, res, on_fail_stop, pmeta, notes)) {
          ok = false;
          continue;
        }
        for (const auto& [k, v] : pmeta) notes.push_back("primitive " + pid + ": meta attribute " + k + "=" + v + " not mapped");
        def.resources.push_back(std::move(res));
      }
      if (!ok) {
        notes.push_back(what + " not mapped: a member is not (a service without it would not be the same service)");
        continue;
      }
      apply_meta(meta, rsc_defaults, on_fail_stop, def, what, notes);
      if (!domain_of(id, def)) continue;
      finish(def, what);
    } else if (r.name == "primitive") {
      if (r.attr("class") && *r.attr("class") == "stonith") {
        notes.push_back("stonith primitive " + id + " not mapped (castor.ini's [fence NODE], written by hand)");
        continue;
      }
      if (auto it = set_of.find(id); it != set_of.end()) {
        // A colocated set: written once, where its first member (in the CIB) stands.
        if (!emitted_sets.insert(it->second).second) continue;
        merged_service(plan.sets[it->second]);
        continue;
      }
      ServiceDefinition def;
      def.name = castor_name(id);
      ResourceDefinition res;
      bool on_fail_stop = false;
      std::map<std::string, std::string> meta;
      if (!map_primitive(r, def.name, res, on_fail_stop, meta, notes)) continue;
      def.resources.push_back(std::move(res));
      apply_meta(meta, rsc_defaults, on_fail_stop, def, "primitive " + id, notes);
      if (!domain_of(id, def)) continue;
      finish(def, "primitive " + id);
    } else {
      notes.push_back(r.name + " " + id + " not mapped (Castor has no clones, promotable or bundle resources)");
    }
  }
  return out;
}

}  // namespace castor
