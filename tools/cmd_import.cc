// castor import pacemaker CIB.xml --out DIR: the CLI shell around the Pacemaker import (pacemaker_import.h):
// reads the CIB, writes one service file per mapped service into DIR and lists on stderr what did not map.
// Each file is written only if it loads back (service_loader) to exactly the definition mapped.
// Must never overwrite a file (a new file is created O_EXCL), write outside DIR (names are checked service
// names), or talk to a daemon.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "common/cli_args.h"
#include "common/errno_status.h"
#include "common/read_file.h"
#include "common/unique_fd.h"
#include "config/service_loader.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/pacemaker_import.h"
#include "tools/service_file_writer.h"
#include "tools/terminal_output.h"
#include "tools/xml_subset.h"

namespace castor {

namespace {

constexpr size_t kMaxCibBytes = 64 << 20;

Status write_new_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) return errno_status("create", path);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("write", path);
    }
    done += size_t(n);
  }
  if (::fsync(fd.get()) != 0) return errno_status("fsync", path);
  return Status::Ok();
}

}  // namespace

int cmd_import(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--out", true}});
  if (!args.ok()) return report_error("import", args.status());
  if (args->has("--help")) {
    std::cout << "Usage: castor import pacemaker CIB.xml --out DIR\n"
                 "Writes one service file per group (and per primitive outside a group) of a Pacemaker CIB into\n"
                 "DIR (a <cib>, or the <configuration> castor export pacemaker writes). What does not map (clones,\n"
                 "stonith devices, colocation and order constraints, rules, attributes Castor has no word for)\n"
                 "is listed on stderr. An existing file is never overwritten. Check the result with castor check.\n"
                 "Exit 0 when every service that mapped was written, 2 on bad usage or a CIB that does not parse,\n"
                 "3 when CIB.xml or DIR does not exist, 4 when a file exists already.\n";
    return kExitOk;
  }
  if (args->positional.size() != 2 || args->positional[0] != "pacemaker")
    return report_error("import", Error(Code::invalid_argument, "usage: castor import pacemaker CIB.xml --out DIR"));
  const auto out_dir = args->value("--out");
  if (!out_dir) return report_error("import", Error(Code::invalid_argument, "--out DIR is required"));
  struct stat st {};
  if (::stat(out_dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return report_error("import", Error(Code::not_found, "directory " + *out_dir + " does not exist"));
  const std::string& cib_path = args->positional[1];
  auto text = read_file_to_string(cib_path, kMaxCibBytes);
  if (!text.ok()) return report_error("import", text.status());
  auto root = parse_xml_subset(*text);
  if (!root.ok()) return report_error("import", root.status().with_context(cib_path));
  auto imported = import_pacemaker_cib(*root);
  if (!imported.ok()) return report_error("import", imported.status().with_context(cib_path));

  int written = 0;
  std::vector<std::string> not_mapped = imported->not_mapped;
  std::string failed;
  for (const ServiceDefinition& def : imported->services) {
    const std::string file = def.name + ".ini";
    const std::string body = service_file_text(def, "imported from " + cib_path + " by castor import pacemaker");
    LoadResult again = load_service_text(body, file, {});
    if (!again.ok() || again.services.size() != 1 || definition_digest(again.services[0]) != definition_digest(def)) {
      not_mapped.push_back("service " + def.name + " not written: its values do not fit a service file (" +
                           (again.ok() ? std::string("it would load as another definition") : again.error_text()) + ")");
      continue;
    }
    if (Status w = write_new_file(*out_dir + "/" + file, body); !w.ok()) {
      std::cerr << "castor import: " << printable(w.to_string()) << "\n";
      if (failed.empty()) failed = w.to_string();
      continue;
    }
    std::cout << "wrote " << *out_dir << "/" << file << " (" << def.resources.size() << " resource(s), nodes ";
    for (size_t i = 0; i < def.nodes.size(); ++i) std::cout << (i ? "," : "") << def.nodes[i];
    std::cout << ")\n";
    ++written;
  }
  for (const std::string& s : not_mapped) std::cerr << "castor import: not mapped: " << printable(s) << "\n";
  std::cerr << "castor import: " << written << " service file(s) written, " << not_mapped.size()
            << " item(s) not mapped\n";
  if (!failed.empty()) return kExitRefused;
  return kExitOk;
}

}  // namespace castor
