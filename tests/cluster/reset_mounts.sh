#!/bin/bash
# reset_mounts.sh CGROUP_DIR: what a reset of a harness node takes away besides its processes — the shared
# filesystems mounted in its mount namespace. Killing the node's processes is not always enough on one
# machine: a process stuck exiting (quorumd waiting for its aio on a hung disk) keeps the namespace, and
# with it the mounts, alive after the "reset", where a real reset would have ended them. Run by kill_node
# and by the stand-in watchdog when it fires. Unmounts lazily (the processes are dead or dying).
for p in $(cat "$1/cgroup.procs" 2>/dev/null); do
  nsenter -t "$p" -m -- umount -l /run/castor-node/web /run/castor-node/ledger 2>/dev/null
done
exit 0
