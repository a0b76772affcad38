#include "disk/wipe_signatures.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace castor {

Status wipe_signatures(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_status("stat", path);
  int flags = O_RDWR | O_CLOEXEC;
  if (S_ISBLK(st.st_mode)) flags |= O_EXCL;  // fails with EBUSY if mounted or held
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd.valid()) return errno_status("open for wiping", path);
  blkid_probe pr = blkid_new_probe();
  if (!pr) return Error(Code::internal, "blkid_new_probe failed");
  Status result;
  if (blkid_probe_set_device(pr, fd.get(), 0, 0) != 0) {
    result = Error(Code::io_error, "libblkid cannot probe " + path);
  } else {
    blkid_probe_enable_superblocks(pr, 1);
    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_BADCSUM);
    blkid_probe_enable_partitions(pr, 1);
    blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);
    for (int guard = 0; guard < 64 && blkid_do_probe(pr) == 0; ++guard) {
      if (blkid_do_wipe(pr, 0) != 0) {
        result = Error(Code::io_error, "libblkid could not wipe a signature on " + path);
        break;
      }
    }
  }
  blkid_free_probe(pr);
  if (result.ok() && ::fsync(fd.get()) != 0) result = errno_status("fsync", path);
  return result;
}

}  // namespace castor
