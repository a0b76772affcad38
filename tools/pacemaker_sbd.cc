// Pacemaker export, the quorum disk as an sbd device: see pacemaker_sbd.h.
#include "tools/pacemaker_sbd.h"

#include <algorithm>
#include <map>

namespace castor {

Status add_sbd_to_export(const std::vector<std::string>& devices, const std::string& watchdog, PcmkExport& e) {
  if (devices.empty()) return Error(Code::invalid_argument, "--sbd: castor.ini names no quorum disk ([quorumd] device)");
  if (devices.size() > 3)
    return Error(Code::invalid_argument, "--sbd: sbd takes at most three devices, castor.ini names " +
                                             std::to_string(devices.size()));
  std::string list, dash_d;
  for (const std::string& d : devices) {
    if (d.empty() || d[0] != '/')
      return Error(Code::invalid_argument, "--sbd: quorum disk '" + d +
                                               "' is not a path: sbd needs one (give its /dev/disk/by-id/ path in castor.ini)");
    for (char c : d)
      if (c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '\\')
        return Error(Code::invalid_argument, "--sbd: quorum disk path '" + d + "' holds a character sbd's lists cannot");
    list += (list.empty() ? "" : ",") + d;
    dash_d += " -d " + d;
  }
  auto used = [&](const std::string& id) {
    for (const PcmkPrimitive& p : e.stonith)
      if (p.id == id) return true;
    for (const PcmkGroup& g : e.groups) {
      if (g.id == id) return true;
      for (const PcmkPrimitive& p : g.members)
        if (p.id == id) return true;
    }
    return false;
  };
  if (used(kPcmkSbdId)) return Error(Code::invalid_argument, std::string("--sbd: id '") + kPcmkSbdId + "' is taken");

  PcmkPrimitive p;
  p.id = kPcmkSbdId;
  p.cls = "stonith";
  p.type = "fence_sbd";
  p.params.push_back({"devices", list});
  e.stonith.push_back(p);

  // After each node's power fencing, as Castor orders them (power first, the disk and watchdog last).
  // Without levels Pacemaker uses any device that can fence the node: sbd's included.
  std::map<std::string, int> last;
  for (const PcmkFencingLevel& l : e.levels) last[l.target] = std::max(last[l.target], l.index);
  for (const auto& [target, index] : last)
    e.levels.push_back({"fl-" + pcmk_id(target) + "-" + std::to_string(index + 1), target, index + 1, {kPcmkSbdId}});

  // The quorum disk is no longer "not exported".
  std::erase_if(e.not_expressed, [](const std::string& s) { return s.starts_with("the quorum disk and the watchdog"); });
  e.approximations.push_back("the quorum disk" + std::string(devices.size() > 1 ? "s " : " ") + list +
                             " as the sbd device of stonith resource " + kPcmkSbdId +
                             " (fence_sbd): sbd's poison pill and watchdog take the place of Castor's quorum disk "
                             "and watchdog as the last fencing level; quorum itself comes from corosync (two_node)");
  e.sbd_setup.push_back("Castor's on-disk format is not sbd's: the disk cannot be shared by Castor and sbd, nor "
                        "switched back and forth. Stop castor-quorumd and castor-svcmgr on both nodes for good "
                        "before the next step; from then on the disk is sbd's alone");
  e.sbd_setup.push_back("re-initialise the disk for sbd, on one node: sbd" + dash_d +
                        " create (this overwrites Castor's quorum records there)");
  std::string semicolons;  // SBD_DEVICE separates devices with ';'
  for (const std::string& d : devices) semicolons += (semicolons.empty() ? "" : ";") + d;
  e.sbd_setup.push_back("on both nodes, /etc/default/sbd (or /etc/sysconfig/sbd): SBD_DEVICE=\"" + semicolons +
                        "\" and SBD_WATCHDOG_DEV=" + (watchdog == "none" ? std::string("(a watchdog device)") : watchdog) +
                        "; enable the sbd service (it starts with corosync); sbd" + dash_d +
                        " list then shows a slot per node");
  e.sbd_setup.push_back("cluster properties: stonith-enabled=true; stonith-watchdog-timeout stays unset (it is for "
                        "sbd without a disk)");
  if (watchdog == "none")
    e.not_expressed.push_back("castor.ini's watchdog_device = none: sbd needs a watchdog (SBD_WATCHDOG_DEV); "
                              "none is exported");
  return Status::Ok();
}

}  // namespace castor
