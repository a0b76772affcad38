// castor export pacemaker --sbd (tools/pacemaker_sbd.h): the quorum disk as a fence_sbd stonith resource
// and a last fencing level, the setup steps that say the disk must be re-initialised for sbd, and the
// refusals (no disk, a LABEL=, more than three disks).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/fence_config.h"
#include "tools/pacemaker_export.h"
#include "tools/pacemaker_render.h"
#include "tools/pacemaker_sbd.h"

using namespace castor;

namespace {

bool has_line(const std::vector<std::string>& lines, const std::string& a, const std::string& b = "") {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
  });
}

PcmkExport with_fencing() {
  auto fence = parse_fence_sections("[fence alpha]\nagent = fence_ipmilan\noption.ip = 10.0.0.11\n"
                                    "[fence beta]\nagent = fence_ipmilan\noption.ip = 10.0.0.12\n",
                                    "castor.ini");
  REQUIRE_MESSAGE(fence.ok(), fence.status().to_string());
  auto e = build_pacemaker_export({}, *fence);
  REQUIRE_MESSAGE(e.ok(), e.status().to_string());
  return *e;
}

}  // namespace

TEST_CASE("pacemaker sbd: the quorum disk becomes a fence_sbd device, the last level after power fencing") {
  PcmkExport e = with_fencing();
  REQUIRE(has_line(e.not_expressed, "the quorum disk and the watchdog"));
  REQUIRE(add_sbd_to_export({"/dev/disk/by-id/scsi-SHARED-part1"}, "/dev/watchdog", e).ok());
  CHECK(!has_line(e.not_expressed, "the quorum disk and the watchdog"));  // it is exported now
  REQUIRE(e.stonith.size() == 3);
  const PcmkPrimitive& p = e.stonith.back();
  CHECK(p.id == "sbd-fencing");
  CHECK(p.cls == "stonith");
  CHECK(p.type == "fence_sbd");
  CHECK(p.params == std::vector<PcmkAttr>{{"devices", "/dev/disk/by-id/scsi-SHARED-part1"}});
  // Level 1 of each node is its power fencing; sbd is level 2.
  std::vector<std::string> levels;
  for (const PcmkFencingLevel& l : e.levels)
    levels.push_back(l.target + ":" + std::to_string(l.index) + ":" + l.devices.at(0));
  CHECK(levels == std::vector<std::string>{"alpha:1:fence-alpha", "beta:1:fence-beta", "alpha:2:sbd-fencing",
                                           "beta:2:sbd-fencing"});
  // The steps: the formats differ, the disk must be re-initialised, the daemon configured.
  REQUIRE(e.sbd_setup.size() == 4);
  CHECK(has_line(e.sbd_setup, "Castor's on-disk format is not sbd's", "cannot be shared"));
  CHECK(has_line(e.sbd_setup, "sbd -d /dev/disk/by-id/scsi-SHARED-part1 create"));
  CHECK(has_line(e.sbd_setup, "SBD_DEVICE=\"/dev/disk/by-id/scsi-SHARED-part1\"", "SBD_WATCHDOG_DEV=/dev/watchdog"));
  CHECK(has_line(e.sbd_setup, "stonith-watchdog-timeout stays unset"));
  // Every format carries the steps as comments, and the device.
  for (const std::string& text : {render_pacemaker_cib(e), render_pacemaker_pcs(e), render_pacemaker_crmsh(e)}) {
    CHECK(text.find("SBD SETUP 2: re-initialise the disk for sbd") != std::string::npos);
    CHECK(text.find("fence_sbd") != std::string::npos);
    CHECK(text.find("sbd-fencing") != std::string::npos);
  }
  // The id cannot be taken twice.
  CHECK(!add_sbd_to_export({"/dev/sdb"}, "/dev/watchdog", e).ok());
}

TEST_CASE("pacemaker sbd: three disks are one sbd device list; no fencing levels without power fencing") {
  auto e0 = build_pacemaker_export({}, {});
  REQUIRE(e0.ok());
  PcmkExport e = *e0;
  REQUIRE(add_sbd_to_export({"/dev/sdb", "/dev/sdc", "/dev/sdd"}, "none", e).ok());
  REQUIRE(e.stonith.size() == 1);
  CHECK(e.stonith[0].params == std::vector<PcmkAttr>{{"devices", "/dev/sdb,/dev/sdc,/dev/sdd"}});
  CHECK(e.levels.empty());  // no topology: Pacemaker uses any device that can fence the node
  CHECK(has_line(e.sbd_setup, "sbd -d /dev/sdb -d /dev/sdc -d /dev/sdd create"));
  CHECK(has_line(e.sbd_setup, "SBD_DEVICE=\"/dev/sdb;/dev/sdc;/dev/sdd\""));
  CHECK(has_line(e.not_expressed, "watchdog_device = none", "sbd needs a watchdog"));
}

TEST_CASE("pacemaker sbd: refused without a disk, with a LABEL=, with four disks") {
  for (const std::vector<std::string>& devices : std::vector<std::vector<std::string>>{
           {}, {"LABEL=quorum"}, {"/dev/sdb", "/dev/sdc", "/dev/sdd", "/dev/sde"}, {"/dev/sd b"}}) {
    auto e = build_pacemaker_export({}, {});
    REQUIRE(e.ok());
    const Status s = add_sbd_to_export(devices, "/dev/watchdog", *e);
    CAPTURE(devices.size());
    CHECK(!s.ok());
    CHECK(e->stonith.empty());
  }
}
