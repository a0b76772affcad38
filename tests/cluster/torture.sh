#!/bin/bash
# make torture: the nemesis on the two-node cluster of tests/cluster/harness.sh.
#   FAULTS=N faults (default 12), chosen at random from SEED (printed; SEED=S replays a run; ONLY=k1,k2
#   restricts the kinds). The first
#   faults go once through every kind in a seeded order (issue 15's four last), so a short run still
#   injects each kind:
#     crash          SIGKILL everything in the node (and its NIC goes dark): a power cut; it stays down until
#                    the peer runs every service (at most 15 s)
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
#     corrupt_block  garbage over one block of the quorum disk while the cluster runs (random bytes, zeros, or
#                    a torn block: its second half random), written from outside the nodes on the backing
#                    file with O_DIRECT (what the nodes' direct-I/O loop devices read): a superblock copy, a
#                    heartbeat, an epoch record, a table block in use or another table block, of either
#                    node (CORRUPT_WHAT=superblock|heartbeat|epoch|table_used|table_any and
#                    CORRUPT_NODE=victim|other pin it). A superblock copy is restored from the copy saved at
#                    set-up once the cluster has settled (nothing in Castor rewrites it).
#     init_force     `castor init --force` on the live quorum disk: must be refused, and the disk unchanged
#     leave_unmanaged
#                    svcmgr and every service process SIGKILLed, the node's mounts and addresses left up (its
#                    host stays up), then a clean leave of quorumd: it must not write DOWN while its table
#                    holds a service; after 2 s the host is reset
#     lan_partition  the LAN cut, both links (tests/cluster/harness.sh lan_partition), for a random 1-10 s: nothing
#                    may change (the disk is the arbiter)
#     shared_stall_5T / shared_stall_30T
#                    both nodes' quorum-disk paths hang at once (both FUSE pass-throughs stopped) for 5 T / 30 T:
#                    with the LAN up (LAN=1, the default) both nodes ride through it on promises, no one fences
#     stall_partition
#                    both paths hang for 30 T and the LAN is cut after 15 T, until the end: the promises given
#                    are honoured, then both fence
#     fence_fail     (FENCE=1 only) the victim's BMC cut off the management network (bmc_down), then the victim
#                    crashes as in crash: its peer's power fence fails and it takes over after the dead time D,
#                    never before (the checker: no confirmed fence in the fault, the first light service
#                    started on the peer no sooner than D - T after the crash); the BMC comes back (bmc_up) once
#                    no fence round of the peer is in flight, then the victim is powered on
#     device_fault   (QUORUM_DEVICES=3 only) one device of the set of three fails for 2-5 s, the device and the way
#                    chosen by the seed: stalled (both nodes' paths to it), read-only, zeroed or garbage over both
#                    node regions (the nodes notice the damaged copies and rewrite their regions: it heals by
#                    itself). Nothing may
#                    change: no fence, no reset, no failover (counted as for every kind)
#     slow_disk      (RESOURCE_FAULTS=1 only) the victim's quorum-disk I/O slowed to up to T/2 for 10 s, not stopped
#                    (its FUSE path(s) duty-cycled: stopped T/2, resumed until the queued requests are answered;
#                    tests/cluster/resource_faults.sh says why): within the lease rules, nothing may change: no fence, no failover. quorumd's
#                    write latencies before and during the fault are in faults.log ("detail N slow_disk ...")
#     cpu_starve     (RESOURCE_FAULTS=1 only) the victim's CPU quota (its cpu cgroup) cut to 5 % of one CPU for 5 s:
#                    it may lose its lease and fence itself (its watchdog then resets it); never two owners
#     mem_pressure   (RESOURCE_FAULTS=1 only) the victim's memory cgroup limited to its usage + 32 MiB and a hog in
#                    the node filling it to 4 MiB below for 5 s: reclaim, maybe the node's OOM killer (oom_kills
#                    in "detail N mem_pressure ..."; a quorumd it kills ends in a reset); never two owners
#   RESOURCE_FAULTS=1 (set by itself when ONLY names one of these three): each node also has a cpu and a memory
#   cgroup (tests/cluster/resource_faults.sh) and the three kinds are appended to the others; every fault's
#   failovers are counted too ("detail N moves M web W ledger L regrants R": services on another node once it
#   settled, and services granted anew meanwhile, with a greater epoch: a failover that failed back counts there).
#     realserver_kill
#                    (DIRECTOR=1 only) one real server's HTTP server SIGKILLed for 3-5 s, then started again:
#                    HAProxy's health checks take it out and back; Castor must do nothing (no state change of the
#                    director, counted: "detail N realserver_kill NAME MS STATE_CHANGES" in faults.log)
#   DIRECTOR=1 (tests/cluster/director.sh): the director service (IPaddr2 + lsb:haproxy, Debian's init script)
#   and its two real servers run too; the client also probes the director's floating IP all along
#   ($dir/probe-director.log), the checker reports its availability and outages, and a fault settles only
#   once the director answers again.
#     crash_db / relocate_db / kill_postmaster / pgdisk_stall
#                    (DB=1 only: the db service, PostgreSQL on a third shared disk, tests/cluster/db.sh) the node
#                    that runs db crashes as in crash; db is relocated to the other node; its postmaster is
#                    SIGKILLed (the pgsql monitor notices, the restart in place recovers); the pg disk hangs
#                    under the database on its owner for 2-5 s (that node's FUSE path to it stopped), then
#                    resumes: nothing may be lost, whatever Castor does meanwhile
#   DB=1: the client (tests/cluster/db_client.py) commits rows through the db address all along, and the
#   database's own evidence is judged after the run (tests/cluster/db_check.py, on a copy of the pg disk):
#   every acknowledged commit found, rows' epochs never going back, the pg disk clean; in the summary as "db",
#   a failure fails the run. KEEP_PGDISK=1 also keeps the pg disk's image and the client's acks in RESULTS.
#   QUORUM_DEVICES=3: the cluster runs on a set of three quorum devices (tests/cluster/harness.sh); the victim's
#   "quorum disk" in disk_ro, disk_hang_* and init_force is then all three of its devices, and corrupt_block
#   damages a block of one device (chosen by the seed).
#   FENCE=1 (tests/cluster/bmc.sh): each node has a BMC and the peer power-fences a silent node through the
#   real fence_ipmilan, so crash, freeze_long, disk_hang_long, kill_quorumd, ... end in power fences. A node
#   is revived through its BMC (powered on, or reset if its power is on), and only once no fence round of its
#   peer is in flight (a power on while the peer's off is under way would be undone by it).
#   Every fault's fences (FENCED in both quorumd logs), resets (stand-in watchdogs fired), svcmgr kills (a
#   svcmgr that killed every service itself: "every service is killed"), risk stops (svcmgr stopped every
#   service: "lease at risk"), power fences begun ("power-fencing the peer") and peers declared dead on a
#   confirmed power-off ("powered off by a confirmed fence") are counted ("detail N fences F resets R
#   svc_kills K risk_stops S power_fences P power_verdicts V" in faults.log); the checker prints them by kind.
#   After every fault both nodes are revived and the cluster must settle (every service started, the page
#   served). The checker (tests/cluster/torture_check.py) reads only evidence from outside the nodes: the
#   ledger's acknowledged records, the mount watcher, the client's HTTP probe, fsck -n of both shared disks,
#   and the LIGHT_SERVICES (default 40) light services' starts, stops and ends (tests/cluster/svc_proc.sh,
#   tests/cluster/svc_watch.py). ORDERED=1 takes the kinds in the order given (with ONLY), not shuffled.
# Prints the figures and writes them as JSON to results/torture-SEED-TIME/summary.json; on failure that
# folder also keeps the logs of both nodes. Exits non-zero on any split-brain, lost record, double mount
# or unclean filesystem, service on both nodes at once, or a `castor init --force` that was not refused.
FAULTS=${FAULTS:-12}
LIGHT_SERVICES=${LIGHT_SERVICES:-40}
SETTLE_S=${SETTLE_S:-45}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
. "$(dirname "$0")/harness.sh"
RESULTS=${RESULTS:-$ROOT/results/torture-$SEED-$(date +%Y%m%d-%H%M%S)}
echo "torture: FAULTS=$FAULTS SEED=$SEED (replay with: make torture FAULTS=$FAULTS SEED=$SEED)"
RANDOM=$SEED
LAN_KINDS=(lan_partition shared_stall_5T shared_stall_30T stall_partition)  # issue 15's kinds
KINDS=(crash freeze_short freeze_long disk_ro disk_hang_short disk_hang_long kill_quorumd kill_svcmgr
       crash_service hang_stop relocate restart_node corrupt_block init_force leave_unmanaged "${LAN_KINDS[@]}")
[ "$FENCE" = 1 ] && KINDS+=(fence_fail)  # appended: the seeds of runs without FENCE replay as before
[ "$QUORUM_DEVICES" = 3 ] && KINDS+=(device_fault)  # likewise
case ",${ONLY:-}," in *,slow_disk,* | *,cpu_starve,* | *,mem_pressure,*) RESOURCE_FAULTS=1 ;; esac
export RESOURCE_FAULTS
[ "$RESOURCE_FAULTS" = 1 ] && KINDS+=(slow_disk cpu_starve mem_pressure)  # likewise (issue 18)
[ "$DIRECTOR" = 1 ] && KINDS+=(realserver_kill)  # likewise
DB_KINDS=(crash_db relocate_db kill_postmaster pgdisk_stall)  # DB=1 (tests/cluster/db.sh)
[ "$DB" = 1 ] && KINDS+=("${DB_KINDS[@]}")  # likewise
[ -n "${ONLY:-}" ] && IFS=, read -r -a KINDS <<<"$ONLY"  # ONLY=disk_hang_long,crash: just these kinds
for k in "${KINDS[@]}"; do
  [ "$k" = fence_fail ] && [ "$FENCE" != 1 ] && { echo "torture: fence_fail needs FENCE=1"; exit 2; }
  [ "$k" = device_fault ] && [ "$QUORUM_DEVICES" != 3 ] && { echo "torture: device_fault needs QUORUM_DEVICES=3"; exit 2; }
  [ "$k" = realserver_kill ] && [ "$DIRECTOR" != 1 ] && { echo "torture: realserver_kill needs DIRECTOR=1"; exit 2; }
  [[ " ${DB_KINDS[*]} " == *" $k "* ]] && [ "$DB" != 1 ] && { echo "torture: $k needs DB=1"; exit 2; }
done

running_on() {  # running_on web|ledger: the node that runs it, as alpha's or beta's svcmgr says
  local w l n whole
  read -r w l n whole <<<"$(view)"
  if [ "$1" = web ]; then w=${w#-}; echo "$w"; else l=${l#-}; echo "$l"; fi
}
settle() {  # both nodes up, every service started somewhere and the page served, within SETTLE_S s
  local end=$(($(date +%s) + SETTLE_S)) w l n whole
  while [ "$(date +%s)" -lt $end ]; do
    # A node reset meanwhile (its watchdog fired: a fence, or a node starved of CPU) boots again, as a host
    # whose watchdog reset it would.
    [ -n "${STARTED:-}" ] && { revive_node alpha; revive_node beta; }
    read -r w l n whole <<<"$(view)"
    [ "$w" != - ] && [ "$l" != - ] && [ "${n:-0}" -ge $((LIGHT_SERVICES + 2 + DB_SERVICES)) ] && [ "$whole" = 1 ] && fetch >/dev/null &&
      { [ "$DIRECTOR" != 1 ] || director_fetch >/dev/null; } && { [ "$DB" != 1 ] || db_answers; } && return 0
    sleep 0.2
  done
  return 1
}
other_of() { if [ "$1" = alpha ]; then echo beta; else echo alpha; fi; }
# fence_quiet NODE: returns once no power fence round of NODE is in flight (its quorumd's power_fence.phase is
# not delaying, announcing, probing, powering off, checking or powering on) and NODE no longer sees its peer UP (it declared
# it dead or down, or it never saw this life), or NODE runs nothing or its quorumd does not answer, or after
# 60 s (a round whose agent calls all time out with their retries takes 2 x timeout_s x (retries + 1) = 40 s).
# FAST_REVIVE=1: only the round in flight is waited for (a node that boots again within S of its death is
# then powered off by the fence of its previous life, and its new life's silence is fenced in turn: a loop
# that lasts until a boot falls after the peer's verdict).
fence_quiet() {
  local st i mute=0
  for ((i = 0; i < 300; i++)); do
    alive "$1" || return 0
    st=$(qstatus "$1" "(d.get('power_fence') or {}).get('phase', 'none') + '/' + (d.get('peer') or {}).get('view', '?')")
    case $st in
      delaying/* | announcing/* | probing/* | "powering off/"* | checking/* | "powering on/"*) mute=0 ;;
      */UP) mute=0; [ -n "${FAST_REVIVE:-}" ] && return 0 ;;
      "") mute=$((mute + 1)); [ $mute -ge 3 ] && return 0 ;;  # alive, but its quorumd does not answer
      *) return 0 ;;
    esac
    sleep 0.2
  done
  echo "  $1's power fence round still in flight or its peer still UP after 60 s ($st)"
}
# revive_node NODE: a node that is down boots again (revive: through its BMC with FENCE=1), with FENCE=1 only
# once its peer has no fence round in flight and no longer sees it UP (fence_quiet): the BMC acts on an off a
# second after it took it, and a reset or power on before the peer's verdict would boot a node that the peer's
# fence of its previous life then powers off (a real host takes longer to boot than S and the fence).
revive_node() {
  alive "$1" && return 0
  [ "$FENCE" = 1 ] && fence_quiet "$(other_of "$1")"
  revive "$1"
}
wait_takeover() {  # a crashed node stays down until the survivor runs everything (at most 15 s): a failover
  local w l n whole
  for ((i = 0; i < 75; i++)); do
    read -r w l n whole <<<"$(view)"
    [ "${n:-0}" -ge $((LIGHT_SERVICES + 2 + DB_SERVICES)) ] && return 0
    sleep 0.2
  done
}
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

inject() {  # inject KIND: one fault, on the node that runs web (or the ledger, for its own faults)
  local kind=$1 svc=web victim other p ms
  case $kind in hang_stop) svc=ledger ;; crash_service|crash|freeze_long|disk_hang_long|fence_fail|slow_disk|cpu_starve|mem_pressure) ((RANDOM % 2)) && svc=ledger ;; esac
  [[ " ${DB_KINDS[*]} " == *" $kind "* ]] && svc=db
  if [ $svc = db ]; then victim=$(db_owner); else victim=$(running_on $svc); fi; [ -n "$victim" ] || victim=alpha
  other=$(other_of "$victim")
  # wall time, to read the logs; then CLOCK_MONOTONIC ms, the probe's clock, to tell which fault an outage follows
  echo "fault $f $kind $victim $svc $(date +%H:%M:%S.%N | cut -c1-12) $(python3 -c 'import time; print(int(time.monotonic() * 1000))')" >>"$dir/faults.log"
  case $kind in
    crash|crash_db) echo "fault $f: crash $victim (runs $svc)"
       eval "p=\$WD_$victim"
       echo "detail $f crashed $victim $(date +%s%N) $IO_TIMEOUT_MS" >>"$dir/faults.log"  # the takeover's start
       kill_node "$victim"; kill -KILL "$p" 2>/dev/null
       wait_takeover ;;
    fence_fail) fence_fail "$victim" "$other" "$svc" ;;
    freeze_short|freeze_long) ms=300; [ $kind = freeze_long ] && ms=2500
       echo "fault $f: freeze $victim for $ms ms"
       echo FROZEN >"$CGROOT/$victim/freezer.state"; ms_sleep $ms; echo THAWED >"$CGROOT/$victim/freezer.state" ;;
    disk_ro) eval "p=\$Q_$victim"; echo "fault $f: $victim's quorum disk read-only for 2 s"
       for q in $p; do blockdev --setro "$q"; done; sleep 2; for q in $p; do blockdev --setrw "$q"; done ;;
    disk_hang_short|disk_hang_long) ms=150; [ $kind = disk_hang_long ] && ms=2500
       p=$(node_paths "$victim"); echo "fault $f: $victim's quorum disk hangs for $ms ms (FUSE stopped)"
       kill -STOP $p; ms_sleep $ms; kill -CONT $p ;;
    device_fault) device_fault ;;
    slow_disk|cpu_starve|mem_pressure) $kind "$victim" ;;  # tests/cluster/resource_faults.sh
    realserver_kill) realserver_fault ;;
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
    relocate_db) echo "fault $f: relocate db to $other"
       alive "$other" && "$CASTOR" relocate db --to "$other" --wait=60 --socket "$dir/$victim/svcmgr.sock" >/dev/null ;;
    kill_postmaster) p=$(db_postmaster "$victim")
       echo "fault $f: SIGKILL PostgreSQL's postmaster on $victim (pid ${p:-none}; the monitor must notice, the start recover)"
       [ -n "$p" ] && kill -KILL "$p" ;;
    pgdisk_stall) ms=$((2000 + RANDOM % 3001))
       echo "fault $f: the pg disk hangs under the database on $victim for $ms ms (its FUSE path stopped), then resumes"
       echo "detail $f pgdisk_stall $victim $ms" >>"$dir/faults.log"
       stall_pgdisk "$victim"; ms_sleep $ms; unstall_pgdisk "$victim" ;;
    restart_node) echo "fault $f: clean restart of $victim"
       p=$(node_proc "$victim" quorumd); [ -n "$p" ] && kill -TERM "$p"
       for ((i = 0; i < 150; i++)); do alive "$victim" || break; sleep 0.1; done ;;
    corrupt_block) corrupt_block "$victim" "$other" ;;
    init_force) init_force "$victim" ;;
    leave_unmanaged) leave_unmanaged "$victim" ;;
    lan_partition) ms=$((1000 + RANDOM % 9001)); echo "fault $f: the LAN cut (both links) for $ms ms"
       lan_partition; ms_sleep $ms; lan_heal ;;
    shared_stall_5T|shared_stall_30T) p=${kind#shared_stall_}; p=${p%T}; ms=$((p * IO_TIMEOUT_MS))
       echo "fault $f: both nodes' quorum-disk paths hang for $ms ms ($p T: a shared storage stall)"
       stall_both; ms_sleep $ms; unstall_both ;;
    stall_partition) ms=$((15 * IO_TIMEOUT_MS))
       echo "fault $f: both nodes' quorum-disk paths hang for $((2 * ms)) ms (30 T); the LAN is cut after $ms ms"
       stall_both; ms_sleep $ms; lan_partition; ms_sleep $ms; unstall_both; lan_heal ;;
  esac
}
# How many times a node fenced (its quorumd said FENCED) and was reset (its stand-in watchdog fired) so far.
fence_total() { cat "$dir"/alpha-quorumd.log "$dir"/beta-quorumd.log 2>/dev/null | grep -c 'FENCED:'; }
# FENCE=1: how many power fences of its peer a node began, and how many times a node declared its peer dead on
# a confirmed power-off (the verdict that lets it take over before D).
power_fence_total() { cat "$dir"/alpha-quorumd.log "$dir"/beta-quorumd.log 2>/dev/null | grep -c 'power-fencing the peer'; }
power_verdict_total() { cat "$dir"/alpha-quorumd.log "$dir"/beta-quorumd.log 2>/dev/null | grep -c 'powered off by a confirmed fence'; }
reset_total() { cat "$dir"/alpha-watchdog.out "$dir"/beta-watchdog.out 2>/dev/null | grep -c 'watchdog fired'; }
# How many times a node's svcmgr killed every service on its own (its lease ran out as quorumd last told it,
# or it lost quorumd).
svc_kill_total() { cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log 2>/dev/null | grep -c 'every service is killed'; }
# How many times a node's svcmgr stopped every service because quorumd said its lease was at risk.
risk_stop_total() { cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log 2>/dev/null | grep -c 'stopping every service reason="lease at risk'; }

BS=4096  # the quorum disk's block: max(sector size, 4096) (lib/disk/disk_layout.h)
node_id() { if [ "$1" = alpha ]; then echo 1; else echo 2; fi; }
# write_block BLOCK VARIANT: garbage over one block of the quorum disk's backing file, O_DIRECT and synced
# (the loop devices read the file with direct I/O through the nodes' FUSE paths: no cache to go stale).
# quorum_images: the quorum disk's backing file, or each device's (QUORUM_DEVICES=3)
quorum_images() {
  local k
  if [ "$QUORUM_DEVICES" = 1 ]; then echo "$dir/disks/quorum.img"; return; fi
  for k in $QDEVS; do device_image "$k"; done
}
write_block() {  # write_block BLOCK VARIANT [IMAGE]
  local b=$1 how=$2 img=${3:-$dir/disks/quorum.img}
  case $how in
    random) dd if=/dev/urandom of="$img" bs=$BS seek="$b" count=1 iflag=fullblock oflag=direct conv=notrunc,fsync status=none ;;
    zeros) dd if=/dev/zero of="$img" bs=$BS seek="$b" count=1 oflag=direct conv=notrunc,fsync status=none ;;
    torn) dd if=/dev/urandom of="$img" bs=$((BS / 2)) seek=$((2 * b + 1)) count=1 iflag=fullblock oflag=direct \
            conv=notrunc,fsync status=none ;;
  esac
}
corrupt_block() {  # corrupt_block VICTIM OTHER
  local what=${CORRUPT_WHAT:-} node b name how variants=(random zeros torn)
  [ -n "$what" ] || { local all=(superblock heartbeat epoch table_used table_any); what=${all[$((RANDOM % 5))]}; }
  case ${CORRUPT_NODE:-} in victim) node=$1 ;; other) node=$2 ;; *) if ((RANDOM % 2)); then node=$1; else node=$2; fi ;; esac
  local base=$((16 + ($(node_id "$node") - 1) * 64))
  case $what in
    superblock) b=$((RANDOM % 2)); name=$([ $b = 0 ] && echo superblock || echo superblock-backup); node=- ;;
    heartbeat) b=$base; name=heartbeat ;;
    epoch) b=$((base + 1)); name=epoch-record ;;
    table_used) i=$((RANDOM % 2)); b=$((base + 2 + i)); name=table-$i ;;
    table_any) i=$((RANDOM % 34)); b=$((base + 2 + i)); name=table-$i ;;
  esac
  how=${variants[$((RANDOM % 3))]}
  local img=$dir/disks/quorum.img on=
  if [ "$QUORUM_DEVICES" = 3 ]; then local k=$((RANDOM % 3)); img=$(device_image $k); on=" of device $k"; fi
  echo "fault $f: $how garbage over the quorum disk's $name block$on (block $b${node:+, node $node})"
  echo "detail $f corrupt_block $node $name $b $how" >>"$dir/faults.log"
  write_block "$b" "$how" "$img"
  [ "$b" -lt 2 ] && HEADER_DIRTY=1
  sleep 2  # the cluster runs on the damaged disk (the nodes read the peer's table every tick)
}
restore_header() {  # the superblock copies as set-up wrote them (an admin's repair: nothing rewrites them)
  local img k=0
  for img in $(quorum_images); do
    dd if="$dir/header.save$k" of="$img" bs=$BS count=2 oflag=direct conv=notrunc,fsync status=none
    k=$((k + 1))
  done
  echo "detail $f restored_header" >>"$dir/faults.log"
  HEADER_DIRTY=
}
header_sum() { local img; for img in $(quorum_images); do dd if="$img" bs=$BS count=2 iflag=direct status=none; done | md5sum | cut -c1-32; }
init_force() {  # init_force VICTIM: castor init --force on the live disk, through the victim's path to it
  local q before after out rc verdict
  eval "q=\$Q_$1"
  echo "fault $f: castor init --force on the live quorum disk ($q, $1's path)"
  before=$(header_sum)
  # shellcheck disable=SC2086  # QUORUM_DEVICES=3: the victim's three devices
  out=$(timeout 120 "$CASTOR" init $q --cluster demo --nodes alpha,beta --io-timeout "$IO_TIMEOUT_MS" --force 2>&1)
  rc=$?
  after=$(header_sum)
  if [ "$rc" != 0 ] && [ "$before" = "$after" ]; then verdict=refused; else verdict=accepted; fi
  echo "  $verdict (exit $rc): $(echo "$out" | head -1)"
  echo "detail $f init_force $verdict $rc $(echo "$out" | head -1 | tr -s ' \t' '__' | cut -c1-200)" >>"$dir/faults.log"
}
leave_unmanaged() {  # leave_unmanaged VICTIM
  local n=$1 host p q cg=$CGROOT/$1
  eval "host=\$PID_$n"
  echo "fault $f: svcmgr and every service process on $n SIGKILLed, its mounts and addresses left up; quorumd leaves"
  # The node's first shell stands for the host: stopped, it restarts nothing, and it keeps the node's mount
  # namespace (the mounts) alive, as a host that stays up would.
  kill -STOP "$host"
  q=$(node_proc "$n" quorumd)
  p=$(node_proc "$n" svcmgr); [ -n "$p" ] && kill -KILL "$p"
  # Until only the host's shell and quorumd are left, and every process group they were in is empty: a
  # killed process still counts for quorumd's check of its registered process groups until it is reaped
  # (here by a PID 1 that reaps only every second or so).
  local left groups=" "
  for ((i = 0; i < 150; i++)); do
    left=
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do
      [ "$p" = "$host" ] || [ "$p" = "$q" ] && continue
      g=$(awk '{print $5}' "/proc/$p/stat" 2>/dev/null)
      [ -n "$g" ] && [ "$g" != "$host" ] && [[ "$groups" != *" $g "* ]] && groups+="$g "
      kill -KILL "$p" 2>/dev/null; left=1
    done
    [ -z "$left" ] && ! ps -eo pgid= | tr -d ' ' | grep -qxF -f <(tr ' ' '\n' <<<"$groups" | grep .) && break
    sleep 0.02
  done
  [ -n "$q" ] && kill -TERM "$q"
  for ((i = 0; i < 50; i++)); do [ -n "$q" ] && kill -0 "$q" 2>/dev/null || break; sleep 0.1; done
  sleep 2  # the peer takes over now: at once if it saw DOWN, after the dead time otherwise
  eval "p=\$WD_$n"; kill_node "$n"; kill -KILL "$p" 2>/dev/null  # the host resets
}

device_fault() {  # one device of the set of three fails for 2-5 s (QUORUM_DEVICES=3)
  local k=$((RANDOM % 3)) how ms=$((2000 + RANDOM % 3001)) ways=(stall ro zero garbage)
  how=${ways[$((RANDOM % 4))]}
  echo "fault $f: quorum device $k $how for $ms ms"
  echo "detail $f device_fault $k $how $ms" >>"$dir/faults.log"
  case $how in
    stall) device_stall $k; ms_sleep $ms; device_unstall $k ;;
    ro) device_ro $k; ms_sleep $ms; device_rw $k ;;
    zero | garbage)
      # Once: the nodes notice the damaged copies and rewrite their regions, so the device heals by itself.
      device_$how $k; ms_sleep $ms ;;
  esac
}

# The director's state changes so far, as both svcmgr logs say (a restart, a move, a failure: any is one).
director_changes() { cat "$dir"/alpha-svcmgr.log "$dir"/beta-svcmgr.log 2>/dev/null | grep -c 'service state service=director '; }
realserver_fault() {  # one real server's HTTP server killed for 3-5 s, then started again (DIRECTOR=1)
  local rs ms c0
  if ((RANDOM % 2)); then rs=rs1; else rs=rs2; fi
  ms=$((3000 + RANDOM % 2001))
  echo "fault $f: real server $rs's HTTP server killed for $ms ms (HAProxy's checks take it out; Castor does nothing)"
  c0=$(director_changes)
  realserver_kill "$rs"; ms_sleep "$ms"; realserver_start "$rs"
  sleep 1.5  # HAProxy's checks take it back (rise 2 x 500 ms)
  echo "detail $f realserver_kill $rs $ms $(($(director_changes) - c0))" >>"$dir/faults.log"
}

fence_fail() {  # fence_fail VICTIM OTHER SERVICE (FENCE=1)
  local v=$1 o=$2 p
  echo "fault $f: $v's BMC cut off its network, then $v crashes (runs $3): $o's power fence fails, D decides"
  bmc_down "$v"
  eval "p=\$WD_$v"
  echo "detail $f crashed $v $(date +%s%N) $IO_TIMEOUT_MS" >>"$dir/faults.log"
  kill_node "$v"; kill -KILL "$p" 2>/dev/null
  wait_takeover
  # The BMC answers again only once no fence round of $o is in flight: an off still retrying would power $v off
  # while it boots again.
  fence_quiet "$o"
  bmc_up "$v"
}

cluster_setup
k=0
for img in $(quorum_images); do
  dd if="$img" of="$dir/header.save$k" bs=$BS count=2 iflag=direct status=none || fail "save the superblock"
  k=$((k + 1))
done
HEADER_DIRTY=
start_node alpha
start_node beta
evidence_start
[ "$DIRECTOR" = 1 ] && director_probe_start
db_client_start  # DB=1: the client commits rows through the db service's address from now on
# A cluster that does not settle at start is reported (as an unsettled fault 0), not fatal: with a broken
# build it may never settle, and the evidence is what the checker judges.
settle || { echo "the cluster did not settle within $SETTLE_S s of its start"; echo "unsettled" >>"$dir/faults.log"; }
STARTED=1

order=("${KINDS[@]}") late=()
if [ -z "${ORDERED:-}" ]; then
  # Issue 15's kinds come last in the first pass, rotated by SEED without drawing from RANDOM, so a seed
  # replays the same first faults (and the same random choices in them) as before they were added:
  # tests/integration/torture_broken.sh relies on its seeds.
  order=()
  for k in "${KINDS[@]}"; do
    if [[ " ${LAN_KINDS[*]} " == *" $k "* ]]; then late+=("$k"); else order+=("$k"); fi
  done
  for ((i = ${#order[@]} - 1; i > 0; i--)); do  # a seeded shuffle: each kind once
    j=$((RANDOM % (i + 1))); t=${order[$i]}; order[$i]=${order[$j]}; order[$j]=$t
  done
  for ((i = 0; i < ${#late[@]}; i++)); do order+=("${late[$(((i + SEED) % ${#late[@]}))]}"); done
fi
for ((f = 1; f <= FAULTS; f++)); do
  if ((f <= ${#order[@]})); then kind=${order[$((f - 1))]}; else kind=${KINDS[$((RANDOM % ${#KINDS[@]}))]}; fi
  t0=$(date +%s%N) fences0=$(fence_total) resets0=$(reset_total) kills0=$(svc_kill_total) stops0=$(risk_stop_total)
  pf0=$(power_fence_total) pv0=$(power_verdict_total)
  [ "$RESOURCE_FAULTS" = 1 ] && where0=$(rf_placement)
  inject "$kind"
  sleep 0.5
  revive_node alpha
  revive_node beta
  if settle; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ -n "$HEADER_DIRTY" ] && restore_header
    echo "settled $ms" >>"$dir/faults.log"
    echo "  settled after $ms ms: web on $(running_on web), ledger on $(running_on ledger)"
  else
    echo "unsettled" >>"$dir/faults.log"
    echo "  did not settle within $SETTLE_S s"
    [ -n "$HEADER_DIRTY" ] && restore_header
  fi
  echo "detail $f fences $(($(fence_total) - fences0)) resets $(($(reset_total) - resets0)) svc_kills $(($(svc_kill_total) - kills0)) risk_stops $(($(risk_stop_total) - stops0)) power_fences $(($(power_fence_total) - pf0)) power_verdicts $(($(power_verdict_total) - pv0))" >>"$dir/faults.log"
  [ "$RESOURCE_FAULTS" = 1 ] && rf_moves "$f" "$where0"
done

mkdir -p "$RESULTS"
[ "$DIRECTOR" = 1 ] && director_probe_stop
db_client_stop
evidence_check "$SEED" "$RESULTS/summary.json"
rc=$?
if [ "$DB" = 1 ]; then  # the database's own evidence, on a copy of the pg disk; in the summary as "db"
  db_check "$RESULTS/db.json" || rc=1
  cp "$dir/pglog/postgresql.log" "$RESULTS/" 2>/dev/null
  # KEEP_PGDISK=1: the pg disk's image and the client's acks kept beside the summary (tests/integration/db_short.sh
  # feeds the checker a doctored ack log against it: a checker that finds nothing wrong there is broken)
  [ -n "${KEEP_PGDISK:-}" ] && cp --sparse=always "$dir/pgdisks/pgdisk.img" "$RESULTS/pgdisk.img" &&
    cp "$dir/db-acks.log" "$dir/db-epochs.log" "$RESULTS/"
  python3 - "$RESULTS/summary.json" "$RESULTS/db.json" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
d['db'] = json.load(open(sys.argv[2]))
json.dump(d, open(sys.argv[1], 'w'), indent=2)
EOP
fi
line=$(FENCE=$FENCE python3 - "$RESULTS/summary.json" <<'EOP'
import json, os, sys
d = json.load(open(sys.argv[1]))
s = (f"{d['split_brains']} split-brains, {d['lost_records']} lost of {d['acknowledged_records']} acknowledged records, "
     f"{d['mount_overlaps']} double mounts, {d['services_on_both_nodes']} services on both nodes, "
     f"{d['same_epoch_split_brains']} same-epoch grants, {d['init_force_accepted']} init --force not refused, "
     f"availability {d['availability_percent']} %, settle median {(d['settle_ms'] or {}).get('median')} ms")
if d.get('director'):
    x = d['director']
    s += (f", director availability {x['availability_percent']} % ({(x['outages_ms'] or {}).get('n', 0)} outages, max"
          f" {(x['outages_ms'] or {}).get('max')} ms), {x['realserver_kills']} real server kills"
          f" ({x['realserver_kill_castor_actions']} Castor actions on the director)")
for name in ('ledger', 'db'):
    a = d.get(name + '_availability')
    if a:
        o = a['outages_ms'] or {'n': 0}
        s += f", {name} availability {a['availability_percent']} % ({o['n']} outages" + (f", max {o['max']} ms)" if o['n'] else ")")
if 'db' in d:
    b = d['db']
    s += (f", db: {b['lost']} lost of {b['acknowledged']} acknowledged commits ({b['found']} found,"
          f" {b['failed_transactions']} failed, {b['indoubt_transactions']} in doubt), {b['epoch_regressions']} epoch"
          f" regressions, pg disk {b['fsck']}")
if os.environ.get('FENCE') == '1':
    k = d['fences_by_kind'].values()
    s += (f", {sum(x['power_fences'] for x in k)} power fences begun ({sum(x['power_verdicts'] for x in k)} takeovers on a"
          f" confirmed power-off), {d['fence_fail_violations']} fence_fail takeovers on an unconfirmed fence")
print(s)
EOP
)
echo "[castor] torture: $FAULTS faults (seed $SEED): $line"
echo "results: $RESULTS/summary.json"
[ -n "${KEEP_LOGS:-}" ] && cp "$dir"/*.log "$dir"/*.out "$RESULTS/" 2>/dev/null  # KEEP_LOGS=1: also on success
if [ "$rc" != 0 ]; then
  cp "$dir"/*.log "$dir"/*.out "$RESULTS/" 2>/dev/null
  echo "seed $SEED faults $FAULTS" >"$RESULTS/SEED"
  fail "the torture run found a problem (seed $SEED); logs of both nodes in $RESULTS"
fi
