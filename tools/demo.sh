#!/bin/bash
# make demo: a real two-node Castor cluster on one machine (tests/cluster/harness.sh), narrated: the page
# through the floating IP, the node running web killed, the failover timed, web moved back with
# `castor relocate --wait`, and everything torn down (also on failure or Ctrl-C).
# KEEP=1 leaves the cluster running until Ctrl-C, with lines saying how to talk to it.
# The web console of each node (castor-web, read-only over plain HTTP on localhost: WEB_PORT for alpha's,
# the next port for beta's) runs through the demo as a user and group of its own, removed at the end.
KEEP=${KEEP:-0}
WEB_PORT=${WEB_PORT:-7630}
DEMO_WEB=castor-demo-web$$
STATUS_GROUP=$DEMO_WEB
. "$(dirname "$0")/../tests/cluster/harness.sh"
demo_cleanup() {
  cleanup
  userdel "$DEMO_WEB" 2>/dev/null
  groupdel "$DEMO_WEB" 2>/dev/null
}
trap demo_cleanup EXIT
groupadd "$DEMO_WEB" && useradd -M -d /nonexistent -s /usr/sbin/nologin -g "$DEMO_WEB" "$DEMO_WEB" ||
  fail "cannot add the web console's user and group $DEMO_WEB"
cluster_setup
chmod 0711 "$dir"  # the console's user reaches the daemons' sockets in it (and lists nothing)

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

step "The web console of each node (castor-web, read-only here: plain HTTP on localhost)"
port=$WEB_PORT
for n in alpha beta; do
  "$BUILD/castor-web" --config "$dir/$n/castor.ini" --port "$port" --user "$DEMO_WEB" >"$dir/$n/castor-web.log" 2>&1 &
  track_pid "$!"
  url=""
  for ((t = 0; t < 50; t++)); do
    url=$(sed -n 's/^castor-web: the console is at //p' "$dir/$n/castor-web.log")
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -n "$url" ]; then
    echo "  $n: $url  (open it in a browser on this machine; it follows the demo live)"
    for ((t = 0; t < 30; t++)); do  # its first view: the daemons read through their status sockets
      seen=$(curl -s --max-time 2 "${url}api/view" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(" ".join("%s %s on %s" % (s["name"], s["state"], s["owner"] or "none") for s in (v.get("svcmgr") or {}).get("services", [])))
' 2>/dev/null)
      [ -n "$seen" ] && break
      sleep 0.1
    done
    echo "  $n's console shows: ${seen:-nothing yet}"
  else
    echo "  $n: the console did not start: $(tail -1 "$dir/$n/castor-web.log")"
  fi
  [ "$port" = 0 ] || port=$((port + 1))
done

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

step "Why did web move? castor history on $other (svcmgr's event history, both nodes' records when copied)"
sleep 0.3  # the history writer's last fdatasync
cp "$dir/$first/svcmgr-state/history/$first.jsonl" "$dir/$other/svcmgr-state/history/" 2>/dev/null  # as scp would
"$CASTOR" history --config "$dir/$other/castor.ini" --service web || fail "castor history"

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
