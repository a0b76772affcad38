#!/bin/bash
# director_node.sh NODE_DIR: run by a harness node's node.sh (DIRECTOR=1, tests/cluster/director.sh), first,
# inside the node's own mount namespace: gives the node what a host has of its own and the nodes of this one
# machine would otherwise share, so Debian's /etc/init.d/haproxy runs unmodified on each:
#   /run                  a fresh tmpfs, as a host's /run at each boot: the machine's directories under /run,
#                         empty (their owners and modes kept; no files), without /run/systemd/system (the node
#                         is a host whose PID 1 is not systemd: /lib/lsb/init-functions would otherwise hand
#                         the init script over to systemctl). So /run/haproxy.pid, /run/haproxy and
#                         /run/resource-agents are the node's, and gone when it is reset.
#   /etc/haproxy          NODE_DIR/etc-haproxy (the node's haproxy.cfg)
#   /etc/default/haproxy  NODE_DIR/default-haproxy
# Must never change anything outside this mount namespace (the machine's /run and /etc stay as they are).
set -eu
d=$1
new=$d/run-fresh
mkdir -p "$new"
mount -t tmpfs -o mode=0755 tmpfs "$new"
# The machine's directory tree under /run (one file system: not the mounts on it), empty.
(cd /run && find . -xdev -mindepth 1 -type d ! -path './systemd/system' ! -path './systemd/system/*' \
   ! -path './castor-node/*' ! -path './netns' ! -path './netns/*' -printf '%p\t%m\t%u\t%g\n') |
  while IFS=$'\t' read -r p m u g; do
    mkdir -p "$new/$p" && chmod "$m" "$new/$p" && chown "$u:$g" "$new/$p"
  done
(cd /run && find . -mindepth 1 -maxdepth 1 -type l -exec cp -P {} "$new/" \;)  # shm -> /dev/shm
mount --move "$new" /run
mount --bind "$d/etc-haproxy" /etc/haproxy
mount --bind "$d/default-haproxy" /etc/default/haproxy
