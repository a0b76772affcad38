#!/bin/bash
# A disk that can be lost on purpose, for bench/fence.sh and bench/io_tolerance.sh: a backing file seen
# through a FUSE pass-through (bindfs, our own daemon) and a loop device (direct I/O) over that. Faults:
#   setro  blockdev --setro on the loop device: writes fail at once, reads work
#   eio    SIGKILL the bindfs daemon: every I/O fails (the FUSE connection is gone)
#   stall  SIGSTOP the bindfs daemon: every I/O hangs until SIGCONT (a SAN path that stops answering)
# disk_up DIR SIZE: sets DISK_DEV and DISK_FUSE_PID; disk_down undoes it (also after any fault).
DISK_DEV="" DISK_FUSE_PID="" DISK_DIR=""
disk_up() {
  DISK_DIR=$1
  mkdir -p "$DISK_DIR/real" "$DISK_DIR/fuse"
  rm -f "$DISK_DIR/real/lun.img"; truncate -s "$2" "$DISK_DIR/real/lun.img"
  bindfs -f --no-allow-other "$DISK_DIR/real" "$DISK_DIR/fuse" >>"$DISK_DIR/bindfs.log" 2>&1 &
  DISK_FUSE_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do [ -e "$DISK_DIR/fuse/lun.img" ] && break; sleep 0.1; done
  DISK_DEV=$(losetup -f --show --direct-io=on "$DISK_DIR/fuse/lun.img") || { echo "losetup failed" >&2; return 1; }
}
disk_fault() {  # disk_fault setro|eio|stall
  case $1 in
    setro) blockdev --setro "$DISK_DEV" ;;
    eio) kill -KILL "$DISK_FUSE_PID" ;;
    stall) kill -STOP "$DISK_FUSE_PID" ;;
  esac
}
disk_resume() { [ -n "$DISK_FUSE_PID" ] && kill -CONT "$DISK_FUSE_PID" 2>/dev/null; }
disk_down() {  # call after the users of the disk are gone (a stalled disk is resumed first by the caller)
  [ -n "$DISK_DEV" ] && { blockdev --setrw "$DISK_DEV" 2>/dev/null; losetup -d "$DISK_DEV" 2>/dev/null; }
  if [ -n "$DISK_FUSE_PID" ]; then
    kill -CONT "$DISK_FUSE_PID" 2>/dev/null
    umount "$DISK_DIR/fuse" 2>/dev/null || umount -l "$DISK_DIR/fuse" 2>/dev/null
    kill -TERM "$DISK_FUSE_PID" 2>/dev/null; wait "$DISK_FUSE_PID" 2>/dev/null
  fi
  DISK_DEV="" DISK_FUSE_PID=""
}
