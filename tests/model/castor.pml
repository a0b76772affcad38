/*
 * Castor: a Promela model of the heartbeat / node lease / service ownership protocol (docs/design.md).
 * Checked exhaustively by `make verify` (mk/verify.mk); see tests/model/README.md.
 *
 * Two nodes (index 0 and 1; the core's node ids are 1 and 2), NS services (1 or 2; -DNS=2), one shared
 * disk of single-writer blocks: node i writes only its heartbeat block, its epoch record (block 1 of its
 * region: the epoch floor) and its own service-table blocks; service k's entry is in table block k
 * (so with NS = 2 the services sit in two blocks, each read and written on its own).  The peer reads them.
 *
 * The steps are named after svcmgr/ownership.{h,cc} (Ownership::step's cases, on_write_done,
 * on_peer_entry, on_liveness, on_stopped, set_intent, the constructor), quorumd/peer_monitor.cc
 * (PeerMonitor::observe: DEAD, DOWN, a retired incarnation) and quorumd's daemon (heartbeat write, NodeLease,
 * fence, rejoin, leave/DOWN, the epoch record, the start-up rewrite and scrub of its own blocks, watchdog).
 * Every step prints one "EV ..." line; `make verify-bugs` turns a counter-example into
 * tests/model/trails/*.trail (one event per line), which tests/unit/model_trail_replay_test.cc replays
 * through the real C++ core.  Per-service events carry s=<k>.
 *
 * TIME.  Discrete: a global tick is one io_timeout T (the Clock process).  Everything between two ticks
 * happens "in" that tick, in any order.  With T = 1 tick: lease F = 3, watchdog W = 2, margin M = 1, dead
 * time D = F + W + M = 6 (docs/design.md, "Timing: one formula").  The kill grace G only stops services
 * early (graceful); safety rests on the fence at the lease end, so G is left out.  At each tick, in order:
 *   lease[i]  (ticks the lease is still valid, this one included) counts down; at 0 quorumd fences the
 *             node (QuorumDaemon::on_fence): it kills the service's process groups, stops petting, svcmgr
 *             exits (its Ownership state is gone; quorumd keeps its table in memory), and later the daemon
 *             rejoins with a new incarnation (a step at any moment) and svcmgr rebuilds its Ownership from
 *             quorumd's table.  A paused node fences the moment it resumes (the lease is checked first).
 *   wd[i]     the hardware watchdog counts down and resets the node at 0, paused or not (it is outside);
 *             it is petted (set to W) while the lease is valid and the node is not paused.
 *   an entry write not yet reported ok misses its deadline T: on_write_done(ok=false) follows.
 *   heartbeat: a node that runs and whose heartbeat path works (hbfail[i] == 0) writes its heartbeat
 *             (its incarnation; DOWN once it leaves and its own table holds no up entry) and the write
 *             completes ok: lease[i] = F, counted from the ISSUE (this tick).  A DOWN write may time out and
 *             stay in the kernel (an I/O fault): it lands later, perhaps after a new incarnation's
 *             heartbeats (a restart does not wait for it).  A node whose path failed writes nothing that
 *             lands: no renewal, no change.  (MAXLATEHB bounds the DOWN writes that time out.)
 *   own read: a running node whose heartbeat block holds another incarnation's record (a late write of a
 *             previous life) fences at once (QuorumCore::on_own_read, the "undead writer" check).
 *   the peer's quorumd reads the heartbeat (PeerMonitor::observe): chg[j] (a write of the peer landed
 *             since j's last read) resets age[j] and is a change: a DOWN record of an incarnation that is not
 *             the retired one gives DOWN; a record of the retired incarnation (a late write of a replaced
 *             life) is stale: no verdict from it; any other change gives UP.  An unchanged value with
 *             age[j] >= D gives DEAD; every unchanged read re-confirms a DEAD or DOWN verdict.
 * Reads at the tick, right after the write, make first_seen as early as possible: the worst case.
 * Clock rates are equal in the model (M absorbs their difference in the real system); with discrete
 * ticks the lease argument needs D >= F + W - 1, so the real D = F + W + M leaves 2 ticks of slack, and
 * BUG_EARLY_TAKEOVER (D = F) is found.
 *
 * I/O.  Entry writes: one write per block in the kernel at once (quorumd), so a write waits until the
 * previous one landed or was lost.  A write lands at any moment; if it is not reported by the next tick
 * it timed out (on_write_done(ok=false)) and may still land later (whole, or torn: the block is then
 * corrupt), or never.  At most MAXIOFAULT writes miss their deadline: past that budget, time waits for the
 * writes in flight to complete (a bounded-fault assumption that keeps the state space small).  Before a
 * table write carrying epoch e is submitted, quorumd writes its epoch floor >= e and waits for that write.
 * Entry reads: a read of block k of the peer's table is always in flight; it is serviced and delivered
 * (on_peer_entry) at any moment with the peer's epoch record, and the next one is issued at once.  A block
 * that fails to decode makes the entry UNKNOWN (so does a service not found while another peer table block
 * or the peer's epoch record is corrupt).
 * Crash: processes, service, svcmgr's and quorumd's volatile state are lost; writes in the kernel may still
 * land.  Restart (new quorumd process, new incarnation): quorumd loads its table and floor from the disk
 * (TableService::load_own_region): a corrupt own table block comes back empty and is rewritten once the
 * node holds a lease; a corrupt epoch record is rebuilt from the own valid entries, the peer's valid
 * entries and the peer's floor, counts as durable only once written, and is written before any table
 * block; each Ownership is built from its entry (the constructor).  A restart waits until no table write
 * of the previous process is left in the kernel (its exit waited for its I/O: io_destroy, the kernel's
 * exit_aio), but a late DOWN heartbeat write may still land after it (more than the code allows: the
 * PeerMonitor copes).  Table writes need a valid lease (quorumd refuses
 * otherwise), so a new incarnation's heartbeat lands before any of its entries.  Pause: the node and its
 * service stand still (still "running" for the safety property); its writes in the kernel may land.
 * Corruption: any table block or epoch record becomes unreadable (bounded by MAXCORRUPT, torn writes
 * included); the owner rewrites a corrupt own block at any moment while it holds a lease (the scrub).
 * Clean leave: svcmgr stops and releases every service (intent release), then quorumd writes DOWN, only
 * when its own table holds no claiming, owned or releasing entry, and exits; the service's resources
 * (an address, a mount) outlive the exit, so a DOWN written too early leaves the service up.
 *
 * Bounds: ballots <= MAXB, epochs <= MAXE, MAXCRASH crashes, MAXRESTART restarts (rejoins after a fence
 * included), MAXPAUSE pauses, MAXHBFAIL heartbeat path failures, MAXIOFAULT writes that miss their
 * deadline, MAXFLIP changes of the policy's intent, MAXCORRUPT corrupt or torn blocks, MAXLEAVE clean
 * leaves, MAXLATEHB DOWN writes that time out (and land late, or never).  A step that would exceed a bound is not taken.
 *
 * Flags: -DLIVENESS the relocation scenario for the liveness check (no time, crashes, pauses or I/O
 * errors; node 1 holds the service, then the policy moves it to node 2).  Seeded bugs: -DBUG_SKIP_REREAD
 * (confirm a claim with a read of the peer's entry issued before the claim write completed),
 * -DBUG_EARLY_TAKEOVER (dead time D = F), -DBUG_READ_BLOCK0 (the peer's table read covers block 0 only),
 * -DBUG_CORRUPT_FREE (a corrupt peer block counts as no entries), -DBUG_DOWN_WHILE_OWNED (DOWN written
 * without checking the own table), -DBUG_LATE_DOWN (a DOWN of the retired incarnation is accepted: the
 * monitor overwrites the retired incarnation before it checks it), -DBUG_FLOOR_AFTER (the epoch floor is
 * written after the table write that carries the epoch completed, not before it is submitted),
 * -DBUG_RESTART_NO_WAIT (a restart while a table write of the previous process is in the kernel: it lands
 * later, over the new process's writes), -DBUG_RESTART_REBUILD_FLOOR (a restart that finds an own table
 * block corrupt rebuilds its floor as if the epoch record were corrupt).  -DCORRUPT_DOWN: garbage only
 * over a block of a node that is down (the corrupt_restart run).
 *
 * PROMISES OVER THE LAN (-DLAN; issue 15, the rules of docs/design.md).  The two quorumds also exchange
 * datagrams.  A node's disk is *failing* when no ok heartbeat write was issued at the last tick (since > 0:
 * the real rule is "none issued in the last T", and the model writes once per tick T, at the tick).  At
 * each tick, after the heartbeat reads (lan_exchange): a holder X whose core runs with a lease, whose disk
 * is failing and is within S ticks of its last ok write (since < S) sends a request (x_sent = now) with its
 * incarnation.  The grantor Y grants only if its core runs with a lease, its OWN disk is failing, since < S,
 * and the request's incarnation is the one its PeerMonitor follows, seen UP (qup; a monitor starts UNKNOWN
 * and turns UP at the first change it sees).  Before the grant goes out Y records floor = now + P (fw: the
 * ticks until floor + D).  X accepts a grant for its current incarnation while it holds a lease and extends
 * it to max(expiry, x_sent + P), x_sent being its request's send time (the grant carries the request's age).
 * The extended lease is THE lease: the fence at its end, the pets while it lasts.  A DEAD verdict needs a
 * read at or after max(first_seen, floor) + D (age >= D and fw == 0).  Every new core (a restart, a rejoin;
 * not the very first start, which follows no life of the node) starts with floor = now + max(0, P - F)
 * (restart_hold, main b55f7e2): nothing with P = F; stall_restart_p5 runs P = 5.
 * P = F = 3 ticks; S = 5 ticks (max_storage_stall: 120 s = 60 T at the default T; only its role matters
 * here, and S >= 5 lets a chain of grants carry a lease past first_seen + D, where only the floor holds
 * the verdict back).  The datagrams of a tick arrive at once (their times are the tick's: a grant's floor
 * and the extension it gives are measured from the same rounded times, so x_sent + P <= floor is exact), or
 * are lost while the LAN is partitioned (MAXPART partitions, each healing at any later tick); at most
 * MAXLANLATE datagrams are delayed instead, arriving at a later tick (at most LANDELAY ticks after the
 * request was sent) or never.  A lost datagram only takes a promise away, so losses outside a partition add
 * nothing to the safety checks.  Heartbeat paths fail at a tick (MAXHBFAIL failures in all): one node's, or
 * both at once (a shared storage stall, MAXSTALL); a failed path may work again at any later tick.
 * Ghost: promised[i], the ticks until g + (P - F) + D for the latest grant g of ANY life of node i (kept
 * across crashes and restarts: the obligation a new core inherits; within a life the floor g + P + D is
 * stricter and fw enforces it); every DEAD verdict asserts it has passed (the rule, not only its consequence).
 * -DWD_REAL: the watchdog resets a node 3 ticks after its lease end, the real bound E + 2W + 3eps rounded up
 * (the default model resets it 1 tick after: 2 ticks of slack hide promise bugs whose excess is a tick or
 * two).  -DHELD: node 1 holds the service from the start, with a lease, and node 2 wants it.  -DRESTART2:
 * only node 2 restarts or rejoins.  Seeded bugs: -DBUG_PROMISE_FORGOTTEN (a new core starts with no
 * floor; with -DP=5, since with P = F there is nothing to forget), -DBUG_PROMISE_NO_FLOOR (the grantor records no floor), -DBUG_PROMISE_RECEIPT_ANCHOR (the holder
 * extends to the grant's receipt + P), -DBUG_GRANT_DISK_OK (a grantor whose disk works grants too, from the
 * disk-ok branch, which records no floor: it holds its own disk verdict authoritative).
 *
 * FENCING (-DFENCE; issue 16, power fencing through the peer's BMC; docs/design.md "Power fencing", with the
 * fence intent: announced on the disk, then a look).  Each quorumd may power off its peer through the peer's
 * fence agent.  Modelled:
 *   - the suspicion: the value the PeerMonitor follows unchanged in its reads for SF ticks: without the LAN
 *     SF = 2 (S = 2T); with -DLAN SF = 1 (S = T) and the peer also silent on the LAN (the LAN is cut, or its
 *     quorumd does not run) or reporting that its own disk fails (since > 0 at this tick: lan_says_isolated);
 *   - the fence rule (MAYF), checked after every tick's reads: the core runs and holds a valid lease, its own
 *     disk works (the last heartbeat write that completed was ok and issued within 2T, disk_failing() false:
 *     this tick's write landed or completed late but ok, or it is in flight and the one before was ok), the
 *     peer is suspected, its view is neither DEAD nor DOWN, no fence of it is running, and DISKWIN: every
 *     heartbeat write this node issued since it first read the peer's current value completed ok (none
 *     failed, none missing: a pause or a stall closes the window; a write issued before that first read does
 *     not count);
 *   - the announce: a node for which MAYF holds (no round of its own running, not yielded) does not hand the
 *     fence to its BMC: it sets its fence intent (ann = 1), against the incarnation its monitor follows, and
 *     writes it at once: a heartbeat write issued after the tick's reads that lands before the next tick's reads,
 *     or (a slower write) the next tick's heartbeat write carries it: it lands before that tick's reads (HFAST),
 *     after them (HSLOW), or not at all (the path failed: the write after it carries it again).  Every heartbeat
 *     write the node issues while its intent is set carries it (htgt: the block's intent, what landed last);
 *   - the look: the first read of the peer's block ISSUED after a write carrying the intent landed (ann = 3): the
 *     next tick's read for a write at once or an HFAST one, the tick after for an HSLOW one.  After that tick's
 *     reads, in order: MAYF no longer holds: the intent is withdrawn (ann = 0, written at once as above); the
 *     peer's value carries an intent against this node's current incarnation (pint) that stood still for fewer
 *     than SFB = SF + 2 ticks (B: S plus twice the round, which resolves within one tick): the node yields (its
 *     intent is withdrawn; no new announce until the peer's value changes or stood still for SFB); otherwise
 *     (no intent seen, or a stale one) it hands the fence to its BMC (ann = 4: the intent stays while the round
 *     runs, until its failure, or the verdict read of a confirmed one; then it is cleared, written at once);
 *   - no race delay (no delay_ms by default): -DFDELAY=<ticks> > 0: node 2 waits that long before it announces,
 *     then re-checks every condition (an admin's delay_ms);
 *   - the fence (proctype BMC): resolves at any moment before the next tick (the agent's latency is under one
 *     tick; -DFROUND=<r>: before r more ticks have passed, and SFB = SF + 2r), whatever became of the fencer
 *     meanwhile: the peer powered off (`off` exited 0, `status` said off), or a failure (MAXFFAIL: no effect, not
 *     confirmed: the fencer falls back to the D rule; it may fence again later).  The power-off is a crash of the
 *     peer (processes, services, volatile state gone; table writes in the kernel land later, whole or torn, or
 *     never) and a heartbeat write of its life may still be in the kernel: it lands at any later tick (hpo), or
 *     never, also after the node came back, carrying the intent its last write carried, or none (both cases);
 *   - the verdict, with settle = 0 (the quorum-disk protocol must not rely on the settle: late writes of the
 *     fenced life land at any time, as after a crash): the fencer's PeerMonitor is DEAD at once and retires
 *     the incarnation it suspected; its next read (the verdict read) confirms DEAD whatever value it returns,
 *     unless it is a new incarnation's (life); every later read of the same value re-confirms it, a changed
 *     value of the retired incarnation is stale (not re-confirmed until D), a new one is life (UP).  A fencer
 *     paused when the fence resolves learns it when it resumes; a fencer whose core is gone by a crash or a
 *     leave never learns it (its new core follows the D rule); one whose core self-fenced hands it over (below);
 *   - fence_action = reboot and ONWAIT: a node powered off by its peer's fence comes back (a restart, new
 *     incarnation: MAXRESTART) only after the fencer's verdict read, or once the fencer's core that waits for
 *     it is gone (PowerFencer::verdict_stood runs `on` only then);
 *   - slow heartbeat writes (MAXSLOW): a write that completes ok within its deadline but lands after the
 *     peer's read of that tick (the peer sees it at the next tick), the worst case for the suspicion;
 *   - heartbeat paths fail at a tick (MAXHBFAIL in all; one node's, or both before the same tick: a shared
 *     storage stall) and may work again at any later tick.
 * Checked: never two owners, epochs (as everywhere); assert(!offbyf[i]) when node i's fence powers its peer off:
 * the two nodes never power each other off; assert(!(freq[0] && freq[1])) after every tick's decisions: never two
 * fence requests in flight at once (a request follows only a look that saw no intent, or a stale one).  Without
 * the LAN also assert(!(MAYF(0) && MAYF(1))) (the mutual check; -DNO_MUTUAL_CHECK drops it): with S = 2T and
 * DISKWIN two nodes whose writes work never may fence each other at the same time, so there the intent is a
 * second defence; with the LAN (S = T) they may (a slow write of each, or a shared stall, with the LAN cut or
 * each reporting its failing disk): the intent alone keeps them apart.
 * Abstracted: the agent's latency is under one tick (FROUND); settle = 0; one fence request in flight per node;
 * a torn late heartbeat is a change that is never life, which a whole one covers; fencing a peer already DEAD
 * or DOWN changes nothing for safety (not modelled); MAYF does not require the peer seen UP (the code does).
 * Bounds: MAXFFAIL (1) failed fences, MAXSLOW (1) slow writes; scenario flags: -DREBOOT_ONLY (only a node
 * powered off by a fence comes back), -DSLOW_AFTER_OFF (slow writes only once a node was powered off),
 * -DRESTART1 (only node 1 restarts), -DPAUSE_FENCER (only a node whose confirmed fence awaits its verdict
 * read pauses), -DFROUND=<r>.  The look counts the peer's intent whatever incarnation of this node it names
 * (the BMC powers off the machine); -DBUG_FENCE_LOOK_INC counts only the current one, as rule 3 was first
 * written: a node restarted within the peer's fence round (rounds of 4 ticks or more) then fences the peer past
 * its intent (fence_look_inc; the same scenario passes as fence_rejoin).
 * Seeded bugs: -DBUG_FENCE_UNCONFIRMED (take over on a fence that failed), -DBUG_FENCE_NO_DISKWIN (the rule
 * without DISKWIN: after a shared stall both nodes suspect each other; the intent still keeps them apart),
 * -DBUG_FENCE_EARLY_ON (the fenced node is powered on at once: a late heartbeat of its old life is taken as the
 * verdict read while its new life already holds a lease), -DBUG_FENCE_LOOK_EARLY (the look takes a read issued
 * before the intent write completed: the read of the announce tick, or of the tick of a slow intent write),
 * -DBUG_FENCE_NO_ANNOUNCE (no intent: MAYF hands the fence to the BMC at once), -DBUG_FENCE_STALE_EARLY (a stale
 * bound of SF ticks, shorter than the peer's round: found with -DFROUND=3).  Not bugs (witnesses, expected to
 * fail): -DREACH_FENCE_BOTH_MAYF (both nodes may fence at once), -DREACH_FENCE_BOTH_INTENT (both intents on the
 * disk at once), -DREACH_FENCE_YIELD (a node yields), -DREACH_FENCE_STALE (a node fences past a stale intent),
 * -DREACH_FENCE_LIVE (a fence of a node whose core runs), -DREACH_FENCE_TAKEOVER (a take-over on a fence
 * verdict), -DREACH_FENCE_HANDED (a verdict handed to the fencer's next core is read).  Not in verify.sh:
 * -DBUG_FENCE_LATE_LIFE (the verdict read retires a new incarnation too).
 * The hand-over (power_fencing.cc): a fencer whose core self-fences while its fence is in flight, or confirmed and
 * its verdict read pending, keeps it in its quorumd process (a crash or a leave ends that) and its next core takes
 * it over: that core's next read decides -- a record of the fenced life is DEAD, anything else drops it (the
 * normal rules go on); the fenced node is powered on (ONWAIT) only after that read (verify.sh fence_handover,
 * reach_fence_handed: a fencer without a watchdog, paused: one with a watchdog is reset first).  Not modelled: the hand-over
 * after the verdict stood (the code then takes only the very value it stood on: no write of any life since).
 * -DNOWD_FENCED=<id>: that node has no watchdog (the code's watchdog_device = none with a power fence, published
 * as HeartbeatRecord::kNoWatchdog) and its peer never declares it DEAD after D, only after a confirmed fence
 * (verify.sh fence_nowd, fence_nowd_crash); -DBUG_NOWD_D: D too (fence_nowd_d, found: the paused node runs again
 * beside the peer's take-over).
 * -DPEER_NOWD_KNOWN: what the observer knows of that flag is what it read (knowd[]): set by a read of a valid record
 * of a live life of the no-watchdog node, kept by the observer's
 * next core and next quorumd (quorumd/peer_watchdog_file.h); the D rule waits on knowd[] instead of the node's
 * configuration; never cleared (the code clears it only when a life is seen running without the flag, which no
 * run makes: the configuration is fixed). A core that never read a life of that node (its block damaged since
 * the core began) suspects it once its value stood still for D (startup fencing; a hand-over of such a fence to
 * the next core is not modelled). -DMAXHBCOR=n: a heartbeat block damaged (a torn write: no record, no flag, no intent) until its
 * node's next write lands, once the observer read the flag in any core (ghost rdnowd[]). -DBUG_NOWD_FORGET: a
 * new core forgets it (verify.sh peer_nowd_forget*: found, the paused node runs again beside the take-over).
 * -DNOWD_NOFILE: a quorumd that starts with no peer-watchdog file (a new node, its state directory lost: at the
 * first start and at every restart of the observer) and a [fence PEER] takes the peer for one without a watchdog
 * until it sees a life of it running without the flag (QuorumDaemon::load_peer_watchdog_fact): knowd[] starts at
 * 1 for the observer of the no-watchdog node (for the observer of a node with a watchdog it starts at 0: the code's
 * assumption then only withholds D until that peer is seen running, so 0 lets the model do more, not less); and
 * the block may be damaged before the observer ever read the flag (no rdnowd[] guard): the gap design.md named.
 * The code does not power fence a peer never seen while the flag is only assumed (QuorumCore::silence_to_suspect
 * needs it read); the model's SUSP_UNSEEN does: the model fences more than the code, a superset for safety.
 * -DBUG_NOWD_NOFILE: a missing file means "has a watchdog" (the code before): found (verify.sh peer_nowd_nofile_bug).
 */

#define F 3
#define W 2
#define M 1
#ifdef BUG_EARLY_TAKEOVER
#define D F
#else
#define D (F + W + M)
#endif

/* The watchdog's countdown from a pet: W, so a node last petted at lease end - 1 is reset at lease end + 1.
   -DWD_REAL: the real bound, lease end + 2W + 3eps (a late last pet, then the close ping; docs/design.md,
   "The watchdog margin"), rounded up to lease end + 3 ticks. */
#ifdef WD_REAL
#define WDPET (W + 2)
#else
#define WDPET W
#endif

#ifndef NS
#define NS 1
#endif
#define NX (2 * NS)

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
#ifndef MAXCORRUPT
#define MAXCORRUPT 0
#endif
#ifndef MAXLEAVE
#define MAXLEAVE 0
#endif
#ifndef MAXLATEHB
#define MAXLATEHB 0
#endif

#ifdef FENCE
/* Power fencing (-DFENCE; issue 16, docs/design.md "Power fencing"; see the FENCING part of the header). */
#ifndef MAXFFAIL
#define MAXFFAIL 1        /* fence requests that fail (BMC unreachable: no effect, not confirmed) */
#endif
#ifndef MAXSLOW
#define MAXSLOW 1         /* heartbeat writes that complete ok but land after the peer's read of that tick */
#endif
#ifndef FROUND
#define FROUND 1          /* a fence request resolves before FROUND more ticks have passed (1: before the next) */
#endif
#ifndef FDELAY
#define FDELAY 0          /* node 2's delay before it announces, in ticks (an admin's delay_ms; none by default) */
#endif
#ifndef SF                /* suspicion: the peer's heartbeat value unchanged for SF ticks: S = T with the LAN */
#ifdef LAN                /* (and the peer silent on it), S = 2T without */
#define SF 1
#else
#define SF 2
#endif
#endif
/* The stale bound B: a peer value carrying a fence intent against this node that stood still for SFB ticks is
   ignored (S plus twice the round; the model's round resolves within one tick).  BUG_FENCE_STALE_EARLY: SF. */
#ifndef SFB
#ifdef BUG_FENCE_STALE_EARLY
#define SFB SF
#else
#define SFB (SF + 2 * FROUND)
#endif
#endif
#if SFB > D
#define AGEMAX SFB        /* age[] counts up to the stale bound (it saturates at D otherwise) */
#endif
/* -DSLOW_AFTER_OFF: slow writes only once a node was powered off (a scenario bound, fence_reboot) */
#ifdef SLOW_AFTER_OFF
#define SLOW_OK (offbyf[0] || offbyf[1] || restarts > 0)
#else
#define SLOW_OK 1
#endif
/* the heartbeat write issued at this tick: none, landed before the reads, landing after them (ok), failing */
#define HNONE 0
#define HFAST 1
#define HSLOW 2
#define HFAIL 3
#endif
#ifndef AGEMAX
#define AGEMAX D
#endif
/* -DNOWD_FENCED=<node id>: that node has no watchdog (it runs only because its peer can power-fence it) */
#ifdef NOWD_FENCED
#define HASWD(i) ((i) != NOWD_FENCED - 1)
#else
#define HASWD(i) 1
#endif

/* OwnershipState (lib/disk/service_table_record.h); the core never writes `releasing` or `disabled`. */
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
/* PeerView of a PeerMonitor, as far as Ownership cares */
#define VOTHER 0
#define VDEAD  1
#define VDOWN  2

#define MAX(a, b) ((a) > (b) -> (a) : (b))
#define MIN(a, b) ((a) < (b) -> (a) : (b))

#ifdef LAN
#ifndef P
#define P F               /* the promise term P = F */
#endif
#if P > F
#define RHOLD (P - F)     /* restart_hold: what a promise adds beyond the lease */
#else
#define RHOLD 0
#endif
#ifndef S
#define S 5               /* max_storage_stall in ticks (see the header) */
#endif
#ifndef LANDELAY
#define LANDELAY 5        /* ticks a delayed LAN message may stay in flight */
#endif
#ifndef MAXLANLATE
#define MAXLANLATE 1
#endif
#ifndef MAXSTALL
#define MAXSTALL 1
#endif
#ifndef MAXPART
#define MAXPART 1
#endif
#endif
#define ID(i) ((i) + 1)
#define PEER(i) (1 - (i))
#define X(i, k) ((i) * NS + (k))
#define NODE(x) ((x) / NS)
#define SVC(x) ((x) % NS)
#define PX(x) (((x) + NS) % NX)        /* the peer's entry of the same service */

typedef Entry { byte st; byte nd; byte bal; byte ep };

/* ---- the disk ---- */
Entry disk[NX];           /* table block k of node i holds service k's entry (written only by i) */
bit dcor[NX];             /* ... and fails to decode (corrupt, torn) */
/* the block in the kernel: 0 none; 1 in flight; 2 landed, not yet reported;
   3 timed out or orphaned (reported failed or writer gone), not landed: lands later (maybe torn) or never */
byte ew[NX];
Entry ewv[NX];            /* the value in flight */
byte dfl[2];              /* node i's epoch record (its floor) on the disk */
bit dflc[2];              /* ... fails to decode */
byte hbinc[2];            /* node i's heartbeat block: the writer's incarnation */
bit hbdn[2];              /* ... and it says DOWN */
byte hlate[2];            /* a DOWN heartbeat write of incarnation hlate[i] still in the kernel (0: none) */
bit hbfail[2];            /* node i's heartbeat writes fail (its path to the disk broke) */

/* ---- the nodes ---- */
bit alive[2];
bit paused[2];
bit lapsed[2];            /* the lease lapsed while paused: fence on resume */
bit fenced[2];            /* fenced, not yet rejoined (svcmgr gone, no lease, no reads) */
bit leaving[2];           /* a clean leave was requested */
byte lease[2];
byte wd[2];
byte inc[2];              /* incarnation (1, 2, ...: a new one per restart or rejoin) */
byte fl[2];               /* quorumd's epoch floor, as durably written */
bit flrw[2];              /* the epoch record must be rewritten first (ServiceTableStore::rebuild_floor) ... */
byte wfl[2];              /* ... with this floor at least (wanted_floor_ of a rebuilt floor) */
#ifdef BUG_RESTART_NO_WAIT
bit ow[NX];               /* a table write of the previous quorumd process, still in the kernel */
Entry owv[NX];            /* ... its value */
#endif
#ifdef BUG_FLOOR_AFTER
byte flw[2];              /* a floor write submitted after its table write completed, in the kernel */
#endif
bit svc[NX];              /* the service's processes/resources exist on node i (paused ones included) */
bit stopping[NX];         /* stop requested, not yet stopped */

/* ---- Ownership (one per node and service; gone with svcmgr, rebuilt by the constructor) ---- */
byte phase[NX];
Entry mine[NX];           /* mine_: also quorumd's table in memory (what it last took to write) */
bit tok[NX];              /* token_ != 0: a write of my entry is in flight */
bit wok[NX];              /* write_ok_ */
bit tofail[NX];           /* a failure/timeout of my write not yet reported via on_write_done(false) */
bit stopped[NX];          /* on_stopped() seen */
bit have[NX];             /* peer_ is set */
Entry peer[NX];           /* peer_->entry (zero when unknown) */
bit punk[NX];             /* peer_->unknown */
byte pfl[NX];             /* peer_->peer_floor ... */
bit pflk[NX];             /* ... is known */
bit fresh[NX];            /* peer_->read_issued > write_completed_ */
bit odead[NX];            /* liveness_.view is DEAD or DOWN */
bit oconf[NX];            /* liveness_.confirmed_at > peer_value_since_ */
byte intent[NX];

/* ---- reads ---- */
bit rdf[NX];              /* the read in flight was issued after my last ok write completion */

/* ---- quorumd's PeerMonitor of the peer (observer j) ---- */
bit chg[2];               /* the peer's heartbeat block changed since my last read */
#ifdef PEER_NOWD_KNOWN
bit knowd[2];             /* my monitor read a valid record of the peer saying it has no watchdog (kept by my next
                             core and quorumd: the peer-watchdog file; neither a DOWN nor a confirmed fence undoes
                             it). Not modelled: its undo (a life seen running without the flag), a node whose
                             watchdog setting changes at a restart (review 22's stale "ok" file) */
bit hbcor[2];             /* node i's heartbeat block is damaged: it decodes as nothing (no record, no flag) */
bit rdnowd[2];            /* ghost: node j read the flag once, in any core (its peer-watchdog file exists). The
                             damage waits for it: a node that never read the flag (a new node, its state directory
                             lost) and finds the block damaged is the gap design.md names, not checked here */
byte hbcors;
#define HBCOR(i) hbcor[i]
#define HBCLEAR(i) ; hbcor[i] = 0
#define KNOWS_NOWD(j) knowd[j]
#ifdef NOWD_NOFILE
#define NOWD_DAMAGE_OK(i) 1
#ifdef BUG_NOWD_NOFILE
#define NOFILE_KNOWD(i) 0
#else
#define NOFILE_KNOWD(i) (!HASWD(PEER(i)))
#endif
#else
#define NOWD_DAMAGE_OK(i) rdnowd[PEER(i)]
#endif
#define FTGT(i) (vinc[i] != 0 -> vinc[i] : 15)   /* an intent against a life never read: names none (15) */
#else
#define FTGT(i) vinc[i]
#define HBCOR(i) 0
#define HBCLEAR(i)
#define KNOWS_NOWD(j) (!HASWD(PEER(j)))
#endif
#ifndef MAXHBCOR
#define MAXHBCOR 0
#endif
byte age[2];              /* ticks since first_seen (saturates at AGEMAX: D, or the stale bound if larger) */
byte qv[2];               /* view: VDEAD, VDOWN or VOTHER (unknown/up) */
bit qconf[NX];            /* last DEAD/DOWN confirmation issued after Ownership x's peer_value_since_ */
byte vinc[2];             /* incarnation of the current value (0: none read yet) */
byte ret[2];              /* the retired incarnation */

byte crashes, restarts, pauses, hbfails, flips, iofaults, corrupts, leaves, latehbs;

#ifdef LAN
/* ---- the LAN channel between the two quorumds, and promises (-DLAN; see the header) ---- */
/* Datagrams go at the tick and arrive at once, or are lost while the LAN is partitioned; at most
   MAXLANLATE of them are delayed instead: that one is held here and arrives at a later tick (at most LANDELAY
   ticks after it was sent), or is lost. */
byte lk;                  /* the delayed message: 0 none; LREQ + i a request from node i; LGRANT + i a grant from node i */
byte la;                  /* ... ticks since the request was sent (x_sent = now - la; a grant carries its request's) */
byte li;                  /* ... the incarnation: the requester's (request), the one granted (grant) */
bit lancut;               /* the LAN is partitioned: nothing arrives */
byte since[2];            /* ticks since node i's last ok heartbeat write was issued (saturates at S) */
byte fw[2];               /* node i's promise floor: ticks until floor + D (0: no DEAD verdict held back) */
bit qup[2];               /* observer i's PeerMonitor view is UP (not UNKNOWN, DEAD or DOWN) */
byte promised[2];         /* ghost: as fw, for the latest floor any life of node i recorded at a grant */
byte stalls, parts, lanlates;
#endif
#ifdef FENCE
/* ---- power fencing (-DFENCE) ---- */
bit freq[2];              /* node i's fence of its peer is handed to the BMC, not yet resolved (it takes effect */
                          /* or fails whatever becomes of node i) */
bit fown[2];              /* ... and the core that asked still waits for the result (cleared when it dies) */
bit fwait[2];             /* node i waits out its race delay before it fences (node 2 only) ... */
byte fdl[2];              /* ... for fdl more ticks; then it re-checks every condition */
bit fcf[2];               /* confirmed off while node i was paused: delivered when it resumes */
bit fproc[2];             /* node i's quorumd process handed a fence to the BMC (its core may be gone since: a */
                          /* self-fence keeps the process; a crash or a leave ends it) */
byte freqinc[2];          /* ... the incarnation its monitor followed then (the life the fence is about) */
byte fhinc[2];            /* a confirmed fence handed to node i's next core (its core was gone, self-fenced, when */
                          /* it was confirmed or before its verdict read): the incarnation it is about (0: none) */
bit fhv[2];               /* observer i's pending verdict was handed over: only a record of that life decides it */
bit fvr[2];               /* observer i holds a fence verdict whose verdict read is pending (settle = 0) */
bit fdead[2];             /* observer i's fence verdict: every read of the same value re-confirms it */
bit offbyf[2];            /* ghost: node i is powered off by its peer's fence (until it restarts) */
byte hpo[2];              /* a heartbeat write of incarnation hpo[i] in the kernel at its power-off (0: none) */
byte hcur[2];             /* node i's heartbeat write of this tick: HNONE, HFAST, HSLOW, HFAIL */
bit lwok[2];              /* the last heartbeat write node i issued was ok ... */
byte lwage[2];            /* ... issued lwage ticks ago (saturates at 3) */
bit pok[2];               /* at this tick, before its write: the last write issued before it was ok, within 2T */
bit hslow[2];             /* node i's write of this tick lands after the reads */
byte dwin[2];             /* the disk window: every heartbeat write node i issued since it first read the */
                          /* peer's current value is known ok (none known failed or missing): 1; 2 the same, */
                          /* the value first read at this tick (this tick's write was issued before: not */
                          /* counted); 0 not (or no value read yet) */
/* the fence intent (fence-intent.md): announce on the disk, then look */
byte ann[2];              /* node i's intent: 0 none; 1 announced (its writes carry it), none of them landed yet; */
                          /* 2 a write carrying it landed after node i's last read; 3 the read of this tick was */
                          /* issued after it landed: the look (decided after the tick's reads); 4 its fence round */
                          /* runs (handed to the BMC, or confirmed and the verdict read pending): still carried */
bit yld[2];               /* node i yielded: no new announce until the peer's value changes or turns stale */
byte htgt[2];             /* node i's heartbeat block carries an intent against the peer's incarnation htgt (0 none) */
byte hslt[2];             /* ... the one the slow write of this tick carries */
byte lwt[2];              /* ... the one the last write node i issued carries (what a write in flight at a power-off */
                          /* may carry) */
byte hpot[2];             /* ... the one the write of the powered-off life (hpo) carries when it lands */
bit pint[2];              /* the peer's value observer i last read carries an intent against i's incarnation */
byte frt[2];              /* ticks node i's fence request may still stay in flight across (FROUND - 1 at its start) */
byte ffails, slows;
#endif
byte maxep[NS];           /* the largest epoch ever started, per service */

hidden byte kk;           /* loop counter (not part of the state) */
hidden byte tmp;
hidden byte tunk;
hidden Entry tent;
#ifdef LAN
hidden byte tc, ta;       /* the delayed message being delivered */
#endif

#define IS_UP(s) ((s) == CLAIMING || (s) == OWNED || (s) == RELEASING)
#define INUSE(e) (e.bal > 0)                        /* an entry that was ever written */
#define VOIDED(x) (odead[x] && oconf[x])            /* a confirmed DEAD or DOWN verdict */
/* Ownership::peer_up(): unknown is never free; under a confirmed verdict it is void only when the peer's
   floor is known */
#define PEER_UP(x) (!have[x] || (punk[x] -> !(VOIDED(x) && pflk[x]) : (IS_UP(peer[x].st) && !VOIDED(x))))
/* Ownership::peer_has_priority() */
#define PRIO(x) (peer[x].bal != mine[x].bal -> peer[x].bal > mine[x].bal : \
                 (peer[x].nd != 0 -> peer[x].nd < ID(NODE(x)) : ID(NODE(x)) != 1))
#define TARGET(x) (intent[x] == REL && !leaving[NODE(x)] -> ID(PEER(NODE(x))) : 0)
#ifdef BUG_SKIP_REREAD
#define FRESH(x) 1
#else
#define FRESH(x) fresh[x]
#endif
/* The new owner's epoch: above both entries and both floors (a floor that failed to decode counts 0). */
#define PFL(x) (pflk[x] -> pfl[x] : 0)
#define NEWEP(x) (MAX(MAX(mine[x].ep, peer[x].ep), MAX(fl[NODE(x)], PFL(x))) + 1)

/* The policy's intent at start: both nodes want every service (with NS = 2, node 2 not service 0). */
#if NS == 2
#define INTENT0(x) ((x) == X(1, 0) -> REL : HOLD)
#else
#define INTENT0(x) HOLD
#endif
#define RUNS(i) (alive[i] && !paused[i] && !fenced[i])
/* ONWAIT (-DFENCE): a node powered off by its peer's fence is powered on again (the `on` of fence_action =
   reboot: PowerFencer::verdict_stood) only after the fencer's verdict read, or once the fencer's core that
   waits for it is gone.  BUG_FENCE_EARLY_ON: at any moment after the off. */
#if defined(FENCE) && !defined(BUG_FENCE_EARLY_ON)
#define POWER_ON_OK(i) (!offbyf[i] || !(fvr[PEER(i)] || fcf[PEER(i)] || fown[PEER(i)] || fhinc[PEER(i)] != 0))
#else
#define POWER_ON_OK(i) 1
#endif
/* -DRESTART2: only node 2 restarts or rejoins (the LAN runs: see the header); -DRESTART1: only node 1;
   -DREBOOT_ONLY (-DFENCE): only a node powered off by its peer's fence comes back (fence_action = reboot) */
#ifdef RESTART2
#define MAY_RESTART(i) (restarts < MAXRESTART && (i) == 1)
#elif defined(RESTART1)
#define MAY_RESTART(i) (restarts < MAXRESTART && (i) == 0)
#elif defined(REBOOT_ONLY)
#define MAY_RESTART(i) (restarts < MAXRESTART && offbyf[i])   /* only the reboot of a fenced node */
#else
#define MAY_RESTART(i) (restarts < MAXRESTART)
#endif
/* -DPAUSE_FENCER (-DFENCE): only a node whose confirmed fence awaits its verdict read pauses (a scenario bound) */
#ifdef PAUSE_FENCER
#define MAY_PAUSE(i) (fvr[i])
#elif defined(PAUSE_FENCING)
#define MAY_PAUSE(i) (freq[i] || fvr[i])   /* -DPAUSE_FENCING: a node whose fence is in flight or awaits its read */
#else
#define MAY_PAUSE(i) 1
#endif
/* Ownership::step is called only while svcmgr runs, nothing of mine is in the kernel, my write is
   reported, and quorumd holds a valid lease (it writes nothing without one). */
#define SGATE(x) (RUNS(NODE(x)) && ew[x] == 0 && lease[NODE(x)] > 0 && !tok[x])
/* ... and a step that writes stays within the ballot bound */
#define GATE(x) (SGATE(x) && MAX(mine[x].bal, peer[x].bal) < MAXB)
#define PEND(x) (alive[NODE(x)] && (ew[x] == 1 || ew[x] == 2))   /* an entry write that must complete this tick */
#if NS == 2
#define PENDING (PEND(0) || PEND(1) || PEND(2) || PEND(3))
#define NO_UP_ENTRY(i) (!IS_UP(mine[X(i, 0)].st) && !IS_UP(mine[X(i, 1)].st))
#define OTHER_CORRUPT(x) (dcor[NODE(x) * NS + 1 - SVC(x)])
#define TABLE_QUIET(i) (ew[X(i, 0)] == 0 && ew[X(i, 1)] == 0)
#define OWN_CORRUPT(i) (dcor[X(i, 0)] || dcor[X(i, 1)])
#else
#define PENDING (PEND(0) || PEND(1))
#define NO_UP_ENTRY(i) (!IS_UP(mine[i].st))
#define OTHER_CORRUPT(x) 0
#define TABLE_QUIET(i) (ew[i] == 0)
#define OWN_CORRUPT(i) (dcor[i])
#endif
/* quorumd writes DOWN only when its own table holds no claiming, owned or releasing entry */
#ifdef BUG_DOWN_WHILE_OWNED
#define DOWN_OK(i) 1
#else
#define DOWN_OK(i) NO_UP_ENTRY(i)
#endif

#define copy(dst, src) dst.st = src.st; dst.nd = src.nd; dst.bal = src.bal; dst.ep = src.ep
#define zero(e) e.st = 0; e.nd = 0; e.bal = 0; e.ep = 0
#define SAME(a, b) (a.st == b.st && a.nd == b.nd && a.bal == b.bal && a.ep == b.ep)

/* quorumd: before a table write carrying epoch e, its floor >= e is written and completed. */
inline floor_before(x) {
#ifndef BUG_FLOOR_AFTER
  if
  :: mine[x].ep > fl[NODE(x)] || flrw[NODE(x)] ->
     fl[NODE(x)] = MAX(mine[x].ep, MAX(fl[NODE(x)], wfl[NODE(x)])); dfl[NODE(x)] = fl[NODE(x)];
     dflc[NODE(x)] = 0; flrw[NODE(x)] = 0; wfl[NODE(x)] = 0;
     printf("EV n=%d floor_written fl=%d\n", ID(NODE(x)), fl[NODE(x)])
  :: else -> skip
  fi
#else
  skip
#endif
}

/* Ownership::write(e): mine[x] already holds e; a new ballot above every ballot seen (claims carry theirs) */
inline owrite(x) {
  if
  :: mine[x].st != CLAIMING -> mine[x].bal = MAX(mine[x].bal, peer[x].bal) + 1
  :: else -> skip
  fi;
  floor_before(x);
  tok[x] = 1; wok[x] = 0;
  ew[x] = 1; copy(ewv[x], mine[x]);
  printf("EV n=%d s=%d write st=%d nd=%d bal=%d ep=%d\n", ID(NODE(x)), SVC(x), mine[x].st, mine[x].nd,
         mine[x].bal, mine[x].ep)
}

/* svcmgr's state of service x is gone (crash, or svcmgr exits on a fence). */
inline forget(x) {
  phase[x] = IDLE; tok[x] = 0; wok[x] = 0; tofail[x] = 0; stopped[x] = 0;
  have[x] = 0; zero(peer[x]); punk[x] = 0; pfl[x] = 0; pflk[x] = 0; fresh[x] = 0; odead[x] = 0; oconf[x] = 0;
  rdf[x] = 0; qconf[x] = 0;
  if
  :: ew[x] == 1 -> ew[x] = 3                     /* nobody waits for it: it lands later or never */
  :: ew[x] == 2 -> ew[x] = 0; zero(ewv[x])
  :: else -> skip
  fi
}

/* quorumd's PeerMonitor is new (a new core). */
inline new_monitor(i) {
  chg[i] = 1; age[i] = 0; qv[i] = VOTHER; vinc[i] = 0; ret[i] = 0
#ifdef BUG_NOWD_FORGET
  ; knowd[i] = 0               /* the flag forgotten with the core that read it */
#endif
#ifdef LAN
  ; qup[i] = 0
#endif
#ifdef FENCE
  ; fvr[i] = 0; fdead[i] = 0; dwin[i] = 0; pint[i] = 0; fhv[i] = 0
#endif
}

#ifdef FENCE
/* The core of node i is gone (crash, power-off, self-fence, leave): nobody waits for its fence any more (a
   request already handed to the BMC still takes effect or fails), its race delay is over. */
inline fence_forget(i) {
  fown[i] = 0; fwait[i] = 0; fdl[i] = 0; fcf[i] = 0; fvr[i] = 0; ann[i] = 0; yld[i] = 0
}
#endif

#ifdef LAN
/* A new core (a restart, a rejoin) records floor = now + RHOLD, RHOLD = max(0, P - F) (restart_hold): a previous
   life granted before now, so the holder's lease ends before now + P, and the new monitor's D from its own first
   read (after now) covers a lease ending by now + F.  With P = F: nothing.  BUG_PROMISE_FORGOTTEN: no floor
   (the promises are forgotten; it matters only with P > F: the stall_restart run with -DP=5). */
inline start_floor(i) {
#if !defined(BUG_PROMISE_FORGOTTEN) && P > F
  fw[i] = RHOLD + D;
  printf("EV n=%d promise_floor in=%d\n", ID(i), RHOLD)
#else
  fw[i] = 0
#endif
}
#endif

/* A crash or a watchdog reset: the node, its services and all volatile state are gone. */
inline crash(i) {
  alive[i] = 0; paused[i] = 0; lapsed[i] = 0; fenced[i] = 0; leaving[i] = 0; lease[i] = 0; wd[i] = 0;
  hbfail[i] = 0; fl[i] = 0; flrw[i] = 0; wfl[i] = 0;
#ifdef BUG_FLOOR_AFTER
  flw[i] = 0;
#endif
#ifdef LAN
  since[i] = 0; fw[i] = 0;     /* the core's memory is gone (the ghost `promised` stays) */
#endif
#ifdef FENCE
  fence_forget(i); hcur[i] = HNONE; lwok[i] = 0; lwage[i] = 0; pok[i] = 0; lwt[i] = 0;
  fproc[i] = 0; fhinc[i] = 0;    /* the quorumd process is gone: nothing is handed over */
#endif
  for (kk : 0 .. NS - 1) {
    svc[X(i, kk)] = 0; stopping[X(i, kk)] = 0;
    forget(X(i, kk)); zero(mine[X(i, kk)])
  }
  kk = 0;
  new_monitor(i)
}

/* The node left after DOWN: quorumd exits, so does svcmgr; whatever the service still holds that has
   no process (an address, a mount) stays. */
inline left(i) {
  alive[i] = 0; leaving[i] = 0; lease[i] = 0; wd[i] = 0; fl[i] = 0; flrw[i] = 0; wfl[i] = 0;
#ifdef LAN
  since[i] = 0; fw[i] = 0;
#endif
#ifdef FENCE
  fence_forget(i); hcur[i] = HNONE; lwok[i] = 0; lwage[i] = 0; pok[i] = 0; lwt[i] = 0;
  fproc[i] = 0; fhinc[i] = 0;    /* the quorumd process is gone: nothing is handed over */
#endif
  for (kk : 0 .. NS - 1) {
    stopping[X(i, kk)] = 0; forget(X(i, kk)); zero(mine[X(i, kk)]);
    intent[X(i, kk)] = INTENT0(X(i, kk))   /* started again, it wants what it wanted before the leave */
  }
  kk = 0;
  new_monitor(i)
}

/* QuorumDaemon::on_fence: kill the registered process groups, stop petting (no lease); svcmgr exits.
   quorumd keeps its table (mine[]) and its floor. */
inline fence(i) {
  fenced[i] = 1; lapsed[i] = 0; lease[i] = 0;
#ifdef LAN
  since[i] = 0;                /* the fenced core neither asks, reads nor grants (its floor counts down as */
                               /* the ghost does); the rejoin starts a new core */
#endif
#ifdef FENCE
  /* a confirmed fence whose verdict read is still pending (or confirmed while the core was paused): quorumd keeps
     it for its next core (power_fencing.cc hand_over) */
  if
  :: fvr[i] -> fhinc[i] = ret[i]
  :: !fvr[i] && fcf[i] -> fhinc[i] = vinc[i]
  :: else -> skip
  fi;
  fence_forget(i);
#endif
  for (kk : 0 .. NS - 1) {
    svc[X(i, kk)] = 0; stopping[X(i, kk)] = 0; forget(X(i, kk))
  }
  kk = 0
}

/* The Ownership constructor, from my entry (quorumd's): an up entry stays up until the start-up probe
   says the service is stopped (on_stopped), then it is released. */
inline construct(x) {
  rdf[x] = 1;       /* the first read is issued after every write of this life (none yet) */
  if
  :: IS_UP(mine[x].st) -> phase[x] = STOPPING; wok[x] = 1; stopping[x] = 1
  :: else -> phase[x] = IDLE; wok[x] = INUSE(mine[x])
  fi
}

/* A new quorumd process (after a crash, a watchdog reset or a clean leave): TableService::load_own_region
   from the start-up snapshot.  A table block that does not decode starts empty (ServiceTableStore::
   mark_corrupt) and stays corrupt on the disk until it is rewritten once the node holds a lease (the scrub
   step of Disk()); an epoch record that does not decode is rebuilt (ServiceTableStore::rebuild_floor) from
   the own valid entries, the peer's valid entries and the peer's floor, and nothing counts as durable
   until the rebuilt record is written, before any table block (flrw, wfl).  Then svcmgr builds each
   Ownership.  The previous process is gone: its exit waited for its I/O in the kernel (io_destroy in
   ~AioBlockDevice, the kernel's exit_aio for a killed one; a node reset drops it), hence TABLE_QUIET at
   the restart step (BUG_RESTART_NO_WAIT drops that wait). */
inline restart(i) {
  alive[i] = 1; inc[i]++;
#ifdef FENCE
  offbyf[i] = 0;         /* powered on again (fence_action = reboot, or the admin) */
#endif
  printf("EV n=%d restart inc=%d\n", ID(i), inc[i]);
#if defined(PEER_NOWD_KNOWN) && defined(NOWD_NOFILE)
  knowd[i] = NOFILE_KNOWD(i);   /* a new quorumd without a peer-watchdog file */
#endif
  for (kk : 0 .. NS - 1) {
    if
    :: dcor[X(i, kk)] ->
       zero(mine[X(i, kk)]);
       printf("EV n=%d s=%d load_corrupt\n", ID(i), kk)
    :: else -> copy(mine[X(i, kk)], disk[X(i, kk)])
    fi;
    printf("EV n=%d s=%d construct st=%d nd=%d bal=%d ep=%d\n", ID(i), kk, mine[X(i, kk)].st,
           mine[X(i, kk)].nd, mine[X(i, kk)].bal, mine[X(i, kk)].ep);
    construct(X(i, kk))
  }
  kk = 0;
  if
#ifdef BUG_RESTART_REBUILD_FLOOR
  :: dflc[i] || OWN_CORRUPT(i) ->
#else
  :: dflc[i] ->
#endif
     tmp = 0;
     for (kk : 0 .. NS - 1) {
       if :: !dcor[X(i, kk)] -> tmp = MAX(tmp, mine[X(i, kk)].ep) :: else -> skip fi;
       if :: !dcor[X(PEER(i), kk)] -> tmp = MAX(tmp, disk[X(PEER(i), kk)].ep) :: else -> skip fi
     }
     kk = 0;
     if :: !dflc[PEER(i)] -> tmp = MAX(tmp, dfl[PEER(i)]) :: else -> skip fi;
     fl[i] = 0; flrw[i] = 1; wfl[i] = tmp;
     printf("EV n=%d floor_rebuilt fl=%d\n", ID(i), tmp);
     tmp = 0
  :: else -> fl[i] = dfl[i]
  fi
#ifdef LAN
  ;
  if                     /* the first life (at init) follows no earlier life of the node: no start floor */
  :: inc[i] > 1 -> start_floor(i)
  :: else -> skip
  fi
#endif
}

/* QuorumDaemon::maybe_rejoin: a new core (new incarnation, new PeerMonitor); svcmgr, restarted, builds
   each Ownership from quorumd's table in memory. */
inline rejoin(i) {
  fenced[i] = 0; inc[i]++;
  new_monitor(i);
  printf("EV n=%d rejoin inc=%d\n", ID(i), inc[i]);
#ifdef FENCE
  if
  :: fhinc[i] != 0 -> handed(i)
  :: else -> skip
  fi;
#endif
#ifdef LAN
  start_floor(i);
#endif
  for (kk : 0 .. NS - 1) {
    printf("EV n=%d s=%d construct st=%d nd=%d bal=%d ep=%d\n", ID(i), kk, mine[X(i, kk)].st,
           mine[X(i, kk)].nd, mine[X(i, kk)].bal, mine[X(i, kk)].ep);
    construct(X(i, kk))
  }
  kk = 0
}

#ifdef FENCE
/* A heartbeat write of node i lands, carrying an intent against the peer's incarnation t (0: none).  While node i
   announced and none landed yet, this is the write its look waits for: the next read it issues is the look.
   BUG_FENCE_LOOK_EARLY: a write that lands after the tick's reads (early: a slow one, or one written at once after
   the reads) lets the look take this tick's read, issued before the write completed. */
inline intent_lands(i, t, early) {
  htgt[i] = t;
  if
  :: t != 0 && ann[i] == 1 ->
#ifdef BUG_FENCE_LOOK_EARLY
     ann[i] = (early -> 3 : 2);
#else
     ann[i] = 2;
#endif
     printf("EV n=%d intent_lands inc=%d\n", ID(i), t)
  :: else -> skip
  fi
}

/* A change of node i's intent is written at once (rule 2; a withdrawal too): a heartbeat write issued now, after
   the tick's reads, landing before the next tick's reads -- or, as a slower write, carried by the next tick's
   heartbeat write (it lands then, before the reads or after them, or fails).  A failing path: nothing lands now. */
inline publish(i) {
  if
  :: !hbfail[i] && !leaving[i] ->
     lwt[i] = (ann[i] != 0 -> FTGT(i) : 0);
     hbinc[i] = inc[i]; hbdn[i] = 0; chg[PEER(i)] = 1 HBCLEAR(i);
     printf("EV n=%d hb_at_once intent=%d\n", ID(i), lwt[i]);
     intent_lands(i, lwt[i], 1)
  :: true -> skip
  fi
}

/* Observer i learns that its fence powered the peer off (the agent's `off` exited 0 and `status` said off;
   settle = 0): its PeerMonitor's verdict is DEAD at once and the incarnation it follows (the one it suspected:
   no read comes between the decision and this) is retired; the verdict read (the next read, whatever value it
   returns unless a new incarnation's: that is life) confirms it (hbread). */
inline deliver(i) {
  qv[i] = VDEAD; ret[i] = vinc[i]; fvr[i] = 1; fdead[i] = 0;
  for (kk : 0 .. NS - 1) { qconf[X(i, kk)] = 0 }   /* a new verdict: not confirmed until its read */
  kk = 0;
#ifdef LAN
  qup[i] = 0;
#endif
  printf("EV n=%d peer_fenced inc=%d\n", ID(i), vinc[i])
}

/* Node i's new core takes over a confirmed fence its quorumd kept (fhinc: the life it is about, retired here):
   its next read decides: a record of that life is DEAD, confirmed (VERDICT_READ: fhv); anything else drops it
   (the normal rules go on) -- never the unchanged value of a life this new monitor follows (it may be one the
   peer was powered on with again). */
inline handed(i) {
  ret[i] = fhinc[i]; fvr[i] = 1; fdead[i] = 0; fhv[i] = 1;   /* DEAD only at its verdict read (hbread) */
  printf("EV n=%d peer_fenced_handed inc=%d\n", ID(i), fhinc[i]);
  fhinc[i] = 0
}
#endif

/* One Ownership: node NODE(x), service SVC(x). */
proctype Svc(byte x) {
end:
  do
  /* ---------------- Ownership::step(now), case by case ---------------- */
  :: atomic { GATE(x) && phase[x] == IDLE && !wok[x] ->
       printf("EV n=%d s=%d step idle_rewrite\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == IDLE && wok[x] && intent[x] == HOLD && have[x] && !PEER_UP(x) ->
       mine[x].st = CLAIMING; mine[x].nd = ID(NODE(x)); mine[x].bal = MAX(mine[x].bal, peer[x].bal) + 1;
       phase[x] = PCLAIM;
       printf("EV n=%d s=%d step claim\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == IDLE && wok[x] && intent[x] == REL &&
              mine[x].st != RELEASED && mine[x].st != NONE ->
       mine[x].st = RELEASED; mine[x].nd = TARGET(x);
       printf("EV n=%d s=%d step idle_release\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == PCLAIM && !wok[x] ->
       printf("EV n=%d s=%d step claim_retry\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == PCLAIM && wok[x] && intent[x] != HOLD ->
       mine[x].st = RELEASED; mine[x].nd = TARGET(x); phase[x] = PRELEASE;
       printf("EV n=%d s=%d step claim_withdrawn_unwanted\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == PCLAIM && wok[x] && intent[x] == HOLD && have[x] && FRESH(x) &&
              PEER_UP(x) && !(peer[x].st == CLAIMING && !punk[x] && !PRIO(x)) ->
       mine[x].st = RELEASED; mine[x].nd = TARGET(x); phase[x] = PRELEASE;
       printf("EV n=%d s=%d step claim_withdrawn_peer\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == PCLAIM && wok[x] && intent[x] == HOLD && have[x] && FRESH(x) &&
              !PEER_UP(x) && NEWEP(x) <= MAXE ->
       mine[x].st = OWNED; mine[x].nd = ID(NODE(x)); mine[x].ep = NEWEP(x);
       phase[x] = OWNING;
       printf("EV n=%d s=%d step claim_confirmed_owned\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == OWNING && !wok[x] ->
       printf("EV n=%d s=%d step owned_retry\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { SGATE(x) && phase[x] == OWNING && wok[x] ->
       phase[x] = RUNNING; stopped[x] = 0; svc[x] = 1;
       printf("EV n=%d s=%d start ep=%d\n", ID(NODE(x)), SVC(x), mine[x].ep);
       assert(!svc[PX(x)]);                /* never two owners */
       assert(mine[x].ep > maxep[SVC(x)]); /* every start has a new, larger epoch */
#ifdef REACH_FENCE_TAKEOVER
       assert(!(fvr[NODE(x)] || fdead[NODE(x)]));  /* not a bug: shows a take-over on a fence verdict happens */
#endif
       maxep[SVC(x)] = mine[x].ep }
  :: atomic { SGATE(x) && phase[x] == RUNNING && intent[x] != HOLD ->
       phase[x] = STOPPING; stopping[x] = 1;
       printf("EV n=%d s=%d stop\n", ID(NODE(x)), SVC(x)) }
  :: atomic { GATE(x) && phase[x] == STOPPING && stopped[x] ->
       mine[x].st = RELEASED; mine[x].nd = TARGET(x); phase[x] = PRELEASE;
       printf("EV n=%d s=%d step stopped_release\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { GATE(x) && phase[x] == PRELEASE && !wok[x] ->
       printf("EV n=%d s=%d step release_retry\n", ID(NODE(x)), SVC(x));
       owrite(x) }
  :: atomic { SGATE(x) && phase[x] == PRELEASE && wok[x] ->
       phase[x] = IDLE;
       printf("EV n=%d s=%d released_idle\n", ID(NODE(x)), SVC(x)) }

  /* ---------------- inputs of the core ---------------- */
  :: atomic { RUNS(NODE(x)) && ew[x] == 2 ->        /* on_write_done(token, ok=true, now) */
#ifdef BUG_FLOOR_AFTER
       if   /* the floor is written only now, and lands later (or never) */
       :: ewv[x].ep > fl[NODE(x)] -> flw[NODE(x)] = ewv[x].ep
       :: else -> skip
       fi;
#endif
       ew[x] = 0; zero(ewv[x]);
       tok[x] = 0; wok[x] = 1; fresh[x] = 0; rdf[x] = 0;
       printf("EV n=%d s=%d write_done ok\n", ID(NODE(x)), SVC(x)) }
  :: atomic { RUNS(NODE(x)) && tofail[x] ->          /* on_write_done(token, ok=false, now) */
       tofail[x] = 0; tok[x] = 0; wok[x] = 0;
       printf("EV n=%d s=%d write_done failed\n", ID(NODE(x)), SVC(x)) }
  :: atomic { RUNS(NODE(x)) && stopping[x] ->        /* the service is stopped (or probed stopped): on_stopped() */
       stopping[x] = 0; svc[x] = 0; stopped[x] = 1;
       printf("EV n=%d s=%d on_stopped\n", ID(NODE(x)), SVC(x)) }
  od
}

#ifndef LIVENESS
/* Faults and admin actions on node i. */
proctype Faults(byte i) {
end:
  do
#if !defined(LAN) && !defined(FENCE)
  :: atomic { RUNS(i) && !hbfail[i] && hbfails < MAXHBFAIL -> hbfails++; hbfail[i] = 1;
       printf("EV n=%d hb_path_fails\n", ID(i)) }
#endif
  :: atomic { alive[i] && crashes < MAXCRASH -> crashes++; printf("EV n=%d crash\n", ID(i)); crash(i) }
  :: atomic { RUNS(i) && pauses < MAXPAUSE && MAY_PAUSE(i) -> pauses++; paused[i] = 1;
       printf("EV n=%d pause\n", ID(i)) }
  :: atomic { alive[i] && paused[i] -> paused[i] = 0;
       printf("EV n=%d resume\n", ID(i));
       if
       :: lapsed[i] -> printf("EV n=%d fence_on_resume\n", ID(i)); fence(i)
       :: else ->
          if :: HASWD(i) -> wd[i] = WDPET :: else -> skip fi  /* quorumd checks the lease, then pets */
#ifdef FENCE
          ;
          if                                          /* the fence confirmed while it was paused */
          :: fcf[i] -> fcf[i] = 0; deliver(i)
          :: !fcf[i] && fhinc[i] != 0 -> handed(i)    /* ... or handed to this (new) core meanwhile */
          :: else -> skip
          fi
#endif
       fi }
#ifndef BUG_RESTART_NO_WAIT
  :: atomic { !alive[i] && TABLE_QUIET(i) && MAY_RESTART(i) && POWER_ON_OK(i) -> restarts++; restart(i) }
#else
  /* the new process starts while a table write of the old one is still in the kernel: it lands later
     (whole or torn), perhaps over the new process's writes, or never */
  :: atomic { !alive[i] && restarts < MAXRESTART -> restarts++;
       for (kk : 0 .. NS - 1) {
         if
         :: ew[X(i, kk)] == 3 -> ow[X(i, kk)] = 1; copy(owv[X(i, kk)], ewv[X(i, kk)]);
            ew[X(i, kk)] = 0; zero(ewv[X(i, kk)]);
            printf("EV n=%d s=%d old_write_in_kernel st=%d nd=%d bal=%d ep=%d\n", ID(i), kk, owv[X(i, kk)].st,
                   owv[X(i, kk)].nd, owv[X(i, kk)].bal, owv[X(i, kk)].ep)
         :: else -> skip
         fi
       }
       kk = 0;
       restart(i) }
#endif
  :: atomic { alive[i] && fenced[i] && !paused[i] && MAY_RESTART(i) -> restarts++; rejoin(i) }
  /* castor leave: svcmgr stops and releases every service; quorumd writes DOWN afterwards (at a tick) */
  :: atomic { RUNS(i) && !leaving[i] && leaves < MAXLEAVE -> leaves++; leaving[i] = 1;
       printf("EV n=%d leave\n", ID(i));
       for (kk : 0 .. NS - 1) { intent[X(i, kk)] = REL }
       kk = 0 }
  /* the scrub: quorumd rewrites its own epoch record */
  /* the scrub (or the rebuilt record, first thing once the node holds a lease): quorumd rewrites its own
     epoch record with max(durable, wanted) */
  :: atomic { RUNS(i) && lease[i] > 0 && (dflc[i] || flrw[i]) -> fl[i] = MAX(fl[i], wfl[i]); dfl[i] = fl[i];
       dflc[i] = 0; flrw[i] = 0; wfl[i] = 0;
       printf("EV n=%d scrub_floor fl=%d\n", ID(i), fl[i]) }
#ifdef BUG_FLOOR_AFTER
  :: atomic { flw[i] > 0 -> dfl[i] = MAX(dfl[i], flw[i]); fl[i] = dfl[i]; dflc[i] = 0; flw[i] = 0;
       printf("EV n=%d floor_written fl=%d\n", ID(i), fl[i]) }
#endif
  /* a late DOWN heartbeat write of a previous life lands (or is lost) */
  :: atomic { hlate[i] > 0 -> hbinc[i] = hlate[i]; hbdn[i] = 1; chg[PEER(i)] = 1 HBCLEAR(i);
#ifdef FENCE
       htgt[i] = 0;
#endif
       printf("EV n=%d late_down_lands inc=%d\n", ID(i), hlate[i]); hlate[i] = 0 }
  :: atomic { hlate[i] > 0 -> hlate[i] = 0; printf("EV n=%d late_down_lost\n", ID(i)) }
#ifdef PEER_NOWD_KNOWN
  /* node i's heartbeat block is damaged (a torn write, a bad sector): until its next write lands */
  :: atomic { hbcors < MAXHBCOR && !hbcor[i] && NOWD_DAMAGE_OK(i) -> hbcors++; hbcor[i] = 1; chg[PEER(i)] = 1;
       printf("EV n=%d hb_block_damaged\n", ID(i)) }
#endif

  od
}

/* Garbage over one block: a table block or an epoch record.  -DCORRUPT_DOWN: only a block of a node that
   is down (crashed, not yet restarted), so that its restart finds it corrupt. */
proctype Corrupt() {
end:
#ifndef CORRUPT_DOWN
  atomic { corrupts < MAXCORRUPT -> corrupts++;
    select(tmp : 0 .. NX + 1);
#else
  atomic { corrupts < MAXCORRUPT && alive[0] != alive[1] -> corrupts++;
    select(tmp : 0 .. NS);
    if
    :: tmp < NS -> tmp = (alive[0] -> X(1, tmp) : X(0, tmp))
    :: else -> tmp = (alive[0] -> NX + 1 : NX)
    fi;
#endif
    if
    :: tmp < NX -> dcor[tmp] = 1; printf("EV n=%d s=%d corrupt\n", ID(NODE(tmp)), SVC(tmp))
    :: else -> dflc[tmp - NX] = 1; printf("EV n=%d corrupt_floor\n", ID(tmp - NX))
    fi;
    tmp = 0 }
}
#endif

/* svcmgr's reads of block SVC(x) of the peer's table (with the peer's epoch record): one always in flight;
   delivering one issues the next.  As in SvcmgrDaemon::on_peer_table, each reply carries quorumd's current
   verdict on the peer, fed to the core with the entry (on_peer_entry, then on_liveness); the verdict never
   arrives alone.  (Fed alone, a DEAD verdict lets Ownership take its new epoch from a stale entry of the
   dead peer: see README.md.) */
proctype Reader(byte x) {
end:
  do
  :: atomic { RUNS(NODE(x)) ->       /* serviced + delivered: on_peer_entry(read); next read issued */
       tunk = dcor[PX(x)] || (!INUSE(disk[PX(x)]) && (OTHER_CORRUPT(PX(x)) || dflc[NODE(PX(x))]));
       if
       :: tunk -> zero(tent)
       :: else -> copy(tent, disk[PX(x)])
       fi;
#ifdef BUG_CORRUPT_FREE
       tunk = 0;                     /* a block that fails to decode holds no entries: free */
#endif
#ifdef BUG_READ_BLOCK0
       if                            /* only block 0 is read: a service in block 1 is not found */
       :: SVC(x) > 0 -> tunk = 0; zero(tent)
       :: else -> skip
       fi;
#endif
       if
       :: !have[x] || !SAME(peer[x], tent) || punk[x] != tunk -> oconf[x] = 0; qconf[x] = 0  /* peer_value_since_ = now */
       :: else -> skip
       fi;
       copy(peer[x], tent); punk[x] = tunk; zero(tent); tunk = 0;
       pflk[x] = !dflc[NODE(PX(x))]; pfl[x] = (pflk[x] -> dfl[NODE(PX(x))] : 0);
       have[x] = 1; fresh[x] = rdf[x]; rdf[x] = 1;
       printf("EV n=%d s=%d on_peer_entry st=%d nd=%d bal=%d ep=%d fresh=%d unk=%d pfl=%d\n", ID(NODE(x)),
              SVC(x), peer[x].st, peer[x].nd, peer[x].bal, peer[x].ep, fresh[x], punk[x],
              (pflk[x] -> pfl[x] : 255));
       /* quorumd's verdict comes with the table read (SvcmgrDaemon::on_peer_table): on_liveness */
#ifndef LIVENESS_ALONE
       if
       :: odead[x] != (qv[NODE(x)] != VOTHER) || oconf[x] != qconf[x] ->
          odead[x] = (qv[NODE(x)] != VOTHER); oconf[x] = qconf[x];
          printf("EV n=%d s=%d on_liveness dead=%d\n", ID(NODE(x)), SVC(x), odead[x])
       :: else -> skip
       fi
#endif
     }
#ifdef LIVENESS_ALONE
  /* Ownership's API also takes a verdict alone (no read with it): -DLIVENESS_ALONE checks that use. */
  :: atomic { RUNS(NODE(x)) && (odead[x] != (qv[NODE(x)] != VOTHER) || oconf[x] != qconf[x]) ->
       odead[x] = (qv[NODE(x)] != VOTHER); oconf[x] = qconf[x];
       printf("EV n=%d s=%d on_liveness dead=%d\n", ID(NODE(x)), SVC(x), odead[x]) }
#endif
  od
}

inline land(x) {
  copy(disk[x], ewv[x]); dcor[x] = 0;
  printf("EV n=%d s=%d write_lands st=%d nd=%d bal=%d ep=%d\n", ID(NODE(x)), SVC(x), disk[x].st, disk[x].nd,
         disk[x].bal, disk[x].ep)
}

/* The device under table block x: landings, losses, torn writes, the scrub (one process per block). */
proctype Disk(byte x) {
end:
  do
  :: atomic { ew[x] == 1 -> land(x); ew[x] = 2 }
#ifndef LIVENESS
  :: atomic { ew[x] == 3 -> land(x); ew[x] = 0; zero(ewv[x]) }        /* a late write lands */
  :: atomic { ew[x] == 3 -> ew[x] = 0; zero(ewv[x]);                  /* ... or is lost */
       printf("EV n=%d s=%d write_lost\n", ID(NODE(x)), SVC(x)) }
  :: atomic { ew[x] == 3 && corrupts < MAXCORRUPT -> corrupts++;      /* ... or lands torn */
       ew[x] = 0; zero(ewv[x]); dcor[x] = 1;
       printf("EV n=%d s=%d write_torn\n", ID(NODE(x)), SVC(x)) }
#ifdef BUG_RESTART_NO_WAIT
  /* the previous process's write lands (whole or torn) or is lost, whatever the new process wrote since */
  :: atomic { ow[x] -> copy(disk[x], owv[x]); dcor[x] = 0; ow[x] = 0; zero(owv[x]);
       printf("EV n=%d s=%d old_write_lands st=%d nd=%d bal=%d ep=%d\n", ID(NODE(x)), SVC(x), disk[x].st,
              disk[x].nd, disk[x].bal, disk[x].ep) }
  :: atomic { ow[x] -> ow[x] = 0; zero(owv[x]); printf("EV n=%d s=%d old_write_lost\n", ID(NODE(x)), SVC(x)) }
  :: atomic { ow[x] && corrupts < MAXCORRUPT -> corrupts++; ow[x] = 0; zero(owv[x]); dcor[x] = 1;
       printf("EV n=%d s=%d old_write_torn\n", ID(NODE(x)), SVC(x)) }
#endif
  /* the scrub (or the next rewrite): quorumd rewrites a corrupt own block from its table in memory */
  :: atomic { RUNS(NODE(x)) && lease[NODE(x)] > 0 && dcor[x] && ew[x] == 0 && !flrw[NODE(x)] ->
       copy(disk[x], mine[x]); dcor[x] = 0;
       printf("EV n=%d s=%d scrub st=%d nd=%d bal=%d ep=%d\n", ID(NODE(x)), SVC(x), disk[x].st, disk[x].nd,
              disk[x].bal, disk[x].ep) }
#endif
  od
}

#ifndef LIVENESS
/* One tick for node i: lease, fence, watchdog, write deadlines (alive[i] is re-tested after a fence). */
inline tick1(i) {
  if
  :: alive[i] && lease[i] > 0 ->
     lease[i]--;
     if
     :: lease[i] == 0 && !paused[i] -> printf("EV n=%d fence_lease_lapsed\n", ID(i)); fence(i)
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
  for (kk : 0 .. NS - 1) {
    if
    :: alive[i] && ew[X(i, kk)] == 1 -> ew[X(i, kk)] = 3; iofaults++;           /* deadline T passed */
       if :: !fenced[i] -> tofail[X(i, kk)] = 1 :: else -> skip fi
    :: alive[i] && ew[X(i, kk)] == 2 -> ew[X(i, kk)] = 0; zero(ewv[X(i, kk)]); iofaults++;
       if :: !fenced[i] -> tofail[X(i, kk)] = 1 :: else -> skip fi
    :: else -> skip
    fi
  }
  kk = 0
}
/* Node i's heartbeat write of this tick: completes ok and renews the lease from its issue (now); a DOWN
   write (leaving, own table clear) may instead time out and stay in the kernel; once DOWN completed ok,
   the node has left. */
inline heartbeat(i) {
#ifdef FENCE
  /* the own disk's state for the fence rule: before this tick's write, was the last write issued ok and
     within 2T (a failed write times out T after its issue, so by the next tick)? */
  if :: lwage[i] < 3 -> lwage[i]++ :: else -> skip fi;
  pok[i] = (lwok[i] && lwage[i] <= 2); hcur[i] = HNONE;
  /* the disk window: the write of the last tick (timed out by now) failed or was missing: closed; a write of
     the tick the peer's value was first read came before that read: not counted */
  if
  :: dwin[i] == 2 -> dwin[i] = 1
  :: dwin[i] == 1 && !(lwok[i] && lwage[i] == 1) -> dwin[i] = 0
  :: else -> skip
  fi;
#endif
#ifdef LAN
  /* disk failing: no ok heartbeat write issued at this tick (since > 0) */
  if
  :: RUNS(i) && !hbfail[i] && !lapsed[i] -> since[i] = 0
  :: else -> if :: alive[i] && !fenced[i] && since[i] < S -> since[i]++ :: else -> skip fi
  fi;
#endif
  if
  :: RUNS(i) && !hbfail[i] && !lapsed[i] && leaving[i] && DOWN_OK(i) ->
     if
     :: hbinc[i] = inc[i]; hbdn[i] = 1; chg[PEER(i)] = 1 HBCLEAR(i);
#ifdef FENCE
        htgt[i] = 0;
#endif
        printf("EV n=%d down_written inc=%d\n", ID(i), inc[i]);
        left(i)
     :: latehbs < MAXLATEHB && hlate[i] == 0 -> latehbs++; hlate[i] = inc[i];
        printf("EV n=%d down_timeout inc=%d\n", ID(i), inc[i])
     fi
  :: RUNS(i) && !hbfail[i] && !lapsed[i] && !(leaving[i] && DOWN_OK(i)) ->
     lease[i] = F;
#ifndef FENCE
     hbinc[i] = inc[i]; hbdn[i] = 0; chg[PEER(i)] = 1 HBCLEAR(i)
#else
     lwok[i] = 1; lwage[i] = 0;
     lwt[i] = (ann[i] != 0 -> FTGT(i) : 0);      /* the intent it carries (while announced, and in the round) */
     if
     :: hcur[i] = HFAST; hbinc[i] = inc[i]; hbdn[i] = 0; chg[PEER(i)] = 1 HBCLEAR(i); intent_lands(i, lwt[i], 0)
     :: slows < MAXSLOW && SLOW_OK -> slows++; hcur[i] = HSLOW; hslow[i] = 1; hslt[i] = lwt[i];  /* ok, lands */
        printf("EV n=%d hb_slow\n", ID(i))                                                     /* after the reads */
     fi
  :: RUNS(i) && hbfail[i] && !lapsed[i] ->       /* it will time out: nothing lands */
     lwok[i] = 0; lwage[i] = 0; hcur[i] = HFAIL; lwt[i] = (ann[i] != 0 -> FTGT(i) : 0)
#endif
  :: else -> skip
  fi;
  if
  :: alive[i] && !paused[i] && lease[i] > 0 && HASWD(i) -> wd[i] = WDPET     /* pet */
  :: else -> skip
  fi
}
/* QuorumCore::on_own_read: a record of another incarnation in my heartbeat block once I hold a lease. */
inline ownread(i) {
  if
#ifdef FENCE
  /* a slow write: the own read follows the own write's completion, after the peer's read */
  :: !hslow[i] && RUNS(i) && lease[i] > 0 && hbinc[i] != inc[i] ->
#else
  :: RUNS(i) && lease[i] > 0 && hbinc[i] != inc[i] ->
#endif
     printf("EV n=%d fence_undead_writer inc=%d\n", ID(i), hbinc[i]); fence(i)
  :: else -> skip
  fi
}
#ifdef FENCE
#ifndef BUG_FENCE_LATE_LIFE
#define VERDICT_READ(j) (!(chg[j] && HBCOR(PEER(j))) && (fhv[j] -> hbinc[PEER(j)] == ret[j] : !(chg[j] && hbinc[PEER(j)] != ret[j])))
#else
#define VERDICT_READ(j) 1
#endif
#define FDEAD(j) fdead[j]
#define FVR(j) (fvr[j] && VERDICT_READ(j))     /* this read is the verdict read */
#else
#define FDEAD(j) 0
#define FVR(j) 0
#endif
/* A read that returned the same, unchanged value confirms a DEAD or DOWN verdict. */
inline confirm(j) {
  for (kk : 0 .. NS - 1) { qconf[X(j, kk)] = 1 }
  kk = 0
}
/* Observer j's read of the peer's heartbeat (PeerMonitor::observe); age counts real time. */
#ifdef FENCE
/* The intent in the peer's record is against me, whatever incarnation of mine it names (rule 3 as amended:
   the BMC powers off the machine, whatever life the intent meant).  -DBUG_FENCE_LOOK_INC: only an intent
   naming my current incarnation (rule 3 as first written; fence_look_inc finds the two offs). */
#ifdef BUG_FENCE_LOOK_INC
#define INTENT_AGAINST_ME(j) (htgt[PEER(j)] == inc[j])
#else
#define INTENT_AGAINST_ME(j) 1
#endif
#endif
inline hbread(j) {
  if
  :: alive[j] && !fenced[j] && age[j] < AGEMAX -> age[j]++
  :: else -> skip
  fi;
#ifdef FENCE
  if                       /* a read issued after a write carrying my intent landed: the look (decided below) */
  :: RUNS(j) && ann[j] == 2 -> ann[j] = 3
  :: else -> skip
  fi;
  if                       /* a changed value: does it carry the peer's intent against my life?  (A yield ends.) */
  :: RUNS(j) && chg[j] -> pint[j] = (!HBCOR(PEER(j)) && htgt[PEER(j)] != 0 && INTENT_AGAINST_ME(j)); yld[j] = 0
  :: else -> skip
  fi;
  if                       /* a handed verdict whose read returns, unchanged, no record of its life: dropped */
  :: RUNS(j) && fvr[j] && fhv[j] && !chg[j] && hbinc[PEER(j)] != ret[j] ->
     fvr[j] = 0; fhv[j] = 0; printf("EV n=%d fence_handed_dropped\n", ID(j))
  :: else -> skip
  fi;
#endif
  if
#ifdef FENCE
  /* the verdict read of a confirmed fence: confirms the DEAD verdict whatever value it returns -- unless it is
     a new incarnation's record (life: the node was powered on again), handled as any change below.
     BUG_FENCE_LATE_LIFE: whatever value, a new incarnation's too, which it retires. */
  :: RUNS(j) && fvr[j] && VERDICT_READ(j) ->
     fvr[j] = 0; fdead[j] = 1;
#ifdef REACH_FENCE_HANDED
     assert(!fhv[j]);   /* not a bug: shows a verdict handed to the fencer's next core is read */
#endif
     if
     :: fhv[j] -> fhv[j] = 0; qv[j] = VDEAD;
        for (kk : 0 .. NS - 1) { qconf[X(j, kk)] = 0 }
        kk = 0
#ifdef LAN
        ; qup[j] = 0
#endif
     :: else -> skip
     fi;
     if
     :: chg[j] -> chg[j] = 0; age[j] = 0; vinc[j] = hbinc[PEER(j)]; ret[j] = vinc[j]
     :: else -> skip
     fi;
     printf("EV n=%d fence_verdict_read inc=%d\n", ID(j), vinc[j]);
     confirm(j)
#endif
#ifdef PEER_NOWD_KNOWN
  /* a damaged block (PeerMonitor: an invalid value): a change, never life, no record, no flag */
  :: RUNS(j) && chg[j] && !FVR(j) && HBCOR(PEER(j)) ->
     chg[j] = 0; age[j] = 0;
#ifdef FENCE
     fvr[j] = 0; fdead[j] = 0; fhv[j] = 0; dwin[j] = 2;
#endif
     printf("EV n=%d peer_block_damaged\n", ID(j))
#endif
  :: RUNS(j) && chg[j] && !FVR(j) && !HBCOR(PEER(j)) ->
     chg[j] = 0; age[j] = 0;
#ifdef FENCE
     fvr[j] = 0; fdead[j] = 0; fhv[j] = 0;  /* a changed value: a stale record is not re-confirmed until D */
     dwin[j] = 2;                /* first_seen = now: my own writes are checked from here on */
#endif
     tmp = hbinc[PEER(j)];
     if
#ifndef BUG_LATE_DOWN
     :: vinc[j] != 0 && tmp != vinc[j] && tmp == ret[j] ->   /* a late write of the retired incarnation */
        vinc[j] = tmp;
        printf("EV n=%d peer_stale inc=%d\n", ID(j), tmp)
#endif
     :: else ->
        if
        :: vinc[j] != 0 && tmp != vinc[j] -> ret[j] = vinc[j]
        :: else -> skip
        fi;
#ifdef PEER_NOWD_KNOWN
        if                       /* a valid record of a live life: its flag (kNoWatchdog) is read */
        :: tmp != 0 && tmp != ret[j] && !HASWD(PEER(j)) -> knowd[j] = 1; rdnowd[j] = 1
        :: else -> skip
        fi;
#endif
        if
        :: hbdn[PEER(j)] && tmp != ret[j] ->
           if
           :: qv[j] != VDOWN -> printf("EV n=%d peer_down inc=%d\n", ID(j), tmp)
           :: else -> skip
           fi;
           qv[j] = VDOWN; confirm(j)
#ifdef LAN
           ; qup[j] = 0
#endif
        :: else ->
#ifndef LAN
           if
           :: vinc[j] != 0 && tmp != ret[j] && qv[j] != VOTHER -> qv[j] = VOTHER;
              printf("EV n=%d peer_up inc=%d\n", ID(j), tmp)
           :: else -> skip
           fi
#else
           /* a change (not the first read) to a live incarnation's record: UP (from UNKNOWN too) */
           if
           :: vinc[j] != 0 && tmp != ret[j] && !qup[j] -> qv[j] = VOTHER; qup[j] = 1;
              printf("EV n=%d peer_up inc=%d\n", ID(j), tmp)
           :: else -> skip
           fi
#endif
        fi;
        vinc[j] = tmp
     fi;
     tmp = 0
#ifndef LAN
  :: RUNS(j) && !chg[j] && !FVR(j) && (age[j] >= D || qv[j] == VDOWN || FDEAD(j)) ->
#else
  /* DEAD needs a read issued at or after max(first_seen, floor) + D */
  :: RUNS(j) && !chg[j] && !FVR(j) && ((age[j] >= D && fw[j] == 0) || qv[j] == VDOWN || FDEAD(j)) ->
#endif
     if
     /* NOWD_FENCED: no DEAD after D for a node without a watchdog (only a confirmed fence); BUG_NOWD_D: D too */
#if defined(NOWD_FENCED) && !defined(BUG_NOWD_D)
     :: qv[j] == VOTHER && KNOWS_NOWD(j) -> skip
     :: qv[j] == VOTHER && !KNOWS_NOWD(j) ->
#else
     :: qv[j] == VOTHER ->
#endif
        qv[j] = VDEAD; printf("EV n=%d peer_dead\n", ID(j))
#ifdef LAN
        ; qup[j] = 0;
        /* the rule: not before the latest floor ANY life of this node recorded, + D */
        assert(promised[j] == 0)
#endif
     :: else -> skip
     fi;
     if :: qv[j] != VOTHER -> confirm(j) :: else -> skip fi
  :: else -> skip
  fi
}

#ifdef LAN
#define LREQ 1
#define LGRANT 3
/* The delayed message is lost. */
inline lan_lost_delayed() {
  if
  :: lk >= LGRANT -> printf("EV n=%d lan_lost kind=grant\n", ID(lk - LGRANT))
  :: else -> printf("EV n=%d lan_lost kind=request\n", ID(lk - LREQ))
  fi;
  lk = 0; la = 0; li = 0
}

/* At a tick: the delayed message ages (past LANDELAY it is lost); floors and the ghost count down. */
inline lantick() {
  if
  :: lk != 0 && la >= LANDELAY -> lan_lost_delayed()
  :: lk != 0 && la < LANDELAY -> la++
  :: else -> skip
  fi;
  for (kk : 0 .. 1) {
    if :: fw[kk] > 0 -> fw[kk]-- :: else -> skip fi;
    if :: promised[kk] > 0 -> promised[kk]-- :: else -> skip fi
  }
  kk = 0
}

/* Holder i asks for a promise while its core is up and holds a lease, its disk is failing, and it is
   within S of its last ok write (now < last_ok + S). */
#define REQ_OK(i) (RUNS(i) && lease[i] > 0 && since[i] > 0 && since[i] < S)
/* Grantor y grants a request of incarnation c only if its core is up and holds a lease, its OWN disk is
   failing, it is within S of its last ok write, and c is the incarnation its PeerMonitor follows, seen UP.
   BUG_GRANT_DISK_OK: a grantor whose disk works grants too (from the disk-ok branch: no floor). */
#ifndef BUG_GRANT_DISK_OK
#define GRANT_OK(y, c) (RUNS(y) && lease[y] > 0 && since[y] > 0 && since[y] < S && (c) == vinc[y] && qup[y])
#else
#define GRANT_OK(y, c) (RUNS(y) && lease[y] > 0 && since[y] < S && (c) == vinc[y] && qup[y])
#endif
/* The holder's lease after a grant answering its request sent a ticks ago: expiry = max(expiry, x_sent + P),
   in ticks from now.  BUG_PROMISE_RECEIPT_ANCHOR: anchored at the receipt (now + P). */
#ifndef BUG_PROMISE_RECEIPT_ANCHOR
#define EXTENDED(i, a) MAX(lease[i], P - (a))
#else
#define EXTENDED(i, a) MAX(lease[i], P)
#endif

/* Grantor y records its floor (now + P) before the grant goes out.  BUG_PROMISE_NO_FLOOR: never;
   BUG_GRANT_DISK_OK: not when its disk works (the disk-ok branch holds its disk verdict authoritative). */
inline record_floor(y) {
#if defined(BUG_PROMISE_NO_FLOOR)
  skip
#else
#ifdef BUG_GRANT_DISK_OK
  if
  :: since[y] > 0 ->
#endif
     fw[y] = P + D; promised[y] = MAX(promised[y], RHOLD + D);
     printf("EV n=%d promise_floor in=%d\n", ID(y), P)
#ifdef BUG_GRANT_DISK_OK
  :: else -> skip
  fi
#endif
#endif
}

/* Holder x receives a grant for incarnation c answering its request sent a ticks ago: accepted only while
   its lease holds (not lapsed, not fenced, an ok write in this incarnation) and for its current incarnation.
   (The stall bound, x_sent + P <= last_ok + P + S (promised_lease_end), always holds here: the request was
   sent within S of the last ok write.) */
inline grant_in(x, c, a) {
  if
  :: RUNS(x) ->
     printf("EV n=%d lan_grant_in inc=%d age=%d\n", ID(x), c, a);
     if
     :: lease[x] > 0 && (c) == inc[x] -> lease[x] = EXTENDED(x, a);
        printf("EV n=%d extend lease=%d\n", ID(x), lease[x])
     :: else -> printf("EV n=%d grant_ignored\n", ID(x))
     fi
  :: else -> printf("EV n=%d lan_lost kind=grant\n", ID(PEER(x)))
  fi
}

/* Grantor y receives a request of incarnation c sent a ticks ago: grants (floor first) or not; the grant
   arrives at once, or is the one delayed message. */
inline request_in(y, c, a) {
  if
  :: RUNS(y) ->
     printf("EV n=%d lan_request_in inc=%d age=%d\n", ID(y), c, a);
     if
     :: GRANT_OK(y, c) ->
        record_floor(y);
        printf("EV n=%d grant inc=%d age=%d\n", ID(y), c, a);
        if
        :: lanlates < MAXLANLATE && lk == 0 -> lanlates++; lk = LGRANT + y; la = a; li = c;
           printf("EV n=%d lan_delayed kind=grant\n", ID(y))
        :: true -> grant_in(PEER(y), c, a)
        fi
     :: else -> skip
     fi
  :: else -> printf("EV n=%d lan_lost kind=request\n", ID(PEER(y)))
  fi
}

/* The tick's LAN traffic, after the heartbeat reads: the delayed message may arrive; then each node whose
   disk is failing sends its request (x_sent = now), which arrives (and is answered) at once, or is the one
   delayed message; nothing arrives while the LAN is partitioned. */
inline lan_exchange() {
  if
  :: lk != 0 && !lancut && lk >= LGRANT ->
     tmp = lk - LGRANT; tc = li; ta = la; lk = 0; la = 0; li = 0; grant_in(PEER(tmp), tc, ta)
  :: lk != 0 && !lancut && lk < LGRANT ->
     tmp = lk - LREQ; tc = li; ta = la; lk = 0; la = 0; li = 0; request_in(PEER(tmp), tc, ta)
  :: true -> skip
  fi;
  tmp = 0; tc = 0; ta = 0;
  if
  :: REQ_OK(0) -> printf("EV n=%d lan_request inc=%d\n", ID(0), inc[0]);
     if
     :: lancut -> printf("EV n=%d lan_lost kind=request\n", ID(0))
     :: !lancut && lanlates < MAXLANLATE && lk == 0 -> lanlates++; lk = LREQ + 0; la = 0; li = inc[0];
        printf("EV n=%d lan_delayed kind=request\n", ID(0))
     :: !lancut -> request_in(1, inc[0], 0)
     fi
  :: else -> skip
  fi;
  if
  :: REQ_OK(1) -> printf("EV n=%d lan_request inc=%d\n", ID(1), inc[1]);
     if
     :: lancut -> printf("EV n=%d lan_lost kind=request\n", ID(1))
     :: !lancut && lanlates < MAXLANLATE && lk == 0 -> lanlates++; lk = LREQ + 1; la = 0; li = inc[1];
        printf("EV n=%d lan_delayed kind=request\n", ID(1))
     :: !lancut -> request_in(0, inc[1], 0)
     fi
  :: else -> skip
  fi
}

/* At the start of a tick (they matter only at the tick: the heartbeat write, the LAN exchange): one node's
   heartbeat path fails, or both fail at once (a shared storage stall: MAXSTALL), within MAXHBFAIL; a failed
   path may work again (the stall ends for that node); the LAN is partitioned (MAXPART), or heals. */
inline lan_faults() {
  if
  :: hbfails < MAXHBFAIL && RUNS(0) && !hbfail[0] -> hbfails++; hbfail[0] = 1; printf("EV n=1 hb_path_fails\n")
  :: hbfails < MAXHBFAIL && RUNS(1) && !hbfail[1] -> hbfails++; hbfail[1] = 1; printf("EV n=2 hb_path_fails\n")
  :: hbfails < MAXHBFAIL && stalls < MAXSTALL && !hbfail[0] && !hbfail[1] ->
     hbfails++; stalls++; hbfail[0] = 1; hbfail[1] = 1; printf("EV n=1 hb_path_fails\nEV n=2 hb_path_fails\n")
  :: hbfail[0] -> hbfail[0] = 0; printf("EV n=1 hb_path_recovers\n")
  :: hbfail[1] -> hbfail[1] = 0; printf("EV n=2 hb_path_recovers\n")
  :: true -> skip
  fi;
  if
  :: !lancut && parts < MAXPART -> parts++; lancut = 1; printf("EV lan_partition\n");
     if :: lk != 0 -> lan_lost_delayed() :: else -> skip fi
  :: lancut -> lancut = 0; printf("EV lan_heal\n")
  :: true -> skip
  fi
}
#endif

#ifdef FENCE
/* The fence rule (docs/design.md, "Power fencing"): node i may power-fence its peer only while its core runs
   with a valid lease, its own disk works (the last heartbeat write that completed was ok and issued within 2T:
   QuorumCore::disk_failing() false -- this tick's write landed, or it is still in flight (slow, or failing:
   a failing write times out at the next tick) and the one before was ok), the peer is suspected (the value
   it follows unchanged in its reads for SF ticks: 2 without the LAN; with it SF = 1 and the peer not heard on
   the LAN at this tick (the LAN is cut or the peer's quorumd does not run) or heard saying its disk fails), and
   the peer is neither DOWN nor already DEAD (fencing a DEAD peer changes nothing for safety; not modelled).
   MAYF lets it announce; the fence itself waits for the look (fence_decide1). */
#ifdef PEER_NOWD_KNOWN
/* QuorumCore::silence_to_suspect: a peer without a watchdog whose life this core never read (vinc 0: its block
   damaged since this core started) is suspected once its value stood still for D (startup fencing); the fence is
   about that value (ret 0: the verdict read takes it unchanged, not a valid record), its intent names no life */
#define SUSP_UNSEEN(i) (vinc[i] == 0 && knowd[i] && age[i] >= D)
#else
#define SUSP_UNSEEN(i) 0
#endif
#ifdef LAN
#define SUSP(i) (((vinc[i] != 0 && age[i] >= SF) || SUSP_UNSEEN(i)) && (lancut || !RUNS(PEER(i)) || since[PEER(i)] > 0))
#else
#define SUSP(i) ((vinc[i] != 0 && age[i] >= SF) || SUSP_UNSEEN(i))
#endif
/* a slow write of this tick has landed and completed ok before the decision (only the peer's read came before
   it); a failing one is still in flight (it times out at the next tick) */
#define DISK_OK(i) (hcur[i] == HFAST || hcur[i] == HSLOW || pok[i])
/* DISKWIN: and every heartbeat write of mine issued since I first read the peer's current value completed ok
   (none failed, none missing): my disk worked the whole time the peer's value stood still.
   BUG_FENCE_NO_DISKWIN drops it. */
#ifndef BUG_FENCE_NO_DISKWIN
#define MAYF(i) (RUNS(i) && lease[i] > 0 && DISK_OK(i) && SUSP(i) && qv[i] == VOTHER && dwin[i] != 0)
#else
#define MAYF(i) (RUNS(i) && lease[i] > 0 && DISK_OK(i) && SUSP(i) && qv[i] == VOTHER)
#endif

/* Node p is powered off: as a crash (processes, services and resources gone at once, watchdog irrelevant;
   table writes in the kernel land later, whole or torn, or never), and a heartbeat write of this life may
   still be in the kernel (hpo: lands later, or never).  A node already down stays off (until it reboots). */
inline power_off(p) {
  offbyf[p] = 1;
  if
  :: alive[p] ->
     printf("EV n=%d powered_off inc=%d\n", ID(p), inc[p]);
     if
     :: hpo[p] == 0 -> hpo[p] = inc[p];
        if                      /* the last write it issued: with the intent it carried, or one without */
        :: hpot[p] = lwt[p]
        :: lwt[p] != 0 -> hpot[p] = 0
        fi;
        printf("EV n=%d late_hb_in_kernel inc=%d intent=%d\n", ID(p), inc[p], hpot[p])
     :: true -> skip
     fi;
     crash(p)
  :: else -> printf("EV n=%d powered_off_down\n", ID(p))
  fi
}

/* Node i's fence request (handed to the BMC) resolves: the peer is powered off (and node i's core, if it
   still waits for it, learns `confirmed off`: now, or when it resumes), or it fails (no effect, not
   confirmed: node i falls back to the D rule; it may fence again later).  Whatever became of node i. */
inline fence_resolve(i) {
  if
  :: true ->
     printf("EV n=%d fence_off\n", ID(i));
     assert(!offbyf[i]);        /* never both nodes powered off by each other's fences */
#ifdef REACH_FENCE_LIVE
     assert(!(alive[PEER(i)] && !fenced[PEER(i)]));   /* not a bug: shows the fence of a node whose core runs */
#endif
     power_off(PEER(i));
     if
     :: fown[i] && RUNS(i) -> deliver(i)
     :: fown[i] && alive[i] && paused[i] -> fcf[i] = 1
     :: !fown[i] && fproc[i] && alive[i] ->   /* its core is gone (self-fenced): kept for the next one */
        fhinc[i] = freqinc[i];
        if :: RUNS(i) -> handed(i) :: else -> skip fi
     :: else -> skip
     fi
  :: ffails < MAXFFAIL -> ffails++;
     printf("EV n=%d fence_failed\n", ID(i));
     if   /* the round is over: its intent is cleared (at once if its core runs) */
     :: ann[i] == 4 -> ann[i] = 0;
        if :: RUNS(i) -> publish(i) :: else -> skip fi
     :: else -> skip
     fi
#ifdef BUG_FENCE_UNCONFIRMED
     ;                          /* takes over on a fence that failed */
     if :: fown[i] && RUNS(i) -> deliver(i) :: else -> skip fi
#endif
  fi;
  freq[i] = 0; fown[i] = 0; frt[i] = 0; fproc[i] = 0
}

/* Handed to the BMC (the agent runs `status`, `off`, `status`): it resolves at any moment before the next tick
   (BMC below; the Clock waits for it): the agent latency, under one tick.  -DFROUND=<r>: before r more ticks. */
inline request(i) {
  freq[i] = 1; fown[i] = 1; frt[i] = FROUND - 1; fproc[i] = 1; freqinc[i] = vinc[i];
  printf("EV n=%d fence_request inc=%d\n", ID(i), vinc[i])
#ifdef REACH_UNSEEN_FENCE
  ; assert(vinc[i] != 0)   /* not a bug: shows a fence of a life this core never read (startup fencing) */
#endif
}

/* The look shows the peer's intent against this node's life, and it is not stale: the peer's value carrying it
   stood still for fewer than SFB ticks. */
#define LOOK_YIELD(i) (pint[i] && age[i] < SFB)

/* Node i's fence decision, after the tick's reads (fence-intent.md).  A paused core decides nothing.  In order:
   the end of its round (the intent is cleared); MAYF gone while announced: the intent is withdrawn; MAYF, no
   round, no yield: it announces (node 2 first waits out -DFDELAY ticks, then re-checks); the look (the first read
   issued after a write carrying the intent landed): the peer's intent against its life, not stale: it yields (no
   new announce until the peer's value changes or turns stale); otherwise (MAYF held) it hands the fence to its
   BMC, the intent still carried while the round runs.  BUG_FENCE_NO_ANNOUNCE: no announce, no look: MAYF hands
   the fence to the BMC at once (the rule before the intent, with S = T under the LAN). */
inline fence_decide1(i) {
  if
  :: RUNS(i) ->
     if   /* the yield ends once the peer's intent turned stale */
     :: yld[i] && age[i] >= SFB -> yld[i] = 0
     :: else -> skip
     fi;
#ifdef BUG_FENCE_NO_ANNOUNCE
     if
     :: MAYF(i) && !freq[i] -> request(i)
     :: else -> skip
     fi
#else
     if   /* the round is over: confirmed and the verdict read done (or dropped: life); a failed one, fence_resolve */
     :: ann[i] == 4 && !freq[i] && !fvr[i] && !fcf[i] -> ann[i] = 0; printf("EV n=%d fence_round_over\n", ID(i));
        publish(i)
     :: else -> skip
     fi;
     if
     :: ann[i] >= 1 && ann[i] <= 3 && !MAYF(i) -> ann[i] = 0; printf("EV n=%d fence_withdraw\n", ID(i));
        publish(i)
     :: else -> skip
     fi;
     if
     :: fwait[i] && fdl[i] == 0 ->
        fwait[i] = 0;
        if
        :: ann[i] == 0 && MAYF(i) && !freq[i] && !yld[i] ->
           ann[i] = 1; printf("EV n=%d fence_announce inc=%d\n", ID(i), vinc[i]); publish(i)
        :: else -> printf("EV n=%d fence_delay_abandoned\n", ID(i))
        fi
     :: !fwait[i] && ann[i] == 0 && MAYF(i) && !freq[i] && !yld[i] ->
        if
        :: (i) == 1 && FDELAY > 0 ->
           fwait[i] = 1; fdl[i] = FDELAY; printf("EV n=%d fence_delay ticks=%d\n", ID(i), FDELAY)
        :: else -> ann[i] = 1; printf("EV n=%d fence_announce inc=%d\n", ID(i), vinc[i]); publish(i)
        fi
     :: else -> skip
     fi;
     if   /* the look (MAYF holds: checked above) */
     :: ann[i] == 3 && LOOK_YIELD(i) ->
        ann[i] = 0; yld[i] = 1; printf("EV n=%d fence_look intent=1 age=%d: yield\n", ID(i), age[i]);
#ifdef REACH_FENCE_YIELD
        assert(false);                  /* not a bug: shows that a node yields */
#endif
        publish(i)
     :: ann[i] == 3 && !LOOK_YIELD(i) ->
        ann[i] = 4; printf("EV n=%d fence_look intent=%d age=%d: fence\n", ID(i), pint[i], age[i]);
#ifdef REACH_FENCE_STALE
        assert(!pint[i]);               /* not a bug: shows a fence past a stale intent of the peer */
#endif
        request(i)
     :: else -> skip
     fi
#endif
  :: else -> skip
  fi
}

/* After the tick's reads.  Checked: two nodes never have a fence request in flight at once (a request follows
   only a look that was clear, or saw a stale intent).  Without the LAN (S = 2T): DISKWIN alone keeps two nodes
   from suspecting each other at once (the intent is a second defence there); with it, S = T: they may
   (-DREACH_FENCE_BOTH_MAYF checks that they do), and the intent alone keeps them apart. */
#if (!defined(LAN) && !defined(NO_MUTUAL_CHECK)) || defined(REACH_FENCE_BOTH_MAYF)
#define MUTUAL_CHECK 1
#endif
inline fence_decide() {
#ifdef MUTUAL_CHECK
  assert(!(MAYF(0) && MAYF(1)));   /* two nodes whose writes work never may fence each other at once */
#endif
  fence_decide1(0); fence_decide1(1);
  assert(!(freq[0] && freq[1]))    /* never two fence requests in flight at once */
#ifdef REACH_FENCE_BOTH_INTENT
  ; assert(!(htgt[0] != 0 && htgt[1] != 0))   /* not a bug: both intents on the disk at once (both announced) */
#endif
}

/* Node i's fence agent: a request resolves at any moment before the next tick. */
proctype BMC(byte i) {
end:
  do
  :: atomic { freq[i] -> fence_resolve(i) }
  od
}

/* At the start of a tick: node 2's delay (-DFDELAY) counts down; a fence request that may stay in flight across
   this tick (-DFROUND > 1) has one tick less. */
inline fence_tick() {
  if :: fdl[1] > 0 -> fdl[1]-- :: else -> skip fi;
  if :: freq[0] && frt[0] > 0 -> frt[0]-- :: else -> skip fi;
  if :: freq[1] && frt[1] > 0 -> frt[1]-- :: else -> skip fi
}

/* A slow heartbeat write lands after the tick's reads (seen at the next tick). */
inline slow_land(i) {
  if
  :: hslow[i] -> hslow[i] = 0; hbinc[i] = inc[i]; hbdn[i] = 0; chg[PEER(i)] = 1 HBCLEAR(i); intent_lands(i, hslt[i], 1);
     hslt[i] = 0
  :: else -> skip
  fi
}

/* -DFENCE without -DLAN: heartbeat paths fail at a tick (MAXHBFAIL failures, one node's or both nodes' before
   the same tick) and a failed path may work again at any later tick (the end of a storage stall matters to
   the fence rule).  A heartbeat write of a powered-off life lands after this tick's writes (before its
   reads), or later, or is lost (whole: a torn one is a change that is never life, which a whole one covers). */
/* (No nondeterministic choice inside a loop over the hidden kk: pan does not restore hidden variables when it
   backtracks, so these are written out per node.) */
inline path_fault(i) {
  if
  :: hbfails < MAXHBFAIL && RUNS(i) && !hbfail[i] -> hbfails++; hbfail[i] = 1;
     printf("EV n=%d hb_path_fails\n", ID(i))
  :: hbfail[i] -> hbfail[i] = 0; printf("EV n=%d hb_path_recovers\n", ID(i))
  :: true -> skip
  fi
}
/* -DSHARED_STALL: the paths fail only both at once (a shared storage stall, MAXHBFAIL of them); each works
   again at any later tick, on its own. */
inline path_recover(i) {
  if
  :: hbfail[i] -> hbfail[i] = 0; printf("EV n=%d hb_path_recovers\n", ID(i))
  :: true -> skip
  fi
}
inline fence_faults() {
#if !defined(LAN) && defined(SHARED_STALL)
  path_recover(0); path_recover(1);
  if
  :: hbfails < MAXHBFAIL && !hbfail[0] && !hbfail[1] -> hbfails++; hbfail[0] = 1; hbfail[1] = 1;
     printf("EV n=1 hb_path_fails\nEV n=2 hb_path_fails\n")
  :: true -> skip
  fi
#elif !defined(LAN)
  path_fault(0); path_fault(1)
#else
  skip
#endif
}
inline late_hb1(i) {
  if
  :: hpo[i] > 0 -> hbinc[i] = hpo[i]; hbdn[i] = 0; chg[PEER(i)] = 1 HBCLEAR(i); htgt[i] = hpot[i];
     printf("EV n=%d late_hb_lands inc=%d intent=%d\n", ID(i), hpo[i], hpot[i]); hpo[i] = 0; hpot[i] = 0
  :: hpo[i] > 0 -> hpo[i] = 0; hpot[i] = 0; printf("EV n=%d late_hb_lost\n", ID(i))
  :: true -> skip
  fi
}
inline late_hb() {
  late_hb1(0); late_hb1(1)
}
#endif

proctype Clock() {
end:
  do
#ifdef FENCE
  :: atomic { (!PENDING || iofaults < MAXIOFAULT) && (!freq[0] || frt[0] > 0) && (!freq[1] || frt[1] > 0) ->
#else
  :: atomic { !PENDING || iofaults < MAXIOFAULT ->
#endif
       printf("EV tick\n");
#ifdef FENCE
       fence_tick();
#endif
       tick1(0); tick1(1);
#ifdef LAN
       lan_faults(); lantick();
#endif
#ifdef FENCE
       fence_faults();
#endif
       heartbeat(0); heartbeat(1);
#ifdef FENCE
       late_hb();
#endif
       ownread(0); ownread(1);
       printf("EV hb_reads\n");
       hbread(0); hbread(1)
#ifdef FENCE
       ; slow_land(0); slow_land(1)
#endif
#ifdef LAN
       ; lan_exchange()
#endif
#ifdef FENCE
       ; fence_decide()
#endif
     }
  od
}

proctype Policy() {
end:
  do
  :: atomic { flips < MAXFLIP -> select(tmp : 0 .. NX - 1);
       if
       :: !leaving[NODE(tmp)] -> flips++; intent[tmp] = 1 - intent[tmp];
          printf("EV n=%d s=%d set_intent %d\n", ID(NODE(tmp)), SVC(tmp), intent[tmp])
       :: else -> skip
       fi;
       tmp = 0 }
  od
}
#else
/* Relocation: node 1 holds the service; once it runs it, the policy moves it to node 2. */
bit moved;
proctype Policy() {
  atomic { phase[0] == RUNNING -> intent[0] = REL; intent[1] = HOLD; moved = 1;
    printf("EV n=1 s=0 set_intent 0\nEV n=2 s=0 set_intent 1\n") }
}
ltl relocation { <> (phase[1] == RUNNING && svc[1] && !svc[0]) }
#endif

init {
  atomic {
#if NS == 2 || defined(HELD)
    /* Two services: service 0 (block 0) is held by node 1 from the start (claimed with ballot 1, owned
       with ballot 2 and epoch 1, started; node
       2 does not want it); service 1 (block 1) is wanted by both.  Keeping service 0 quiet keeps the state
       space near the one-service model's while every read, floor and DOWN check covers two blocks.
       -DHELD (one service): node 1 holds service 0 the same way from the start, and node 2 wants it too
       (it takes the service over once node 1 is dead): the LAN runs start from a settled owner. */
    disk[X(0, 0)].st = OWNED; disk[X(0, 0)].nd = 1; disk[X(0, 0)].bal = 2; disk[X(0, 0)].ep = 1;
    dfl[0] = 1; maxep[0] = 1;
#endif
    restart(0); restart(1);
    chg[0] = 1; chg[1] = 1;
    for (kk : 0 .. NX - 1) {
#ifdef LIVENESS
      intent[kk] = (NODE(kk) == 0 -> HOLD : REL);
#else
      intent[kk] = INTENT0(kk);
      printf("EV n=%d s=%d set_intent %d\n", ID(NODE(kk)), SVC(kk), intent[kk]);
#endif
      run Svc(kk); run Reader(kk); run Disk(kk)
    }
    kk = 0;
#if NS == 2 || defined(HELD)
    /* node 1 runs service 0 (the start-up probe found it running, as it was before the restart) */
    phase[X(0, 0)] = RUNNING; wok[X(0, 0)] = 1; stopping[X(0, 0)] = 0; svc[X(0, 0)] = 1;
    printf("EV n=1 s=0 running bal=2 ep=1\n");
#endif
#ifdef HELD
    /* ... and holds a lease: its heartbeat was written at tick 0 */
    lease[0] = F; hbinc[0] = inc[0];
    if :: HASWD(0) -> wd[0] = WDPET :: else -> skip fi;
#endif
#ifdef LIVENESS
    lease[0] = F; lease[1] = F;
#else
    run Clock();
    run Faults(0); run Faults(1);
    run Corrupt();
#ifdef FENCE
    run BMC(0); run BMC(1);
#endif

#endif
    run Policy()
  }
}
