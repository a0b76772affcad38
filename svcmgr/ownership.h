// Ownership: the disk protocol that decides which node may run a service — one instance per service per
// node. Pure: no I/O, no clock reads; fed with reads of the peer's service-table entry, completions of our
// own entry writes, the peer's liveness from quorumd, and what the policy wants.
//
// Each node writes only its own entry for the service (its service-table block); it reads the peer's.
// An entry is "up" (the node may be running or about to run the service) when it is claiming, owned or
// releasing. The protocol is the two-process flag protocol over single-writer registers:
//   1. write my entry = claiming(ballot b), b above every ballot seen;
//   2. once that write completed, read the peer's entry (a read ISSUED after the completion);
//   3. peer up — owned/releasing, or claiming with priority over mine (higher ballot, then lower node id):
//      withdraw (write released); peer claiming with lower priority: wait for it to withdraw;
//      peer down: write owned(epoch e), e above every epoch seen on either side, and start once that
//      write completed.
// Of two concurrent claimers at least one reads the other's claim (each reads after its own write landed),
// so they never both proceed. A node stops the service before it writes released, so a released entry
// never hides a running service; the writer (quorumd) never has two writes to one block in the kernel at
// once, so an older write can never land over a newer one.
// The peer's entry is ignored (treated as down) only when quorumd declared the peer DEAD or DOWN and
// re-confirmed that verdict with a heartbeat read issued after we first had the entry's current value in
// hand: a newer incarnation of the peer writes its heartbeat before any table block, so if that value were
// its, the heartbeat read would have seen the new incarnation and the verdict would be gone. (Values are told
// apart by the writer's incarnation too: a restarted peer may rewrite its last entry field for field.) The
// verdict voids only an entry from a table read issued after the verdict first stood: an older read may
// predate an epoch the peer took and gave up before it left.
// An UNKNOWN peer entry (its block, or for a service not found any peer table block or the peer's epoch
// record, failed to decode) is never free and never a reason to claim: it counts as up. Under a confirmed
// DEAD/DOWN verdict it is void only when the peer's epoch floor is known (the new epoch is then above it).
// A new epoch is taken (a claim started or confirmed) only from a read in which the peer's floor decoded.
// Every change of owner bumps the epoch (CASTOR_EPOCH), never reused: the new epoch is above my entry's,
// the peer's entry's (when known), my floor and the peer's floor (when known) — docs/design.md, "The epoch
// only grows".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "disk/heartbeat_record.h"
#include "disk/service_table_record.h"
#include "policy/intent.h"

namespace castor {

// The peer's entry for this service, from a read of its service table.
struct PeerEntryRead {
  ServiceEntry entry;          // in_use == false: the peer has no entry (never claimed)
  TimePoint read_issued;
  TimePoint read_completed;    // when we had the data (a later time is fine: it only delays a take-over)
  // The peer's entry is unknown: the block that holds it (or, for a service not found, any peer table
  // block) failed to decode — bad CRC, torn, zeroed, foreign cluster, unknown version. Unknown is never
  // free and never a reason to claim; `entry` is then meaningless.
  bool unknown = false;
  std::string unknown_reason;  // e.g. "corrupt record at block 3"
  // What the unknown read returned, as far as it can be told apart (e.g. a hash of the corrupt blocks'
  // reasons and raw bytes): a different value counts as a change of the peer's entry, so a verdict must be
  // re-confirmed after it, as for a known entry. 0 when nothing finer than unknown_reason is known.
  uint64_t unknown_value = 0;
  // Epoch floors (lib/disk/epoch_record.h): mine as durably written, the peer's as read with this table
  // read (nullopt: its epoch record failed to decode). A new epoch is above both and above both entries.
  uint64_t own_floor = 0;
  std::optional<uint64_t> peer_floor;
  // The incarnation of the peer that wrote the block holding `entry` (0: not known, e.g. castor init's
  // empty blocks or an older quorumd). Two reads of equal entries written by different incarnations are two
  // different values: a restarted peer can rewrite, field for field, its previous life's last entry.
  uint64_t writer_incarnation = 0;
};

// What quorumd says of the peer. `confirmed_at`: issue time of the latest heartbeat read of the peer that
// was consistent with `view` (for DEAD: returned the same, unchanged value).
struct PeerLiveness {
  PeerView view = PeerView::unknown;
  TimePoint confirmed_at{};
};

enum class OwnershipPhase : uint8_t {
  idle,       // my entry is none/released/disabled; not running
  claiming,   // claiming written or in flight; waiting to confirm against the peer
  owning,     // owned written or in flight; start once it completed
  running,    // the service may run (started or starting) with epoch()
  stopping,   // stop requested; my entry stays owned until the service is stopped
  releasing,  // stopped; released/disabled written or in flight
};
const char* ownership_phase_name(OwnershipPhase p);

struct OwnershipStep {
  std::optional<ServiceEntry> write;  // write my entry (quorumd: after any write in the kernel for the block)
  bool start = false;                 // start the service with epoch
  bool stop = false;                  // stop the service
  uint64_t epoch = 0;
  std::string why;                    // for the log
};

class Ownership {
 public:
  // `own` is my entry as read from disk at start (a previous life's); see adopt_* below.
  Ownership(std::string service, uint32_t my_id, const ServiceEntry& own);

  void set_intent(Intent intent, uint32_t target_node = 0);  // target: who should get it after a release
  void on_peer_entry(const PeerEntryRead& read);
  void on_liveness(const PeerLiveness& l);
  // The write of my entry with this token completed (ok or not) at `completed`.
  void on_write_done(uint64_t token, bool ok, TimePoint completed);
  void on_stopped();  // the service's processes are all gone
  // An admin decision taken while idle (enable, or "give it to node N"): rewrite my entry with a new,
  // highest ballot even if its state does not change, so the peer sees the request.
  // The write says `released` (an enable, or a request for node N) whatever the intent says.
  void touch(uint32_t target_node);
  // Flags every later write of my entry carries (frozen, restart request). refresh() rewrites my entry now
  // with them and a new ballot, in whatever state it is (an admin word while this node runs the service).
  void set_flags(uint16_t flags) { flags_ = flags; }
  void refresh() { refresh_ = true; }

  // What to do now. Each returned write carries a token (ServiceEntry::ballot is NOT the token: use
  // write_token()) that must come back through on_write_done.
  OwnershipStep step(TimePoint now);
  uint64_t write_token() const { return token_; }

  OwnershipPhase phase() const { return phase_; }
  uint64_t epoch() const { return mine_.epoch; }
  bool may_run() const { return phase_ == OwnershipPhase::running; }
  // True when my entry on disk may say up (so the service may be running here or about to).
  bool holding() const { return phase_ != OwnershipPhase::idle; }
  const ServiceEntry& mine() const { return mine_; }
  const std::optional<PeerEntryRead>& peer() const { return peer_; }
  // Is the peer's entry, as last read, up (not voided by a confirmed verdict)?
  bool peer_up() const;
  const std::string& service() const { return service_; }

 private:
  bool peer_has_priority() const;
  // The epoch a new ownership takes: above my entry's, the peer's entry's (if known) and both floors (the
  // peer's if known). None when that maximum is 2^64-1: there is no epoch above it (never wrap to 0).
  std::optional<uint64_t> next_epoch() const;
  void log_epochs_exhausted();  // critical, once per Ownership
  OwnershipStep write(ServiceEntry e, std::string why);

  std::string service_;
  uint32_t my_id_;
  ServiceEntry mine_;             // the entry I last decided (written or in flight)
  OwnershipPhase phase_ = OwnershipPhase::idle;
  Intent intent_ = Intent::release;
  uint32_t target_ = 0;
  std::optional<PeerEntryRead> peer_;
  TimePoint peer_value_since_{};  // completion of the first read that returned the peer entry's current value
  uint64_t peer_ballot_seen_ = 0;  // the highest ballot of the peer's entry ever read (an unknown read hides it)
  PeerLiveness liveness_;
  // confirmed_at of the first confirmation of the current DEAD/DOWN verdict: only a table read issued at or
  // after it may be voided by the verdict (an older read may predate the peer's last epoch).
  TimePoint verdict_since_{};
  uint64_t token_ = 0;            // token of the write in flight, 0 if none
  bool write_ok_ = false;         // the last write of mine_ completed ok
  TimePoint write_completed_{};
  bool stopped_ = false;
  bool touch_ = false;
  bool refresh_ = false;
  uint16_t flags_ = 0;
  uint32_t touch_target_ = 0;
  uint64_t next_token_ = 1;
  bool exhausted_logged_ = false;
};

}  // namespace castor
