#include "tools/pacemaker_colocation.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace castor {
namespace {

bool infinity(const std::string* s) { return s && (*s == "INFINITY" || *s == "+INFINITY" || *s == "inf" || *s == "+inf"); }

// Only the attributes in `known` (every other one changes the meaning), and no children (resource sets).
bool plain(const XmlElement& c, std::initializer_list<std::string_view> known) {
  if (!c.children.empty()) return false;
  for (const auto& [k, v] : c.attrs)
    if (std::find(known.begin(), known.end(), k) == known.end()) return false;
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

ColocationPlan plan_colocations(const std::vector<std::string>& lone, const std::vector<XmlElement>& constraints) {
  ColocationPlan plan;
  std::map<std::string, size_t> index;  // lone primitive -> its place in the CIB
  for (size_t i = 0; i < lone.size(); ++i) index.emplace(lone[i], i);
  struct Tie {
    std::string id, rsc, with;  // colocation: rsc with `with`; order: `with` (first) then rsc
  };
  std::vector<Tie> colocations, orders;
  for (const XmlElement& c : constraints) {
    const std::string* id = c.attr("id");
    if (!id) continue;
    if (c.name == "rsc_colocation") {
      const std::string *rsc = c.attr("rsc"), *with = c.attr("with-rsc");
      const std::string *role = c.attr("rsc-role"), *with_role = c.attr("with-rsc-role");
      if (plain(c, {"id", "rsc", "with-rsc", "score", "rsc-role", "with-rsc-role"}) && infinity(c.attr("score")) && rsc &&
          with && *rsc != *with && index.count(*rsc) && index.count(*with) && (!role || *role == "Started") &&
          (!with_role || *with_role == "Started"))
        colocations.push_back({*id, *rsc, *with});
    } else if (c.name == "rsc_order") {
      const std::string *first = c.attr("first"), *then = c.attr("then"), *kind = c.attr("kind"), *score = c.attr("score");
      const std::string *fa = c.attr("first-action"), *ta = c.attr("then-action"), *sym = c.attr("symmetrical");
      if (plain(c, {"id", "first", "then", "kind", "score", "first-action", "then-action", "symmetrical"}) && first && then &&
          *first != *then && index.count(*first) && index.count(*then) && (!kind || *kind == "Mandatory") &&
          (!score || infinity(score)) && (!fa || *fa == "start") && (!ta || *ta == "start") && (!sym || *sym == "true"))
        orders.push_back({*id, *then, *first});
    }
  }
  // Sets: union-find over the mandatory colocations.
  std::vector<size_t> parent(lone.size());
  std::iota(parent.begin(), parent.end(), size_t(0));
  auto root = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const Tie& t : colocations) parent[root(index[t.rsc])] = root(index[t.with]);
  std::map<size_t, std::vector<size_t>> groups;  // root -> members in CIB order
  for (size_t i = 0; i < lone.size(); ++i) groups[root(i)].push_back(i);
  for (const auto& group : groups) {  // (not a structured binding: clang cannot capture one in a lambda)
    const size_t r = group.first;
    const std::vector<size_t>& members = group.second;
    if (members.size() < 2) continue;
    auto in_set = [&](const std::string& id) { return root(index.at(id)) == r; };
    // Depth: how many colocations deep a member hangs below the one it follows, counted to at most 32 (only a
    // tie-break; the bound ends a cycle of colocations and keeps a hostile CIB's cost linear).
    std::vector<const Tie*> ties;
    for (const Tie& t : colocations)
      if (in_set(t.rsc)) ties.push_back(&t);
    std::map<size_t, size_t> depth;
    for (size_t m : members) depth[m] = 0;
    for (size_t round = 0; round < std::min<size_t>(members.size(), 32); ++round)
      for (const Tie* t : ties) depth[index[t->rsc]] = std::max(depth[index[t->rsc]], depth[index[t->with]] + 1);
    // Start order: the mandatory orders inside the set (Kahn); ties by depth, then the CIB's order.
    std::map<size_t, std::vector<size_t>> after;
    std::map<size_t, size_t> waiting;
    std::set<std::pair<size_t, size_t>> edges;
    for (const Tie& t : orders)
      if (in_set(t.rsc) && in_set(t.with) && edges.emplace(index[t.with], index[t.rsc]).second) {
        after[index[t.with]].push_back(index[t.rsc]);
        ++waiting[index[t.rsc]];
      }
    std::vector<size_t> order, ready;
    for (size_t m : members)
      if (!waiting[m]) ready.push_back(m);
    while (!ready.empty()) {
      auto best = std::min_element(ready.begin(), ready.end(), [&](size_t a, size_t b) {
        return std::make_pair(depth[a], a) < std::make_pair(depth[b], b);
      });
      const size_t m = *best;
      ready.erase(best);
      order.push_back(m);
      for (size_t n : after[m])
        if (--waiting[n] == 0) ready.push_back(n);
    }
    std::vector<std::string> names;
    for (size_t m : members) names.push_back(lone[m]);
    if (order.size() != members.size()) {
      plan.notes.push_back("primitives " + join(names) + " are colocated, but their start orders form a cycle: " +
                           "not merged into one service");
      continue;
    }
    ColocatedSet set;
    for (size_t m : order) set.members.push_back(lone[m]);
    std::vector<std::string> used;
    for (const Tie& t : colocations)
      if (in_set(t.rsc)) plan.consumed.insert(t.id), used.push_back(t.id);
    for (const Tie& t : orders)
      if (in_set(t.rsc) && in_set(t.with)) plan.consumed.insert(t.id), used.push_back(t.id);
    std::string how;
    for (size_t i = 1; i < order.size(); ++i)
      if (!edges.count({order[i - 1], order[i]}))
        how += (how.empty() ? "" : "; ") + lone[order[i - 1]] + " before " + lone[order[i]] + " by " +
               (depth[order[i - 1]] < depth[order[i]] ? "the colocation" : "the CIB's order");
    plan.notes.push_back("primitives " + join(set.members) + " imported as one service " + set.members[0] +
                         " (resources in this order; " + join(used) + (how.empty() ? "" : "; no start order says " + how) +
                         ")");
    plan.sets.push_back(std::move(set));
  }
  return plan;
}

}  // namespace castor
