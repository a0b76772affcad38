#include "tools/disk_read_auth.h"

#include "common/auth_key.h"
#include "config/quorumd_config.h"
#include "disk/record_seal.h"

namespace castor {

CliDiskAuth cli_disk_auth(const std::optional<std::string>& option, const std::string& config_path) {
  CliDiskAuth auth;
  auth.authkey_path = kDefaultAuthKeyPath;
  QuorumdConfig config;
  if (load_quorumd_ini(config_path, config).ok()) {
    auth.authkey_path = config.authkey;
    auth.required = config.authenticate_disk;
  }
  if (option) auth.authkey_path = *option;
  return auth;
}

Result<CliDiskRead> read_disk_for_cli(BlockDevice& dev, const Clock& clock, Duration io_timeout,
                                      const CliDiskAuth& auth) {
  const std::string& authkey_path = auth.authkey_path;
  ASSIGN_OR_RETURN(DiskSnapshot peek, read_disk_snapshot(dev, clock, io_timeout, RecordSeal::tag_unchecked()));
  const Superblock* sb = peek.valid_superblock();
  CliDiskRead out;
  const bool flagged = sb && sb->records_authenticated;
  if (!flagged && !auth.required) {
    ASSIGN_OR_RETURN(out.snap, read_disk_snapshot(dev, clock, io_timeout, RecordSeal::crc_only()));
    out.tags = "records not authenticated (CRC only)";
    return out;
  }
  out.authenticated_disk = true;
  auto key = load_auth_key(authkey_path);
  Result<RecordSeal> seal = key.ok() ? disk_record_seal(*key) : Result<RecordSeal>(key.status());
  if (!seal.ok()) {
    out.snap = std::move(peek);
    out.tags = "records authenticated, but their tags were NOT verified (" + seal.status().message() +
               "): a forged record would look valid here; give --authkey PATH";
    return out;
  }
  ASSIGN_OR_RETURN(out.snap, read_disk_snapshot(dev, clock, io_timeout, *seal));
  out.tags_verified = true;
  out.tags = "records authenticated: tags verified with " + authkey_path;
  if (!flagged)
    out.tags += " (castor.ini requires authenticated records, but the superblock does not say so: a cleared "
                "flag is a downgrade, quorumd refuses this disk)";
  return out;
}

}  // namespace castor
