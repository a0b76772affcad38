#!/bin/bash
# reset_mounts.sh CGROUP_DIR: what a reset of a harness node takes away besides its processes — the shared
# filesystems mounted in its mount namespace. Killing the node's processes is not always enough on one
# machine: a process stuck exiting (quorumd waiting for its aio on a hung disk) keeps the namespace, and
# with it the mounts, alive after the "reset", where a real reset would have ended them. Run by kill_node
# and by the stand-in watchdog when it fires; it must be quick (the peer may mount M = io_timeout later).
# Unmounts lazily, in the first of the node's processes whose namespace can still be entered.
for p in $(cat "$1/cgroup.procs" 2>/dev/null); do
  nsenter -t "$p" -m -- sh -c 'umount -l /run/castor-node/web 2>/dev/null; umount -l /run/castor-node/ledger 2>/dev/null; umount -l /run/castor-node/db 2>/dev/null; exit 0' && break
done
exit 0
