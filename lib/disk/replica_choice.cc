#include "disk/replica_choice.h"

#include <map>

#include <algorithm>
#include <string>

namespace castor {

std::optional<ExpectedSlot> expected_slot_at(const DiskLayout& layout, uint64_t offset) {
  const uint64_t bs = layout.block_size();
  if (bs == 0 || offset % bs != 0) return std::nullopt;
  for (uint32_t n = 1; n <= kNodeCount; ++n) {
    const uint64_t start = layout.region_offset(n);
    if (offset < start || offset >= start + uint64_t(kRegionBlocks) * bs) continue;
    const uint64_t k = (offset - start) / bs;
    if (k == kHeartbeatBlock) return ExpectedSlot{RecordType::heartbeat, n, 0};
    if (k == kEpochBlock) return ExpectedSlot{RecordType::epoch, n, 0};
    if (k >= kServiceTableFirstBlock && k < kServiceTableFirstBlock + kServiceTableBlocks)
      return ExpectedSlot{RecordType::service_table, n, uint32_t(k - kServiceTableFirstBlock)};
    return std::nullopt;  // an unused region block: nothing may live there
  }
  return std::nullopt;
}

ReplicaChoice::ReplicaChoice(const DiskLayout& layout, const RecordSeal& seal, const Uuid& cluster, size_t devices)
    : layout_(layout), seal_(seal), cluster_(cluster), devices_(devices), invalid_(devices, 0) {}

Result<RecordHeader> ReplicaChoice::validate(uint64_t offset, std::span<const std::byte> block) const {
  const auto slot = expected_slot_at(layout_, offset);
  if (!slot)
    return Error(Code::invalid_argument, "offset " + std::to_string(offset) + " holds no region record");
  const ExpectedRecord expected{slot->type, layout_.block_size(), slot->writer_node};
  auto h = verify_block(block, expected, seal_);
  if (!h.ok()) return h.status();
  if (h->block_index != slot->block_index)
    return Error(Code::corrupt, std::string(record_type_name(slot->type)) + " of node " +
                                    std::to_string(slot->writer_node) + ": holds block index " +
                                    std::to_string(h->block_index) + ", expected " +
                                    std::to_string(slot->block_index));
  if (!(h->cluster_uuid == cluster_))
    return Error(Code::corrupt, std::string(record_type_name(slot->type)) + " of node " +
                                    std::to_string(slot->writer_node) + ": written for cluster " +
                                    h->cluster_uuid.to_string());
  return h;
}

ReplicaChoice::BlockMemory& ReplicaChoice::block(uint64_t offset) {
  auto& m = blocks_[offset];
  if (m.copies.size() != devices_) m.copies.resize(devices_);
  return m;
}

bool ReplicaChoice::own_superseded(uint64_t offset, uint64_t incarnation, uint64_t seq) const {
  auto it = blocks_.find(offset);
  if (it == blocks_.end() || !it->second.own) return false;
  const Own& o = *it->second.own;
  if (incarnation == o.incarnation) return seq < o.seq;
  return o.earlier.count(incarnation) > 0;
}

bool ReplicaChoice::observe(uint64_t read_no, size_t dev, uint64_t offset, std::span<const std::byte> bytes,
                            std::optional<DeviceOrder> order) {
  if (dev >= devices_ || !expected_slot_at(layout_, offset)) return false;  // nothing is expected there
  auto h = validate(offset, bytes);
  if (!h.ok()) {
    ++invalid_[dev];
    return false;  // an invalid answer never erases a valid memory: that was a true past value
  }
  BlockMemory& m = block(offset);
  auto& copy = m.copies[dev];
  // A device's first valid answer for this block (this reader just started, the device is new or came back
  // from a replacement) shows what it holds, not that it moved: it is no move (review 17, attack 1: a fresh
  // reader took an old life on a read-only device for the newest, on a tie at the first read).
  const bool had_memory = copy.has_value();
  // A move: this device, which had shown the block before, now shows another life than it did (judged per
  // device: a device whose first answer made a new life known must not keep another device that remembers
  // the old life from showing the same write as a move -- the model's finding after review 17, the reader
  // kept following the crashed life over a write complete everywhere).
  // Within one life a rise counts only above the life's highest seq seen on any device: a lagging device
  // catching up on a write the reader has already seen elsewhere is no news (the model, maj_restart_code: an
  // old life's catch-up was taken for the latest move over the new life). A change of life is always a move.
  auto life = m.incs.find(h->incarnation);
  const uint64_t life_max = life == m.incs.end() ? 0 : life->second.max_seq;
  bool moved = false;
  uint64_t previous_read = 0;  // the device's previous answer: a move here happened after it
  uint64_t previous_life = 0;  // ...over a copy of this life: the moving life landed after that one had started
  if (!copy || copy->read_no <= read_no) {
    // A change of life is a move only when the remembered answer completed before this one was submitted:
    // two reads the device held at once took their data in an unknown order (review 17d, finding 1).
    const bool after = !had_memory || !order || copy->completed <= order->submitted;
    const bool other_life = had_memory && copy->header.incarnation != h->incarnation;
    moved = had_memory && (other_life ? after : h->seq > life_max);
    // What the device shows of this life was news here at its first answer or at its last move; a catch-up
    // on a value seen elsewhere keeps the earlier read (review 17b, settled()). The answer came after every
    // read issued so far (reads_), not only after its own: an answer to an older read may come after the
    // answers to a newer one (review 17c, attack 2), so it is stamped with the newest read issued. Another
    // life that is no move (the answers were not ordered) is placed like a first answer: when it landed is
    // unknown.
    const uint64_t shown_at = !had_memory || moved || other_life ? std::max(read_no, reads_) : copy->shown_at;
    if (had_memory) {
      previous_read = copy->read_no;
      previous_life = copy->header.incarnation;
    }
    const bool changed_here = !had_memory || other_life || copy->header.seq != h->seq;
    if (!copy) copy.emplace();
    if (changed_here) copy->changed_here = std::max(read_no, reads_);
    copy->header = *h;
    copy->bytes.assign(bytes.begin(), bytes.end());
    copy->read_no = read_no;
    copy->shown_at = shown_at;
    copy->completed = order ? order->completed : 0;
  }
  const bool known = m.incs.count(h->incarnation) > 0;
  IncState& s = m.incs[h->incarnation];
  if (!known || h->seq > s.max_seq) {
    s.max_seq = known ? std::max(s.max_seq, h->seq) : h->seq;
    s.best.header = *h;
    s.best.bytes.assign(bytes.begin(), bytes.end());
    s.best.read_no = read_no;
    s.best_dev = dev;
  }
  // R5: our own write, since superseded by a later one of ours, is a lagging device catching up: not news.
  if (moved && !own_superseded(offset, h->incarnation, h->seq)) {
    if (read_no > s.changed_at) {
      s.changed_at = read_no;
      s.moved_after = previous_read;
      s.moved_over.clear();
    } else if (read_no == s.changed_at) {
      s.moved_after = std::min(s.moved_after, previous_read);
    }
    if (read_no == s.changed_at && previous_life != h->incarnation) s.moved_over.insert(previous_life);
  }
  prune(m);
  return true;
}

bool ReplicaChoice::judge(size_t dev, uint64_t offset, std::span<const std::byte> bytes) {
  if (dev >= devices_ || !expected_slot_at(layout_, offset)) return false;
  auto h = validate(offset, bytes);
  if (!h.ok()) {
    ++invalid_[dev];
    return false;
  }
  // A true value of the block: within a life already known its seq counts as seen (the life's highest copy),
  // though it is no move and no device's memory. A lagging device catching up below it later is no news
  // (review 17d, finding 7: the old life's straggler rising on a lagging member below the seq a late answer
  // had shown was a move, handed out over that life's later completed write).
  auto it = blocks_.find(offset);
  if (it == blocks_.end()) return true;
  auto life = it->second.incs.find(h->incarnation);
  if (life != it->second.incs.end() && h->seq > life->second.max_seq) {
    IncState& s = life->second;
    s.max_seq = h->seq;
    s.best.header = *h;
    s.best.bytes.assign(bytes.begin(), bytes.end());
    s.best.read_no = reads_;
    s.best_dev = dev;
  }
  return true;
}

void ReplicaChoice::prune(BlockMemory& m) {
  if (m.incs.size() <= kMaxRememberedIncarnations) return;
  for (auto it = m.incs.begin(); it != m.incs.end() && m.incs.size() > kMaxRememberedIncarnations;) {
    const bool held = std::any_of(m.copies.begin(), m.copies.end(),
                                  [&](const auto& c) { return c && c->header.incarnation == it->first; });
    it = held ? std::next(it) : m.incs.erase(it);
  }
}

ReplicaChoice::Standing ReplicaChoice::standing(const BlockMemory& m, uint64_t read_no, size_t majority) const {
  auto changed = [&](uint64_t inc) {
    auto s = m.incs.find(inc);
    return s == m.incs.end() ? uint64_t(0) : s->second.changed_at;
  };
  // held incarnations -> devices that answered with it in this read: an answer to a later read, which replaced
  // the memory of this read's answer, was taken after this read was issued too (R3's fresh answers; review 17c,
  // attack 3: with two reads open, the older one had no copy of its own left and no doubt)
  std::map<uint64_t, size_t> fresh;
  for (const auto& c : m.copies)
    if (c) fresh[c->header.incarnation] += c->read_no >= read_no ? 1 : 0;
  Standing st;
  for (const auto& [inc, n] : fresh) {
    const uint64_t ch = changed(inc);
    if (st.at_top == 0 || ch > st.top) {
      st.top = ch;
      st.at_top = 1;
      st.majority_at_top = n >= majority;
    } else if (ch == st.top) {
      ++st.at_top;
      st.majority_at_top = st.majority_at_top || n >= majority;
    }
    if (n >= majority) st.majority_life = inc;
  }
  // A life below the top, shown by a device in this read, that was news on that device after the read after
  // which a top life moved, or in that very read: the history cannot tell which is newer. Answers come at
  // different moments within one read: a copy shown in read p may have landed after another device's answer
  // to p, after which the top moved there (review 17c, attack 1: the old life's last write landed on the slow
  // member after its answer to p, the new life's first write on the two others before theirs). Unless the top
  // moved over a copy of that very life (a device showed it, then the top): the top's write landed there after
  // that life had started, so it is no older life's (a life's writes leave the kernel before the next life
  // writes: exit_aio, the rejoin's wait), and an undead writer that keeps writing is shown.
  // A copy that changed on its device after that read is in doubt too, though it was no news of its life (a
  // catch-up on a value another device showed first: it landed here after this device's previous answer;
  // review 17d, finding 4).
  for (const auto& c : m.copies) {
    if (!c || c->read_no < read_no) continue;
    const uint64_t life = c->header.incarnation;
    if (changed(life) >= st.top) continue;
    for (const auto& [inc, n] : fresh) {
      auto s = m.incs.find(inc);
      if (s == m.incs.end() || s->second.changed_at != st.top) continue;
      if (std::max(c->shown_at, c->changed_here) >= s->second.moved_after && s->second.moved_over.count(life) == 0)
        st.doubt = true;
    }
  }
  return st;
}

bool ReplicaChoice::settled(uint64_t offset, uint64_t read_no, size_t majority) const {
  auto it = blocks_.find(offset);
  if (it == blocks_.end()) return true;
  const Standing st = standing(it->second, read_no, majority);
  if (st.doubt) return st.majority_life.has_value();
  return st.at_top <= 1 || st.majority_at_top;
}

std::optional<ReplicaChoice::Choice> ReplicaChoice::choose(uint64_t offset, uint64_t read_no) {
  auto it = blocks_.find(offset);
  if (it == blocks_.end()) return std::nullopt;
  BlockMemory& m = it->second;
  // Candidates: incarnations some device's memory holds; per candidate its holders and its best copy.
  struct Cand {
    uint64_t inc;
    size_t fresh = 0;  // devices that answered with it in this read
    size_t lowest_dev = 0;
  };
  std::vector<Cand> cands;
  for (size_t d = 0; d < m.copies.size(); ++d) {
    const auto& c = m.copies[d];
    if (!c) continue;
    auto ci = std::find_if(cands.begin(), cands.end(), [&](const Cand& x) { return x.inc == c->header.incarnation; });
    if (ci == cands.end()) {
      cands.push_back({c->header.incarnation, 0, d});
      ci = cands.end() - 1;
    }
    if (c->read_no >= read_no) ++ci->fresh;
  }
  if (cands.empty()) return std::nullopt;
  auto changed = [&](const Cand& c) {
    auto s = m.incs.find(c.inc);
    return s == m.incs.end() ? uint64_t(0) : s->second.changed_at;
  };
  auto better = [&](const Cand& a, const Cand& b) {  // a before b
    if (changed(a) != changed(b)) return changed(a) > changed(b);
    if (a.fresh != b.fresh) return a.fresh > b.fresh;
    const bool a_prev = m.last_chosen && *m.last_chosen == a.inc;
    const bool b_prev = m.last_chosen && *m.last_chosen == b.inc;
    if (a_prev != b_prev) return b_prev;  // a tie is a change: not the one chosen last
    return a.lowest_dev < b.lowest_dev;
  };
  const Cand* best = &cands[0];
  for (const auto& c : cands)
    if (better(c, *best)) best = &c;
  // The history cannot order a life this read was answered with against the top; a majority of this read's
  // answers can (settled()). That majority's life is handed out. It counts as having moved at this read (a
  // later read answered by one of its holders and one lagging device must not go back to the life the history
  // had at the top) only when every answer of this read that holds it became news after the top's last move
  // (review 17b: members newly adopted or back showed the new life); a copy shown in or before the read in
  // which the top moved is no newer than that move: the top may be the new life whose writes are still on
  // their way to the other members, and its copies shown before this read are not older than the majority's
  // (review 17d, finding 2: the past life placed by a majority over the new life's move, then handed out once
  // the new life's write completed).
  if (const Standing st = standing(m, read_no, devices_ / 2 + 1); st.doubt && st.majority_life)
    for (const auto& c : cands)
      if (c.inc == *st.majority_life && c.inc != best->inc) {
        const uint64_t top = changed(*best);
        best = &c;
        bool newer = true;
        for (const auto& copy : m.copies)
          if (copy && copy->read_no >= read_no && copy->header.incarnation == c.inc && copy->shown_at <= top)
            newer = false;
        if (!newer) break;
        IncState& life = m.incs.at(c.inc);
        life.changed_at = std::max(life.changed_at, read_no);
        // When it got there is not known, but what the devices showed of other lives before this read is
        // older than this read's majority (in doubt: shown at this read or later).
        life.moved_after = read_no;
        life.moved_over.clear();
        break;
      }
  m.last_chosen = best->inc;
  const IncState& s = m.incs.at(best->inc);
  return Choice{s.best_dev, s.best.header, s.best.bytes};
}

void ReplicaChoice::note_own_write(uint64_t offset, std::span<const std::byte> data) {
  const size_t bs = layout_.block_size();
  for (size_t off = 0; off + bs <= data.size(); off += bs) {
    auto h = validate(offset + off, data.subspan(off, bs));
    if (!h.ok()) continue;  // not a record of this block: nothing to remember
    BlockMemory& m = block(offset + off);
    if (!m.own) {
      m.own = Own{h->incarnation, h->seq, {}};
      continue;
    }
    Own& o = *m.own;
    if (h->incarnation != o.incarnation) {
      o.earlier.insert(o.incarnation);
      o.earlier.erase(h->incarnation);  // incarnations are random: a reused one is the latest again
      o.incarnation = h->incarnation;
      o.seq = h->seq;
    } else {
      o.seq = std::max(o.seq, h->seq);
    }
  }
}

void ReplicaChoice::forget_device(size_t dev) {
  if (dev >= devices_) return;
  for (auto& [off, m] : blocks_)
    if (dev < m.copies.size()) m.copies[dev].reset();
  invalid_[dev] = 0;
}

std::vector<ReplicaChoice::IncarnationView> ReplicaChoice::incarnations(uint64_t offset) const {
  std::vector<IncarnationView> out;
  auto it = blocks_.find(offset);
  if (it == blocks_.end()) return out;
  for (const auto& [inc, s] : it->second.incs) {
    size_t holders = 0;
    for (const auto& c : it->second.copies)
      if (c && c->header.incarnation == inc) ++holders;
    out.push_back({inc, s.max_seq, s.changed_at, holders});
  }
  return out;
}

std::optional<RecordHeader> ReplicaChoice::remembered(size_t dev, uint64_t offset) const {
  auto it = blocks_.find(offset);
  if (it == blocks_.end() || dev >= it->second.copies.size() || !it->second.copies[dev]) return std::nullopt;
  return it->second.copies[dev]->header;
}

}  // namespace castor
