/*
 * Castor: a Promela model of replacing a member of the set of three quorum devices while the cluster runs
 * (`castor disk replace`, docs/design.md "Replacing a quorum device", quorumd/device_set_change.{h,cc},
 * QuorumDaemon::step_device_set_change and open_device_set, tools/cmd_disk.cc, lib/disk/quorum_device_set.cc).
 * Checked by tests/model/verify.sh (runs rep_*); see README.md.
 *
 * WHAT.  Two nodes (0, 1) and the devices OLD, B, C (slots 0..2) and NEW (OLD's replacement); with
 * -DTWO_ADMINS also NEW2, a second admin's replacement of B (slot 1) started at the same time on the other
 * node.  majority.pml checked that a composite over ONE set of three behaves as one disk; this model checks
 * the step above it: that the two nodes' sets never stop sharing every majority.  A node's process counts,
 * in each slot, the member it uses (OLD, B, C, NEW, NEW2) or nothing (a retired member, a member held aside,
 * a member lost at open: the composite treats all three as a failed device).  A composite needs two answers
 * (a majority of the three slots) for every read and write, so:
 *
 * PROPERTY (safety, an assertion after every step that gives a process a member): whenever both nodes have
 * a process (running, paused, fenced, or opened and not yet started: each will do I/O with the set it
 * holds), no two devices counted by one node are disjoint from two devices counted by the other.  Otherwise
 * a write of one node completed on a majority ({NEW, B}) and a read of the other answered by a majority
 * ({OLD, C}) miss each other: a single-writer register (a heartbeat, a table block) loses a completed write.
 * Conversely, when every pair of majorities meets, majority.pml's argument applies to the pair of sets.
 *
 * THE NODE (DeviceSetChange, ported line by line).  posture (generation, retiring, slot), a pending retire
 * (pgen, pslot), the peer's highest posted (generation, slot), peer_left, the new member handed over
 * (newdev).  request(g, k) is the device-replace verb (refused while another change is under way, when g is
 * not the next generation, or when a new member waits already); on_peer_record on each heartbeat record
 * read; next(): retire when pending; adopt when retiring, the new member is there and the peer posted this
 * very (generation, slot).  The daemon's turn performs one step.  Heartbeats: a node posts its posture in
 * its heartbeat record at a later write (any delay); the peer's read returns the record as it was at the
 * read's issue and is processed at any later moment (one read in flight).  A node: crashes (its last record
 * stays), leaves cleanly (its record says DOWN, with its posture), restarts (OPEN: the set from the
 * superblocks, then START: its first heartbeat; any steps of the peer in between), pauses (no step at all;
 * it resumes, possibly fenced), is fenced (its quorumd runs on and writes no heartbeat) and rejoins with
 * the set it had.  OPEN (open_quorum_device_set + open_device_set): castor.ini lists OLD, B, C (or, once the
 * admin changed it, NEW, B, C); one listed device may not answer (-DMAXOPENFAIL); the newest generation
 * among the superblocks of B and C that answer names the set (as the brief states the rule; the code also
 * takes NEW's: -DOPEN_NEW_NAMES); a set at generation 1 leaves OLD out and starts retiring
 * slot 0 with NEW held aside (when listed) until the peer posts generation 1; fewer than two placed
 * members: the open is refused.
 *
 * THE TOOL (tools/cmd_disk.cc): reads the set's generation from the other members (G = the highest + 1),
 * prepares NEW (its superblock at G), raises the superblocks of the two other members to G one after the
 * other, then the verb to the first node; later, its second run hands NEW to the other node.  The admin
 * runs it on a node whose quorumd answers (not paused).  A run stops when quorumd refuses, and may stop
 * after any step (a write error, ^C).
 *
 * AMENDED BY THIS MODEL (the text as written behind flags, each a counterexample in verify.sh's bugs mode):
 *  - A clean leave (DOWN) does not vouch for the peer's next life (-DDOWN_VOUCHES: it does, as the design
 *    and next() say: rep_down_vouches).  The peer's next quorumd may have opened its set from superblocks read
 *    BEFORE the tool raised them (a restart racing the admin's command): it counts OLD, and its first
 *    heartbeat is not read yet, so the view is still DOWN when the verb arrives.  Only the peer's posted
 *    (G, k) confirms: a life that posted it retired OLD, and every later life opens after the raise.
 *  - A node posts generation G (the confirmation its peer adopts on, and learns G from) only once it knows
 *    that BOTH other members' superblocks say G: it got the verb (the tool raised both before), its open read
 *    G on both, or its peer posted G; until then it posts G - 1, while it runs retiring at G (-DPOST_UNVOUCHED:
 *    it posts its generation at once, as the code does: rep_post_unvouched).  A node that opened the set
 *    while the tool was between its two raises (B says G, C not yet) and the peer learning G from it: the
 *    peer's next life, with B not answering at its open, reads generation 0 from OLD and C and counts OLD, yet
 *    its earlier life's post of G confirms.  (With this rule NEW's own superblock may name the set as the
 *    code lets it, -DOPEN_NEW_NAMES: rep_open_new_names passes; without it, that too is a counterexample.)
 *  - The tool hands NEW over only when BOTH other members' superblocks say G (-DTOOL_SKIPS: as the code does,
 *    it raises the members it could read, and a second run that finds NEW prepared raises none: a failed
 *    first run leaves one member unraised: rep_tool_skips).  A node that opens the set without the one
 *    raised member (one device not answering) reads generation 0 and counts OLD.
 *
 * SEEDED BUGS (each must be found): -DBUG_ADOPT_EARLY (adopt without the peer's confirmation),
 * -DBUG_START_ADOPT (a node that opens a set at generation 1 counts NEW at once), -DBUG_DEAD_CONFIRMS (a peer
 * declared DEAD taken as a confirmation), -DBUG_LATE_SUPERBLOCKS (the tool raises the superblocks after handing
 * NEW over), -DBUG_ANY_SLOT (with -DTWO_ADMINS: a peer posting generation G for another slot confirms).
 *
 * NOT MODELLED: the data (majority.pml's part); a replacement of another slot after this one (G = 2) with
 * restarts (-DTWO_ADMINS has no restarts: the superblocks of two racing tools are not modelled); the admin's
 * castor.ini edit listing NEW before the tool ran; two quorumd processes of one node at once.
 */

#ifndef MAXRESTART
#define MAXRESTART 2      /* opens after a crash or a leave, both nodes together */
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef MAXLEAVE
#define MAXLEAVE 1
#endif
#ifndef MAXPAUSE
#define MAXPAUSE 1
#endif
#ifndef MAXFENCE
#define MAXFENCE 1
#endif
#ifndef MAXOPENFAIL
#define MAXOPENFAIL 1
#endif
#ifndef MAXSKIP
#define MAXSKIP 1
#endif

/* devices, as bits of a node's counted set */
#define OLD 1
#define B 2
#define C 4
#define NEW 8
#define NEW2 16
#define BIT(i) (1 << (i))
#define CNT5(m) ((((m) >> 0) & 1) + (((m) >> 1) & 1) + (((m) >> 2) & 1) + (((m) >> 3) & 1) + (((m) >> 4) & 1))

/* heartbeat record: state (0 none, 1 UP, 2 DOWN), generation, retiring, slot */
#define REC(st, g, r, k) ((st) * 64 + (g) * 8 + (r) * 4 + (k))
#define RST(x) ((x) / 64)
#define RGEN(x) (((x) / 8) % 8)
#define RRET(x) (((x) / 4) % 2)
#define RSLOT(x) ((x) % 4)

#define R_NONE 0
#define R_OPEN 1
#define R_UP 2

byte proc[2];              /* 0: no process; 1: opened the set, not started; 2: running */
bit paused[2];
bit fenced[2];
byte slot[6];             /* n * 3 + k: the device node n counts in slot k (0: none) */
byte pg[2];               /* posture: generation, retiring, slot */
bit pr[2];
byte ps[2];
bit pend[2];              /* a retire is due: pgen, pslot */
byte pgen[2], pslot[2];
byte peer_gen[2], peer_slot[2];
bit peer_left[2];
bit vouch[2];             /* the node knows both other members' superblocks say its generation: it posts it */
bit peer_dead[2];         /* -DBUG_DEAD_CONFIRMS: the peer declared DEAD */
byte newdev[2];           /* the new member handed over (or held aside from the superblocks), 0: none */
byte post[2];             /* the record in node n's heartbeat block */
byte snap[2];             /* node n's read of the peer's block in flight: the record at its issue */
bit rp[2];
byte sbg[3];              /* superblock generation of OLD, B, C */
/* tools: t = 0 replaces slot 0 (OLD by NEW), first on node 0; t = 1 (-DTWO_ADMINS) slot 1 (B by NEW2), first on node 1 */
byte ts[2];               /* the tool's step */
bit newprep;              /* NEW is prepared (its superblock names generation 1) */
byte tg[2];               /* the generation it prepared */
byte nrestart, ncrash, nleave, npause, nfence, nopenfail, nskip;
hidden byte i, j, m, x, s0, s1;

#define SET(n) (slot[(n) * 3] | slot[(n) * 3 + 1] | slot[(n) * 3 + 2])

/* the property: some two devices of node 0's set are disjoint from two of node 1's */
inline check() {
  if
  :: proc[0] != R_NONE && proc[1] != R_NONE ->
     s0 = SET(0); s1 = SET(1);
     i = 0;
     do
     :: i < 5 ->
        j = i + 1;
        do
        :: j < 5 ->
           m = BIT(i) | BIT(j);
           if
           :: (s0 & m) == m && CNT5(s1 & ~m) >= 2 ->
              printf("EV VIOLATION node 0 counts %d, node 1 counts %d: majorities {%d} and {%d} can miss each other\n",
                     s0, s1, m, s1 & ~m);
              assert(0)
           :: else
           fi;
           j++
        :: else -> break
        od;
        i++
     :: else -> break
     od
  :: else
  fi
}

/* DeviceSetChange::on_peer_record */
inline on_peer_record(n, r) {
  if :: RST(r) == 1 -> peer_left[n] = 0; peer_dead[n] = 0 :: else fi;
  if
  :: RGEN(r) > peer_gen[n] || (RGEN(r) == peer_gen[n] && RSLOT(r) != peer_slot[n]) ->
     peer_gen[n] = RGEN(r); peer_slot[n] = RSLOT(r)
  :: else
  fi;
  if :: RGEN(r) >= pg[n] -> vouch[n] = 1 :: else fi;   /* the peer posted this generation: it knew */
  if
  :: RGEN(r) == pg[n] + 1 && !pend[n] && !pr[n] -> pend[n] = 1; pgen[n] = RGEN(r); pslot[n] = RSLOT(r)
  :: else
  fi
}

/* DeviceSetChange::next()'s adopt condition */
#ifdef BUG_ANY_SLOT
#define CONFIRMED(n) (peer_gen[n] == pg[n])
#else
#define CONFIRMED(n) (peer_gen[n] == pg[n] && peer_slot[n] == ps[n])
#endif
#ifdef DOWN_VOUCHES
#define LEFT(n) peer_left[n]
#else
#define LEFT(n) 0
#endif
#ifdef BUG_DEAD_CONFIRMS
#define DEADC(n) peer_dead[n]
#else
#define DEADC(n) 0
#endif
#ifdef BUG_ADOPT_EARLY
#define MAY_ADOPT(n) (pr[n] && newdev[n] != 0)
#else
#define MAY_ADOPT(n) (pr[n] && newdev[n] != 0 && (CONFIRMED(n) || LEFT(n) || DEADC(n)))
#endif

/* the device-replace verb (request_device_replace + DeviceSetChange::request): g, slot k, device d */
inline verb(t, n, g, k, d) {
  if
  :: newdev[n] != 0 -> printf("EV n=%d verb refused: a new member waits already\n", n); ts[t] = 99
  :: newdev[n] == 0 && pr[n] && pg[n] == g && ps[n] == k -> newdev[n] = d; vouch[n] = 1; printf("EV n=%d verb g=%d k=%d accepted (retiring it already)\n", n, g, k)
  :: newdev[n] == 0 && !(pr[n] && pg[n] == g && ps[n] == k) && pend[n] && pgen[n] == g && pslot[n] == k -> newdev[n] = d; vouch[n] = 1; printf("EV n=%d verb g=%d k=%d accepted (pending)\n", n, g, k)
  :: newdev[n] == 0 && !(pr[n] && pg[n] == g && ps[n] == k) && !(pend[n] && pgen[n] == g && pslot[n] == k) && (pr[n] || pend[n]) ->
     printf("EV n=%d verb g=%d k=%d refused: another change under way\n", n, g, k); ts[t] = 99
  :: newdev[n] == 0 && !(pr[n] && pg[n] == g && ps[n] == k) && !(pend[n] && pgen[n] == g && pslot[n] == k) && !pr[n] && !pend[n] && g != pg[n] + 1 ->
     printf("EV n=%d verb g=%d k=%d refused: not the next generation\n", n, g, k); ts[t] = 99
  :: newdev[n] == 0 && !pr[n] && !pend[n] && g == pg[n] + 1 ->
     pend[n] = 1; pgen[n] = g; pslot[n] = k; newdev[n] = d; vouch[n] = 1; printf("EV n=%d verb g=%d k=%d accepted\n", n, g, k)
  fi
}

/* a node's process ends (crash or leave): it counts nothing */
inline gone(n) {
  proc[n] = R_NONE; paused[n] = 0; fenced[n] = 0; rp[n] = 0;
  slot[n * 3] = 0; slot[n * 3 + 1] = 0; slot[n * 3 + 2] = 0;
  pend[n] = 0; peer_gen[n] = 0; peer_slot[n] = 0; peer_left[n] = 0; peer_dead[n] = 0; newdev[n] = 0
}

/* OPEN: lst = 0: castor.ini lists OLD, B, C; 1: NEW, B, C.  f: the listed device that does not answer
   (0 none, 1 the first (OLD or NEW), 2 B, 3 C) */
inline open(n, lst, f) {
  /* the newest generation among the superblocks that answer */
  x = 0;
  if :: f != 2 && sbg[1] > x -> x = sbg[1] :: else fi;
  if :: f != 3 && sbg[2] > x -> x = sbg[2] :: else fi;
  if :: lst == 0 && f != 1 && sbg[0] > x -> x = sbg[0] :: else fi;
#ifdef OPEN_NEW_NAMES
  if :: lst == 1 && f != 1 -> x = 1 :: else fi;   /* as the code: NEW's superblock (generation 1) names the set */
#endif
  slot[n * 3 + 1] = (f != 2) * B; slot[n * 3 + 2] = (f != 3) * C;
#ifdef POST_UNVOUCHED
  vouch[n] = 1;
#else
  /* it read generation x on both other members (or x = 0) */
  vouch[n] = (x == 0 || (f != 2 && sbg[1] == x && f != 3 && sbg[2] == x));
#endif
  pend[n] = 0; peer_gen[n] = 0; peer_slot[n] = 0; peer_left[n] = 0; peer_dead[n] = 0; rp[n] = 0;
  if
  :: x == 0 ->
     /* generation 0: OLD, B, C (NEW, listed, is not a member of generation 0: lost) */
     slot[n * 3] = (lst == 0 && f != 1) * OLD; pg[n] = 0; pr[n] = 0; ps[n] = 0; newdev[n] = 0
  :: else ->
     /* generation 1: OLD is no member; NEW (if listed and answering) held aside until the peer posts 1 */
     slot[n * 3] = 0; pg[n] = 1; pr[n] = 1; ps[n] = 0;
     newdev[n] = (lst == 1 && f != 1) * NEW;
#ifdef BUG_START_ADOPT
     if :: newdev[n] != 0 -> slot[n * 3] = NEW; newdev[n] = 0; pr[n] = 0 :: else fi;
#endif
  fi;
  /* fewer than two placed members: refused (the node stays down) */
  if
  :: (slot[n * 3] != 0) + (slot[n * 3 + 1] != 0) + (slot[n * 3 + 2] != 0) + (newdev[n] != 0) >= 2 ->
     proc[n] = R_OPEN; nrestart++; if :: f != 0 -> nopenfail++ :: else fi;
     printf("EV n=%d open: castor.ini %d, not answering %d, generation %d, counts %d, held aside %d\n", n, lst, f, pg[n], SET(n), newdev[n]);
     check()
  :: else -> printf("EV n=%d open refused\n", n); slot[n * 3] = 0; slot[n * 3 + 1] = 0; slot[n * 3 + 2] = 0; newdev[n] = 0
  fi
}

#define ALIVE(n) (proc[n] == R_UP && !paused[n])
/* the record a heartbeat write carries (st 1 UP, 2 DOWN): a node posts its generation once it vouches for it,
   the previous one (0 here) until then */
#define POSTED(n, st) (vouch[n] -> REC(st, pg[n], pr[n], ps[n]) : REC(st, 0, 0, 0))

#define NODE(n) \
  /* the peer's heartbeat block: a read issued now returns its record now, processed at any later moment */ \
  :: d_step { ALIVE(n) && !rp[n] && post[1 - n] != 0 -> rp[n] = 1; snap[n] = post[1 - n] } \
  :: d_step { ALIVE(n) && rp[n] -> rp[n] = 0; \
       printf("EV n=%d reads peer: state %d generation %d retiring %d slot %d\n", n, RST(snap[n]), RGEN(snap[n]), RRET(snap[n]), RSLOT(snap[n])); \
       on_peer_record(n, snap[n]); \
       if :: RST(snap[n]) == 2 -> peer_left[n] = 1 :: else fi } \
  /* the daemon's turn: retire */ \
  :: d_step { ALIVE(n) && pend[n] -> \
       slot[n * 3 + pslot[n]] = 0; pg[n] = pgen[n]; pr[n] = 1; ps[n] = pslot[n]; pend[n] = 0; vouch[n] = 1; \
       printf("EV n=%d retire slot %d, generation %d: counts %d\n", n, ps[n], pg[n], SET(n)) } \
  /* adopt */ \
  :: d_step { ALIVE(n) && !pend[n] && MAY_ADOPT(n) -> \
       slot[n * 3 + ps[n]] = newdev[n]; newdev[n] = 0; pr[n] = 0; \
       printf("EV n=%d adopt slot %d (peer posted %d/%d, left %d, dead %d): counts %d\n", n, ps[n], peer_gen[n], peer_slot[n], peer_left[n], peer_dead[n], SET(n)); \
       check() } \
  /* a heartbeat write carries the posture */ \
  :: d_step { ALIVE(n) && !fenced[n] && post[n] != POSTED(n, 1) -> post[n] = POSTED(n, 1); \
       printf("EV n=%d posts generation %d retiring %d slot %d\n", n, RGEN(post[n]), RRET(post[n]), RSLOT(post[n])) } \
  /* crash, clean leave, pause, fence and rejoin */ \
  :: d_step { proc[n] != R_NONE && ncrash < MAXCRASH -> ncrash++; printf("EV n=%d crash\n", n); gone(n) } \
  :: d_step { ALIVE(n) && nleave < MAXLEAVE -> nleave++; post[n] = POSTED(n, 2); \
       printf("EV n=%d leaves cleanly (DOWN, generation %d retiring %d)\n", n, pg[n], pr[n]); gone(n) } \
  :: d_step { ALIVE(n) && npause < MAXPAUSE -> npause++; paused[n] = 1; printf("EV n=%d paused\n", n) } \
  :: d_step { proc[n] == R_UP && paused[n] -> paused[n] = 0; printf("EV n=%d resumes\n", n) } \
  :: d_step { proc[n] == R_UP && paused[n] -> paused[n] = 0; fenced[n] = 1; printf("EV n=%d resumes fenced (its lease lapsed)\n", n) } \
  :: d_step { ALIVE(n) && !fenced[n] && nfence < MAXFENCE -> nfence++; fenced[n] = 1; printf("EV n=%d fenced\n", n) } \
  :: d_step { ALIVE(n) && fenced[n] -> fenced[n] = 0; printf("EV n=%d rejoins with its set (counts %d)\n", n, SET(n)) } \
  /* the peer declares this node DEAD (only a seeded bug reads anything into it) */ \
  :: d_step { ALIVE(1 - n) && !peer_dead[1 - n] && (paused[n] || fenced[n] || proc[n] != R_UP) && RST(post[n]) == 1 -> \
       peer_dead[1 - n] = 1; printf("EV n=%d declares its peer DEAD\n", 1 - n) } \
  /* restart: OPEN (the set from the superblocks), then START (the first heartbeat) */ \
  RESTART(n) \
  :: d_step { proc[n] == R_OPEN -> proc[n] = R_UP; post[n] = POSTED(n, 1); \
       printf("EV n=%d starts: posts generation %d retiring %d slot %d\n", n, RGEN(post[n]), RRET(post[n]), RSLOT(post[n])) }

#ifdef TWO_ADMINS
#define RESTART(n)
#else
#define RESTART(n) \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART -> open(n, 0, 0) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && newprep -> open(n, 1, 0) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && nopenfail < MAXOPENFAIL -> open(n, 0, 1) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && nopenfail < MAXOPENFAIL -> open(n, 0, 2) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && nopenfail < MAXOPENFAIL -> open(n, 0, 3) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && nopenfail < MAXOPENFAIL && newprep -> open(n, 1, 1) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && nopenfail < MAXOPENFAIL && newprep -> open(n, 1, 2) } \
  :: d_step { proc[n] == R_NONE && nrestart < MAXRESTART && nopenfail < MAXOPENFAIL && newprep -> open(n, 1, 3) }
#endif

/* Tool t, replacing slot k by device d, first on node n1 then on node n2; o1, o2: the other members' indexes
   (0 OLD, 1 B, 2 C).  Steps: 0 reads (G), 1 prepares NEW, 2 raises o1, 3 raises o2, 4 verb to n1, 5 (second run)
   verb to n2, 6 done; 99 stopped (refused). */
#ifdef BUG_LATE_SUPERBLOCKS
#define VERB1_AT 2     /* the verb first (step 2), then the raises (3, 4) */
#define RAISE1_AT 3
#define RAISE2_AT 4
#else
#define VERB1_AT 4
#define RAISE1_AT 2
#define RAISE2_AT 3
#endif
#define TOOL(t, k, d, n1, n2, o1, o2) \
  :: d_step { ts[t] == 0 && ALIVE(n1) -> \
       if \
       :: pr[n1] && ps[n1] != k -> ts[t] = 99; printf("EV tool %d: another replacement is under way\n", t) \
       :: else -> tg[t] = (sbg[o1] > sbg[o2] -> sbg[o1] : sbg[o2]) + 1; ts[t] = 1; printf("EV tool %d reads generation %d\n", t, tg[t] - 1) \
       fi } \
  :: d_step { ts[t] == 1 -> ts[t] = 2; if :: t == 0 -> newprep = 1 :: else fi; printf("EV tool %d prepares device %d for slot %d, generation %d\n", t, d, k, tg[t]) } \
  :: d_step { ts[t] == RAISE1_AT -> sbg[o1] = tg[t]; ts[t]++; printf("EV tool %d raises member %d\n", t, o1) } \
  :: d_step { ts[t] == RAISE2_AT -> sbg[o2] = tg[t]; ts[t]++; printf("EV tool %d raises member %d\n", t, o2) } \
  TOOL_SKIP(t, o1, o2) \
  /* the run ends early (a write error, the admin's ^C): nothing more of it happens */ \
  :: d_step { ts[t] >= 1 && ts[t] <= 5 -> ts[t] = 99; printf("EV tool %d stops\n", t) } \
  :: d_step { ts[t] == VERB1_AT && ALIVE(n1) -> ts[t]++; printf("EV tool %d hands device %d over to node %d\n", t, d, n1); verb(t, n1, tg[t], k, d) } \
  :: d_step { ts[t] == 5 && ALIVE(n2) -> ts[t] = 6; printf("EV tool %d (second run) hands device %d over to node %d\n", t, d, n2); verb(t, n2, tg[t], k, d) }

#ifdef TOOL_SKIPS
/* as the code: a member the tool cannot read (or whose write failed, the run then repeated: the second run finds
   NEW prepared and raises nothing) is not raised */
#define TOOL_SKIP(t, o1, o2) \
  :: d_step { ts[t] == RAISE1_AT && nskip < MAXSKIP -> nskip++; ts[t]++; printf("EV tool %d skips member %d\n", t, o1) } \
  :: d_step { ts[t] == RAISE2_AT && nskip < MAXSKIP -> nskip++; ts[t]++; printf("EV tool %d skips member %d\n", t, o2) }
#else
#define TOOL_SKIP(t, o1, o2)
#endif

active proctype Model() {
  /* both nodes run generation 0 on OLD, B, C */
  proc[0] = R_UP; proc[1] = R_UP;
  slot[0] = OLD; slot[1] = B; slot[2] = C; slot[3] = OLD; slot[4] = B; slot[5] = C;
  post[0] = REC(1, 0, 0, 0); post[1] = REC(1, 0, 0, 0); vouch[0] = 1; vouch[1] = 1;
  do
  NODE(0)
  NODE(1)
  TOOL(0, 0, NEW, 0, 1, 1, 2)
#ifdef TWO_ADMINS
  TOOL(1, 1, NEW2, 1, 0, 0, 2)
#endif
  :: else -> break   /* nothing left to do (every bound reached, both nodes gone) */
  od
}
