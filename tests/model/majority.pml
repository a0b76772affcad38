/*
 * Castor: a Promela model of the majority device (issue 17, /work/notes/majority-spec.md: W1-W4, R1-R3; the chooser
 * as ORDERED LIVES, /work/notes/ordered-lives-spec.md): three quorum devices under one composite BlockDevice must
 * behave, to the heartbeat / lease protocol, as the ONE disk castor.pml assumes.  Checked by tests/model/verify.sh
 * (runs maj_*); see README.md.
 *
 * WHO.  One block (the writer node's heartbeat block) on three devices 0..2.  The writer node writes it
 * through a composite; one life per process: composite c writes life c + 1 (life 1 from the start, life 2
 * after a restart; -DREJOIN: composite 0 writes life 2 after a fence and a rejoin in the same process).  A
 * record is (life, seq), encoded life * 16 + seq; 0 is a zeroed block, 255 garbage (both INVALID, R2).  Lives
 * are numbered in the order they start (life 1 < life 2: the life file, fsynced before a life's first write),
 * so the encoding orders records as the code's version (L, seq) does, lexicographically; seq grows per life
 * (a new life's seqs start again at 1, as QuorumCore's seq_).  The peer (the reader) reads the block through
 * its own composite and runs PeerMonitor's rule on the composite's output: a change resets first_seen; an
 * unchanged value D ticks after first_seen is the DEAD verdict.  With -DOWNREAD (-DUNDEAD), both writing
 * processes also read their own block, one own read per tick each (QuorumCore::on_own_read: a valid record of
 * another incarnation, once a write of ours completed ok before the read's issue, fences the life: it stops
 * writing; properties e, e'), through the code's own-read rule (MajorityBlockDevice, "Another writer on our own
 * block", commit a328dfe): a device whose last landing of a write of the reader's life came before the read's
 * issue and that answers with a valid copy of another life makes the read show that copy instead of the choice
 * (either life: the lower one sees the higher and the higher the lower, as on one disk where the record that
 * landed last is shown); -DNOPEER leaves the peer's reads out (the OWNREAD run).
 *
 * TIME.  Discrete ticks, one tick = one io_timeout T (as castor.pml).  At a tick, in order: pending composite
 * writes and the read time out (the read completes with what arrived, R3), lease lapse (a life whose lease
 * ran out is fenced for good and stops writing, unless it is undead), then every writing life issues one
 * heartbeat write (seq + 1) and the reader issues one composite read (at any moment of the tick; -DREAD_AT_TICK:
 * right after the writes; as the real reads every R = T / 2 are not tied to the writes).  Between two ticks, in
 * any order: per-device writes land, per-device reads answer (with the device's content at that moment), faults,
 * crash, restart.  A HEALTHY device completes every I/O before the next tick (the tick waits for it); the
 * faulty device need not.  The lease: a composite write issued at t that completes ok (majority, before the
 * next tick) sets the life's lease to end at t + F, unless the life's lease had already lapsed (a fenced life
 * renews nothing).  With reads issued right after the writes of a tick, the one-disk argument needs D >= F + 1
 * here (the real D = F + 2W + M adds the watchdog, castor.pml's part): the model uses D = F + 1, no slack.
 *
 * WRITES (W1-W3).  Per composite and device: one write in flight (infl) and one queued (que, coalesced: only
 * the newest queued value is kept), landing in issue order.  A write counts for the composite only if it
 * lands before the next tick on a device that is neither lagging nor stalled; the composite write completes
 * ok at the majority-th ok, fails at the (ND - MAJ + 1)-th error, times out at the tick.  Per-device writes
 * outlive the composite deadline (they land later, or never).  -DBUG_NO_DEV_ORDER: the queued write is
 * submitted at once, beside the one in flight, and the two land in either order.
 *
 * READS (R1-R3) AND THE CHOOSER (ordered lives).  One composite read per tick; a device with a read still held
 * from an earlier composite read is skipped (W4 with one slot).  Answers arrive one at a time, the composite
 * checks after each (-DREAPS: a reap may take several: an answer may defer the check to the next one).  The read
 * completes ok when a majority of the devices gave a valid answer IN THIS READ; it hands out the highest (life,
 * seq) among this read's valid answers (rmax), or, if higher, the value this reader handed out before (its
 * memory hmem: the output never goes back within a reader process; a restarted reader starts with none).  Nothing
 * else: no moves, no doubt, no tie rules, no R5.  When every asked device answered or failed (or at the deadline)
 * without a valid majority but with a majority of answers: the lowest-index answer's bytes (the memory is not
 * touched); otherwise an error (no observation).  Answers that come after their read completed (or after its
 * deadline, and the held reads of a stalled device) are dropped.  -DSPLIT_READ: up to MAXSPLIT reads whose answers
 * go on past the next tick (deadline at the tick after: the next tick's writes land and complete between two
 * answers of one read); -DOVERLAP: up to MAXOVERLAP reads issued while another is open (two read slots of the
 * peer sharing one memory, answered in any order; the tick's read waits for a free slot, or is skipped at the
 * next tick).  -DMAXRRESTART: the reader restarts (no memory, a new PeerMonitor following nothing); -DMAXMISS:
 * the reader's reads of one device fail or go unanswered for a while (the same device as the fault, if any).
 *
 * FAULTS.  MAXFAULT faults in all, each on one device at any moment: STALL (its I/Os are held: writes land
 * and reads answer only once the stall ends, which it may at any later moment, or never; held reads are
 * answered too late and dropped), EIO (every I/O fails), RO (writes fail, reads work), ZERO (the block is
 * zeroed once; later writes land), GARB (its reads return garbage from then on; writes "land"), LAG (its
 * writes land late, in order, never before the deadline for the composite, at any later moment; reads work).
 * KINDS (bit mask of 1 << kind) narrows them.  The writer: MAXCRASH crashes of life 1 (its writes in the
 * kernel land later), a restart (life 2, a new process and composite: it starts only once no write of the old
 * process is in the kernel, as exit_aio waits for every device; -DRESTART_NO_EXIT_WAIT: at once); -DREJOIN: life 1
 * is fenced and its process rejoins as life 2 once a majority of the devices hold no write of it (held_by_kernel()
 * == 0; the code waits for total_held() == 0, no device: a subset of these schedules; a straggler may stay in the
 * stalled device, ahead of the new life's writes there, W1); -DUNDEAD: the restart happens while life 1 keeps
 * writing (an undead old life), which stops only when its own read fences it (-DOWNREAD).
 *
 * PROPERTIES (assertions; the ghosts are marked).  With at most one faulty device:
 *  (a') what the one-disk argument needs: a composite write issued while the reader followed its current value
 *      u that completed ok before a read's issue: that read does not return u (a stand-still on the composite
 *      means no completed write since first_seen);
 *  (a) -DSTRICT_A, in real time: a read issued after a write w completed returns w or a later value in the
 *      (life, seq) order (of w's life with seq >= w's, or of a higher life); with -DUNDEAD too, where the lower
 *      life's writes that land later are NOT later (the check then fails: see README.md, maj_undead_strict);
 *  (b) the reader's output never goes back in the (life, seq) order within one reader process;
 *  (d) a writer that stopped (crash or fence) is declared DEAD within D + 2 ticks of the last landing of
 *      any of its writes (bounded liveness: late writes of the stopped life delay it, as on one disk);
 *  (e) -DOWNREAD (-DUNDEAD): of the two lives writing the block, the LOWER one (life 1)'s own read, issued
 *      while a majority of the devices hold a copy of life 2 and answered before a write of life 1 lands over
 *      a copy of life 2, returns a record of life 2 (then life 1 fences: QuorumCore::on_own_read, another
 *      incarnation on its own block; it stops writing).  -DE_LITERAL: the spec's words ("issued after a write of
 *      the higher life completed on a majority"): it fails, the undead's own writes land over life 2's copies.
 *  (e') -DOWNREAD, either life X: an own read of X, issued while a device holds a copy of the other life that
 *      landed there after a write of X had landed there, answered by that device before any write landed on it
 *      again, completing with a valid majority, shows the other life, and X fences if a write of X completed ok
 *      before the issue.  Not stronger: -DFENCE_WITHIN=K (at least one of two lives writing fenced K ticks after
 *      life 2's start) fails for every K (each read answered after its own life's landing of the tick: the
 *      schedule repeats); with the peer reading, (a') and (c) still fail (README.md: maj_undead_*).
 *      -DC_AFTER_FENCE checks (c) only once a life fenced on its own read; -DFENCE_ENDS_LEASE ends the lease of a
 *      life at its own-read fence (its services are killed then); -DUNDEAD_ORDER restricts the schedules (life
 *      2's write lands on a device after life 1's of the tick) to find those in fewer states.
 * Always, whatever the faults:
 *  (c) no life that held a lease at first_seen holds a valid lease when the reader declares (or re-confirms)
 *      the writer DEAD (a life whose first lease came later never ran a service before the verdict: the
 *      exception of docs/design.md's step 2; its first write may be issued in the tick of the DEAD read);
 *  (f) once two devices take no write in time (stalled, EIO, read-only, lagging) for F ticks, the current
 *      life's lease has lapsed.
 * Seeded bugs (verify.sh bugs mode): -DBUG_NO_READER_MEMORY (a read hands out the highest of its own answers
 * only), -DBUG_READ_ONE (a read completes on one valid answer), -DBUG_ONE_DISK_LEASE (a write completes ok when
 * one device took it), -DBUG_LIFE_REUSED (life 2 carries life 1's number, its seqs starting again at 1: a node
 * that lost its life file and seeded L from a read that missed the old life), -DBUG_NO_DEV_ORDER (above),
 * -DRESTART_NO_EXIT_WAIT (a new process writes while the old one's writes are still in the kernel: not a rule of
 * the composite, the kernel's exit_aio, as with one disk), -DBUG_NO_FOREIGN_OWN (the own read gets the choice only,
 * not another writer's copy: life 2 never sees the undead life 1; (e')).
 * GONE (commit 132d345 has them): the history chooser (ReplicaChoice before ordered lives: per-device memory,
 * moves, chg, ties, the doubt of reviews 17b/17c, R4/R5) with its flags and seeded bugs, -DMAXFORGET (a device's
 * memory forgotten: the chooser keeps none per device now) and -DFIRST_READ_A ((g): (a) covers every read).
 */

#ifndef F
#define F 3
#endif
#ifndef D
#define D (F + 1)
#endif
#ifndef MAXT
#define MAXT 9
#endif
#ifndef MAXFAULT
#define MAXFAULT 1
#endif
#ifndef KINDS
#define KINDS 126
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef MAXRESTART
#define MAXRESTART 1
#endif

#ifndef MAXRRESTART
#define MAXRRESTART 0   /* restarts of the reader (a new process: no memory, a new PeerMonitor) */
#endif
#ifndef MAXMISS
#define MAXMISS 0       /* spells of missing answers: the reader's reads of one device fail or go unanswered */
#endif
#ifndef MAXSPLIT
#define MAXSPLIT 0      /* -DSPLIT_READ: reads whose answers go on past the next tick */
#endif
#ifndef MAXOVERLAP
#define MAXOVERLAP 0    /* -DOVERLAP: reads issued while another read of the block is open */
#endif
#if defined(SPLIT_READ) || defined(OVERLAP)
#ifdef OWNREAD
#error "SPLIT_READ / OVERLAP: the peer's reads only"
#endif
#if MAXRRESTART > 0
#error "SPLIT_READ / OVERLAP: no reader restart"
#endif
#endif
#ifdef C_AFTER_FENCE
#define CCHECK (ofenced[0] || ofenced[1])
#else
#define CCHECK 1
#endif
#define NONE 254          /* pout: the (restarted) monitor follows no value yet */

#ifdef RESTART_AT_ONCE
#define RESTART_WHEN (sincel == 0)   /* in the tick of the crash or fence */
#else
#define RESTART_WHEN 1
#endif

#ifdef RESTART_NO_EXIT_WAIT
#define EXIT_WAIT 1
#else
/* a new process starts only once no write of the old one is in the kernel (exit_aio waits for every device) */
#define EXIT_WAIT (infl[0] == 0 && que[0] == 0 && infl[1] == 0 && que[1] == 0 && infl[2] == 0 && que[2] == 0)
#endif
#define STOP0 stopped = 1; sincel = 0
#ifdef OWNREAD
#define T2SET t2 = now
#else
#define T2SET skip
#endif

#define ND 3
#define MAJ 2
#define GARB 255
#define VALID(v) ((v) != 0 && (v) != GARB)
#define LIFE(v) ((v) / 16)
#define SEQ(v) ((v) % 16)
#define BIT(d) (1 << (d))
#define CNT(m) ((((m) >> 0) & 1) + (((m) >> 1) & 1) + (((m) >> 2) & 1))

/* the chooser's order of two valid records: (L, seq) as the record carries it.  The encoding life * 16 + seq is
   that order when life l carries L = l.  -DBUG_LIFE_REUSED: life 2 carries life 1's L (its seqs start again at
   1), so the chooser's order is no longer the order in which the writes were made (the properties keep the
   real order: the encoding) */
#ifdef BUG_LIFE_REUSED
#define ORD(v) (LIFE(v) == 2 -> 16 + SEQ(v) : (v))
#else
#define ORD(v) (v)
#endif

#define K_STALL 1
#define K_EIO 2
#define K_RO 3
#define K_ZERO 4
#define K_GARB 5
#define K_LAG 6
#define BLOCKS_WRITES(k) ((k) == K_STALL || (k) == K_EIO || (k) == K_RO || (k) == K_LAG)

byte now;
bit rdue;                 /* the reader's read of this tick is still to be issued */
bit phase;                /* 1: the tick's issue is next (crash and restart happen there) */
byte cont[ND];            /* the block on each device */
byte fk[ND];              /* the device's fault now (0: none) */
bit bad[ND];              /* ghost: the device has had a fault */
byte nfault;              /* faults injected */
byte nblock;              /* devices that take no write in time now */
byte since2;              /* ghost (f): ticks since two devices take no write, up to F */

/* writers: composite c (a process) writes life wl[c]: composite 0 life 1, and life 2 after a rejoin (-DREJOIN);
   composite 1 life 2 (a restart: a new process) */
byte infl[6];             /* c * ND + d: the write in flight on device d */
byte que[6];              /* the queued (coalesced) write */
bit walive[2];            /* the composite issues heartbeats */
bit started[2];
bit und;                  /* life 1 is undead: it writes whatever its lease */
byte wseq[3];             /* per life */
byte wl[2];               /* the life composite c writes */
byte pend[2];             /* the composite write pending (0: none) */
byte pok[2], perr[2];     /* devices that reported it ok / failed */
byte lrem[3];             /* per life: the ticks its lease is still valid, this one included (0: none) */
bit hadl[3];              /* the life held a lease */
byte ncrash, nrestart;
bit stopped;              /* ghost (d): life 1 stopped (crash or fence) */
byte sincel;              /* ghost (d): ticks since the stop or the last landing of a stopped life's write, up to D + 3 */

/* ghosts for (a'): pu[c]: the reader has followed its current value since before composite c's pending write
   was issued (cleared when the value changes); that write completing ok sets wstale (cleared likewise): a read
   issued after that (rstale) must not return that value (rsv) */
bit pu[2]; bit wstale; bit rstale[3]; byte rsv[3];   /* rstale, rsv: per reader r (NR <= 3) */
/* ghost for (a): the highest (life, seq) of the composite writes that completed ok so far */
byte wdone;

/* readers: r = 0 the peer; with OWNREAD, r = c + 1 the own read of composite c's process (r = 1 the undead
   life 1's, r = 2 life 2's); with OVERLAP, r = 1 the peer's second read slot (both slots share the peer's
   memory, MI) */
#if defined(OWNREAD)
#define NR 3
#elif defined(OVERLAP)
#define NR 2
#else
#define NR 1
#endif
#ifdef OVERLAP
#define MI(r) 0
#else
#define MI(r) (r)
#endif
bit rst[NR];              /* a composite read pending */
byte rpend[NR], rans[NR], rvalid[NR], rheld[NR];
byte rraw[NR * ND];       /* r * ND + d: device d's answer (for the fall-back without a valid majority) */
byte rmax[NR];            /* the highest (ORD) valid answer of the read so far (0: none) */
byte hmem[NR];            /* the reader's memory: the highest value it handed out (0: none) */
byte out[NR];             /* the output of the last completed read */
byte rmin[NR];            /* ghost (a): wdone at the read's issue */
/* peer monitor (r = 0) */
byte pout;                /* the value it follows */
byte age;                 /* ticks since first_seen, up to D */
bit dead;
byte lfs;                 /* ghost (c): the lives that held a lease at first_seen (bit l - 1); a life without
                             one then never ran a service before the verdict (docs/design.md, step 2) */
byte lastout;             /* ghost (b): the highest (life, seq) the peer's reader process handed out */
/* (e) */
bit eflag;                /* ghost: a majority of the devices hold a copy of life 2, no life 1 write landed over
                             one since (-DE_LITERAL: a write of life 2 completed ok) */
bit eseen;                /* ghost: the own read has output a value of life 2: life 1 fenced (the check ends) */
bit eread;                /* ghost: the own read pending was issued with eflag set */
#ifdef OWNREAD
/* the own-read rule of the code (MajorityBlockDevice, "Another writer on our own block"): per composite c, the
   devices on which a write of its current life landed (olm[c]: the code's landed[i] != 0); per own read r, the
   devices whose last landing of the reader's life came before the read's issue and none since (osn[r]: the
   code's landed[i] <= op.submitted); a valid answer of another life from such a device (rfor[r], the first one)
   is handed out instead of the choice.  The core fences on it when a write of the life completed ok before the
   read's issue (oexp[r]: QuorumCore's ours_expected) */
byte olm[2];
byte osn[NR];
byte rfor[NR];
bit wokc[2];              /* a composite write of the current life of composite c completed ok */
bit oexp[NR];
/* ghosts for (e'): ovr[d] bit l - 1: device d holds a copy of another life that landed there after a write of
   life l had landed there (xl[d] bit l - 1: a write of life l landed on d); ew[r]: the devices that held such a
   copy over the reader's life at the read's issue, no write landed on them since; ewant[r]: one of them answered */
byte ovr[ND];
byte xl[ND];
byte ew[NR];
bit ewant[NR];
bit ofenced[2];           /* ghost: composite c's life fenced on its own read */
byte t2;                  /* ghost: the tick at which life 2 started beside the undead life 1 */
#endif

#if defined(SPLIT_READ) || defined(OVERLAP)
byte rcar[NR];            /* 1: the read's answers go on past the next tick; 2: it did (its deadline is the next) */
byte nsplit, noverlap;
#define RCAR0(r) rcar[r] = 0
#else
#define RCAR0(r) skip
#endif
byte nrrestart;           /* reader restarts */
byte rmiss;               /* bit d: the reader's reads of device d fail or go unanswered now */
byte nmiss;

hidden byte v, n1, i, tmp;

#ifdef STRICT_A
#define STRICT_SNAP(r) rmin[r] = wdone;
#define STRICT_DONE(x) if :: (x) > wdone -> wdone = x :: else fi;
#else
#define STRICT_SNAP(r)
#define STRICT_DONE(x)
#endif

#ifdef OVERLAP
#define ISPEER(r) 1
#else
#define ISPEER(r) ((r) == 0)
#endif

#define L2(d) (LIFE(cont[d]) == 2)

/* the chooser: the highest (L, seq) of this read's valid answers, or the reader's memory if higher
   (-DBUG_NO_READER_MEMORY: no memory) */
inline chooser(r) {
#ifdef BUG_NO_READER_MEMORY
  out[r] = rmax[r]
#else
  if
  :: VALID(hmem[MI(r)]) && ORD(hmem[MI(r)]) > ORD(rmax[r]) -> out[r] = hmem[MI(r)]
  :: else -> out[r] = rmax[r]; hmem[MI(r)] = rmax[r]
  fi
#endif
}
/* an own read (OWNREAD, r > 0): another writer's copy from a device that took a write of ours before the read
   was issued is handed out instead of the choice (the memory untouched), as MajorityBlockDevice::finish_read
   does; -DBUG_NO_FOREIGN_OWN: the own read gets the choice only */
inline choose(r) {
#if defined(OWNREAD) && !defined(BUG_NO_FOREIGN_OWN)
  if
  :: r > 0 && rfor[r] != 0 -> out[r] = rfor[r]
  :: else -> chooser(r)
  fi
#else
  chooser(r)
#endif
}
#ifdef OWNREAD
inline ownclear(r) { osn[r] = 0; rfor[r] = 0; oexp[r] = 0; ew[r] = 0; ewant[r] = 0 }
#define OWNCLEAR(r) if :: r > 0 -> ownclear(r) :: else fi
#else
#define OWNCLEAR(r) skip
#endif

inline rclear(r) {   /* a finished read: forget its answers (fewer states) */
  rst[r] = 0; rans[r] = 0; rvalid[r] = 0; rmax[r] = 0;
  rraw[r * ND] = 0; rraw[r * ND + 1] = 0; rraw[r * ND + 2] = 0;
  RCAR0(r)
}

/* a completed read of reader r, output out[r]: the checks and the peer monitor */
inline observed(r) {
  rclear(r);
  printf("EV t=%d read_done r=%d out=%d.%d (issued after a write that completed while the reader followed the value: %d)\n", now, r, LIFE(out[r]), SEQ(out[r]), rstale[r]);
  if
  :: ISPEER(r) ->
     if
     :: bad[0] + bad[1] + bad[2] <= 1 ->
        /* (a'): what the one-disk argument needs (-DNO_A_PRIME: not checked, to see what else breaks) */
#ifndef NO_A_PRIME
        assert(!rstale[r] || out[r] != rsv[r]);
#endif
#ifdef STRICT_A
        /* (a) strict, in real time, in the (life, seq) order */
        assert(rmin[r] == 0 || (VALID(out[r]) && out[r] >= rmin[r]));
#endif
        /* (b) */
        assert(!VALID(out[r]) || out[r] >= lastout)
     :: else
     fi;
     if :: VALID(out[r]) && out[r] > lastout -> lastout = out[r] :: else fi;
     if
     :: out[r] != pout -> pout = out[r]; age = 0; dead = 0; pu[0] = 0; pu[1] = 0; wstale = 0; lfs = hadl[1] + 2 * hadl[2]
     :: out[r] == pout && age >= D ->
        dead = 1; printf("EV t=%d DEAD\n", now);
        /* (c) (-DC_AFTER_FENCE: only once a life fenced on its own read) */
        assert(!CCHECK || (!((lfs & 1) && lrem[1] > 0) && !((lfs & 2) && lrem[2] > 0)))
     :: else
     fi
#ifdef OWNREAD
  :: else ->
     /* (e): life 1's read, issued while a majority held life 2's copies, none overwritten by life 1 since */
     if :: r == 1 -> assert(!eread || LIFE(out[1]) == 2) :: else fi;
     /* (e'): a device that held, at the read's issue, a copy of the other life landed over one of the reader's
        life, and answered this read before any write landed on it again: the read shows another life (if a
        write of the reader's life completed ok before the issue: the core's ours_expected) */
     assert(!ewant[r] || !oexp[r] || (VALID(out[r]) && LIFE(out[r]) != wl[r - 1]));
     if
     :: VALID(out[r]) && LIFE(out[r]) != wl[r - 1] && oexp[r] ->
        /* another incarnation on its own block: the life fences (QuorumCore::on_own_read) and stops writing */
        walive[r - 1] = 0; ofenced[r - 1] = 1;
#ifdef FENCE_ENDS_LEASE
        lrem[wl[r - 1]] = 0;   /* the fence kills the services at once: its lease protects nothing any more */
#endif
        printf("EV t=%d own_read_fence life=%d saw=%d.%d\n", now, wl[r - 1], LIFE(out[r]), SEQ(out[r]));
        if :: r == 1 -> eflag = 0; eread = 0; eseen = 1 :: else fi
     :: else
     fi;
     ownclear(r)
#endif
  fi
}

/* reader r: complete now if it can (final: every asked device answered, or the deadline) */
inline try_complete(r, final) {
  if
#ifdef BUG_READ_ONE
  :: CNT(rvalid[r]) >= 1 -> choose(r); observed(r)
#else
  :: CNT(rvalid[r]) >= MAJ -> choose(r); observed(r)
#endif
  :: else ->
     if
     :: final && CNT(rans[r]) >= MAJ ->
        /* no valid majority: the bytes of the lowest-index answer */
        i = 0;
        do
        :: rans[r] & BIT(i) -> break
        :: else -> i++
        od;
        out[r] = rraw[r * ND + i];
#ifdef OWNREAD
        ewant[r] = 0;
#endif
        observed(r)
     :: final && CNT(rans[r]) < MAJ -> rclear(r)   /* an error: no observation */
     :: else
     fi
  fi
}

/* device d answers reader r (now, with its content); later: defer the completion check (same reap) */
#define ANSWER(r, d, later) \
  :: d_step { !phase && rst[r] && (rpend[r] & BIT(d)) && fk[d] != K_STALL && (!later || (rpend[r] & ~BIT(d))) -> \
       rpend[r] = rpend[r] & ~BIT(d); \
       if \
       :: fk[d] == K_EIO || (r == 0 && (rmiss & BIT(d))) -> skip \
       :: else -> \
          if :: fk[d] == K_GARB -> v = GARB :: else -> v = cont[d] fi; \
          rans[r] = rans[r] | BIT(d); rraw[r * ND + d] = v; \
          printf("EV t=%d answer r=%d d=%d v=%d.%d\n", now, r, d, LIFE(v), SEQ(v)); \
          if \
          :: VALID(v) -> rvalid[r] = rvalid[r] | BIT(d); \
             if :: !VALID(rmax[r]) || ORD(v) > ORD(rmax[r]) -> rmax[r] = v :: else fi; \
             OWNANS(r, d) \
          :: else \
          fi \
       fi; \
       if :: !later -> try_complete(r, rpend[r] == 0) :: else fi }

/* an own read's valid answer v from device d: another life's copy where the reader's life landed before the
   read's issue (and not since) is kept to be shown (the first one); ghost (e') */
#ifdef OWNREAD
#define OWNANS(r, d) \
  if :: r > 0 && (osn[r] & BIT(d)) && LIFE(v) != wl[r - 1] && rfor[r] == 0 -> rfor[r] = v :: else fi; \
  if :: r > 0 && (ew[r] & BIT(d)) -> ewant[r] = 1 :: else fi
#else
#define OWNANS(r, d) skip
#endif

/* a write of composite c lands on device d (or fails there) */
inline landed(c, d, x) {
  if
  :: fk[d] == K_EIO || fk[d] == K_RO ->
     if
     :: x == pend[c] ->
        printf("EV t=%d write_error c=%d d=%d v=%d.%d\n", now, c, d, LIFE(x), SEQ(x));
        perr[c] = perr[c] | BIT(d);
        if :: CNT(perr[c]) >= ND - MAJ + 1 -> pend[c] = 0 :: else fi
     :: else
     fi
  :: else ->
#if defined(OWNREAD) && !defined(E_LITERAL)
     if :: LIFE(x) == 1 && L2(d) -> eflag = 0; eread = 0 :: else fi;   /* a life 1 write over a copy of life 2 */
#endif
     cont[d] = x; printf("EV t=%d land c=%d d=%d v=%d.%d\n", now, c, d, LIFE(x), SEQ(x));
#ifdef OWNREAD
     /* the code's landed[d] (a write of the composite's current life); an own read issued before it no longer
        takes another life's copy from d (landed[d] > submitted) */
     if :: LIFE(x) == wl[c] -> olm[c] = olm[c] | BIT(d); osn[c + 1] = osn[c + 1] & ~BIT(d) :: else fi;
     ovr[d] = xl[d] & ~BIT(LIFE(x) - 1); xl[d] = xl[d] | BIT(LIFE(x) - 1);
     ew[1] = ew[1] & ~BIT(d); ew[2] = ew[2] & ~BIT(d);
#endif
     if :: stopped && LIFE(x) == 1 -> sincel = 0 :: else fi;
#if defined(OWNREAD) && !defined(E_LITERAL)
     if :: LIFE(x) == 2 && !eseen && L2(0) + L2(1) + L2(2) >= MAJ -> eflag = 1 :: else fi;
#endif
     if
     :: x == pend[c] && fk[d] != K_LAG ->
        pok[c] = pok[c] | BIT(d);
#ifdef BUG_ONE_DISK_LEASE
        if :: CNT(pok[c]) >= 1 ->
#else
        if :: CNT(pok[c]) >= MAJ ->
#endif
           /* completed ok: the lease, unless it had lapsed */
           if :: !hadl[LIFE(x)] || lrem[LIFE(x)] > 0 -> hadl[LIFE(x)] = 1; lrem[LIFE(x)] = F :: else fi;
           printf("EV t=%d write_ok c=%d v=%d.%d\n", now, c, LIFE(x), SEQ(x));
#if defined(OWNREAD) && defined(E_LITERAL)
           if :: LIFE(x) == 2 && !eseen -> eflag = 1 :: else fi;
#endif
#ifdef OWNREAD
           if :: LIFE(x) == wl[c] -> wokc[c] = 1 :: else fi;
#endif
           STRICT_DONE(x) pend[c] = 0;
           if :: pu[c] -> wstale = 1 :: else fi
        :: else
        fi
     :: else
     fi
  fi
}

#ifdef BUG_NO_DEV_ORDER
#define LAND(c, d) \
  :: d_step { !phase && infl[c * ND + d] != 0 && fk[d] != K_STALL -> tmp = infl[c * ND + d]; infl[c * ND + d] = que[c * ND + d]; que[c * ND + d] = 0; landed(c, d, tmp) } \
  :: d_step { !phase && que[c * ND + d] != 0 && fk[d] != K_STALL -> tmp = que[c * ND + d]; que[c * ND + d] = 0; landed(c, d, tmp) }
#else
#define LAND(c, d) \
  :: d_step { !phase && infl[c * ND + d] != 0 && fk[d] != K_STALL && LANDORD(c, d) -> tmp = infl[c * ND + d]; infl[c * ND + d] = que[c * ND + d]; que[c * ND + d] = 0; landed(c, d, tmp) }
#endif
/* -DUNDEAD_ORDER (to find the undead findings in fewer states: a subset of the schedules, so a trail found is a
   real one): on each device, a write of composite 1 (life 2) lands only once no write of composite 0 is in
   flight there (life 1's write of the tick landed first) */
#ifdef UNDEAD_ORDER
#define LANDORD(c, d) (c == 0 || infl[d] == 0)
#else
#define LANDORD(c, d) 1
#endif

#define FAULT(d, k) \
  :: d_step { !phase && nfault < MAXFAULT && fk[d] == 0 && (KINDS & BIT(k)) && ONEBAD(d) -> \
       nfault++; bad[d] = 1; printf("EV t=%d fault d=%d kind=%d\n", now, d, k); \
       if \
       :: k == K_ZERO -> cont[d] = 0 \
       :: else -> fk[d] = k; \
          if :: BLOCKS_WRITES(k) -> nblock++; since2 = 0 :: else fi \
       fi }

#define STALL_END(d) \
  :: d_step { !phase && fk[d] == K_STALL -> printf("EV t=%d stall_end d=%d\n", now, d); fk[d] = 0; nblock--; since2 = 0; rheld[0] = rheld[0] & ~BIT(d); RHELD1(d) }
#if defined(OWNREAD)
#define RHELD1(d) rheld[1] = rheld[1] & ~BIT(d); rheld[2] = rheld[2] & ~BIT(d)
#elif defined(OVERLAP)
#define RHELD1(d) rheld[1] = rheld[1] & ~BIT(d)
#else
#define RHELD1(d) skip
#endif

/* with -DMAXMISS, the faults and the missing answers are one device (the properties need one faulty device) */
#if MAXMISS > 0
#define ONEBAD(d) (bad[0] + bad[1] + bad[2] == 0 || bad[d])
#else
#define ONEBAD(d) 1
#endif
/* the reader's reads of device d fail or are not answered (then dropped at the deadline) for a while */
#define MISS(d) \
  :: d_step { !phase && nmiss < MAXMISS && !(rmiss & BIT(d)) && ONEBAD(d) -> \
       nmiss++; bad[d] = 1; rmiss = rmiss | BIT(d); printf("EV t=%d miss d=%d\n", now, d) }
#define MISS_END(d) \
  :: d_step { !phase && (rmiss & BIT(d)) -> rmiss = rmiss & ~BIT(d); printf("EV t=%d miss_end d=%d\n", now, d) }

/* every I/O of a device that is not stalled or lagging is done (the tick waits for it) */
#define DEVQUIET(d) (fk[d] == K_STALL || fk[d] == K_LAG || \
  (infl[d] == 0 && infl[ND + d] == 0 && RQUIET(0, d) && OWNQUIET(d)))
#if defined(SPLIT_READ) || defined(OVERLAP)
/* a read whose answers go on past the next tick (rcar 1) does not hold the tick */
#define RQUIET(s, d) !(rst[s] && rcar[s] != 1 && (rpend[s] & BIT(d)) && !(rmiss & BIT(d)))
#else
#define RQUIET(s, d) !(rst[s] && (rpend[s] & BIT(d)) && !(rmiss & BIT(d)))
#endif
#ifdef OVERLAP
#define OWNQUIET(d) RQUIET(1, d)
#define HELDMASK(r) (rheld[0] | rheld[1])
#elif defined(OWNREAD)
#define OWNQUIET(d) (!(rst[1] && (rpend[1] & BIT(d))) && !(rst[2] && (rpend[2] & BIT(d))))
#else
#define OWNQUIET(d) 1
#endif

#ifndef HELDMASK
#define HELDMASK(r) rheld[r]
#endif
#ifdef CANISSUE
#define TICK_RDUE (!rdue || !CANISSUE)
#else
#define TICK_RDUE (!rdue)
#endif
inline issue_read(r) {
  printf("EV t=%d read_issue r=%d\n", now, r);
  rst[r] = 1; rans[r] = 0; rvalid[r] = 0; rmax[r] = 0;
  rpend[r] = 7 & ~HELDMASK(r);
  STRICT_SNAP(r)
  if :: ISPEER(r) -> rstale[r] = wstale; rsv[r] = pout :: else fi;
#ifdef OWNREAD
  if
  :: r > 0 ->
     osn[r] = olm[r - 1] & rpend[r]; rfor[r] = 0; oexp[r] = wokc[r - 1]; ewant[r] = 0;
     ew[r] = (((ovr[0] >> (wl[r - 1] - 1)) & 1) + 2 * ((ovr[1] >> (wl[r - 1] - 1)) & 1) + 4 * ((ovr[2] >> (wl[r - 1] - 1)) & 1)) & rpend[r]
  :: else
  fi
#endif
}

inline issue_write(c) {
  wseq[wl[c]]++; v = wl[c] * 16 + wseq[wl[c]];
  pend[c] = v; pok[c] = 0; perr[c] = 0; pu[c] = 1;
  i = 0;
  do
  :: i < ND ->
     if :: infl[c * ND + i] == 0 -> infl[c * ND + i] = v :: else -> que[c * ND + i] = v fi;
     i++
  :: else -> break
  od
}

#if defined(SPLIT_READ) || defined(OVERLAP)
/* at the tick: a read marked to go on past it stays open (its deadline is the next tick); the others end */
#define TICKREAD(r) if :: rst[r] && rcar[r] == 1 -> rcar[r] = 2 :: else -> deadline(r) fi
#else
#define TICKREAD(r) deadline(r)
#endif
inline deadline(r) {
  if :: rst[r] -> try_complete(r, 1) :: else fi;
  /* reads still in a stalled device stay there (W4: the next reads skip it); the others are answered too
     late and dropped */
  rheld[r] = rheld[r] | (rpend[r] & ((fk[0] == K_STALL) + 2 * (fk[1] == K_STALL) + 4 * (fk[2] == K_STALL)));
  rpend[r] = 0; rst[r] = 0; RCAR0(r); OWNCLEAR(r)
}
/* the tick's read can be issued now: a free slot, and another read open only within the overlap bound */
#ifdef OVERLAP
#define CANISSUE ((!rst[0] && !rst[1]) || ((!rst[0] || !rst[1]) && noverlap < MAXOVERLAP))
#elif defined(SPLIT_READ)
#define CANISSUE (!rst[0])
#endif

active proctype Model() {
  /* life 1 wrote (1,1) on every device at tick 0; its lease runs to F; the reader read it */
  cont[0] = 17; cont[1] = 17; cont[2] = 17;
  wl[0] = 1; wl[1] = 2; wseq[1] = 1; walive[0] = 1; started[0] = 1; hadl[1] = 1; lrem[1] = F;
  STRICT_DONE(17) hmem[0] = 17;
#ifdef OWNREAD
  olm[0] = 7; wokc[0] = 1; xl[0] = 1; xl[1] = 1; xl[2] = 1;   /* life 1's tick-0 write landed everywhere */
#endif
  out[0] = 17; pout = 17; age = 0; lastout = 17; lfs = 1;
#ifndef NOPEER
  issue_read(0);
#endif
  do
  /* the tick */
  :: d_step { !phase && TICK_RDUE && now < MAXT && DEVQUIET(0) && DEVQUIET(1) && DEVQUIET(2) ->
       pend[0] = 0; pend[1] = 0; pok[0] = 0; pok[1] = 0; perr[0] = 0; perr[1] = 0;
       TICKREAD(0);
#if defined(OWNREAD) || defined(OVERLAP)
       TICKREAD(1);
#endif
#ifdef OWNREAD
       TICKREAD(2);
#endif
#ifdef CANISSUE
       if :: rdue -> printf("EV t=%d read_skipped\n", now); rdue = 0 :: else fi;   /* no slot for the tick's read */
#endif
       now++; printf("EV t=%d tick\n", now);
       /* (f) */
       if :: lrem[1] > 0 -> lrem[1]-- :: else fi;
       if :: lrem[2] > 0 -> lrem[2]-- :: else fi;
       if :: age < D -> age++ :: else fi;
       if :: nblock >= 2 && since2 < F -> since2++ :: else fi;
       if :: sincel < D + 3 -> sincel++ :: else fi;
       assert(!(nblock >= 2 && since2 >= F &&
                ((walive[0] && lrem[wl[0]] > 0 && !und) || (walive[1] && lrem[2] > 0))));
#ifdef FENCE_WITHIN
       /* two lives writing: within FENCE_WITHIN ticks of life 2's start one of them fenced on its own read */
       assert(!(und && !ofenced[0] && !ofenced[1] && now >= t2 + FENCE_WITHIN));
#endif
       /* lease lapse: the life is fenced (an undead life writes on) */
       if :: walive[0] && !und && hadl[wl[0]] && lrem[wl[0]] == 0 -> walive[0] = 0; STOP0 :: else fi;
       if :: walive[1] && hadl[2] && lrem[2] == 0 -> walive[1] = 0 :: else fi;
       /* (d): one faulty device at most, life 1 stopped, not restarted */
       assert(!(stopped && !started[1] && bad[0] + bad[1] + bad[2] <= 1 && sincel >= D + 3 && !dead));
       phase = 1
     }
  /* the writer, at the tick (before its issue: a crash or a start only changes what is issued next):
     life 1 crashes (its writes in the kernel land later) */
  :: d_step { phase && ncrash < MAXCRASH && walive[0] && !und -> ncrash++; printf("EV t=%d crash\n", now); walive[0] = 0; STOP0 }
  /* restart: life 2 (a new process) */
  :: d_step { phase && nrestart < MAXRESTART && !walive[0] && !started[1] && RESTART_WHEN && EXIT_WAIT -> nrestart++; printf("EV t=%d restart\n", now); walive[1] = 1; started[1] = 1 }
#ifdef REJOIN
  /* life 1 is fenced (whatever the reason: a lapse, svcmgr's request) and its process rejoins as life 2 once
     held_by_kernel() == 0: a majority of the devices hold no write of it (W1 keeps the rest in order) */
  :: d_step { phase && nrestart < MAXRESTART && walive[0] && wl[0] == 1 && !und ->
       printf("EV t=%d fence\n", now); walive[0] = 0; STOP0 }
  :: d_step { phase && nrestart < MAXRESTART && !walive[0] && wl[0] == 1 && !started[1] && RESTART_WHEN &&
              (infl[0] == 0 && que[0] == 0) + (infl[1] == 0 && que[1] == 0) + (infl[2] == 0 && que[2] == 0) >= MAJ ->
       nrestart++; printf("EV t=%d rejoin\n", now); wl[0] = 2; walive[0] = 1; started[1] = 1 }
#endif
#ifdef UNDEAD
  /* restart while life 1 keeps writing (undead), whatever its lease */
  :: d_step { phase && nrestart < MAXRESTART && walive[0] && !started[1] -> nrestart++; printf("EV t=%d restart_undead\n", now); walive[1] = 1; started[1] = 1; und = 1; T2SET }
#endif
  /* the issue of the tick's writes and reads */
  :: d_step { phase -> phase = 0;
       if :: walive[0] -> issue_write(0) :: else fi;
       if :: walive[1] -> issue_write(1) :: else fi;
#ifdef NOPEER
       skip;
#elif !defined(READ_AT_TICK)
       rdue = 1;
#else
       issue_read(0);
#endif
#ifdef OWNREAD
       /* the undead life 1's own read of its block, once life 2 runs; life 2's own read beside it */
       if :: started[1] && walive[0] && wl[0] == 1 -> issue_read(1); eread = eflag :: else fi;
       if :: walive[1] && und -> issue_read(2) :: else fi;
#endif
     }
#if defined(CANISSUE)
  /* the reader's read of this tick, at any moment between this tick's issue and the next tick, in a free slot
     (waiting for one while another read is open, beyond the overlap bound) */
  :: d_step { !phase && rdue && CANISSUE -> rdue = 0;
#ifdef OVERLAP
       if :: rst[0] || rst[1] -> noverlap++ :: else fi;
       if :: !rst[0] -> issue_read(0) :: else -> issue_read(1) fi
#else
       issue_read(0)
#endif
     }
#elif !defined(READ_AT_TICK)
  /* the reader's read of this tick, at any moment between this tick's issue and the next tick */
  :: d_step { !phase && rdue -> rdue = 0; issue_read(0) }
#endif
#ifdef SPLIT_READ
  /* an open read's answers go on past the next tick (its deadline is the tick after; writes of the next tick land
     and complete between its answers) */
  :: d_step { !phase && rst[0] && rcar[0] == 0 && nsplit < MAXSPLIT -> nsplit++; rcar[0] = 1; printf("EV t=%d read_slow r=0\n", now) }
#ifdef OVERLAP
  :: d_step { !phase && rst[1] && rcar[1] == 0 && nsplit < MAXSPLIT -> nsplit++; rcar[1] = 1; printf("EV t=%d read_slow r=1\n", now) }
#endif
#endif
#ifdef OVERLAP
  /* an extra read while one is open (the reader's reads every R = T / 2, a replaced core's read beside the new
     core's): two reads of the block open at once, answered in any order */
  :: d_step { !phase && (rst[0] != rst[1]) && noverlap < MAXOVERLAP -> noverlap++;
       if :: !rst[0] -> issue_read(0) :: else -> issue_read(1) fi }
#endif
  LAND(0, 0) LAND(0, 1) LAND(0, 2)
  LAND(1, 0) LAND(1, 1) LAND(1, 2)
  ANSWER(0, 0, 0) ANSWER(0, 1, 0) ANSWER(0, 2, 0)
#ifdef REAPS
  ANSWER(0, 0, 1) ANSWER(0, 1, 1) ANSWER(0, 2, 1)
#endif
#if defined(OWNREAD) || defined(OVERLAP)
  ANSWER(1, 0, 0) ANSWER(1, 1, 0) ANSWER(1, 2, 0)
#ifdef REAPS
  ANSWER(1, 0, 1) ANSWER(1, 1, 1) ANSWER(1, 2, 1)
#endif
#endif
#ifdef OWNREAD
  ANSWER(2, 0, 0) ANSWER(2, 1, 0) ANSWER(2, 2, 0)
#ifdef REAPS
  ANSWER(2, 0, 1) ANSWER(2, 1, 1) ANSWER(2, 2, 1)
#endif
#endif
  FAULT(0, K_STALL) FAULT(1, K_STALL) FAULT(2, K_STALL)
  FAULT(0, K_EIO) FAULT(1, K_EIO) FAULT(2, K_EIO)
  FAULT(0, K_RO) FAULT(1, K_RO) FAULT(2, K_RO)
  FAULT(0, K_ZERO) FAULT(1, K_ZERO) FAULT(2, K_ZERO)
  FAULT(0, K_GARB) FAULT(1, K_GARB) FAULT(2, K_GARB)
  FAULT(0, K_LAG) FAULT(1, K_LAG) FAULT(2, K_LAG)
  STALL_END(0) STALL_END(1) STALL_END(2)
#if MAXMISS > 0
  MISS(0) MISS(1) MISS(2)
  MISS_END(0) MISS_END(1) MISS_END(2)
#endif
#if MAXRRESTART > 0
  /* the reader restarts: a new process (quorumd, or castor status) with a new composite and chooser (no memory),
     a new PeerMonitor (it follows nothing until its first read); the old process's read is gone */
  :: d_step { !phase && nrrestart < MAXRRESTART ->
       nrrestart++; printf("EV t=%d reader_restart\n", now);
       hmem[0] = 0; lastout = 0;
       rst[0] = 0; rpend[0] = 0; rheld[0] = 0; rans[0] = 0; rvalid[0] = 0; rmax[0] = 0; rraw[0] = 0; rraw[1] = 0; rraw[2] = 0;
       pout = NONE; age = 0; dead = 0; lfs = 0; pu[0] = 0; pu[1] = 0; wstale = 0; rstale[0] = 0;
       if :: stopped -> sincel = 0 :: else fi }
#endif
  :: else -> break   /* the horizon */
  od
}
