// castor export pacemaker: the CLI shell around the Pacemaker export (pacemaker_export.h, pacemaker_render.h):
// reads the service files and castor.ini's [fence NODE] sections (with --sbd, its [quorumd] device and
// watchdog: pacemaker_sbd.h), prints one format on stdout and every line of what was not expressed, or only
// approximately, and the sbd setup steps on stderr.
// Must never write a file, talk to a daemon or print a partial export (a service file that does not load
// stops it).
#include <sys/stat.h>

#include <iostream>

#include "common/cli_args.h"
#include "common/read_file.h"
#include "config/fence_config.h"
#include "config/quorumd_config.h"
#include "config/service_loader.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/pacemaker_export.h"
#include "tools/pacemaker_render.h"
#include "tools/pacemaker_sbd.h"
#include "tools/terminal_output.h"

namespace castor {

namespace {

constexpr const char* kDefaultConfig = "/etc/castor/castor.ini";

void print_usage() {
  std::cout << "Usage: castor export pacemaker [--services DIR] [--format cib|pcs|crmsh] [--config FILE] [--sbd]\n"
               "Writes the services (default /etc/castor/services.d) and castor.ini's [fence NODE] devices as\n"
               "Pacemaker configuration on stdout: each service a group of its resources in order, its failover\n"
               "domain as location scores, its policies as meta attributes, each fence device a stonith resource\n"
               "and a fencing level.\n"
               "  --format cib    a CIB <configuration> fragment: <resources>, <constraints>, <fencing-topology> (default)\n"
               "  --format pcs    a pcs script (stages the changes in $CIB, then pushes them)\n"
               "  --format crmsh  a script for `crm configure load update FILE`\n"
               "  --config FILE   castor.ini (default /etc/castor/castor.ini, skipped when absent)\n"
               "  --sbd           the quorum disk ([quorumd] device) as an sbd device: a fence_sbd stonith resource,\n"
               "                  a last fencing level, and the setup steps as comments (the disk must be\n"
               "                  re-initialised with sbd -d DEV create: Castor's disk format is not sbd's)\n"
               "What Pacemaker cannot express (exec resources, cgroup limits, ...) and what it expresses only\n"
               "approximately is listed on stderr and as comments in the output: never dropped silently.\n"
               "Exit 0 on success, 2 on bad usage or a service file or castor.ini that does not load, 3 when the\n"
               "services directory or an explicit --config does not exist.\n";
}

}  // namespace

int cmd_export(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--services", true}, {"--format", true}, {"--config", true}, {"--sbd", false}});
  if (!args.ok()) return report_error("export", args.status());
  if (args->has("--help")) {
    print_usage();
    return kExitOk;
  }
  if (args->positional.size() != 1 || args->positional[0] != "pacemaker")
    return report_error("export", Error(Code::invalid_argument,
                                        "the one target is pacemaker: castor export pacemaker [--services DIR] "
                                        "[--format cib|pcs|crmsh] [--config FILE]"));
  const std::string format = args->value("--format").value_or("cib");
  if (format != "cib" && format != "pcs" && format != "crmsh")
    return report_error("export", Error(Code::invalid_argument, "unknown format '" + format + "' (cib, pcs or crmsh)"));

  const std::string dir = args->value("--services").value_or(kDefaultServiceDir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return report_error("export", Error(Code::not_found, "services directory " + dir + " does not exist"));
  LoadResult loaded = load_service_dir(dir, {});
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << printable(e.to_string()) << "\n";
    return report_error("export", Error(Code::invalid_argument,
                                        std::to_string(loaded.errors.size()) + " error(s) in " + dir +
                                            ": nothing exported (castor check shows the same)"));
  }

  std::vector<FenceDeviceConfig> fence;
  const bool sbd = args->has("--sbd");
  QuorumdConfig quorumd;
  const auto explicit_config = args->value("--config");
  const std::string config = explicit_config.value_or(kDefaultConfig);
  auto text = read_file_to_string(config, 4 << 20);
  if (!text.ok()) {
    if (explicit_config || sbd || text.status().code() != Code::not_found) return report_error("export", text.status());
  } else {
    if (sbd)
      if (Status q = parse_quorumd_ini(*text, config, quorumd); !q.ok()) return report_error("export", q);
    auto parsed = parse_fence_sections(*text, config);
    if (!parsed.ok()) return report_error("export", parsed.status());
    fence = std::move(*parsed);
  }

  auto e = build_pacemaker_export(loaded.services, fence);
  if (!e.ok()) return report_error("export", e.status());
  if (sbd)
    if (Status s = add_sbd_to_export(split_device_list(quorumd.device), quorumd.watchdog_device, *e); !s.ok())
      return report_error("export", s);
  if (format == "cib") std::cout << render_pacemaker_cib(*e);
  else if (format == "pcs") std::cout << render_pacemaker_pcs(*e);
  else std::cout << render_pacemaker_crmsh(*e);
  std::cout.flush();
  for (const std::string& s : e->not_expressed) std::cerr << "castor export: not expressed: " << printable(s) << "\n";
  for (const std::string& s : e->approximations) std::cerr << "castor export: approximation: " << printable(s) << "\n";
  for (size_t i = 0; i < e->sbd_setup.size(); ++i)
    std::cerr << "castor export: sbd setup " << i + 1 << ": " << printable(e->sbd_setup[i]) << "\n";
  std::cerr << "castor export: " << e->groups.size() << " service(s), " << e->stonith.size()
            << " fence device(s) exported as " << format << "\n";
  if (!std::cout) return report_error("export", Error(Code::io_error, "writing the export to stdout failed"));
  return kExitOk;
}

}  // namespace castor
