#!/bin/bash
# Exhaustive checks of tests/model/castor.pml, tests/model/majority.pml (runs maj_*) and tests/model/replace.pml
# (runs rep_*) with spin (see tests/model/README.md).
#   tests/model/verify.sh verify OUT   safety in the scenarios below (power fencing included) + the relocation liveness check
#   tests/model/verify.sh bugs OUT     each seeded bug must be found (and the LIVENESS_ALONE contract
#                                      check must fail); its trail goes to OUT/<bug>.trail
#   tests/model/verify.sh trails OUT   as `bugs`, then copies the trails to tests/model/trails/
# Generated files (pan.c, pan, *.trail) stay in OUT. Exit status 0 only if every check came out as expected.
#   tests/model/verify.sh ci OUT       CI's share of `verify` (CI_RUNS below): every model, in the runs that take
#                                      under a minute (docs/model/verify-safety-*.md lists what only the whole
#                                      run checks: leave with the pause, failover, ...); the whole of `verify` takes
#                                      about 28 CPU-minutes (leave alone 27 M states), more than CI's 45 minutes
#                                      leave beside three C++ builds; it runs before each stop, results in docs/model/
# MODEL_ONLY="name ..." runs only those runs of the mode (e.g. MODEL_ONLY="fence_crash fence_lan"), for iterating.
set -u
mode=${1:-verify}
CI_RUNS="crash corrupt race blocks leave_ci stall_restart fence_lan fence_stall fence_handover peer_nowd_rejoin peer_nowd_nofile relocation maj_fault maj_crash maj_restart
maj_two maj_restart_io maj_rejoin maj_two_slow maj_choice maj_undead maj_split maj_overlap rep_restart rep_leave rep_two_admins"
if [ "$mode" = ci ]; then MODEL_ONLY=${MODEL_ONLY:-$(echo $CI_RUNS)}; mode=verify; fi
out=${2:-build/model}
here=$(cd "$(dirname "$0")" && pwd)
model=$here/castor.pml
mkdir -p "$out"
out=$(cd "$out" && pwd)

need() {  # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "model: installing $2"
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null 2>&1; })
  else
    (sudo apt-get install -y "$2" >/dev/null 2>&1 || { sudo apt-get update >/dev/null 2>&1 && sudo apt-get install -y "$2" >/dev/null 2>&1; })
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "model: cannot install $2" >&2; exit 2; }
}
need spin spin
need gcc gcc

failed=0

# Scenarios (bounds override the defaults in castor.pml):
NOFAULT="-DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
RACE="-DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=1 -DMAXFLIP=1"  # concurrent claims, I/O faults, policy changes
FAILOVER="-DMAXCRASH=0 -DMAXRESTART=1 -DMAXPAUSE=1 -DMAXHBFAIL=1 -DMAXIOFAULT=0 -DMAXFLIP=0"  # pause, broken heartbeat path, fence, rejoin
CRASH="-DMAXCRASH=1 -DMAXRESTART=1 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0"   # crash, late writes of the old life, restart
BLOCKS="-DNS=2 -DMAXCRASH=1 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0"  # two services in two blocks
CORRUPT="-DMAXCRASH=1 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0 -DMAXCORRUPT=1"  # corrupt and torn blocks, floors
# garbage over an own block (table or epoch record) of a node that is down, then its restart
CORRUPT_RESTART="-DMAXCRASH=1 -DMAXRESTART=1 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0 -DMAXCORRUPT=1 -DCORRUPT_DOWN"
LEAVE="-DMAXCRASH=0 -DMAXRESTART=1 -DMAXPAUSE=1 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0 -DMAXLEAVE=1 -DMAXLATEHB=1"  # leave, DOWN, late DOWN
# CI's clean leave (verify-ci): LEAVE without the pause (the pause is in failover's and the whole leave run)
LEAVE_CI="-DMAXCRASH=0 -DMAXRESTART=1 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0 -DMAXLEAVE=1 -DMAXLATEHB=1"
LIVE="-DLIVENESS -DMAXB=10 -DMAXE=3"
# Promises over the LAN (issue 15; -DLAN): node 1 holds the service from the start (-DHELD), the watchdog
# resets at its real bound (-DWD_REAL). stall: one node's heartbeat path fails, or both at once (a shared
# storage stall), a path may work again and fail once more (2 failures), a pause, one LAN datagram delayed
# up to 5 ticks. stall_restart: the same failures, a crash, a LAN partition, and node 2 restarts or
# rejoins once (-DRESTART2: node 1's rejoin and its race for the service again are failover's).
STALL="-DLAN -DWD_REAL -DHELD -DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=1 -DMAXHBFAIL=2 -DMAXIOFAULT=0 -DMAXFLIP=0 -DMAXSTALL=1 -DMAXPART=0 -DMAXLANLATE=1 -DLANDELAY=5"
# Power fencing (issue 16; -DFENCE, the FENCING part of castor.pml's header: S = 2T, or T with the LAN; the fence
# intent announced on the disk, the look, the yield, the stale bound). fence_crash: a crash, a fence of the dead
# node (or one that fails: the D rule), its reboot, a slow heartbeat write. fence_stall: a shared storage stall
# whose paths recover one by one, two slow writes, the reboot of a fenced node. fence_lan: the LAN guard (S = T)
# with a heartbeat path failure or a shared stall, a LAN partition, two slow writes (both nodes suspect each other
# at once: the intent alone keeps them apart), a failed fence. fence_lan_pause: as fence_lan with one slow write
# and a pause. fence_round: as fence_lan with a crash and fence rounds of up to 3 ticks (the stale bound SF + 2r).
FENCE_CRASH="-DFENCE -DHELD -DMAXCRASH=1 -DMAXRESTART=1 -DMAXPAUSE=0 -DMAXHBFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
FENCE_STALL="-DFENCE -DHELD -DSHARED_STALL -DMAXCRASH=0 -DMAXRESTART=1 -DREBOOT_ONLY -DMAXPAUSE=0 -DMAXHBFAIL=1 -DMAXSLOW=2 -DMAXIOFAULT=0 -DMAXFLIP=0"
FENCE_LAN="-DFENCE -DLAN -DHELD -DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=1 -DMAXSTALL=1 -DMAXPART=1 -DMAXLANLATE=0 -DMAXSLOW=2 -DMAXFFAIL=1 -DMAXIOFAULT=0 -DMAXFLIP=0"
FENCE_LAN_PAUSE="-DFENCE -DLAN -DHELD -DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=1 -DMAXHBFAIL=1 -DMAXSTALL=1 -DMAXPART=1 -DMAXLANLATE=0 -DMAXSLOW=1 -DMAXFFAIL=1 -DMAXIOFAULT=0 -DMAXFLIP=0"
FENCE_ROUND="-DFENCE -DLAN -DHELD -DFROUND=3 -DMAXCRASH=1 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=1 -DMAXSTALL=1 -DMAXPART=1 -DMAXLANLATE=0 -DMAXSLOW=2 -DMAXFFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
# the seeded DISKWIN bug: as fence_stall without the reboot (found at 12 thousand states instead of 1.2 million)
FENCE_STALL_NOREBOOT="-DFENCE -DHELD -DSHARED_STALL -DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=0 -DMAXHBFAIL=1 -DMAXSLOW=2 -DMAXIOFAULT=0 -DMAXFLIP=0"
# the seeded unconfirmed-fence bug: the LAN (S = T: without it, announce and look take S + 1 = F ticks and the
# silent node's lease lapses before the verdict read), a pause, a slow write (the paused node still runs its service)
FENCE_PAUSE_LAN="-DFENCE -DLAN -DHELD -DMAXCRASH=0 -DMAXRESTART=0 -DMAXPAUSE=1 -DMAXHBFAIL=0 -DMAXSTALL=0 -DMAXPART=1 -DMAXLANLATE=0 -DMAXSLOW=1 -DMAXIOFAULT=0 -DMAXFLIP=0"
# node 1 restarts within node 2's fence round (rounds of up to 4 ticks): with rule 3 as first written
# (-DBUG_FENCE_LOOK_INC: only an intent against this node's current incarnation counts) its new life fences node 2
# past node 2's intent against its previous life; as amended (any incarnation) it passes (fence_rejoin: 8.3 M
# states, about 2 min, so in the bugs mode, outside CI)
FENCE_REJOIN="-DFENCE -DLAN -DHELD -DFROUND=4 -DMAXCRASH=0 -DMAXRESTART=1 -DRESTART1 -DMAXPAUSE=1 -DMAXHBFAIL=1 -DMAXSTALL=0 -DMAXPART=0 -DMAXLANLATE=0 -DMAXSLOW=0 -DMAXFFAIL=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
# the seeded ONWAIT bug: a path failure, the fencer paused before its verdict read, a reboot, a slow write after it
FENCE_REBOOT="-DFENCE -DHELD -DMAXCRASH=0 -DMAXRESTART=1 -DREBOOT_ONLY -DMAXPAUSE=1 -DPAUSE_FENCER -DSLOW_AFTER_OFF -DMAXHBFAIL=1 -DMAXIOFAULT=0 -DMAXFLIP=0"
# the hand-over (power_fencing.cc): node 1 without a watchdog (a node with one is reset by it before its lease
# lapses in a pause), paused while its fence is in flight or awaits its verdict read (-DPAUSE_FENCING): its lease
# lapses, it self-fences and rejoins (-DRESTART1: node 1 alone), and its next core takes the fence over; a crash
# of node 2 (the one fenced), rounds of up to 2 ticks
FENCE_HANDOVER="-DNOWD_FENCED=1 -DFENCE -DHELD -DFROUND=2 -DMAXCRASH=1 -DMAXRESTART=1 -DRESTART1 -DMAXPAUSE=1 -DPAUSE_FENCING -DMAXHBFAIL=0 -DMAXSLOW=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
# the peer-watchdog fact (quorumd/peer_watchdog_file.h): node 1 has no watchdog and may pause; its heartbeat block
# may be damaged once (a torn write: no record, no flag); node 2 (-DRESTART2) loses its lease on a path failure and
# rejoins (peer_nowd_rejoin), or crashes and restarts (peer_nowd_restart): its next core must still know node 1 has
# no watchdog (-DBUG_NOWD_FORGET: it forgets, and D declares the paused node 1 dead)
PEER_NOWD_REJOIN="-DNOWD_FENCED=1 -DPEER_NOWD_KNOWN -DMAXHBCOR=1 -DFENCE -DHELD -DMAXCRASH=0 -DMAXRESTART=1 -DRESTART2 -DMAXPAUSE=1 -DMAXHBFAIL=1 -DMAXSLOW=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
PEER_NOWD_RESTART="-DNOWD_FENCED=1 -DPEER_NOWD_KNOWN -DMAXHBCOR=1 -DFENCE -DHELD -DMAXCRASH=1 -DMAXRESTART=1 -DRESTART2 -DMAXPAUSE=1 -DMAXHBFAIL=0 -DMAXSLOW=0 -DMAXIOFAULT=0 -DMAXFLIP=0"
STALL_RESTART="-DLAN -DWD_REAL -DHELD -DRESTART2 -DMAXCRASH=1 -DMAXRESTART=1 -DMAXPAUSE=0 -DMAXHBFAIL=2 -DMAXIOFAULT=0 -DMAXFLIP=0 -DMAXSTALL=1 -DMAXPART=1 -DMAXLANLATE=0"

# The majority device (issue 17; majority.pml, runs maj_*): three devices under the composite's rules, one writer node
# (lives, crash, restart, rejoin, undead), one reader with PeerMonitor's rule; bounded horizons (MAXT ticks). The
# chooser is ordered lives (the highest (life, seq) of a read's valid majority, or the reader's memory if higher);
# every run checks (a) in real time (-DSTRICT_A) besides (a'), (b), (c), (d), (f).
# maj_fault: one fault of every kind on any device at any moment; maj_crash: + a crash of the writer (c, d);
# maj_restart: a crash and a restart in the same tick with a stall or a lagging device (late writes of the replaced
# life; the new process starts once the kernel holds none of the old one's writes); maj_restart_io: the same with
# EIO, read-only, zeroed, garbage; maj_rejoin: a stall, a fence and a rejoin in the same process with a straggler;
# maj_two: two devices failing (EIO, read-only): the lease lapses (f), and (c); maj_two_slow: two faults (stall, lag)
MAJ_FAULT="-DSTRICT_A -DMAXT=7 -DMAXCRASH=0 -DMAXRESTART=0"
MAJ_CRASH="-DSTRICT_A -DMAXT=8 -DMAXRESTART=0"
MAJ_RESTART="-DSTRICT_A -DMAXT=6 -DRESTART_AT_ONCE -DKINDS=66"
MAJ_RESTART_IO="-DSTRICT_A -DMAXT=6 -DRESTART_AT_ONCE -DKINDS=60"
MAJ_REJOIN="-DSTRICT_A -DREJOIN -DMAXCRASH=0 -DMAXT=6 -DRESTART_AT_ONCE -DKINDS=2"
MAJ_TWO="-DSTRICT_A -DMAXT=6 -DMAXFAULT=2 -DKINDS=12 -DMAXCRASH=0 -DMAXRESTART=0"
MAJ_TWO_SLOW="-DSTRICT_A -DMAXT=6 -DMAXFAULT=2 -DKINDS=66 -DMAXCRASH=0 -DMAXRESTART=0"
# a crash and restart of the writer, a stall or a read-only device, a reader restart (its memory lost), missing answers
MAJ_CHOICE="-DSTRICT_A -DMAXT=6 -DRESTART_AT_ONCE -DKINDS=10 -DMAXRRESTART=1 -DMAXMISS=1"
# an undead life 1 beside life 2 (a restart while life 1 writes on), both lives' own reads with the code's own-read
# rule (another writer's copy from a device that took a write of ours first is shown): (e), (e'); no peer
MAJ_UNDEAD="-DMAXT=5 -DUNDEAD -DOWNREAD -DNOPEER -DMAXCRASH=0 -DMAXFAULT=0"
# the same with the peer reading (findings: ordered lives hide the lower life's writes, see README.md)
MAJ_UNDEAD_PEER="-DMAXT=7 -DUNDEAD -DOWNREAD -DMAXCRASH=0 -DMAXFAULT=0"
# the peer reading, 5 ticks, life 2's landings after life 1's on each device (a subset of the schedules: fewer states)
MAJ_UNDEAD_ORDER="-DMAXT=5 -DUNDEAD -DOWNREAD -DMAXCRASH=0 -DMAXFAULT=0 -DUNDEAD_ORDER"
# a crash and restart of the writer, no device fault; maj_split: one read's answers go on past the next tick (the
# new life's first write lands and completes between two answers of one read); maj_overlap: besides, a second read
# may be issued while one is open (two reads of one reader process, sharing its memory, completing in any order);
# maj_overlap2: two reads past a tick
MAJ_SPLIT="-DSTRICT_A -DMAXT=4 -DRESTART_AT_ONCE -DMAXFAULT=0 -DSPLIT_READ -DMAXSPLIT=1"
MAJ_OVERLAP="-DSTRICT_A -DMAXT=3 -DRESTART_AT_ONCE -DMAXFAULT=0 -DSPLIT_READ -DMAXSPLIT=1 -DOVERLAP -DMAXOVERLAP=1"
MAJ_OVERLAP2="-DSTRICT_A -DMAXT=3 -DRESTART_AT_ONCE -DMAXFAULT=0 -DSPLIT_READ -DMAXSPLIT=2 -DOVERLAP -DMAXOVERLAP=1"

# Replacing a quorum device (castor disk replace; replace.pml, runs rep_*): two nodes, OLD, B, C and NEW, the tool's
# steps (it may stop after any), the verb on one node then the other; the property: the two nodes' sets never have
# disjoint majorities. rep_restart: a crash and a clean leave, two restarts (open, then start), one device not
# answering at an open; rep_leave: a clean leave, two restarts, a pause, a fence and a rejoin; rep_two_admins: a
# second admin replacing B by NEW2 at once from the other node (no restarts); rep_full: all of it (bugs mode).
REP_RESTART="-DMAXPAUSE=0 -DMAXFENCE=0"
REP_LEAVE="-DMAXCRASH=0"
REP_TWO_ADMINS="-DTWO_ADMINS"
REP_FULL=""

# gcc compiles pan.c in about 25 s at -O2 and 10 s at -O1; -O2 searches about a third faster. Only the
# runs of tens of millions of states earn the longer compile (measured: stall, 3.5M states, 45 s at -O2,
# 38 s at -O1, 53 s at -O0).
PAN_O2_RUNS=" failover leave "
# run NAME EXPECT(pass|error) KIND(safety|liveness) FLAGS...
run() {
  local name=$1 expect=$2 kind=$3; shift 3
  local flags="$*" dir=$out/$name opt=-O1 m=$model
  case $PAN_O2_RUNS in *" $name "*) opt=-O2;; esac
  case $name in
    maj_*) m=$here/majority.pml;;   # the majority device's model (issue 17)
    rep_*) m=$here/replace.pml;;    # replacing a member of the set (castor disk replace)
  esac
  local pml; pml=$(basename "$m")
  rm -rf "$dir"; mkdir -p "$dir"; cp "$m" "$dir/$pml"
  local start=$SECONDS
  (
    cd "$dir" || exit 2
    spin -a $flags "$pml" >spin.out 2>&1 || { cat spin.out; exit 2; }
    if [ "$kind" = liveness ]; then
      gcc $opt -w -DNFAIR=8 -DCOLLAPSE -o pan pan.c >gcc.out 2>&1 || { cat gcc.out; exit 2; }
      ./pan -a -f -m200000 -w22 >pan.out 2>&1
    else
      gcc $opt -w -DSAFETY -DCOLLAPSE -o pan pan.c >gcc.out 2>&1 || { cat gcc.out; exit 2; }
      ./pan -m200000 -w24 >pan.out 2>&1
    fi
    exit 0
  ) || { echo "model $name: could not build or run ($flags)"; failed=1; return; }
  local p=$dir/pan.out errors states secs
  errors=$(sed -n 's/.*errors: *\([0-9]*\).*/\1/p' "$p" | tail -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$p" | tail -1)
  secs=$((SECONDS - start))
  if grep -q 'max search depth too small' "$p"; then
    echo "model $name: search depth too small: not exhaustive"; failed=1; return
  fi
  if [ -z "$errors" ]; then echo "model $name: no result from pan"; tail -20 "$p"; failed=1; return; fi
  local what="$states states stored, $errors errors, ${secs}s"
  if [ "$expect" = pass ]; then
    if [ "$errors" = 0 ]; then
      echo "model $name ($kind): OK: $what"
    else
      echo "model $name ($kind): FAILED: $what"
      grep -E 'pan:1:|assertion violated|acceptance cycle' "$p" | head -3
      (cd "$dir" && spin -T -t $flags "$pml" 2>&1 | grep -E '^ *EV|spin:' | sed 's/^ *//' | tail -40)
      failed=1
    fi
  else
    if [ "$errors" = 0 ]; then
      echo "model $name: NOT FOUND: the seeded bug should have been found ($what)"; failed=1; return
    fi
    echo "model $name: found as expected: $what: $(grep -E 'pan:1:' "$p" | head -1)"
    if [ "$pml" = majority.pml ] || [ "$pml" = replace.pml ]; then   # their EV lines say it all
      (cd "$dir" && spin -T -t $flags "$pml" 2>&1) | grep -E '^ *EV|text of failed' | sed 's/^ *EV //; s/^spin: text of failed assertion: /# assertion violated: /' >"$out/$name.trail"
    else
      (cd "$dir" && spin -T -t $flags "$pml" 2>&1) | trail_format "$name" "$flags" >"$out/$name.trail"
    fi
    echo "   trail: $out/$name.trail ($(grep -vc '^#' "$out/$name.trail") events)"
  fi
}

# spin -t output -> one event per line: "t=<tick> n=<node> <event> [key=value...]", "t=<tick> tick".
# Repeated identical reads of the peer's entry (no change for the model) are dropped.
trail_format() {
  echo "# castor model trail: $1 ($(spin -V 2>/dev/null | head -1 | sed 's/ *--.*//'))"
  echo "# flags: $2"
  echo "# one event per line; t = tick (io_timeout T); n = node id; see tests/model/README.md"
  sed 's/^ *//' | awk 'BEGIN { t = 0 }
    /^EV / { sub(/^EV /, "")
             if ($0 == "tick") { t++; print "t=" t " tick"; next }
             if ($0 ~ /on_peer_entry/ && last[$1 " " $2] == $0) next
             if ($0 ~ /on_peer_entry/) last[$1 " " $2] = $0
             print "t=" t " " $0; next }
    /text of failed assertion/ { sub(/^spin: text of failed assertion: /, ""); print "# assertion violated: " $0 }'
}

# Runs go two at a time (MODEL_JOBS): each writes OUT/<name>.log and OUT/<name>.status; printed in order.
jobs_max=${MODEL_JOBS:-2}
names=()
launch() {
  if [ -n "${MODEL_ONLY:-}" ]; then case " $MODEL_ONLY " in *" $1 "*) ;; *) return 0;; esac; fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
  names+=("$1")
  ( failed=0; run "$@"; echo $failed >"$out/$1.status" ) >"$out/$1.log" 2>&1 &
}
collect() {
  wait
  for n in "${names[@]+"${names[@]}"}"; do
    cat "$out/$n.log"
    [ "$(cat "$out/$n.status" 2>/dev/null)" = 0 ] || failed=1
  done
}

BUGS="skip_reread early_takeover liveness_alone read_block0 corrupt_free floor_after down_while_owned late_down
restart_no_wait restart_rebuild_floor promise_no_floor promise_receipt_anchor grant_disk_ok promise_forgotten"
case $mode in
  verify)
    launch failover pass safety $FAILOVER
    launch leave pass safety $LEAVE
    launch leave_ci pass safety $LEAVE_CI
    launch stall pass safety $STALL
    launch stall_restart pass safety $STALL_RESTART
    # P > F (P = 5, F = 3): a new core holds DEAD back by restart_hold = P - F (with P = F it holds nothing)
    launch stall_restart_p5 pass safety -DP=5 $STALL_RESTART
    launch race pass safety $RACE
    launch crash pass safety $CRASH
    launch blocks pass safety $BLOCKS
    launch corrupt pass safety $CORRUPT
    launch corrupt_restart pass safety $CORRUPT_RESTART
    launch fence_crash pass safety $FENCE_CRASH
    launch fence_stall pass safety $FENCE_STALL
    launch fence_lan pass safety $FENCE_LAN
    launch fence_lan_pause pass safety $FENCE_LAN_PAUSE
    launch fence_round pass safety $FENCE_ROUND
    # the suspicion's start may come before the first read of the value (the LAN datagram that named the write,
    # QuorumCore::silence_start): here at its earliest, a peer suspected at its first unchanged read (SF = 0),
    # the stale bound of an intent still counted from the first read (SFB as with SF = 1): safety rests on the
    # intent and the confirmed off, not on S
    launch fence_lan_early pass safety -DSF=0 -DSFB=3 $FENCE_LAN
    launch fence_round_early pass safety -DSF=0 -DSFB=7 $FENCE_ROUND
    # a node without a watchdog (watchdog_device = none with a power fence: HeartbeatRecord::kNoWatchdog): its peer
    # takes over only on a confirmed fence, never after D; paused, with a fence that fails (fence_nowd), or crashed
    # (fence_nowd_crash)
    launch fence_nowd pass safety -DNOWD_FENCED=1 $FENCE_LAN_PAUSE
    launch fence_nowd_crash pass safety -DNOWD_FENCED=1 $FENCE_CRASH
    # the hand-over of a confirmed fence to the fencer's next core (FENCE_HANDOVER above)
    launch fence_handover pass safety $FENCE_HANDOVER
    # the peer-watchdog fact kept by a new core and a new quorumd (PEER_NOWD_* above)
    launch peer_nowd_rejoin pass safety $PEER_NOWD_REJOIN
    launch peer_nowd_restart pass safety $PEER_NOWD_RESTART
    # a quorumd without a peer-watchdog file (a new node, its state directory lost) at every start, the block
    # damaged before it ever read the flag: a [fence PEER] makes it take the peer for one without a watchdog
    launch peer_nowd_nofile pass safety -DNOWD_NOFILE $PEER_NOWD_RESTART
    launch relocation pass liveness $LIVE
    # the majority device (issue 17), ordered lives
    launch maj_fault pass safety $MAJ_FAULT
    launch maj_crash pass safety $MAJ_CRASH
    launch maj_restart pass safety $MAJ_RESTART
    launch maj_restart_io pass safety $MAJ_RESTART_IO
    launch maj_rejoin pass safety $MAJ_REJOIN
    launch maj_two pass safety $MAJ_TWO
    launch maj_two_slow pass safety $MAJ_TWO_SLOW
    launch maj_choice pass safety $MAJ_CHOICE
    launch maj_undead pass safety $MAJ_UNDEAD
    launch maj_split pass safety $MAJ_SPLIT
    launch maj_overlap pass safety $MAJ_OVERLAP
    launch maj_overlap2 pass safety $MAJ_OVERLAP2
    # replacing a quorum device
    launch rep_restart pass safety $REP_RESTART
    launch rep_leave pass safety $REP_LEAVE
    launch rep_two_admins pass safety $REP_TWO_ADMINS
    collect
    ;;
  bugs|trails)
    launch skip_reread error safety -DBUG_SKIP_REREAD $RACE
    launch early_takeover error safety -DBUG_EARLY_TAKEOVER $FAILOVER
    # Not a seeded bug: Ownership's contract. A DEAD verdict fed alone (not with a fresh read of the peer's
    # entry, as SvcmgrDaemon::on_peer_table always does) lets the core reuse an epoch. Expected to fail.
    launch liveness_alone error safety -DLIVENESS_ALONE $CRASH
    launch read_block0 error safety -DBUG_READ_BLOCK0 $BLOCKS
    launch corrupt_free error safety -DBUG_CORRUPT_FREE $CORRUPT
    launch floor_after error safety -DBUG_FLOOR_AFTER $CORRUPT
    launch down_while_owned error safety -DBUG_DOWN_WHILE_OWNED $LEAVE
    launch late_down error safety -DBUG_LATE_DOWN $LEAVE
    launch restart_no_wait error safety -DBUG_RESTART_NO_WAIT $CRASH
    launch restart_rebuild_floor error safety -DBUG_RESTART_REBUILD_FLOOR $CORRUPT_RESTART
    launch promise_no_floor error safety -DBUG_PROMISE_NO_FLOOR $STALL
    launch promise_receipt_anchor error safety -DBUG_PROMISE_RECEIPT_ANCHOR $STALL
    launch grant_disk_ok error safety -DBUG_GRANT_DISK_OK $STALL
    # With P = F there is nothing to forget (restart_hold = 0): run with P = 5 > F, where a new core must hold
    # back P - F. Found by the rule's assert: a DEAD verdict before an earlier life's grant + (P - F) + D.
    launch promise_forgotten error safety -DP=5 -DBUG_PROMISE_FORGOTTEN $STALL_RESTART
    # power fencing: a take-over on a fence that failed (of a node paused, then running again within its lease);
    # the rule without DISKWIN (both nodes suspect each other after a shared stall: the mutual check of the runs
    # without the LAN); the fenced node powered on before the fencer's verdict read
    launch fence_unconfirmed error safety -DBUG_FENCE_UNCONFIRMED $FENCE_PAUSE_LAN
    launch fence_no_diskwin error safety -DBUG_FENCE_NO_DISKWIN $FENCE_STALL_NOREBOOT
    launch fence_early_on error safety -DBUG_FENCE_EARLY_ON $FENCE_REBOOT
    # the fence intent: the look takes the read of the announce (issued before the intent write completed): both
    # nodes fence each other; no announce at all (the fence handed to the BMC on MAYF, S = T with the LAN); a
    # stale bound of SF ticks, shorter than the peer's round (rounds of up to 3 ticks)
    launch fence_look_early error safety -DBUG_FENCE_LOOK_EARLY $FENCE_LAN
    launch fence_no_announce error safety -DBUG_FENCE_NO_ANNOUNCE $FENCE_LAN
    launch fence_stale_early error safety -DBUG_FENCE_STALE_EARLY $FENCE_ROUND
    # rule 3 as first written (see FENCE_REJOIN above), and the amended rule on the same scenario
    launch fence_look_inc error safety -DBUG_FENCE_LOOK_INC $FENCE_REJOIN
    # a node without a watchdog declared DEAD after D like any other (it is paused, not dead, and runs again)
    launch fence_nowd_d error safety -DNOWD_FENCED=1 -DBUG_NOWD_D $FENCE_LAN_PAUSE
    # the flag forgotten with the core that read it (a rejoin, a restart): D declares the paused node dead
    launch peer_nowd_forget error safety -DBUG_NOWD_FORGET $PEER_NOWD_REJOIN
    launch peer_nowd_forget_restart error safety -DBUG_NOWD_FORGET $PEER_NOWD_RESTART
    # a missing peer-watchdog file taken for "the peer has a watchdog" (the code before): D declares dead a
    # paused node whose block was damaged before this quorumd read it
    launch peer_nowd_nofile_bug error safety -DNOWD_NOFILE -DBUG_NOWD_NOFILE $PEER_NOWD_RESTART
    launch fence_rejoin pass safety $FENCE_REJOIN
    # not bugs: witnesses that the runs reach what they must cover (fence_lan): both nodes may fence each other
    # at once (S = T), a node yields to the peer's intent, a node fences past a stale intent
    launch reach_fence_handed error safety -DREACH_FENCE_HANDED $FENCE_HANDOVER
    launch reach_unseen_fence error safety -DREACH_UNSEEN_FENCE $PEER_NOWD_RESTART
    launch reach_fence_both_mayf error safety -DREACH_FENCE_BOTH_MAYF $FENCE_LAN
    launch reach_fence_yield error safety -DREACH_FENCE_YIELD $FENCE_LAN
    launch reach_fence_stale error safety -DREACH_FENCE_STALE $FENCE_LAN
    # the majority device (issue 17): the seeded bugs of ordered lives, and the findings (expected to fail; README.md).
    # No reader memory: two reads of one reader process (one past a tick), the later one hands out a lower value
    launch maj_no_reader_memory error safety -DBUG_NO_READER_MEMORY $MAJ_SPLIT
    launch maj_read_one error safety -DBUG_READ_ONE $MAJ_FAULT
    launch maj_one_disk_lease error safety -DBUG_ONE_DISK_LEASE $MAJ_TWO_SLOW
    launch maj_no_dev_order error safety -DBUG_NO_DEV_ORDER $MAJ_FAULT
    launch maj_no_exit_wait error safety -DRESTART_NO_EXIT_WAIT $MAJ_RESTART
    # life 2 carries life 1's number (its seqs start again at 1): the old life's copies beat the new life's
    # completed writes, after a restart and after a rejoin (a straggler in the stalled device)
    launch maj_life_reused error safety -DBUG_LIFE_REUSED $MAJ_RESTART
    launch maj_life_reused_rejoin error safety -DBUG_LIFE_REUSED $MAJ_REJOIN
    # the own read gets the choice only (not another writer's copy): life 2 never sees the undead life 1 (e')
    launch maj_no_foreign_own error safety -DBUG_NO_FOREIGN_OWN $MAJ_UNDEAD
    # findings: (e) as the spec words it (life 1's own read after life 2's write completed on a majority: the
    # undead's own writes land over life 2's copies first); with the peer reading beside an undead life, (a') and,
    # without (a'), (c): the lower life's writes are never handed out over the reader's memory of life 2, and
    # life 2's writes land after the read's answers, so the peer sees a stand-still for D ticks -- with both own
    # reads and the own-read rule in, neither life need fence (each read answered after its own life's landing);
    # maj_undead_fenced: (c) checked only once a life fenced, a fence ending that life's lease at once: life 2
    # fences, the undead life 1 (hidden from the peer) holds its lease at the verdict; maj_no_fence_k: two lives
    # writing, neither fenced 4 ticks after life 2's start (there is no such K: the schedule repeats every tick)
    launch maj_e_literal error safety -DE_LITERAL $MAJ_UNDEAD
    launch maj_undead_peer error safety $MAJ_UNDEAD_PEER
    launch maj_undead_dead error safety -DNO_A_PRIME $MAJ_UNDEAD_ORDER
    launch maj_undead_fenced error safety -DNO_A_PRIME -DC_AFTER_FENCE -DFENCE_ENDS_LEASE $MAJ_UNDEAD_ORDER
    launch maj_no_fence_k error safety -DFENCE_WITHIN=4 $MAJ_UNDEAD
    # replacing a quorum device: every bound at once, the seeded bugs, and the rules as written that the model
    # amends (findings, expected to fail; see replace.pml's header and README.md)
    launch rep_full pass safety $REP_FULL
    launch rep_open_new_names pass safety -DOPEN_NEW_NAMES $REP_FULL
    launch rep_adopt_early error safety -DBUG_ADOPT_EARLY $REP_FULL
    launch rep_start_adopt error safety -DBUG_START_ADOPT $REP_FULL
    launch rep_dead_confirms error safety -DBUG_DEAD_CONFIRMS $REP_FULL
    launch rep_late_superblocks error safety -DBUG_LATE_SUPERBLOCKS $REP_FULL
    launch rep_any_slot error safety -DBUG_ANY_SLOT $REP_TWO_ADMINS
    launch rep_down_vouches error safety -DDOWN_VOUCHES $REP_FULL
    launch rep_post_unvouched error safety -DPOST_UNVOUCHED $REP_FULL
    launch rep_tool_skips error safety -DTOOL_SKIPS $REP_FULL
    collect
    if [ "$mode" = trails ] && [ $failed = 0 ]; then
      mkdir -p "$here/trails"
      for b in $BUGS; do [ -f "$out/$b.trail" ] && cp "$out/$b.trail" "$here/trails/"; done
      echo "model: trails copied to tests/model/trails/"
    elif [ $failed = 0 ]; then
      for b in $BUGS; do
        [ -f "$out/$b.trail" ] || continue
        cmp -s <(grep -v '^#' "$out/$b.trail") <(grep -v '^#' "$here/trails/$b.trail" 2>/dev/null) ||
          echo "   note: $b.trail differs from tests/model/trails/$b.trail (make model-trails updates it)"
      done
    fi
    ;;
  *) echo "usage: $0 verify|bugs|trails OUTDIR" >&2; exit 2 ;;
esac
[ $failed = 0 ] && echo "model: all checks passed" || echo "model: FAILED"
exit $failed
