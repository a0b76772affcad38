#!/bin/bash
# make torture: the nemesis on the two-node cluster of tests/cluster/harness.sh. FAULTS=N faults chosen at
# random from SEED (printed; give SEED=S to replay): crash a node (every process of its cgroup, NIC down),
# freeze a node shorter or longer than the dead time (freezer cgroup: a paused VM; its watchdog outside it
# resets it), make a node's quorum disk read-only for a while, relocate under load. After every fault the
# cluster must settle; the checker then reads evidence from outside the nodes: the ledger log (no record of
# an older epoch after a newer one started: split-brains) and the HTTP probe from the client (outages).
# At the end: fsck -n of the data disk. Prints the figures; exits non-zero on any split-brain.
FAULTS=${FAULTS:-10}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
. "$(dirname "$0")/harness.sh"
echo "torture: FAULTS=$FAULTS SEED=$SEED (replay with: make torture FAULTS=$FAULTS SEED=$SEED)"
RANDOM=$SEED
cluster_setup
start_node alpha
start_node beta

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
  local t
  for ((t = 0; t < 300; t++)); do
    [ -n "$(running_on web)" ] && [ -n "$(running_on ledger)" ] && fetch >/dev/null && return 0
    sleep 0.1
  done
  return 1
}
alive() { [ -n "$(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null)" ]; }
revive() { alive "$1" || { eval "wait \$PID_$1 \$WD_$1" 2>/dev/null; start_node "$1"; }; }

settle || fail "the cluster did not start"
declare -A count
failovers=()
for ((f = 1; f <= FAULTS; f++)); do
  victim=$(running_on web)
  [ -n "$victim" ] || victim=alpha
  kind=$((RANDOM % 4))
  t0=$(date +%s%N)
  case $kind in
    0) count[crash]=$((${count[crash]:-0} + 1))
       eval "wd=\$WD_$victim"; kill_node "$victim"; kill -KILL "$wd" 2>/dev/null
       echo "fault $f: crash $victim" ;;
    1) ms=$((RANDOM % 2 == 0 ? 300 : 2500))
       count[freeze_${ms}ms]=$((${count[freeze_${ms}ms]:-0} + 1))
       echo "fault $f: freeze $victim for $ms ms"
       echo FROZEN >"$CGROOT/$victim/freezer.state"; sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
       echo THAWED >"$CGROOT/$victim/freezer.state" ;;
    2) count[disk_ro]=$((${count[disk_ro]:-0} + 1))
       eval "q=\$Q_$victim"; echo "fault $f: $victim's quorum disk read-only for 2 s"
       blockdev --setro "$q"; sleep 2; blockdev --setrw "$q" ;;
    3) count[relocate]=$((${count[relocate]:-0} + 1))
       other=alpha; [ "$victim" = alpha ] && other=beta
       echo "fault $f: relocate web to $other"
       alive "$other" && "$CASTOR" relocate web --to "$other" --wait=30 --socket "$dir/$victim/svcmgr.sock" >/dev/null ;;
  esac
  sleep 0.5
  revive alpha
  revive beta
  if settle; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    failovers+=("$ms")
    echo "  settled after $ms ms: web on $(running_on web), ledger on $(running_on ledger)"
  else
    echo "  did not settle within 30 s"; count[unsettled]=$((${count[unsettled]:-0} + 1))
  fi
done

# The checker: from the ledger written outside the nodes.
split=$(python3 - "$dir/ledger.log" <<'EOP'
import sys
started = 0; starter = None; bad = 0
for line in open(sys.argv[1]):
    kind, node, epoch = line.split(); epoch = int(epoch)
    if kind == 'start':
        if epoch < started or (epoch == started and node != starter): bad += 1
        if epoch > started: started, starter = epoch, node
    elif epoch < started or (epoch == started and node != starter):
        bad += 1  # a record of an older epoch after a newer one started: two writers
print(bad)
EOP
)
kill_node alpha; kill_node beta
fsck_ok=yes; fsck.ext4 -n "$dir/data.img" >/dev/null 2>&1 || fsck_ok=no
sorted=$(printf '%s\n' "${failovers[@]}" | sort -n)
n=${#failovers[@]}
pick() { echo "$sorted" | sed -n "$1p"; }
echo
echo "faults injected:"; for k in "${!count[@]}"; do echo "  $k: ${count[$k]}"; done
echo "split-brains (ledger records of an older epoch after a newer start): $split"
echo "ledger lines: $(wc -l <"$dir/ledger.log"); fsck -n of the data disk clean: $fsck_ok"
[ "$n" -gt 0 ] && echo "time to settle after a fault (ms): min $(pick 1) median $(pick $(((n + 1) / 2))) p95 $(pick $(((n * 95 + 99) / 100))) max $(pick "$n")"
echo "[castor] torture: $FAULTS faults (seed $SEED), $split split-brains, fsck clean: $fsck_ok"
[ "$split" = 0 ] && [ "$fsck_ok" = yes ] || fail "the torture run found a problem (seed $SEED)"
