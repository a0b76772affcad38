// PacemakerColocation: which lone primitives of a CIB `castor import pacemaker` imports as one service. A
// Pacemaker group is a colocation and an order in one; admins write the same thing as constraints between
// lone primitives (Clusters from Scratch's ClusterIP and WebSite: WebSite with ClusterIP, INFINITY; ClusterIP
// then WebSite). Imported as two services, the two could run on different nodes. So primitives tied by
// mandatory colocations (score INFINITY, role Started, no resource sets) become one set, started in the
// order their mandatory start orders give (ties: the resource the others are colocated with first, then the
// CIB's order); the constraints it expresses are consumed. A set whose orders form a cycle is not merged.
// Anything else (finite scores, roles, sets, orders between primitives not colocated) is left to the
// importer's not-mapped list. Pure: no I/O.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "tools/xml_subset.h"

namespace castor {

struct ColocatedSet {
  std::vector<std::string> members;  // primitive ids, in start order
};

struct ColocationPlan {
  std::vector<ColocatedSet> sets;    // two or more lone primitives each
  std::set<std::string> consumed;    // ids of the constraints the sets express
  std::vector<std::string> notes;    // how each set was formed and ordered
};

// `lone`: the ids of the top-level primitives that are not fence devices, in the CIB's order.
// `constraints`: the <constraints> element's children (only rsc_colocation and rsc_order are read).
ColocationPlan plan_colocations(const std::vector<std::string>& lone, const std::vector<XmlElement>& constraints);

}  // namespace castor
