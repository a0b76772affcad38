/*
 * Castor: a Promela model of the majority device (issue 17, /work/notes/majority-spec.md: W1-W4, R1-R5):
 * three quorum devices under one composite BlockDevice must behave, to the heartbeat / lease protocol,
 * as the ONE disk castor.pml assumes.  Checked by tests/model/verify.sh (runs maj_*); see README.md.
 *
 * WHO.  One block (the writer node's heartbeat block) on three devices 0..2.  The writer node writes it
 * through a composite; one life per process: composite c writes life c + 1 (life 1 from the start, life 2
 * after a restart).  A record is (life, seq), encoded life * 16 + seq; 0 is a zeroed block, 255 garbage
 * (both INVALID, R2).  Lives have no order (the model never compares them); seq grows per life.
 * The peer (the reader) reads the block through its own composite (R1-R4) and runs PeerMonitor's rule
 * on the composite's output: a change resets first_seen; an unchanged value D ticks after first_seen is
 * the DEAD verdict.  With -DOWNREAD, life 2's process also reads its own block (QuorumCore::on_own_read,
 * while life 1 stays undead (property e); -DNOPEER leaves the peer's reads out (the OWNREAD run).
 *
 * TIME.  Discrete ticks, one tick = one io_timeout T (as castor.pml).  At a tick, in order: pending composite
 * writes and the read time out (the read completes with what arrived, R3), lease lapse (a life whose lease
 * ran out is fenced for good and stops writing, unless it is undead), then every writing life issues one
 * heartbeat write (seq + 1) and the reader issues one composite read (at any moment of the tick; -DREAD_AT_TICK: right after the writes;
 * as the real reads every R = T / 2 are not tied to the writes).  Between two ticks, in any order:
 * per-device writes land, per-device reads answer (with the device's content at that moment), faults,
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
 * READS (R1-R4).  One composite read per tick (at any moment of the tick; -DREAD_AT_TICK: right after the
 * writes); a device with a read still held from an earlier composite read is skipped (W4 with one slot).
 * Answers arrive one at a time, the composite checks after each (-DREAPS: a reap may take several: an answer
 * may defer the check to the next one; it multiplies the states).  The composite completes ok when the fresh
 * valid answers form a majority; when every asked device answered or failed (or at the deadline) without a
 * valid majority but with a majority of answers: the lowest-index answer's bytes; otherwise an error (no
 * observation).  R4: memory = per device the latest valid copy it returned (late answers to an earlier
 * composite read are dropped); per life, hi and chg = the read at which hi increased or first appeared; the
 * chosen life has the greatest chg.  Output: (chosen life, its hi).  R4 AS AMENDED by this model (the spec's
 * text behind flags, each with a counterexample in verify.sh's bugs mode):
 *   - hi is the highest seq of the life EVER seen (-DR4_LITERAL: the highest in memory now, which falls when
 *     other lives overwrite the copies and rises again when an old copy is answered: a replaced life's old
 *     value comes back, and within a life the output goes back: maj_r4_literal);
 *   - a chg tie goes to the life held by more of THIS read's fresh valid answers, then to the life that is
 *     NOT the previous choice (-DR4_TIE_SPEC: held by more devices in memory, stale copies included, then the
 *     previous choice: an undead write that landed last on a majority is never chosen: maj_undead_r4).
 * THE CHOOSER AS IN THE CODE (commit 17ff5b4, ReplicaChoice::observe / settled / choose, MajorityBlockDevice::
 * decide; review 17): the move (chg) is taken per answer and judged per device: a device the reader had a memory
 * of moves when its new copy is of another life than its previous copy, or of the same life with a higher seq; a
 * device's first valid answer is no move (rule (a)); candidates are the lives some device's memory holds; a read
 * whose top candidates tie completes on a valid majority only once one tied life has a majority of this read's
 * answers; when it is final (every asked device answered, or the deadline) with the tie unsettled, the read
 * fails (rule (b)).  The older rules, as seeded bugs: -DBUG_FIRST_ANSWER_MOVES (a first answer is a move: before
 * review 17), -DBUG_MAX_SEQ_MOVE (a move is a rise above the life's highest seq seen on any device, 2cdccc8),
 * -DBUG_NO_SETTLE (a tie completes at once, on the tie-breaks), -DTIE_FALLBACK (a final unsettled tie falls back
 * to the tie-breaks, 2cdccc8).  The code's move rule breaks (a') (maj_restart_code, maj_choice_code: a lagging
 * device catching up on an old-life write the reader saw elsewhere is a move, the new life's copy as a device's
 * first answer is not); -DMOVE_NEWS, the smallest fix: a change of life on a device is a move, a rise within a
 * life only above the life's highest seq seen -- now the code's rule and this model's default (the per-device
 * seq rule is -DBUG_DEVICE_SEQ_MOVE).  Answers that come after their read completed (or after its deadline, and
 * the held reads of a stalled device) are dropped: no memory changes, as in the code since review 17b
 * (MajorityBlockDevice::on_device_completion observes only answers of a composite still open before its deadline;
 * later ones are only judged, R2).
 * REVIEW 17B (3e1b28b..148e73c, tests/unit/review17b_test.cc; ReplicaChoice::standing / settled / choose): the
 * history orders lives only roughly.  Per device copy the read at which what it shows was news there (shown_at:
 * its first answer, or its last move), per life the read after which its last move happened (moved_after: the
 * moving device's previous answer; the least when several devices moved it in one read).  A read is in DOUBT when
 * one of its answers shows a life below the top life (by chg) whose copy's shown_at is after the top's
 * moved_after; in doubt the read is settled only when one life has a majority of this read's answers, and
 * choose() hands that life out and counts it as moved at this read (moved_after = the read before); without
 * one the read fails when it is final.  The model keeps only the relations the rule compares (gr, gm, snew below),
 * and none with one life (MAXRESTART 0).  -DBUG_NO_DOUBT: the rules before it (the history alone; maj_no_doubt,
 * maj_strict_a).  R4_LITERAL and BUG_LATEST_CHANGE, other choosers, have no doubt either.
 * REVIEW 17C (c2d411a..435f3da, tests/unit/review17c_test.cc; the default rules now): a lower life's copy is stamped
 * shown_at = the newest read issued when it was news (not the answer's own read: an answer to an older read may come
 * after answers to a newer one); the doubt is shown_at >= moved_after (two answers of one read are not ordered in
 * time); no doubt when the top life moved over a copy of the lower life on some device (moved_over, bits mo); a
 * device's copy from a later read counts as an answer of an open read (read_no >= this read).  -DBUG_17B: the rules
 * of a52c732 (>, the own read's number, == this read); -DBUG_17C_STAMP, -DBUG_17C_FRESH: one part of the fix left
 * out.  The schedules the review found need reads the model above cannot make: -DSPLIT_READ (up to MAXSPLIT reads
 * whose answers go on past the next tick, deadline at the tick after: the next tick's writes, a new life's first
 * write among them, land and complete between two answers of one read) and -DOVERLAP (up to MAXOVERLAP reads
 * issued while another is open: two read slots of the peer, answered in any order; the tick's read waits for a
 * free slot, or is skipped at the next tick).  With either flag the chooser keeps ReplicaChoice's read numbers as
 * numbers (NUM_TRACK: rno, nreads, crn, csa, nchg, nma, nmo; the bits above assume one read within one tick), only
 * for the peer (no OWNREAD, no reader restart).
 * -DMAXRRESTART: the reader restarts (no memory, a new PeerMonitor following nothing); -DMAXMISS: the reader's
 * reads of one device fail or go unanswered for a while (the same device as the fault, if any); -DMAXFORGET: the
 * reader's chooser forgets one device between two reads (forget_device: a member adopted in that slot; the life
 * history stays, the device keeps its content), so that its next valid answer is a first answer -- the review's
 * attack 2, and attack 1 (a reader that never heard from the device) without a reader restart; the same device as
 * the fault and the missing answers, if any.
 * (g) -DFIRST_READ_A: the first output of a restarted reader satisfies (a) in real time.
 * R5 only in the own read (-DOWNREAD: life 2's process's own writes); otherwise each composite writes one life
 * here except in -DREJOIN, where the new life's seqs start again and its hi is kept apart by the incarnation.
 *
 * FAULTS.  MAXFAULT faults in all, each on one device at any moment: STALL (its I/Os are held: writes land
 * and reads answer only once the stall ends, which it may at any later moment, or never; held reads are
 * answered too late and dropped), EIO (every I/O fails), RO (writes fail, reads work), ZERO (the block is
 * zeroed once; later writes land), GARB (its reads return garbage from then on; writes "land"), LAG (its
 * writes land late, in order, never before the deadline for the composite, at any later moment; reads work).
 * KINDS (bit mask of 1 << kind) narrows them.  The writer: MAXCRASH crashes of life 1 (its writes in the
 * kernel land later), a restart (life 2, a new process and composite: it starts only once no write of the old
 * process is in the kernel, as exit_aio waits for every device; -DRESTART_NO_EXIT_WAIT: at once); -DREJOIN: life 1
 * is fenced and its process rejoins as life 2 once held_by_kernel() == 0 (a majority of the devices hold no write of
 * it: a straggler may stay in the stalled device, ahead of the new life's writes there, W1); -DUNDEAD: the restart
 * happens while life 1 keeps writing (an undead old life), which never stops.
 *
 * PROPERTIES (assertions; the ghosts are marked).  With at most one faulty device:
 *  (a') what the one-disk argument needs: a composite write issued while the reader followed its current value
 *      u that completed ok before a read's issue: that read does not return u (a stand-still on the composite
 *      means no completed write since first_seen);
 *  (a) -DSTRICT_A, in real time: a read issued after a write w completed returns w or a later value of w's
 *      life, or a value of another life that landed a write somewhere after w was issued.  Without the doubt
 *      (-DBUG_NO_DOUBT) it does NOT hold (maj_strict_a): the reader orders lives by when IT saw them move, and
 *      a copy of a replaced life that it had not seen yet (on a device it had not heard from) showed as a move
 *      (the review's attack 4); with the doubt it holds in maj_strict_a_doubt and maj_doubt (bounded);
 *  (b) within one life the reader's output never goes back (seq never decreases);
 *  (d) a writer that stopped (crash or fence) is declared DEAD within D + 2 ticks of the last landing of
 *      any of its writes (bounded liveness: late writes of the stopped life delay it, as on one disk);
 *  (e) -DOWNREAD: a write of the undead life 1 that lands on a majority of the devices, after which nothing
 *      of life 2 lands, is seen by life 2's next own read issued after it (its output is life 1's) unless the
 *      own read has seen life 1 already (then the node fenced).
 * Always, whatever the faults:
 *  (c) no life that held a lease at first_seen holds a valid lease when the reader declares (or re-confirms)
 *      the writer DEAD (a life whose first lease came later never ran a service before the verdict: the
 *      exception of docs/design.md's step 2; its first write may be issued in the tick of the DEAD read);
 *  (f) once two devices take no write in time (stalled, EIO, read-only, lagging) for F ticks, the current
 *      life's lease has lapsed.
 * Seeded bugs: -DBUG_ONE_DISK_LEASE (a write completes ok when one device took it), -DBUG_READ_ONE (a read
 * completes on one valid answer), -DBUG_LATEST_CHANGE (the device whose copy changed most recently wins,
 * even within a life), -DBUG_NO_DEV_ORDER (above), -DRESTART_NO_EXIT_WAIT (a new process writes while the old
 * one's writes are still in the kernel: not a rule of the composite, the kernel's exit_aio, as with one disk).
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
#ifndef MAXFORGET
#define MAXFORGET 0     /* the reader forgets its memory of one device (a member adopted in that slot) */
#endif
#ifndef MAXSPLIT
#define MAXSPLIT 0      /* -DSPLIT_READ: reads whose answers go on past the next tick (review 17c, schedule 1) */
#endif
#ifndef MAXOVERLAP
#define MAXOVERLAP 0    /* -DOVERLAP: reads issued while another read of the block is open (review 17c, schedule 2) */
#endif
#if defined(SPLIT_READ) || defined(OVERLAP)
#define NUM_TRACK       /* the chooser with its read numbers (see below) */
#ifdef OWNREAD
#error "SPLIT_READ / OVERLAP: the peer's reads only"
#endif
#if MAXRRESTART > 0
#error "SPLIT_READ / OVERLAP: no reader restart"
#endif
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

#ifndef R4_TIE_SPEC
#define FRESH(r, i) ((rvalid[r] >> (i)) & 1)   /* amended: counted among this read's fresh valid answers */
#else
#define FRESH(r, i) 1                         /* R4: held by more devices (in memory) */
#endif

#define ND 3
#define MAJ 2
#define GARB 255
#define VALID(v) ((v) != 0 && (v) != GARB)
#define LIFE(v) ((v) / 16)
#define SEQ(v) ((v) % 16)
#define BIT(d) (1 << (d))
#define CNT(m) ((((m) >> 0) & 1) + (((m) >> 1) & 1) + (((m) >> 2) & 1))

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
byte pmv[2];              /* ghost: lives (bit l) that landed a write since it was issued */
byte lrem[3];             /* per life: the ticks its lease is still valid, this one included (0: none) */
bit hadl[3];              /* the life held a lease */
byte ncrash, nrestart;
bit stopped;              /* ghost (d): life 1 stopped (crash or fence) */
byte sincel;              /* ghost (d): ticks since the stop or the last landing of a stopped life's write, up to D + 3 */

/* ghosts for (a'): pu[c]: the reader has followed its current value since before composite c's pending write
   was issued (cleared when the value changes); that write completing ok sets wstale (cleared likewise): a read
   issued after that (rstale) must not return that value (rsv) */
bit pu[2]; bit wstale; bit rstale[2]; byte rsv[2];
/* ghosts for (a) */
byte wdone;               /* the latest composite write that completed ok */
byte wmv;                 /* lives that landed a write since wdone's write was issued */

/* readers: r = 0 the peer, r = 1 life 2's own read (OWNREAD) */
#if defined(OWNREAD) || defined(OVERLAP)
#define NR 2              /* OVERLAP: the peer's two read slots (its memory is r = 0's) */
#else
#define NR 1
#endif
byte mem[NR * ND];        /* r * ND + d: latest valid copy device d returned to reader r */
#ifdef BUG_LATEST_CHANGE
byte mchg[NR * ND];
#endif
byte hi[NR * 3];          /* r * 3 + life */
byte chg[NR * 3];
byte rk[NR];              /* composite read number */
byte pch[NR];             /* previous choice (life) */
bit rst[NR];              /* a composite read pending */
byte rpend[NR], rans[NR], rvalid[NR], rheld[NR];
byte rraw[NR * ND];
byte out[NR];             /* the output of the last completed read */
byte rmin[NR], rmv[NR];   /* ghosts (a): wdone and the lives moved, at the read's issue */
/* peer monitor (r = 0) */
byte pout;                /* the value it follows */
byte age;                 /* ticks since first_seen, up to D */
bit dead;
byte lfs;                 /* ghost (c): the lives that held a lease at first_seen (bit l - 1); a life without
                             one then never ran a service before the verdict (docs/design.md, step 2) */
byte lastout[3];          /* ghost (b): highest seq output per life */
/* (e) */
bit eflag;                /* ghost: an undead write landed on a majority, nothing of life 2 since */
bit eseen;                /* ghost: the own read has output a value of life 1: the node fenced (the check ends) */
bit eread;                /* ghost: the own read pending was issued with eflag set */

#if !defined(BUG_NO_DOUBT) && !defined(R4_LITERAL) && !defined(BUG_LATEST_CHANGE) && !defined(NUM_TRACK)
#define DOUBT_RULE        /* review 17b's rule (the code's); the other choosers have none */
#if MAXRESTART > 0
#define DOUBT_TRACK       /* with one life (no restart, rejoin or undead life) there is never a doubt */
#endif
#endif
#ifdef DOUBT_TRACK
/* review 17b: the read numbers of ReplicaChoice (Copy::read_no = rn[d], Copy::shown_at = sa[d], IncState::
   moved_after = ma[l]) are compared only as sa[d] > ma[l] (the doubt) and assigned as ma[l] = rn[d'] (a move
   by d'; the least when several move l in one read) or the read before this one (choose()); so the model keeps
   only those relations, as bits (fewer states than the numbers or their ranks):
     gr[r * ND + d] bit d': sa[d] > rn[d']   (d shows what was news after d''s latest answer)
     gm[r * ND + d] bit l:  sa[d] > ma[l]    (what d shows was news after the read after which life l moved)
     snew[r] bit d:         sa[d] is the read in progress (set this read) */
byte gr[NR * ND];
byte gm[NR * ND];
byte snew[NR];
#ifndef BUG_17B
/* review 17c (the default): the doubt compares sa[d] >= ma[l], so the bits are gr bit d': sa[d] >= rn[d'] and gm bit
   l: sa[d] >= ma[l] (the same updates: ma[l] = rn[d'] copies gr's bit; choose() sets ma[l] = this read, and
   sa[d] >= this read is snew, as > the read before was); mo[r * 3 + l]: life l moved over a copy of the other life
   at its last move (IncState::moved_over) */
bit mo[NR * 3];
#endif
#endif
#ifdef NUM_TRACK
/* -DSPLIT_READ / -DOVERLAP (review 17c): answers of one read span a tick (a new life's write lands and completes
   between two of them), two reads of the block are open at once.  The bits above assume one read open within one
   tick; here the chooser keeps ReplicaChoice's numbers as they are (the horizon bounds them): rno[s] the read
   number of read slot s, nreads = reads_, per device copy (reader 0's memory) crn = Copy::read_no and csa =
   Copy::shown_at, per life nchg = changed_at, nma = moved_after, nmo = moved_over holds the other life */
byte rno[NR];
byte nreads;
byte crn[ND], csa[ND];
byte nchg[3], nma[3];
bit nmo[3];
byte rcar[NR];            /* 1: the read's answers go on past the next tick; 2: it did (its deadline is the next) */
byte nsplit, noverlap;
hidden byte nst, ndbt;    /* standing(): settled, doubt */
hidden byte nmj, ntop;    /* standing(): the majority's life (0: none), the top changed_at */
hidden byte nf1, nf2;     /* this read's answers per life (read_no >= this read; BUG_17B: ==) */
#endif
byte nforget;             /* the reader forgot a device (forget_device: a member adopted in its slot) */
byte nrrestart;           /* reader restarts */
byte rmiss;               /* bit d: the reader's reads of device d fail or go unanswered now */
byte nmiss;
bit fresh0;               /* ghost (g): the restarted reader has not completed a read yet */

hidden byte v, l, b, cb, n1, n2, i, j, tmp;
hidden byte gi;           /* gcanon, the doubt's bits */
hidden byte mv, had;      /* observe */

#if defined(FIRST_READ_A) && !defined(STRICT_A)
#define STRICT_A_GHOSTS
#endif
#if defined(STRICT_A) || defined(STRICT_A_GHOSTS)
#define STRICT_SNAP(r) rmin[r] = wdone; rmv[r] = wmv;
#define STRICT_MOVED(x) wmv = wmv | BIT(LIFE(x)); rmv[0] = rmv[0] | BIT(LIFE(x)); RMV1(x) pmv[0] = pmv[0] | BIT(LIFE(x)); pmv[1] = pmv[1] | BIT(LIFE(x));
#define STRICT_DONE(c, x) wdone = x; wmv = pmv[c];
#define PMV0(c) pmv[c] = 0;
#else
#define STRICT_SNAP(r)
#define STRICT_MOVED(x)
#define STRICT_DONE(c, x)
#define PMV0(c)
#endif

#ifdef OVERLAP
#define RMV1(x) rmv[1] = rmv[1] | BIT(LIFE(x));
#define ISPEER(r) 1
#else
#define RMV1(x)
#define ISPEER(r) ((r) == 0)
#endif
#ifdef NUM_TRACK
#define RNO(r) rno[r]
#else
#define RNO(r) rk[r]
#endif

inline majority_of(x, cnt) {   /* cnt = number of devices whose content is x */
  cnt = (cont[0] == x) + (cont[1] == x) + (cont[2] == x)
}

/* R4 per answer (ReplicaChoice::observe, as in 17ff5b4): device d answered reader r with the valid value v.  The
   life's hi is the highest seq ever seen (the output's seq).  The move (chg = 3: this read) is judged PER DEVICE,
   against the copy device d returned before: another life, or a higher seq of the same life; a device's first
   valid answer is no move (rule (a), review 17: it shows what the device holds).  R5 (own reader only, -DOWNREAD):
   an own write since superseded by a later own write is a lagging device catching up, no move.
   Older rules, as seeded bugs: -DBUG_FIRST_ANSWER_MOVES: a first answer is a move (before review 17);
   -DBUG_MAX_SEQ_MOVE: a move is a rise above the life's highest seq seen on ANY device (or a life not known yet),
   for a device with a memory (2cdccc8 .. 17ff5b4: a first answer that made the new life known silently kept
   another device, which remembered the old life, from showing the same write as a move) */
#ifdef BUG_FIRST_ANSWER_MOVES
#define HADMEM(r, d) 1
#else
#define HADMEM(r, d) VALID(mem[r * ND + d])
#endif
#ifdef OWNREAD
#define OWNSUP(r) ((r) == 1 && LIFE(v) == 2 && SEQ(v) < wseq[2])   /* life 2's process wrote a higher seq since */
#else
#define OWNSUP(r) 0
#endif
inline observe(r, d) {
#ifndef R4_LITERAL
  l = LIFE(v);
  /* mv: device d moved (the rule's move, before R5) */
#ifdef BUG_MAX_SEQ_MOVE
  mv = (HADMEM(r, d) && (hi[r * 3 + l] == 0 || SEQ(v) > hi[r * 3 + l]));
#elif defined(BUG_DEVICE_SEQ_MOVE)
  /* 17ff5b4's rule: a rise judged against the device's own previous copy (a lagging device catching up on a
     write the reader saw elsewhere is a move): breaks (a') in maj_restart */
  mv = (HADMEM(r, d) && (LIFE(mem[r * ND + d]) != l || SEQ(v) > SEQ(mem[r * ND + d])));
#else
  /* the code's rule (MOVE_NEWS, ReplicaChoice::observe): a device with a memory moves when its copy is of
     another life than its previous copy, or of the same life with a seq above the life's highest seq seen on
     any device (a lagging device catching up on a write the reader has seen elsewhere is no news) */
  mv = (HADMEM(r, d) && (LIFE(mem[r * ND + d]) != l || SEQ(v) > hi[r * 3 + l]));
#endif
#ifdef DOUBT_TRACK
  /* review 17b (observe): a move of l by d happened after d's previous answer: ma[l] = rn[d] (l's first move
     in this read), or the least of them (another device moved l in this read too); then what d shows
     was news at this read when it is its first answer or a move (sa[d] = this read: above every ma and every
     rn of a device that has not answered this read); then d's answer is of this read (rn[d] = this read: no
     sa is above it) */
  had = VALID(mem[r * ND + d]);
  if
  :: mv && !OWNSUP(r) ->
     gi = 0;
     do
     :: gi < ND ->
        if
        :: !had -> gm[r * ND + gi] = gm[r * ND + gi] | BIT(l)   /* ma = 0 (BUG_FIRST_ANSWER_MOVES only) */
        :: had && chg[r * 3 + l] != 3 ->
           gm[r * ND + gi] = (gm[r * ND + gi] & ~BIT(l)) | (((gr[r * ND + gi] >> d) & 1) << l)
        :: had && chg[r * 3 + l] == 3 -> gm[r * ND + gi] = gm[r * ND + gi] | (((gr[r * ND + gi] >> d) & 1) << l)
        fi;
        gi++
     :: else -> break
     od
  :: else
  fi;
#ifdef BUG_17B
  if
  :: !had || mv ->
     snew[r] = snew[r] | BIT(d); gm[r * ND + d] = 6; gr[r * ND + d] = 7 & ~rvalid[r] & ~BIT(d)
  :: else
  fi;
  gr[r * ND + 0] = gr[r * ND + 0] & ~BIT(d); gr[r * ND + 1] = gr[r * ND + 1] & ~BIT(d); gr[r * ND + 2] = gr[r * ND + 2] & ~BIT(d);
#else
  /* review 17c: moved_over (a first move of l in this read starts it anew; a move over a copy of the other life
     adds it); sa[d] = this read >= every rn and every ma; then rn[d] = this read: sa[gi] >= it iff sa[gi] is
     this read (snew) */
  if
  :: mv && !OWNSUP(r) && chg[r * 3 + l] != 3 -> mo[r * 3 + l] = (had && LIFE(mem[r * ND + d]) != l)
  :: mv && !OWNSUP(r) && chg[r * 3 + l] == 3 -> mo[r * 3 + l] = mo[r * 3 + l] | (had && LIFE(mem[r * ND + d]) != l)
  :: else
  fi;
  if
  :: !had || mv ->
     snew[r] = snew[r] | BIT(d); gm[r * ND + d] = 6; gr[r * ND + d] = 7
  :: else
  fi;
  gr[r * ND + 0] = (gr[r * ND + 0] & ~BIT(d)) | (((snew[r] >> 0) & 1) << d);
  gr[r * ND + 1] = (gr[r * ND + 1] & ~BIT(d)) | (((snew[r] >> 1) & 1) << d);
  gr[r * ND + 2] = (gr[r * ND + 2] & ~BIT(d)) | (((snew[r] >> 2) & 1) << d);
#endif
#endif
  if :: mv && !OWNSUP(r) -> chg[r * 3 + l] = 3 :: else fi;
  if :: hi[r * 3 + l] == 0 || SEQ(v) > hi[r * 3 + l] -> hi[r * 3 + l] = SEQ(v) :: else fi
#else
  skip
#endif
}

#ifdef NUM_TRACK
/* the parts of 17c's fix one at a time, as seeded bugs (the rest as in 17c): -DBUG_17C_FRESH (a read counts only its
   own copies: attack 3), -DBUG_17C_STAMP (shown_at = the answer's own read: attack 2) */
#if defined(BUG_17B) || defined(BUG_17C_FRESH)
#define FRESHN(d, q) (crn[d] == (q))   /* a52c732: only this very read's copies */
#else
#define FRESHN(d, q) (crn[d] >= (q))   /* 17c: a copy from a later read was taken after this read's issue too */
#endif
#if defined(BUG_17B) || defined(BUG_17C_STAMP)
#define STAMP nrq                      /* shown_at = the answer's read */
#else
#define STAMP nreads                   /* 17c: shown_at = max(read_no, reads_) = the newest read issued */
#endif
hidden byte nrq, npr, npl;
#define HELD(r, l, i) (VALID(mem[r * ND + i]) && LIFE(mem[r * ND + i]) == (l))
/* ReplicaChoice::observe (435f3da): device d answered read slot s with the valid v */
inline nobserve(s, d) {
  nrq = rno[s]; l = LIFE(v); had = VALID(mem[d]); mv = 0; npr = 0; npl = 0;
  if
  :: !had || crn[d] <= nrq ->
     mv = (had && (LIFE(mem[d]) != l || SEQ(v) > hi[l]));
     if :: !had || mv -> csa[d] = STAMP :: else fi;
     if :: had -> npr = crn[d]; npl = LIFE(mem[d]) :: else fi;
     mem[d] = v; crn[d] = nrq
  :: else   /* the memory holds the device's answer to a later read */
  fi;
  if :: hi[l] == 0 || SEQ(v) > hi[l] -> hi[l] = SEQ(v) :: else fi;
  if
  :: mv && nrq > nchg[l] -> nchg[l] = nrq; nma[l] = npr; nmo[l] = 0
  :: mv && nrq == nchg[l] -> if :: npr < nma[l] -> nma[l] = npr :: else fi
  :: else
  fi;
  if :: mv && nrq == nchg[l] && npl != l -> nmo[l] = 1 :: else fi
}
#define NHLD(l) (HELD(0, l, 0) + HELD(0, l, 1) + HELD(0, l, 2))
#define NFR(l, q) ((HELD(0, l, 0) && FRESHN(0, q)) + (HELD(0, l, 1) && FRESHN(1, q)) + (HELD(0, l, 2) && FRESHN(2, q)))
/* a copy of d answered read q (or a later one), of a life lo below the top life hi, the history cannot order:
   17c: shown_at >= moved_after and hi did not move over lo; BUG_17B (a52c732): shown_at > moved_after */
#ifdef BUG_17B
#define NDBTD(d, lo, hi, q) (HELD(0, lo, d) && FRESHN(d, q) && csa[d] > nma[hi])
#else
#define NDBTD(d, lo, hi, q) (HELD(0, lo, d) && FRESHN(d, q) && csa[d] >= nma[hi] && !nmo[hi])
#endif
#define NDBTL(lo, hi, q) (NHLD(hi) > 0 && NHLD(lo) > 0 && nchg[lo] < nchg[hi] && \
  (NDBTD(0, lo, hi, q) || NDBTD(1, lo, hi, q) || NDBTD(2, lo, hi, q)))
/* ReplicaChoice::standing / settled for read slot s */
inline nstanding(s) {
  nf1 = NFR(1, rno[s]); nf2 = NFR(2, rno[s]);
  nmj = 0;
  if :: NHLD(1) > 0 && nf1 >= MAJ -> nmj = 1 :: NHLD(2) > 0 && nf2 >= MAJ -> nmj = 2 :: else fi;
  ndbt = (NDBTL(1, 2, rno[s]) || NDBTL(2, 1, rno[s]));
  if
  :: ndbt -> nst = (nmj != 0)
  :: else -> nst = !(NHLD(1) > 0 && NHLD(2) > 0 && nchg[1] == nchg[2]) || nf1 >= MAJ || nf2 >= MAJ
  fi
}
/* ReplicaChoice::choose for read slot s (after nstanding(s)) */
inline nchoose(s) {
  if
  :: NHLD(1) > 0 && NHLD(2) == 0 -> b = 1
  :: NHLD(1) == 0 && NHLD(2) > 0 -> b = 2
  :: NHLD(1) > 0 && NHLD(2) > 0 ->
     if
     :: nchg[1] > nchg[2] -> b = 1
     :: nchg[1] < nchg[2] -> b = 2
     :: nchg[1] == nchg[2] ->
        if
        :: nf1 > nf2 -> b = 1
        :: nf1 < nf2 -> b = 2
        :: nf1 == nf2 && pch[0] == 1 -> b = 2
        :: nf1 == nf2 && pch[0] == 2 -> b = 1
        :: nf1 == nf2 && pch[0] == 0 ->
           if :: HELD(0, 1, 0) -> b = 1 :: HELD(0, 2, 0) -> b = 2
              :: else -> if :: HELD(0, 1, 1) -> b = 1 :: else -> b = 2 fi
           fi
        fi
     fi
  fi;
  if
  :: ndbt && nmj != 0 && nmj != b ->
     b = nmj; if :: nchg[b] < rno[s] -> nchg[b] = rno[s] :: else fi;
#ifdef BUG_17B
     nma[b] = rno[s] - 1;
#else
     nma[b] = rno[s]; nmo[b] = 0;
#endif
#ifdef REACH_DOUBT_CHOSEN
     assert(0);
#endif
     skip
  :: else
  fi;
  out[s] = b * 16 + hi[b];
  pch[0] = b
}
#endif

/* only the order of the chg matters: at the end of a read keep them as ranks, 0 (never moved: only first answers,
   rule (a)) below 1 (older) below 2 (newer), equal if equal (3 is the read in progress).  A life no device's
   memory holds is no candidate (its chg is kept: it may be held again, as in the code, where an incarnation
   stays in the map) */
inline ranks(r) {
  if
  :: chg[r * 3 + 1] != 0 && chg[r * 3 + 2] != 0 ->
     if
     :: chg[r * 3 + 1] == chg[r * 3 + 2] -> chg[r * 3 + 1] = 1; chg[r * 3 + 2] = 1
     :: chg[r * 3 + 1] > chg[r * 3 + 2] -> chg[r * 3 + 1] = 2; chg[r * 3 + 2] = 1
     :: chg[r * 3 + 1] < chg[r * 3 + 2] -> chg[r * 3 + 1] = 1; chg[r * 3 + 2] = 2
     fi
  :: chg[r * 3 + 1] != 0 && chg[r * 3 + 2] == 0 -> chg[r * 3 + 1] = 1
  :: chg[r * 3 + 1] == 0 && chg[r * 3 + 2] != 0 -> chg[r * 3 + 2] = 1
  :: else
  fi
}

#ifdef DOUBT_TRACK
/* the end of a read: drop the relations that can no longer matter (fewer states): those of a device without a
   memory (its next answer is a first answer: sa and rn set anew); sa[d] > ma[l] for the life d holds (d shows
   another life only after a first answer or a move, which sets sa anew; not with BUG_MAX_SEQ_MOVE, where a change
   of life need not be a move) and for a life that never moved (chg 0: never the top with a life below it) */
inline gcanon(r) {
  snew[r] = 0;
#ifndef BUG_17B
  if :: chg[r * 3 + 1] < chg[r * 3 + 2] -> mo[r * 3 + 1] = 0 :: chg[r * 3 + 2] < chg[r * 3 + 1] -> mo[r * 3 + 2] = 0 :: else fi;
#endif
  gi = 0;
  do
  :: gi < ND ->
     if
     :: !VALID(mem[r * ND + gi]) ->
        gr[r * ND + gi] = 0; gm[r * ND + gi] = 0;
        gr[r * ND + 0] = gr[r * ND + 0] & ~BIT(gi); gr[r * ND + 1] = gr[r * ND + 1] & ~BIT(gi); gr[r * ND + 2] = gr[r * ND + 2] & ~BIT(gi)
     :: else ->
#ifndef BUG_MAX_SEQ_MOVE
        gm[r * ND + gi] = gm[r * ND + gi] & ~BIT(LIFE(mem[r * ND + gi]));
#endif
        if :: chg[r * 3 + 1] == 0 -> gm[r * ND + gi] = gm[r * ND + gi] & ~BIT(1) :: else fi;
        if :: chg[r * 3 + 2] == 0 -> gm[r * ND + gi] = gm[r * ND + gi] & ~BIT(2) :: else fi;
        /* a life below the other (by chg) is the top again only after a move of its own, which sets its ma (and
           mo) anew: its relations are dead */
        if :: chg[r * 3 + 1] < chg[r * 3 + 2] -> gm[r * ND + gi] = gm[r * ND + gi] & ~BIT(1) :: else fi;
        if :: chg[r * 3 + 2] < chg[r * 3 + 1] -> gm[r * ND + gi] = gm[r * ND + gi] & ~BIT(2) :: else fi;
#ifndef BUG_17B
        gr[r * ND + gi] = gr[r * ND + gi] & ~BIT(gi)   /* sa[d] >= rn[d] is read only where gm[d] is set anew */
#else
        skip
#endif
     fi;
     gi++
  :: else -> break
  od
}
#define GCANON(r) gcanon(r)
#else
#define GCANON(r) skip
#endif

#define HELD(r, l, i) (VALID(mem[r * ND + i]) && LIFE(mem[r * ND + i]) == (l))
#define NHELD(r, l) (HELD(r, l, 0) + HELD(r, l, 1) + HELD(r, l, 2))
#define NFRESH(r, l) ((HELD(r, l, 0) && FRESH(r, 0)) + (HELD(r, l, 1) && FRESH(r, 1)) + (HELD(r, l, 2) && FRESH(r, 2)))
#define NFRESHR(r, l) ((HELD(r, l, 0) && ((rvalid[r] >> 0) & 1)) + (HELD(r, l, 1) && ((rvalid[r] >> 1) & 1)) + (HELD(r, l, 2) && ((rvalid[r] >> 2) & 1)))

/* rule (b), ReplicaChoice::settled: the top candidates (lives held in memory, by chg) do not tie, or one of the
   tied lives was answered by a majority of this read (-DBUG_NO_SETTLE: always settled, as before the review) */
#ifdef BUG_NO_SETTLE
#define TIE_SETTLED(r) 1
#else
#define TIE_SETTLED(r) (!(NHELD(r, 1) > 0 && NHELD(r, 2) > 0 && chg[r * 3 + 1] == chg[r * 3 + 2]) || \
                    NFRESHR(r, 1) >= MAJ || NFRESHR(r, 2) >= MAJ)
#endif

/* review 17b (ReplicaChoice::standing, the doubt): a device answered this read with a life lo held below the top
   life hi (by chg; hi held) and what it shows was news there after the read after which hi moved (shown_at >
   moved_after): the history cannot order lo against hi.  In doubt a read is settled only by a majority of its
   answers for one life (MAJL), and choose() hands that life out.  -DBUG_NO_DOUBT: no doubt (the rules before
   148e73c: the history alone picks the life) */
#define ANSD(r, l, d) (HELD(r, l, d) && ((rvalid[r] >> (d)) & 1))
#ifdef DOUBT_TRACK
#ifdef BUG_17B
#define NOT_OVER(r, hi) 1
#else
#define NOT_OVER(r, hi) !mo[r * 3 + (hi)]   /* review 17c: no doubt when the top moved over a copy of the lower life */
#endif
#define DOUBTL(r, lo, hi) (NHELD(r, hi) > 0 && chg[r * 3 + lo] < chg[r * 3 + hi] && NOT_OVER(r, hi) && \
  ((ANSD(r, lo, 0) && ((gm[r * ND + 0] >> (hi)) & 1)) || (ANSD(r, lo, 1) && ((gm[r * ND + 1] >> (hi)) & 1)) || \
   (ANSD(r, lo, 2) && ((gm[r * ND + 2] >> (hi)) & 1))))
#define DOUBT(r) (DOUBTL(r, 1, 2) || DOUBTL(r, 2, 1))
#else
#define DOUBT(r) 0
#endif
#ifdef BUG_17B
#define MO0(r, l)
#else
#define MO0(r, l) mo[r * 3 + (l)] = 0;
#endif
/* choose() in doubt: ma[l] = the read before this one (BUG_17B: sa > ma) or this read (17c: sa >= ma): either way
   only a sa of this read passes */
#define SETMA_PREV(r, l) \
  gm[r * ND + 0] = (gm[r * ND + 0] & ~BIT(l)) | (((snew[r] >> 0) & 1) << (l)); \
  gm[r * ND + 1] = (gm[r * ND + 1] & ~BIT(l)) | (((snew[r] >> 1) & 1) << (l)); \
  gm[r * ND + 2] = (gm[r * ND + 2] & ~BIT(l)) | (((snew[r] >> 2) & 1) << (l))
/* witnesses (not bugs: expected to fail) that the runs reach the doubt: -DREACH_DOUBT_CHOSEN: a read in doubt hands
   out the majority's life over the history's top; -DREACH_DOUBT_FAIL: a read in doubt fails (no majority) */
#ifdef REACH_DOUBT_CHOSEN
#define REACH_CHOSEN assert(r != 0)
#else
#define REACH_CHOSEN skip
#endif
#ifdef REACH_DOUBT_FAIL
#define REACH_FAIL(r) assert(!DOUBT(r));
#else
#define REACH_FAIL(r)
#endif
#define MAJL(r) (NFRESHR(r, 1) >= MAJ || NFRESHR(r, 2) >= MAJ)
#define SETTLED(r) (DOUBT(r) -> MAJL(r) : TIE_SETTLED(r))

/* rule (b) at the end of a read (MajorityBlockDevice::decide, 17ff5b4): a tie still unsettled when the read is final
   (every asked device answered, or the deadline) fails the read (io_error: no observation); -DTIE_FALLBACK: it
   falls back to the tie-breaks (the code from 2cdccc8 to 17ff5b4) */
#ifdef TIE_FALLBACK
#define SETTLE_OR_FAIL 0
#else
#define SETTLE_OR_FAIL 1
#endif

/* R4: choose from reader r's memory; out[r] = the chosen (life, hi) */
inline choose(r) {
#ifdef R4_LITERAL
  /* the spec's R4 as written: hi = the highest seq in memory NOW, computed when the read completes */
  l = 1;
  do
  :: l <= 2 ->
     n1 = 0; i = 0;
     do
     :: i < ND -> if :: LIFE(mem[r * ND + i]) == l && VALID(mem[r * ND + i]) && SEQ(mem[r * ND + i]) > n1 -> n1 = SEQ(mem[r * ND + i]) :: else fi; i++
     :: else -> break
     od;
     if :: n1 > 0 && n1 > hi[r * 3 + l] -> chg[r * 3 + l] = 3 :: else fi;
     hi[r * 3 + l] = n1;   /* it may fall, and rise again to a seq seen before */
     l++
  :: else -> break
  od;
#endif
#ifdef BUG_LATEST_CHANGE
  /* the device whose copy changed most recently (ties: lowest index) */
  b = 255; n2 = 0; i = 0;
  do
  :: i < ND -> if :: VALID(mem[r * ND + i]) && (b == 255 || mchg[r * ND + i] > n2) -> b = i; n2 = mchg[r * ND + i] :: else fi; i++
  :: else -> break
  od;
  out[r] = mem[r * ND + b];
  pch[r] = LIFE(out[r]);
#else
  /* candidates: the lives some device's memory holds */
  if
  :: NHELD(r, 1) > 0 && NHELD(r, 2) == 0 -> b = 1
  :: NHELD(r, 1) == 0 && NHELD(r, 2) > 0 -> b = 2
  :: NHELD(r, 1) > 0 && NHELD(r, 2) > 0 ->
     if
     :: chg[r * 3 + 1] > chg[r * 3 + 2] -> b = 1
     :: chg[r * 3 + 1] < chg[r * 3 + 2] -> b = 2
     :: chg[r * 3 + 1] == chg[r * 3 + 2] ->
        n1 = NFRESH(r, 1); n2 = NFRESH(r, 2);
        if
        :: n1 > n2 -> b = 1
        :: n1 < n2 -> b = 2
#ifndef R4_TIE_SPEC
        /* amended: on a tie, the life that is NOT the previous choice (it moved as recently, and it is news) */
        :: n1 == n2 && pch[r] == 1 -> b = 2
        :: n1 == n2 && pch[r] == 2 -> b = 1
#else
        :: n1 == n2 && pch[r] != 0 -> b = pch[r]
#endif
        :: n1 == n2 && pch[r] == 0 ->   /* the lowest device index holding one */
           if :: HELD(r, 1, 0) -> b = 1 :: HELD(r, 2, 0) -> b = 2
              :: else -> if :: HELD(r, 1, 1) -> b = 1 :: else -> b = 2 fi
           fi
        fi
     fi
  fi;
#ifdef DOUBT_TRACK
  /* review 17b: in doubt, the life a majority of this read's answers hold (settled() let the read complete only
     with one), counted as moved at this read, after the read before it (ma = this read - 1: only a sa of this
     read is above it) */
  if
  :: DOUBT(r) && NFRESHR(r, 1) >= MAJ && b != 1 -> b = 1; chg[r * 3 + 1] = 3; SETMA_PREV(r, 1); MO0(r, 1) REACH_CHOSEN
  :: DOUBT(r) && NFRESHR(r, 2) >= MAJ && b != 2 -> b = 2; chg[r * 3 + 2] = 3; SETMA_PREV(r, 2); MO0(r, 2) REACH_CHOSEN
  :: else
  fi;
#endif
  out[r] = b * 16 + hi[r * 3 + b];
  pch[r] = b;
#endif
}

/* a completed read of reader r, output out[r]: the checks and the peer monitor */
inline rclear(r) {   /* a finished read: forget its answers (fewer states) */
  rst[r] = 0; rans[r] = 0; rvalid[r] = 0; rraw[r * ND] = 0; rraw[r * ND + 1] = 0; rraw[r * ND + 2] = 0;
#ifdef NUM_TRACK
  rcar[r] = 0   /* rno[r] stays until the slot's next read or deadline (the trail prints it) */
#else
  ranks(r);
  GCANON(r)
#endif
}

inline observed(r) {
  rclear(r);
  printf("EV t=%d read_done r=%d out=%d.%d (read %d; issued after a write that completed while the reader followed the value: %d)\n", now, r, LIFE(out[r]), SEQ(out[r]), RNO(r), rstale[r]);
  if
  :: ISPEER(r) ->
     if
     :: bad[0] + bad[1] + bad[2] <= 1 ->
        /* (a'): what the one-disk argument needs */
        assert(!rstale[r] || out[r] != rsv[r]);
#ifdef STRICT_A
        /* (a) strict, in real time */
        assert(rmin[r] == 0 || (VALID(out[r]) &&
               ((LIFE(out[r]) == LIFE(rmin[r]) && SEQ(out[r]) >= SEQ(rmin[r])) ||
                (LIFE(out[r]) != LIFE(rmin[r]) && (rmv[r] & BIT(LIFE(out[r])))))));
#endif
#ifdef FIRST_READ_A
        /* (g) the first output of a restarted reader (its new PeerMonitor's first value, taken as the peer's
           state: review 17, attack 1) is (a) in real time: no older value than a completed write */
        assert(!fresh0 || rmin[0] == 0 || (VALID(out[0]) &&
               ((LIFE(out[0]) == LIFE(rmin[0]) && SEQ(out[0]) >= SEQ(rmin[0])) ||
                (LIFE(out[0]) != LIFE(rmin[0]) && (rmv[0] & BIT(LIFE(out[0])))))));
#endif
        /* (b) */
        assert(!VALID(out[r]) || SEQ(out[r]) >= lastout[LIFE(out[r])])
     :: else
     fi;
     fresh0 = 0;
     if :: VALID(out[r]) && SEQ(out[r]) > lastout[LIFE(out[r])] -> lastout[LIFE(out[r])] = SEQ(out[r]) :: else fi;
     if
     :: out[r] != pout -> pout = out[r]; age = 0; dead = 0; pu[0] = 0; pu[1] = 0; wstale = 0; lfs = hadl[1] + 2 * hadl[2]
     :: out[r] == pout && age >= D ->
        dead = 1; printf("EV t=%d DEAD\n", now);
        /* (c) */
        assert(!((lfs & 1) && lrem[1] > 0) && !((lfs & 2) && lrem[2] > 0))
     :: else
     fi
  :: else ->
     /* (e) */
     assert(!eread || LIFE(out[1]) == 1);
     if :: LIFE(out[1]) == 1 -> eflag = 0; eseen = 1 :: else fi   /* seen: QuorumCore fences (caught) */
  fi
}

/* reader r: complete now if it can (final: every asked device answered, or the deadline) */
#ifdef NUM_TRACK
#undef SETTLED
#define SETTLED(r) nst
#undef DOUBT
#define DOUBT(r) ndbt
#define CHOOSE(r) nchoose(r)
#define NSTANDING(r) nstanding(r);
#else
#define CHOOSE(r) choose(r)
#define NSTANDING(r)
#endif
inline try_complete(r, final) {
  NSTANDING(r)
  if
#ifdef BUG_READ_ONE
  :: CNT(rvalid[r]) >= 1 -> choose(r); observed(r)
#else
  /* rule (b): a valid majority completes the read once the choice is settled, or when it is final */
  :: CNT(rvalid[r]) >= MAJ && (final || SETTLED(r)) && (SETTLED(r) || !SETTLE_OR_FAIL) -> CHOOSE(r); observed(r)
  :: CNT(rvalid[r]) >= MAJ && final && !SETTLED(r) && SETTLE_OR_FAIL -> REACH_FAIL(r) rclear(r)   /* no guess: an error */
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
             OBSERVE(r, d) \
          :: else \
          fi \
       fi; \
       if :: !later -> try_complete(r, rpend[r] == 0) :: else fi }
#ifdef NUM_TRACK
#define OBSERVE(r, d) nobserve(r, d)
#else
#define OBSERVE(r, d) MCHG(r, d) observe(r, d); mem[r * ND + d] = v
#endif
#ifdef BUG_LATEST_CHANGE
#define MCHG(r, d) if :: mem[r * ND + d] != v -> mchg[r * ND + d] = rk[r] :: else fi;
#else
#define MCHG(r, d)
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
     cont[d] = x; printf("EV t=%d land c=%d d=%d v=%d.%d\n", now, c, d, LIFE(x), SEQ(x));
     STRICT_MOVED(x)
     if :: stopped && LIFE(x) == 1 -> sincel = 0 :: else fi;
#ifdef OWNREAD
     if
     :: LIFE(x) == 2 -> eflag = 0; eread = 0
     :: else -> majority_of(x, n1); if :: n1 >= MAJ && started[1] && !eseen -> eflag = 1 :: else fi
     fi;
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
           STRICT_DONE(c, x) pend[c] = 0;
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
  :: d_step { !phase && infl[c * ND + d] != 0 && fk[d] != K_STALL -> tmp = infl[c * ND + d]; infl[c * ND + d] = que[c * ND + d]; que[c * ND + d] = 0; landed(c, d, tmp) }
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
#if defined(OWNREAD) || defined(OVERLAP)
#define RHELD1(d) rheld[1] = rheld[1] & ~BIT(d)
#else
#define RHELD1(d) skip
#endif

/* with -DMAXMISS or -DMAXFORGET, the faults, the missing answers and the forgotten device are one device (the
   properties need one faulty device) */
#if MAXMISS > 0 || MAXFORGET > 0
#define ONEBAD(d) (bad[0] + bad[1] + bad[2] == 0 || bad[d])
#else
#define ONEBAD(d) 1
#endif
#ifdef DOUBT_TRACK
#define GFORGET(d) gr[d] = 0; gm[d] = 0; gr[0] = gr[0] & ~BIT(d); gr[1] = gr[1] & ~BIT(d); gr[2] = gr[2] & ~BIT(d);
#define GFORGET_ALL gr[0] = 0; gr[1] = 0; gr[2] = 0; gm[0] = 0; gm[1] = 0; gm[2] = 0; snew[0] = 0; MOALL0
#ifdef BUG_17B
#define MOALL0
#else
#define MOALL0 mo[1] = 0; mo[2] = 0;
#endif
#else
#define GFORGET(d)
#define GFORGET_ALL
#endif
/* the reader's chooser forgets device d (ReplicaChoice::forget_device: the reader adopted a new member in that
   slot, castor disk replace), between two of its reads; the life history stays (it is the block's).  The device
   keeps its content: a new member the writer's composite already writes (its quorum area zeroed before: the
   ZERO fault; not both here).  Its next valid answer is a first answer (review 17b, attack 2; with the missing
   answers, attack 1 without a reader restart) */
#define FORGET(d) \
  :: d_step { !phase && !rst[0] && nforget < MAXFORGET && VALID(mem[d]) && ONEBAD(d) -> \
       nforget++; bad[d] = 1; mem[d] = 0; GFORGET(d) printf("EV t=%d forget d=%d\n", now, d) }
/* the reader's reads of device d fail or are not answered (then dropped at the deadline) for a while */
#define MISS(d) \
  :: d_step { !phase && nmiss < MAXMISS && !(rmiss & BIT(d)) && ONEBAD(d) -> \
       nmiss++; bad[d] = 1; rmiss = rmiss | BIT(d); printf("EV t=%d miss d=%d\n", now, d) }
#define MISS_END(d) \
  :: d_step { !phase && (rmiss & BIT(d)) -> rmiss = rmiss & ~BIT(d); printf("EV t=%d miss_end d=%d\n", now, d) }

/* every I/O of a device that is not stalled or lagging is done (the tick waits for it) */
#define DEVQUIET(d) (fk[d] == K_STALL || fk[d] == K_LAG || \
  (infl[d] == 0 && infl[ND + d] == 0 && RQUIET(0, d) && OWNQUIET(d)))
#ifdef NUM_TRACK
/* a read whose answers go on past the next tick (rcar 1) does not hold the tick */
#define RQUIET(s, d) !(rst[s] && rcar[s] != 1 && (rpend[s] & BIT(d)) && !(rmiss & BIT(d)))
#else
#define RQUIET(s, d) !(rst[s] && (rpend[s] & BIT(d)) && !(rmiss & BIT(d)))
#endif
#ifdef OVERLAP
#define OWNQUIET(d) RQUIET(1, d)
#define HELDMASK(r) (rheld[0] | rheld[1])
#elif defined(OWNREAD)
#define OWNQUIET(d) !(rst[1] && (rpend[1] & BIT(d)))
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
#ifdef NUM_TRACK
#define NEXTREAD(r) nreads++; rno[r] = nreads; rcar[r] = 0; printf("EV t=%d read_issue r=%d read %d\n", now, r, nreads);
#else
#define NEXTREAD(r) rk[r]++;
#endif
inline issue_read(r) {
  NEXTREAD(r) rst[r] = 1; rans[r] = 0; rvalid[r] = 0;
  rpend[r] = 7 & ~HELDMASK(r);
  STRICT_SNAP(r)
  if :: ISPEER(r) -> rstale[r] = wstale; rsv[r] = pout :: else fi
}

inline issue_write(c) {
  wseq[wl[c]]++; v = wl[c] * 16 + wseq[wl[c]];
  pend[c] = v; pok[c] = 0; perr[c] = 0; PMV0(c) pu[c] = 1;
  i = 0;
  do
  :: i < ND ->
#ifdef BUG_NO_DEV_ORDER
     if :: infl[c * ND + i] == 0 -> infl[c * ND + i] = v :: else -> que[c * ND + i] = v fi;
#else
     if :: infl[c * ND + i] == 0 -> infl[c * ND + i] = v :: else -> que[c * ND + i] = v fi;
#endif
     i++
  :: else -> break
  od
}

#ifdef NUM_TRACK
#define RCAR0(r) rcar[r] = 0; rno[r] = 0
/* at the tick: a read marked to go on past it stays open (its deadline is the next tick); the others end */
#define TICKREAD(r) if :: rst[r] && rcar[r] == 1 -> rcar[r] = 2 :: else -> deadline(r) fi
#else
#define RCAR0(r) skip
#define TICKREAD(r) deadline(r)
#endif
inline deadline(r) {
  if :: rst[r] -> try_complete(r, 1) :: else fi;
  /* reads still in a stalled device stay there (W4: the next reads skip it); the others are answered too
     late and dropped */
  rheld[r] = rheld[r] | (rpend[r] & ((fk[0] == K_STALL) + 2 * (fk[1] == K_STALL) + 4 * (fk[2] == K_STALL)));
  rpend[r] = 0; rst[r] = 0; RCAR0(r)
}
/* the tick's read can be issued now: a free slot, and another read open only within the overlap bound */
#ifdef OVERLAP
#define CANISSUE ((!rst[0] && !rst[1]) || ((!rst[0] || !rst[1]) && noverlap < MAXOVERLAP))
#elif defined(NUM_TRACK)
#define CANISSUE (!rst[0])
#endif

active proctype Model() {
  /* life 1 wrote (1,1) on every device at tick 0; its lease runs to F; the reader read it */
  cont[0] = 17; cont[1] = 17; cont[2] = 17;
  wl[0] = 1; wl[1] = 2; wseq[1] = 1; walive[0] = 1; started[0] = 1; hadl[1] = 1; lrem[1] = F;
  STRICT_DONE(0, 17) mem[0] = 17; mem[1] = 17; mem[2] = 17; hi[1] = 1; chg[1] = 0; pch[0] = 1;   /* NUM_TRACK: read 0 */
  out[0] = 17; pout = 17; age = 0; lastout[1] = 1; lfs = 1;
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
  :: d_step { phase && nrestart < MAXRESTART && walive[0] && !started[1] -> nrestart++; printf("EV t=%d restart_undead\n", now); walive[1] = 1; started[1] = 1; und = 1 }
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
       if :: started[1] -> issue_read(1); eread = eflag :: else fi;
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
     and complete between its answers: review 17c, schedule 1) */
  :: d_step { !phase && rst[0] && rcar[0] == 0 && nsplit < MAXSPLIT -> nsplit++; rcar[0] = 1; printf("EV t=%d read_slow r=0\n", now) }
#ifdef OVERLAP
  :: d_step { !phase && rst[1] && rcar[1] == 0 && nsplit < MAXSPLIT -> nsplit++; rcar[1] = 1; printf("EV t=%d read_slow r=1\n", now) }
#endif
#endif
#ifdef OVERLAP
  /* an extra read while one is open (the reader's reads every R = T / 2, a replaced core's read beside the new
     core's): two reads of the block open at once, answered in any order (review 17c, schedule 2) */
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
#if MAXFORGET > 0
  FORGET(0) FORGET(1) FORGET(2)
#endif
#if MAXRRESTART > 0
  /* the reader restarts: a new process (quorumd, or castor status) with a new composite and chooser (no memory),
     a new PeerMonitor (it follows nothing until its first read); the old process's read is gone */
  :: d_step { !phase && nrrestart < MAXRRESTART ->
       nrrestart++; printf("EV t=%d reader_restart\n", now);
       mem[0] = 0; mem[1] = 0; mem[2] = 0; hi[1] = 0; hi[2] = 0; chg[1] = 0; chg[2] = 0; pch[0] = 0; GFORGET_ALL
       rst[0] = 0; rpend[0] = 0; rheld[0] = 0; rans[0] = 0; rvalid[0] = 0; rraw[0] = 0; rraw[1] = 0; rraw[2] = 0;
       pout = NONE; age = 0; dead = 0; lfs = 0; pu[0] = 0; pu[1] = 0; wstale = 0; rstale[0] = 0;
       lastout[1] = 0; lastout[2] = 0; fresh0 = 1;
       if :: stopped -> sincel = 0 :: else fi }
#endif
  :: else -> break   /* the horizon */
  od
}
