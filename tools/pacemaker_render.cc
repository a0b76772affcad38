// Pacemaker export, the three renderings: see pacemaker_render.h.
#include "tools/pacemaker_render.h"

#include <algorithm>
#include <vector>

namespace castor {

namespace {

bool plain(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::string_view("_./:=,@+-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value) + "\"";
}

std::string agent_spec_of(const PcmkPrimitive& p) {
  if (p.cls == "ocf") return "ocf:" + p.provider + ":" + p.type;
  return p.cls + ":" + p.type;
}

// "interval=5s timeout=20s [on-fail=stop] [OCF_CHECK_LEVEL=10]" words of one op.
std::vector<std::string> op_words(const PcmkOp& o) {
  std::vector<std::string> w{"interval=" + pcmk_duration(o.interval), "timeout=" + pcmk_duration(o.timeout)};
  if (!o.on_fail.empty()) w.push_back("on-fail=" + o.on_fail);
  if (o.check_level) w.push_back("OCF_CHECK_LEVEL=" + std::to_string(o.check_level));
  return w;
}

// xml: the text of an XML comment (a CIB, or a crm script, whose comments crmsh keeps as XML comments).
std::string comment_block(const PcmkExport& e, const std::string& open, const std::string& close, bool xml) {
  std::string out;
  auto line = [&](const std::string& text) {
    out += open + (xml ? xml_comment_text(text) : text) + close + "\n";
  };
  line("castor export pacemaker: " + std::to_string(e.groups.size()) + " group(s), " +
       std::to_string(e.stonith.size()) + " fence device(s)");
  for (const std::string& s : e.not_expressed) line("NOT EXPRESSED: " + s);
  for (const std::string& s : e.approximations) line("APPROXIMATION: " + s);
  for (size_t i = 0; i < e.sbd_setup.size(); ++i) line("SBD SETUP " + std::to_string(i + 1) + ": " + e.sbd_setup[i]);
  return out;
}

void xml_nvpairs(std::string& out, const std::string& indent, const std::string& element, const std::string& owner,
                 const std::vector<PcmkAttr>& attrs, bool meta) {
  if (attrs.empty()) return;
  out += indent + "<" + element + attr("id", owner + (meta ? "-meta_attributes" : "-instance_attributes")) + ">\n";
  for (const PcmkAttr& a : attrs)
    out += indent + "  <nvpair" + attr("id", meta ? pcmk_meta_id(owner, a.name) : pcmk_param_id(owner, a.name)) +
           attr("name", a.name) + attr("value", a.value) + "/>\n";
  out += indent + "</" + element + ">\n";
}

void xml_primitive(std::string& out, const std::string& in, const PcmkPrimitive& p) {
  out += in + "<primitive" + attr("id", p.id) + attr("class", p.cls);
  if (!p.provider.empty()) out += attr("provider", p.provider);
  out += attr("type", p.type) + ">\n";
  xml_nvpairs(out, in + "  ", "instance_attributes", p.id, p.params, false);
  xml_nvpairs(out, in + "  ", "meta_attributes", p.id, p.meta, true);
  if (!p.ops.empty()) {
    out += in + "  <operations>\n";
    for (const PcmkOp& o : p.ops) {
      out += in + "    <op" + attr("id", o.id) + attr("name", o.name) + attr("interval", pcmk_duration(o.interval)) +
             attr("timeout", pcmk_duration(o.timeout));
      if (!o.on_fail.empty()) out += attr("on-fail", o.on_fail);
      if (!o.check_level) {
        out += "/>\n";
        continue;
      }
      out += ">\n";
      xml_nvpairs(out, in + "      ", "instance_attributes", o.id, {{"OCF_CHECK_LEVEL", std::to_string(o.check_level)}},
                  false);
      out += in + "    </op>\n";
    }
    out += in + "  </operations>\n";
  }
  out += in + "</primitive>\n";
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xml_comment_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '-' && !out.empty() && out.back() == '-') out += ' ';
    out += c;
  }
  if (!out.empty() && out.back() == '-') out += ' ';
  return out;
}

std::string shell_quote(std::string_view word) {
  if (plain(word)) return std::string(word);
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string crmsh_quote(std::string_view value) {
  if (plain(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string render_pacemaker_cib(const PcmkExport& e) {
  std::string out = comment_block(e, "<!-- ", " -->", true);
  out += "<configuration>\n  <resources>\n";
  for (const PcmkGroup& g : e.groups) {
    out += "    <group" + attr("id", g.id) + ">\n";
    xml_nvpairs(out, "      ", "meta_attributes", g.id, g.meta, true);
    for (const PcmkPrimitive& p : g.members) xml_primitive(out, "      ", p);
    out += "    </group>\n";
  }
  for (const PcmkPrimitive& p : e.stonith) xml_primitive(out, "    ", p);
  out += "  </resources>\n  <constraints>\n";
  for (const PcmkLocation& l : e.locations) {
    out += "    <rsc_location" + attr("id", l.id) + attr("rsc", l.rsc);
    if (l.allowed_nodes.empty()) {
      out += attr("node", l.node) + attr("score", l.score) + "/>\n";
      continue;
    }
    out += ">\n      <rule" + attr("id", l.id + "-rule") + attr("score", l.score) + attr("boolean-op", "and") + ">\n";
    for (size_t i = 0; i < l.allowed_nodes.size(); ++i)
      out += "        <expression" + attr("id", l.id + "-rule-expr-" + std::to_string(i)) + attr("attribute", "#uname") +
             attr("operation", "ne") + attr("value", l.allowed_nodes[i]) + "/>\n";
    out += "      </rule>\n    </rsc_location>\n";
  }
  out += "  </constraints>\n";
  if (!e.levels.empty()) {
    out += "  <fencing-topology>\n";
    for (const PcmkFencingLevel& l : e.levels) {
      std::string devices;
      for (const std::string& d : l.devices) devices += (devices.empty() ? "" : ",") + d;
      out += "    <fencing-level" + attr("id", l.id) + attr("target", l.target) +
             attr("index", std::to_string(l.index)) + attr("devices", devices) + "/>\n";
    }
    out += "  </fencing-topology>\n";
  }
  out += "</configuration>\n";
  return out;
}

std::string render_pacemaker_pcs(const PcmkExport& e) {
  std::string out = "#!/bin/sh\n";
  out += comment_block(e, "# ", "", false);
  out += "# Stages every change in the CIB copy $CIB and pushes it at the end.\nset -e\n"
         "CIB=${CIB:-castor-export.xml}\npcs cluster cib \"$CIB\"\n";
  const std::string pcs = "pcs -f \"$CIB\" ";
  auto words = [](const std::vector<std::string>& w) {
    std::string s;
    for (const std::string& x : w) s += " " + shell_quote(x);
    return s;
  };
  auto create = [&](const PcmkPrimitive& p, const std::string& group) {
    std::vector<std::string> w;
    if (p.cls == "stonith") w = {"stonith", "create", p.id, p.type};
    else w = {"resource", "create", p.id, agent_spec_of(p)};
    for (const PcmkAttr& a : p.params) w.push_back(a.name + "=" + a.value);
    for (const PcmkOp& o : p.ops) {
      w.push_back("op");
      w.push_back(o.name);
      for (const std::string& x : op_words(o)) w.push_back(x);
    }
    if (!p.meta.empty()) {
      w.push_back("meta");
      for (const PcmkAttr& a : p.meta) w.push_back(a.name + "=" + a.value);
    }
    if (!group.empty()) {
      w.push_back("--group");
      w.push_back(group);
    }
    if (p.cls != "stonith") w.push_back("--no-default-ops");
    out += pcs + words(w).substr(1) + "\n";
  };
  for (const PcmkGroup& g : e.groups) {
    for (const PcmkPrimitive& p : g.members) create(p, g.id);
    std::vector<std::string> w{"resource", "meta", g.id};
    for (const PcmkAttr& a : g.meta) w.push_back(a.name + "=" + a.value);
    out += pcs + words(w).substr(1) + "\n";
  }
  for (const PcmkPrimitive& p : e.stonith) create(p, "");
  for (const PcmkLocation& l : e.locations) {
    std::vector<std::string> w{"constraint", "location", l.rsc};
    if (l.allowed_nodes.empty()) {
      if (l.score == "-INFINITY") {
        w.push_back("avoids");
        w.push_back(l.node);
      } else {
        w.push_back("prefers");
        w.push_back(l.node + "=" + l.score);
      }
    } else {
      w.push_back("rule");
      w.push_back("id=" + l.id + "-rule");
      w.push_back("constraint-id=" + l.id);
      w.push_back("score=" + l.score);
      for (size_t i = 0; i < l.allowed_nodes.size(); ++i) {
        if (i) w.push_back("and");
        w.push_back("#uname");
        w.push_back("ne");
        w.push_back(l.allowed_nodes[i]);
      }
    }
    out += pcs + words(w).substr(1) + "\n";
  }
  for (const PcmkFencingLevel& l : e.levels) {
    std::vector<std::string> w{"stonith", "level", "add", std::to_string(l.index), l.target};
    std::string devices;
    for (const std::string& d : l.devices) devices += (devices.empty() ? "" : ",") + d;
    w.push_back(devices);
    out += pcs + words(w).substr(1) + "\n";
  }
  out += "pcs cluster cib-push \"$CIB\" --config\n";
  return out;
}

std::string render_pacemaker_crmsh(const PcmkExport& e) {
  std::string out = comment_block(e, "# ", "", true);
  // crmsh keeps comments as XML comments in the CIB: the same rule (no "--", no "-" at the end).
  out += "# Load with: crm configure load update FILE\n";
  auto primitive = [&](const PcmkPrimitive& p) {
    out += "primitive " + p.id + " " + agent_spec_of(p);
    if (!p.params.empty()) {
      out += " \\\n\tparams";
      for (const PcmkAttr& a : p.params) out += " " + a.name + "=" + crmsh_quote(a.value);
    }
    if (!p.meta.empty()) {
      out += " \\\n\tmeta";
      for (const PcmkAttr& a : p.meta) out += " " + a.name + "=" + crmsh_quote(a.value);
    }
    for (const PcmkOp& o : p.ops) {
      out += " \\\n\top " + o.name;
      for (const std::string& w : op_words(o)) out += " " + w;
    }
    out += "\n";
  };
  for (const PcmkGroup& g : e.groups) {
    for (const PcmkPrimitive& p : g.members) primitive(p);
    out += "group " + g.id;
    for (const PcmkPrimitive& p : g.members) out += " " + p.id;
    if (!g.meta.empty()) {
      out += " \\\n\tmeta";
      for (const PcmkAttr& a : g.meta) out += " " + a.name + "=" + crmsh_quote(a.value);
    }
    out += "\n";
  }
  for (const PcmkPrimitive& p : e.stonith) primitive(p);
  for (const PcmkLocation& l : e.locations) {
    out += "location " + l.id + " " + l.rsc;
    const std::string score = l.score == "-INFINITY" ? "-inf" : l.score;
    if (l.allowed_nodes.empty()) {
      out += " " + score + ": " + l.node + "\n";
      continue;
    }
    out += " rule $id=" + l.id + "-rule " + score + ":";
    for (size_t i = 0; i < l.allowed_nodes.size(); ++i) out += std::string(i ? " and" : "") + " #uname ne " + l.allowed_nodes[i];
    out += "\n";
  }
  if (!e.levels.empty()) {
    // "NODE: LEVEL1 LEVEL2": crmsh numbers a node's levels by their order, so each node once, its levels
    // by index (the export numbers them 1, 2, ... per node).
    out += "fencing_topology";
    std::vector<std::string> targets;
    for (const PcmkFencingLevel& l : e.levels)
      if (std::find(targets.begin(), targets.end(), l.target) == targets.end()) targets.push_back(l.target);
    for (const std::string& t : targets) {
      out += " " + t + ":";
      std::vector<const PcmkFencingLevel*> mine;
      for (const PcmkFencingLevel& l : e.levels)
        if (l.target == t) mine.push_back(&l);
      std::stable_sort(mine.begin(), mine.end(), [](auto* a, auto* b) { return a->index < b->index; });
      for (const PcmkFencingLevel* l : mine) {
        std::string devices;
        for (const std::string& d : l->devices) devices += (devices.empty() ? "" : ",") + d;
        out += " " + devices;
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace castor
