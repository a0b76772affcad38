#!/bin/bash
# make demo: the main job. Until the two-node cluster demo exists, it shows the quorum disk: a file-backed
# loop device is made, `castor init` writes it, `castor dump` decodes it, and everything is removed again.
set -u
BUILD=${BUILD:-build}
CASTOR=$BUILD/castor
[ "$(id -u)" = 0 ] || { echo "make demo needs root (it creates a loop device)"; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/castor-demo.XXXXXX")
dev=""
cleanup() {
  [ -n "$dev" ] && losetup -d "$dev" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
step() { printf '\n== %s\n' "$*"; }

step "Creating a 16 MiB file-backed disk and a loop device over it (direct I/O), as a shared LUN"
truncate -s 16M "$dir/quorum.img"
dev=$(losetup -f --show --direct-io=on "$dir/quorum.img") || exit 1
echo "quorum disk: $dev"

step "castor init $dev --cluster demo --nodes alpha,beta --io-timeout 200"
"$CASTOR" init "$dev" --cluster demo --nodes alpha,beta --io-timeout 200 || exit 1

step "castor dump $dev"
"$CASTOR" dump "$dev" || exit 1

step "castor init refuses to overwrite it without --force (exit code 4)"
"$CASTOR" init "$dev" --cluster other --nodes a,b
rc=$?
[ "$rc" = 4 ] || { echo "expected exit 4, got $rc"; exit 1; }

step "Done: detaching $dev and removing the file"
