#!/bin/bash
# make demo: a real two-node Castor cluster on one machine (tests/cluster/harness.sh), narrated: the page
# through the floating IP, the node running web killed, the failover timed, web moved back with
# `castor relocate --wait`, and everything torn down (also on failure or Ctrl-C).
# KEEP=1 leaves the cluster running until Ctrl-C, with lines saying how to talk to it.
KEEP=${KEEP:-0}
. "$(dirname "$0")/../tests/cluster/harness.sh"
cluster_setup

step "Starting both nodes (quorumd + svcmgr each); web starts on its preferred node"
start_node alpha
start_node beta
first=""
for ((t = 0; t < 200; t++)); do
  first=$(owner alpha)
  [ -n "$first" ] && break
  sleep 0.1
done
[ -n "$first" ] || fail "web did not start"
status alpha

step "The client fetches the page through the floating IP $VIP (web runs on $first)"
page=$(fetch) || fail "no answer from $VIP"
echo "$page"

if [ "$KEEP" = 1 ]; then
  step "The cluster keeps running. In another shell, try:"
  echo "  $CASTOR status --socket $dir/alpha/quorumd.sock --svcmgr-socket $dir/alpha/svcmgr.sock"
  echo "  $CASTOR relocate web --wait --socket $dir/alpha/svcmgr.sock"
  echo "  ip netns exec $NS_C curl http://$VIP/"
  echo "Stop it with Ctrl-C: everything is torn down."
  while :; do sleep 3600; done
fi

other=alpha
[ "$first" = alpha ] && other=beta
step "Killing $first: every process in it dies at once (quorumd, svcmgr, the web server), like a power cut"
eval "victim=\$PID_$first wd=\$WD_$first"
t0=$(date +%s%N)
kill_node "$first"
kill -KILL "$wd" 2>/dev/null  # its stand-in watchdog goes with the host
page=""
until page=$(fetch) && [ -n "$page" ]; do
  [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 30 ] || fail "web did not come back within 30 s"
  sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "The page is served again, now by $other: failover took $ms ms (dead time 1.2 s at io_timeout 200 ms)"
echo "$page"
status "$other"

step "Restarting $first; it rejoins with a new incarnation"
wait "$victim" "$wd" 2>/dev/null
start_node "$first"
for ((t = 0; t < 100; t++)); do
  status "$other" --json 2>/dev/null | grep -q '"view":"UP"' && break
  sleep 0.1
done
sleep 1

step "castor relocate web --to $first --wait (a planned move: stop on $other, start on $first)"
"$CASTOR" relocate web --to "$first" --wait=30 --socket "$dir/$other/svcmgr.sock" || fail "relocate"
# (the client learns the address moved from the new owner's gratuitous ARP: give it a few tries)
for ((t = 0; t < 50; t++)); do page=$(fetch) && [ -n "$page" ] && break; sleep 0.1; done
[ -n "$page" ] || fail "no answer after the relocation"
echo "$page"
status "$first"

step "Done: tearing down both nodes, the LAN, the loop devices and the files"
