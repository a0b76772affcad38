#!/bin/bash
# make torture: the nemesis on the two-node cluster of tests/cluster/harness.sh.
#   FAULTS=N faults (default 12), chosen at random from SEED (printed; SEED=S replays a run; ONLY=k1,k2
#   restricts the kinds). The first
#   faults go once through every kind in a seeded order, so a short run still injects each kind:
#     crash          SIGKILL everything in the node (and its NIC goes dark): a power cut
#     freeze_short   freeze the node (freezer cgroup: a paused VM) for 300 ms, less than the dead time
#     freeze_long    freeze it for 2.5 s, more than the dead time: its watchdog outside it resets it
#     disk_ro        its quorum disk read-only for 2 s (writes fail: the node must fence itself)
#     disk_hang_short / disk_hang_long
#                    its quorum disk hangs for 150 ms / 2.5 s (its FUSE pass-through stopped, then resumed:
#                    the writes in flight land late)
#     kill_quorumd   SIGKILL quorumd alone
#     kill_svcmgr    SIGKILL svcmgr alone (the node restarts it after 1 s, as systemd would)
#     crash_service  SIGKILL the web server or the ledger writer (the monitor must notice and recover)
#     hang_stop      the ledger's stop hangs, then it is relocated: the stop times out and the node fences
#     relocate       castor relocate web to the other node under load (the ledger keeps writing)
#     restart_node   a clean restart of the node (SIGTERM: leave, then start again)
#   After every fault both nodes are revived and the cluster must settle (both services started, the page
#   served). The checker (tests/cluster/torture_check.py) reads only evidence from outside the nodes: the
#   ledger's acknowledged records, the mount watcher, the client's HTTP probe, fsck -n of both shared disks.
# Prints the figures and writes them as JSON to results/torture-SEED-TIME/summary.json; on failure that
# folder also keeps the logs of both nodes. Exits non-zero on any split-brain, lost record, double mount
# or unclean filesystem.
FAULTS=${FAULTS:-12}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
. "$(dirname "$0")/harness.sh"
RESULTS=${RESULTS:-$ROOT/results/torture-$SEED-$(date +%Y%m%d-%H%M%S)}
echo "torture: FAULTS=$FAULTS SEED=$SEED (replay with: make torture FAULTS=$FAULTS SEED=$SEED)"
RANDOM=$SEED
KINDS=(crash freeze_short freeze_long disk_ro disk_hang_short disk_hang_long kill_quorumd kill_svcmgr
       crash_service hang_stop relocate restart_node)
[ -n "${ONLY:-}" ] && IFS=, read -r -a KINDS <<<"$ONLY"  # ONLY=disk_hang_long,crash: just these kinds

running_on() {  # running_on SERVICE: the node that runs it, as alpha's or beta's svcmgr says
  local n o
  for n in alpha beta; do
    o=$(status "$n" --json 2>/dev/null | python3 -c "import json,sys
d=json.load(sys.stdin)
print(next((s['owner'] for s in d.get('services',{}).get('services',[]) if s['name']=='$1' and s['state']=='started'), ''))" 2>/dev/null)
    [ -n "$o" ] && { echo "$o"; return; }
  done
}
settle() {  # both services started somewhere and the page served, within 30 s
  local end=$(($(date +%s) + 30))
  while [ "$(date +%s)" -lt $end ]; do
    [ -n "$(running_on web)" ] && [ -n "$(running_on ledger)" ] && fetch >/dev/null && return 0
    sleep 0.1
  done
  return 1
}
alive() { [ -n "$(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null)" ]; }
revive() { alive "$1" || { eval "wait \$PID_$1 \$WD_$1" 2>/dev/null; start_node "$1"; }; }
other_of() { if [ "$1" = alpha ]; then echo beta; else echo alpha; fi; }
node_proc() {  # node_proc NODE NAME: the PID of the process called NAME in the node
  local p
  for p in $(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return; }
  done
}
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

inject() {  # inject KIND: one fault, on the node that runs web (or the ledger, for its own faults)
  local kind=$1 svc=web victim other p ms
  case $kind in hang_stop) svc=ledger ;; crash_service|crash|freeze_long|disk_hang_long) ((RANDOM % 2)) && svc=ledger ;; esac
  victim=$(running_on $svc); [ -n "$victim" ] || victim=alpha
  other=$(other_of "$victim")
  echo "fault $f $kind $victim $svc $(date +%H:%M:%S.%N | cut -c1-12)" >>"$dir/faults.log"  # wall time: to read the logs
  case $kind in
    crash) echo "fault $f: crash $victim (runs $svc)"
       eval "p=\$WD_$victim"; kill_node "$victim"; kill -KILL "$p" 2>/dev/null ;;
    freeze_short|freeze_long) ms=300; [ $kind = freeze_long ] && ms=2500
       echo "fault $f: freeze $victim for $ms ms"
       echo FROZEN >"$CGROOT/$victim/freezer.state"; ms_sleep $ms; echo THAWED >"$CGROOT/$victim/freezer.state" ;;
    disk_ro) eval "p=\$Q_$victim"; echo "fault $f: $victim's quorum disk read-only for 2 s"
       blockdev --setro "$p"; sleep 2; blockdev --setrw "$p" ;;
    disk_hang_short|disk_hang_long) ms=150; [ $kind = disk_hang_long ] && ms=2500
       eval "p=\$FUSE_$victim"; echo "fault $f: $victim's quorum disk hangs for $ms ms (FUSE stopped)"
       kill -STOP "$p"; ms_sleep $ms; kill -CONT "$p" ;;
    kill_quorumd) echo "fault $f: SIGKILL quorumd on $victim"
       p=$(node_proc "$victim" quorumd); [ -n "$p" ] && kill -KILL "$p" ;;
    kill_svcmgr) echo "fault $f: SIGKILL svcmgr on $victim (the node starts it again, as systemd would)"
       p=$(node_proc "$victim" svcmgr); [ -n "$p" ] && kill -KILL "$p" ;;
    crash_service)
       eval "p=\$PID_$victim"
       if [ $svc = web ]; then p=$(cat "/proc/$p/root/run/castor-node/http.pid" 2>/dev/null)
       else p=$(cat "/proc/$p/root/run/castor-node/ledger.pid" 2>/dev/null); fi
       echo "fault $f: SIGKILL $svc's process on $victim (pid ${p:-none})"
       [ -n "$p" ] && kill -KILL "$p" ;;
    hang_stop) echo "fault $f: ledger's stop hangs on $victim; relocate it to $other"
       touch "$dir/hang-stop"
       alive "$other" && "$CASTOR" relocate ledger --to "$other" --socket "$dir/$victim/svcmgr.sock" >/dev/null
       sleep 3; rm -f "$dir/hang-stop" ;;
    relocate) echo "fault $f: relocate web to $other"
       alive "$other" && "$CASTOR" relocate web --to "$other" --wait=30 --socket "$dir/$victim/svcmgr.sock" >/dev/null ;;
    restart_node) echo "fault $f: clean restart of $victim"
       p=$(node_proc "$victim" quorumd); [ -n "$p" ] && kill -TERM "$p"
       for ((i = 0; i < 150; i++)); do alive "$victim" || break; sleep 0.1; done ;;
  esac
}

read -r kernel_t0 _ </proc/uptime  # the kernel log's clock, near enough: its lines from now on are this run's
cluster_setup
start_node alpha
start_node beta
python3 "$ROOT/tests/cluster/mount_watch.py" --cgroot "$CGROOT" --nodes alpha,beta \
  --points /run/castor-node/web,/run/castor-node/ledger --out "$dir/mounts.log" &
pids+=("$!"); WATCH=$!
ip netns exec "$NS_C" python3 "$ROOT/tests/cluster/http_probe.py" --url "http://$VIP/" --out "$dir/probe.log" &
pids+=("$!"); PROBE=$!
settle || fail "the cluster did not start"

order=("${KINDS[@]}")
for ((i = ${#order[@]} - 1; i > 0; i--)); do  # a seeded shuffle: each kind once, in a random order
  j=$((RANDOM % (i + 1))); t=${order[$i]}; order[$i]=${order[$j]}; order[$j]=$t
done
for ((f = 1; f <= FAULTS; f++)); do
  if ((f <= ${#order[@]})); then kind=${order[$((f - 1))]}; else kind=${KINDS[$((RANDOM % ${#KINDS[@]}))]}; fi
  t0=$(date +%s%N)
  inject "$kind"
  sleep 0.5
  revive alpha
  revive beta
  if settle; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    echo "settled $ms" >>"$dir/faults.log"
    echo "  settled after $ms ms: web on $(running_on web), ledger on $(running_on ledger)"
  else
    echo "unsettled" >>"$dir/faults.log"
    echo "  did not settle within 30 s"
  fi
done

kill -TERM "$PROBE" "$WATCH" 2>/dev/null; wait "$PROBE" "$WATCH" 2>/dev/null
kill_node alpha; kill_node beta
for disk in data ledger; do
  if fsck.ext4 -n "$dir/disks/$disk.img" >"$dir/fsck-$disk.out" 2>&1; then echo "$disk clean"; else echo "$disk dirty"; fi
done >"$dir/fsck.log"
debugfs -R "cat /ledger.log" "$dir/disks/ledger.img" >"$dir/ledger-on-disk.log" 2>/dev/null
# The kernel's own record of every mount of the shared disks, by loop device (which node's path it is).
dmesg | awk -v t0="$kernel_t0" -F'[][]' '$2 + 0 >= t0 - 1' | grep 'EXT4-fs (loop' >"$dir/kernel-mounts.log"
echo "alpha $D_alpha $L_alpha beta $D_beta $L_beta" >"$dir/loops.map"
mkdir -p "$RESULTS"
python3 "$ROOT/tests/cluster/torture_check.py" --dir "$dir" --ledger-file "$dir/ledger-on-disk.log" --seed "$SEED" \
  --out "$RESULTS/summary.json"
rc=$?
echo "[castor] torture: $FAULTS faults (seed $SEED): $(python3 -c "import json
d=json.load(open('$RESULTS/summary.json'))
print(f\"{d['split_brains']} split-brains, {d['lost_records']} lost of {d['acknowledged_records']} acknowledged records, \
{d['mount_overlaps']} double mounts, availability {d['availability_percent']} %, settle median {(d['settle_ms'] or {}).get('median')} ms\")")"
echo "results: $RESULTS/summary.json"
if [ "$rc" != 0 ]; then
  cp "$dir"/*.log "$dir"/*.out "$RESULTS/" 2>/dev/null
  echo "seed $SEED faults $FAULTS" >"$RESULTS/SEED"
  fail "the torture run found a problem (seed $SEED); logs of both nodes in $RESULTS"
fi
