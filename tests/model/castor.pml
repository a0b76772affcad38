/*
 * Castor: a Promela model of the heartbeat / node lease / service ownership protocol (docs/design.md).
 * Checked exhaustively by `make verify` (mk/verify.mk); see tests/model/README.md.
 *
 * Two nodes (index 0 and 1; the core's node ids are 1 and 2), one service, one shared disk of
 * single-writer sectors: node i writes only its heartbeat block and its own service entry disk[i]; the
 * peer reads them.
 *
 * The steps are named after svcmgr/ownership.{h,cc} (Ownership::step's cases, on_write_done,
 * on_peer_entry, on_liveness, on_stopped, set_intent) and quorumd (heartbeat write, PeerMonitor::observe,
 * NodeLease, fence, watchdog).  Every step prints one "EV ..." line; `make verify-bugs` turns a
 * counter-example into tests/model/trails/*.trail (one event per line), which
 * tests/unit/model_trail_replay_test.cc replays through the real C++ core.
 *
 * TIME.  Discrete: a global tick is one io_timeout T (the Clock process).  Everything between two ticks
 * happens "in" that tick, in any order.  With T = 1 tick: lease F = 3, watchdog W = 2, margin M = 1, dead
 * time D = F + W + M = 6 (docs/design.md, "Timing: one formula").  The kill grace G only stops services
 * early (graceful); safety rests on the fence at the lease end, so G is left out.  At each tick, in order:
 *   lease[i]  (ticks the lease is still valid, this one included) counts down; at 0 quorumd fences the
 *             node: its service is killed (modelled as a crash: the daemon rejoins as a new incarnation);
 *             if the node is paused then, it fences the moment it resumes (the lease is checked first).
 *   wd[i]     the hardware watchdog counts down and resets the node at 0, paused or not (it is outside);
 *             it is petted (set to W) while the lease is valid and the node is not paused.
 *   an entry write not yet reported ok misses its deadline T: on_write_done(ok=false) follows.
 *   heartbeat: a node that runs and whose heartbeat path works (hbfail[i] == 0) writes its heartbeat and
 *             the write completes ok: lease[i] = F, counted from the ISSUE (this tick).  A node whose
 *             path failed (a fault, at most MAXHBFAIL) writes nothing that lands: no renewal, no change.
 *             (A failed heartbeat write that lands late only shows the peer a change and delays its
 *             verdict; leaving it out is the worst case.)
 *   the peer's quorumd reads the heartbeat (PeerMonitor::observe): chg[j] (a write of the peer landed
 *             since j's last read; heartbeat values never repeat, so "changed" is exact) resets age[j],
 *             the ticks since j first read the current value, and voids a DEAD verdict; otherwise a read
 *             with age[j] >= D declares the peer DEAD, and every later such read re-confirms it.
 * Reads at the tick, right after the write, make first_seen as early as possible: the worst case.
 * Clock rates are equal in the model (M absorbs their difference in the real system); with discrete
 * ticks the lease argument needs D >= F + W - 1, so the real D = F + W + M leaves 2 ticks of slack, and
 * BUG_EARLY_TAKEOVER (D = F) is found.
 *
 * I/O.  Entry writes: one write per block in the kernel at once (quorumd), so a write waits until the
 * previous one landed or was lost.  A write lands at any moment; if it is not reported by the next tick
 * it timed out (on_write_done(ok=false)) and may still land later, or never.  At most MAXIOFAULT writes
 * miss their deadline: past that budget, time waits for the writes in flight to complete (a bounded-fault
 * assumption that keeps the state space small).  Entry reads: a read of the peer's entry is always in flight; it is serviced and
 * delivered (on_peer_entry) at any moment, and the next one is issued at once (a later delivery only
 * delays a take-over, so service and delivery are one step).
 * Crash: processes, service and volatile state are lost; writes in the kernel may still land.  Restart
 * (new incarnation): the Ownership is rebuilt from the node's entry on disk (its constructor); a restart
 * waits until no write of the previous life is left in the kernel (a reboot outlasts the device's I/O).
 * Table writes need a valid lease (quorumd refuses otherwise), so a new incarnation's heartbeat lands
 * before any of its entries.  Pause: the node and its service stand still (still "running" for the
 * safety property); its writes in the kernel may land; time passes.
 *
 * Bounds: ballots <= MAXB, epochs <= MAXE, MAXCRASH crashes, MAXRESTART restarts (fences included),
 * MAXPAUSE pauses, MAXHBFAIL heartbeat path failures, MAXIOFAULT entry writes that miss their deadline,
 * MAXFLIP changes of the policy's intent.  A step that would exceed a bound is not taken.
 *
 * Flags: -DLIVENESS the relocation scenario for the liveness check (no time, crashes, pauses or I/O
 * errors; node 1 holds the service, then the policy moves it to node 2).  Seeded bugs: -DBUG_SKIP_REREAD
 * (confirm a claim with a read of the peer's entry issued before the claim write completed),
 * -DBUG_EARLY_TAKEOVER (dead time D = F: the peer is declared dead too early).
 */

#define F 3
#define W 2
#define M 1
#ifdef BUG_EARLY_TAKEOVER
#define D F
#else
#define D (F + W + M)
#endif

#ifndef MAXB
#define MAXB 6
#endif
#ifndef MAXE
#define MAXE 2
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef MAXRESTART
#define MAXRESTART 1
#endif
#ifndef MAXPAUSE
#define MAXPAUSE 1
#endif
#ifndef MAXHBFAIL
#define MAXHBFAIL 1
#endif
#ifndef MAXIOFAULT
#define MAXIOFAULT 1
#endif
#ifndef MAXFLIP
#define MAXFLIP 1
#endif

/* OwnershipState (quorumd/service_table_record.h); the core never writes `releasing` or `disabled`. */
#define NONE      0
#define CLAIMING  1
#define OWNED     2
#define RELEASING 3
#define RELEASED  4
/* OwnershipPhase (svcmgr/ownership.h) */
#define IDLE     0
#define PCLAIM   1
#define OWNING   2
#define RUNNING  3
#define STOPPING 4
#define PRELEASE 5
/* Intent */
#define REL  0
#define HOLD 1

#define MAX(a, b) ((a) > (b) -> (a) : (b))
#define ID(i) ((i) + 1)
#define PEER(i) (1 - (i))

typedef Entry { byte st; byte nd; byte bal; byte ep };

/* ---- the disk ---- */
Entry disk[2];            /* node i's service entry (written only by i) */
/* node i's entry block in the kernel: 0 none; 1 in flight; 2 landed, not yet reported;
   3 timed out or orphaned (reported failed or writer crashed), not landed: lands later or never */
byte ew[2];
Entry ewv[2];             /* the value in flight */
bit hbfail[2];            /* node i's heartbeat writes fail (its path to the disk broke) */

/* ---- the nodes ---- */
bit alive[2];
bit paused[2];
bit lapsed[2];            /* the lease lapsed while paused: fence on resume */
byte lease[2];
byte wd[2];
bit svc[2];               /* the service's processes exist on node i (paused ones included) */
bit stopping[2];          /* stop requested, processes not yet gone */

/* ---- Ownership (one per node; reset on crash, rebuilt by the constructor on restart) ---- */
byte phase[2];
Entry mine[2];
bit tok[2];               /* token_ != 0: a write of my entry is in flight */
bit wok[2];               /* write_ok_ */
bit tofail[2];            /* a failure/timeout of my write not yet reported via on_write_done(false) */
bit stopped[2];           /* on_stopped() seen */
bit have[2];              /* peer_ is set */
Entry peer[2];            /* peer_->entry */
bit fresh[2];             /* peer_->read_issued > write_completed_ */
bit odead[2];             /* liveness_.view == dead */
bit oconf[2];             /* liveness_.confirmed_at > peer_value_since_ */
byte intent[2];

/* ---- reads ---- */
bit rdf[2];               /* ... issued after my last ok write completion */

/* ---- quorumd's PeerMonitor of the peer (observer j) ---- */
bit chg[2];               /* the peer's heartbeat changed since my last read */
byte age[2];              /* ticks since first_seen (saturates at D) */
bit qdead[2];             /* view == DEAD */
bit qconf[2];             /* last DEAD confirmation issued after Ownership's peer_value_since_ */

byte crashes, restarts, pauses, hbfails, flips, iofaults;
byte maxep;               /* the largest epoch ever started */

#define IS_UP(s) ((s) == CLAIMING || (s) == OWNED || (s) == RELEASING)
/* Ownership::peer_up() */
#define PEER_UP(i) (!have[i] || (IS_UP(peer[i].st) && !(odead[i] && oconf[i])))
/* Ownership::peer_has_priority() */
#define PRIO(i) (peer[i].bal != mine[i].bal -> peer[i].bal > mine[i].bal : \
                 (peer[i].nd != 0 -> peer[i].nd < ID(i) : ID(i) != 1))
#define TARGET(i) (intent[i] == REL -> ID(PEER(i)) : 0)
#ifdef BUG_SKIP_REREAD
#define FRESH(i) 1
#else
#define FRESH(i) fresh[i]
#endif
/* Ownership::step is called only while nothing of mine is in the kernel, my write is reported, and
   quorumd holds a valid lease (it writes nothing without one). */
#define SGATE(i) (alive[i] && !paused[i] && ew[i] == 0 && lease[i] > 0 && !tok[i])
/* ... and a step that writes stays within the ballot bound */
#define GATE(i) (SGATE(i) && MAX(mine[i].bal, peer[i].bal) < MAXB)
#define RUNS(i) (alive[i] && !paused[i])
#define PENDING(i) (alive[i] && (ew[i] == 1 || ew[i] == 2))   /* an entry write that must complete this tick */

inline copy(dst, src) {
  dst.st = src.st; dst.nd = src.nd; dst.bal = src.bal; dst.ep = src.ep
}
inline zero(e) {
  e.st = 0; e.nd = 0; e.bal = 0; e.ep = 0
}
#define SAME(a, b) (a.st == b.st && a.nd == b.nd && a.bal == b.bal && a.ep == b.ep)

/* Ownership::write(e): mine[i] already holds e; a new ballot above every ballot seen (claims carry theirs) */
inline owrite(i) {
  if
  :: mine[i].st != CLAIMING -> mine[i].bal = MAX(mine[i].bal, peer[i].bal) + 1
  :: else -> skip
  fi;
  tok[i] = 1; wok[i] = 0;
  ew[i] = 1; copy(ewv[i], mine[i]);
  printf("EV n=%d write st=%d nd=%d bal=%d ep=%d\n", ID(i), mine[i].st, mine[i].nd,
         mine[i].bal, mine[i].ep)
}

/* A crash, a fence or a watchdog reset: the incarnation and its service are gone. */
inline crash(i) {
  alive[i] = 0; paused[i] = 0; lapsed[i] = 0; lease[i] = 0; wd[i] = 0;
  svc[i] = 0; stopping[i] = 0;
  if
  :: ew[i] == 1 -> ew[i] = 3
  :: ew[i] == 2 -> ew[i] = 0; zero(ewv[i])
  :: else -> skip
  fi;
  phase[i] = IDLE; zero(mine[i]); tok[i] = 0; wok[i] = 0; tofail[i] = 0; stopped[i] = 0;
  have[i] = 0; zero(peer[i]); fresh[i] = 0; odead[i] = 0; oconf[i] = 0;
  rdf[i] = 0; hbfail[i] = 0;
  chg[i] = 1; age[i] = 0; qdead[i] = 0; qconf[i] = 0
}

/* The Ownership constructor, from my entry on disk (a previous life's). */
inline restart(i) {
  alive[i] = 1; rdf[i] = 1;   /* the first read is issued after every write of this life (none yet) */
  copy(mine[i], disk[i]);
  if
  :: IS_UP(disk[i].st) -> phase[i] = PRELEASE; mine[i].st = RELEASED; mine[i].nd = 0; wok[i] = 0
  :: else -> phase[i] = IDLE; wok[i] = (disk[i].bal > 0)
  fi;
  printf("EV n=%d restart st=%d bal=%d ep=%d\n", ID(i), disk[i].st, disk[i].bal, disk[i].ep)
}

proctype Node(byte i) {
end:
  do
  /* ---------------- Ownership::step(now), case by case ---------------- */
  :: atomic { GATE(i) && phase[i] == IDLE && !wok[i] ->
       printf("EV n=%d step idle_rewrite\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == IDLE && wok[i] && intent[i] == HOLD && have[i] && !PEER_UP(i) ->
       mine[i].st = CLAIMING; mine[i].nd = ID(i); mine[i].bal = MAX(mine[i].bal, peer[i].bal) + 1;
       phase[i] = PCLAIM;
       printf("EV n=%d step claim\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == IDLE && wok[i] && intent[i] == REL &&
              mine[i].st != RELEASED && mine[i].st != NONE ->
       mine[i].st = RELEASED; mine[i].nd = TARGET(i);
       printf("EV n=%d step idle_release\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == PCLAIM && !wok[i] ->
       printf("EV n=%d step claim_retry\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == PCLAIM && wok[i] && intent[i] != HOLD ->
       mine[i].st = RELEASED; mine[i].nd = TARGET(i); phase[i] = PRELEASE;
       printf("EV n=%d step claim_withdrawn_unwanted\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == PCLAIM && wok[i] && intent[i] == HOLD && have[i] && FRESH(i) &&
              PEER_UP(i) && !(peer[i].st == CLAIMING && !PRIO(i)) ->
       mine[i].st = RELEASED; mine[i].nd = TARGET(i); phase[i] = PRELEASE;
       printf("EV n=%d step claim_withdrawn_peer\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == PCLAIM && wok[i] && intent[i] == HOLD && have[i] && FRESH(i) &&
              !PEER_UP(i) && MAX(mine[i].ep, peer[i].ep) < MAXE ->
       mine[i].st = OWNED; mine[i].nd = ID(i); mine[i].ep = MAX(mine[i].ep, peer[i].ep) + 1;
       phase[i] = OWNING;
       printf("EV n=%d step claim_confirmed_owned\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == OWNING && !wok[i] ->
       printf("EV n=%d step owned_retry\n", ID(i));
       owrite(i) }
  :: atomic { SGATE(i) && phase[i] == OWNING && wok[i] ->
       phase[i] = RUNNING; stopped[i] = 0; svc[i] = 1;
       printf("EV n=%d start ep=%d\n", ID(i), mine[i].ep);
       assert(!svc[PEER(i)]);          /* never two owners */
       assert(mine[i].ep > maxep);     /* every start has a new, larger epoch */
       maxep = mine[i].ep }
  :: atomic { SGATE(i) && phase[i] == RUNNING && intent[i] != HOLD ->
       phase[i] = STOPPING; stopping[i] = 1;
       printf("EV n=%d stop\n", ID(i)) }
  :: atomic { GATE(i) && phase[i] == STOPPING && stopped[i] ->
       mine[i].st = RELEASED; mine[i].nd = TARGET(i); phase[i] = PRELEASE;
       printf("EV n=%d step stopped_release\n", ID(i));
       owrite(i) }
  :: atomic { GATE(i) && phase[i] == PRELEASE && !wok[i] ->
       printf("EV n=%d step release_retry\n", ID(i));
       owrite(i) }
  :: atomic { SGATE(i) && phase[i] == PRELEASE && wok[i] ->
       phase[i] = IDLE;
       printf("EV n=%d released_idle\n", ID(i)) }

  /* ---------------- inputs of the core ---------------- */
  :: atomic { RUNS(i) && ew[i] == 2 ->        /* on_write_done(token, ok=true, now) */
       ew[i] = 0; zero(ewv[i]);
       tok[i] = 0; wok[i] = 1; fresh[i] = 0; rdf[i] = 0;
       printf("EV n=%d write_done ok\n", ID(i)) }
  :: atomic { RUNS(i) && tofail[i] ->          /* on_write_done(token, ok=false, now) */
       tofail[i] = 0; tok[i] = 0; wok[i] = 0;
       printf("EV n=%d write_done failed\n", ID(i)) }
  :: atomic { RUNS(i) && stopping[i] ->        /* the service's processes are gone: on_stopped() */
       stopping[i] = 0; svc[i] = 0; stopped[i] = 1;
       printf("EV n=%d on_stopped\n", ID(i)) }

#ifndef LIVENESS
  /* ---------------- faults ---------------- */
  :: atomic { RUNS(i) && !hbfail[i] && hbfails < MAXHBFAIL -> hbfails++; hbfail[i] = 1;
       printf("EV n=%d hb_path_fails\n", ID(i)) }
  :: atomic { alive[i] && crashes < MAXCRASH -> crashes++; printf("EV n=%d crash\n", ID(i)); crash(i) }
  :: atomic { RUNS(i) && pauses < MAXPAUSE -> pauses++; paused[i] = 1;
       printf("EV n=%d pause\n", ID(i)) }
  :: atomic { alive[i] && paused[i] -> paused[i] = 0;
       printf("EV n=%d resume\n", ID(i));
       if
       :: lapsed[i] -> printf("EV n=%d fence_on_resume\n", ID(i)); crash(i)
       :: else -> wd[i] = W      /* quorumd checks the lease, then pets */
       fi }
  :: atomic { !alive[i] && ew[i] == 0 && restarts < MAXRESTART -> restarts++; restart(i) }
#endif
  od
}

/* svcmgr's reads of the peer's entry: one always in flight; delivering one issues the next.  As in
   SvcmgrDaemon::on_peer_table, each reply carries quorumd's current verdict on the peer, fed to the core
   with the entry (on_peer_entry, then on_liveness); the verdict never arrives alone.  (Fed alone, a DEAD
   verdict lets Ownership take its new epoch from a stale entry of the dead peer: see README.md.) */
proctype Reader(byte i) {
end:
  do
  :: atomic { RUNS(i) ->              /* serviced + delivered: on_peer_entry(read); next read issued */
       if
       :: !have[i] || !SAME(peer[i], disk[PEER(i)]) -> oconf[i] = 0; qconf[i] = 0  /* peer_value_since_ = now */
       :: else -> skip
       fi;
       copy(peer[i], disk[PEER(i)]); have[i] = 1; fresh[i] = rdf[i]; rdf[i] = 1;
       printf("EV n=%d on_peer_entry st=%d nd=%d bal=%d ep=%d fresh=%d\n", ID(i), peer[i].st,
              peer[i].nd, peer[i].bal, peer[i].ep, fresh[i]);
       /* quorumd's verdict comes with the table read (SvcmgrDaemon::on_peer_table): on_liveness */
#ifndef LIVENESS_ALONE
       if
       :: odead[i] != qdead[i] || oconf[i] != qconf[i] ->
          odead[i] = qdead[i]; oconf[i] = qconf[i];
          printf("EV n=%d on_liveness dead=%d\n", ID(i), odead[i])
       :: else -> skip
       fi
#endif
     }
#ifdef LIVENESS_ALONE
  /* Ownership's API also takes a verdict alone (no read with it): -DLIVENESS_ALONE checks that use. */
  :: atomic { RUNS(i) && (odead[i] != qdead[i] || oconf[i] != qconf[i]) ->
       odead[i] = qdead[i]; oconf[i] = qconf[i];
       printf("EV n=%d on_liveness dead=%d\n", ID(i), odead[i]) }
#endif
  od
}

inline land(i) {
  copy(disk[i], ewv[i]);
  printf("EV n=%d write_lands st=%d nd=%d bal=%d ep=%d\n", ID(i), disk[i].st, disk[i].nd,
         disk[i].bal, disk[i].ep)
}

/* The device under node i's blocks: landings, losses, I/O errors (one process per node). */
proctype Disk(byte i) {
end:
  do
  :: atomic { ew[i] == 1 -> land(i); ew[i] = 2 }
#ifndef LIVENESS
  :: atomic { ew[i] == 3 -> land(i); ew[i] = 0; zero(ewv[i]) }        /* a late write lands */
  :: atomic { ew[i] == 3 -> ew[i] = 0; zero(ewv[i]);                  /* ... or is lost */
       printf("EV n=%d write_lost\n", ID(i)) }
#endif
  od
}

#ifndef LIVENESS
/* One tick for node i: lease, fence, watchdog, write deadline (alive[i] is re-tested after a fence). */
inline tick1(i) {
  if
  :: alive[i] && lease[i] > 0 ->
     lease[i]--;
     if
     :: lease[i] == 0 && !paused[i] -> printf("EV n=%d fence_lease_lapsed\n", ID(i)); crash(i)
     :: lease[i] == 0 && paused[i] -> lapsed[i] = 1
     :: else -> skip
     fi
  :: else -> skip
  fi;
  if
  :: alive[i] && wd[i] > 0 -> wd[i]--;
     if
     :: wd[i] == 0 -> printf("EV n=%d watchdog_reset\n", ID(i)); crash(i)
     :: else -> skip
     fi
  :: else -> skip
  fi;
  if
  :: alive[i] && ew[i] == 1 -> ew[i] = 3; tofail[i] = 1; iofaults++    /* deadline T passed: timed out */
  :: alive[i] && ew[i] == 2 -> ew[i] = 0; zero(ewv[i]); tofail[i] = 1; iofaults++
  :: else -> skip
  fi
}
/* Node i's heartbeat write of this tick: completes ok, renews the lease from its issue (now). */
inline heartbeat(i) {
  if
  :: alive[i] && !paused[i] && !hbfail[i] && !lapsed[i] -> lease[i] = F; chg[PEER(i)] = 1
  :: else -> skip
  fi;
  if
  :: alive[i] && !paused[i] && lease[i] > 0 -> wd[i] = W     /* pet */
  :: else -> skip
  fi
}
/* Observer j's read of the peer's heartbeat (PeerMonitor::observe); age counts real time. */
inline hbread(j) {
  if
  :: alive[j] && age[j] < D -> age[j]++
  :: else -> skip
  fi;
  if
  :: alive[j] && !paused[j] && chg[j] -> chg[j] = 0; age[j] = 0; qdead[j] = 0; qconf[j] = 0
  :: alive[j] && !paused[j] && !chg[j] && age[j] >= D ->
     if
     :: !qdead[j] -> printf("EV n=%d peer_dead\n", ID(j))
     :: else -> skip
     fi;
     qdead[j] = 1; qconf[j] = 1
  :: else -> skip
  fi
}

proctype Clock() {
end:
  do
  :: atomic { (!PENDING(0) && !PENDING(1)) || iofaults < MAXIOFAULT ->

       printf("EV tick\n");
       tick1(0); tick1(1);
       heartbeat(0); heartbeat(1);
       hbread(0); hbread(1) }
  od
}

proctype Policy() {
  byte i;
end:
  do
  :: atomic { flips < MAXFLIP -> select(i : 0 .. 1); flips++; intent[i] = 1 - intent[i];
       printf("EV n=%d set_intent %d\n", ID(i), intent[i]) }
  od
}
#else
/* Relocation: node 1 holds the service; once it runs it, the policy moves it to node 2. */
bit moved;
proctype Policy() {
  atomic { phase[0] == RUNNING -> intent[0] = REL; intent[1] = HOLD; moved = 1;
    printf("EV n=1 set_intent 0\nEV n=2 set_intent 1\n") }
}
ltl relocation { <> (phase[1] == RUNNING && svc[1] && !svc[0]) }
#endif

init {
  atomic {
    chg[0] = 1; chg[1] = 1;
    restart(0); restart(1);
#ifdef LIVENESS
    intent[0] = HOLD; intent[1] = REL;
    lease[0] = F; lease[1] = F;
#else
    intent[0] = HOLD; intent[1] = HOLD;
    printf("EV n=1 set_intent 1\nEV n=2 set_intent 1\n");
    run Clock();
#endif
    run Policy();
    run Disk(0); run Disk(1);
    run Node(0); run Node(1);
    run Reader(0); run Reader(1)
  }
}
