#include "quorumd/lan_channel.h"

#include <algorithm>

#include "common/log.h"

namespace castor {
namespace {

constexpr size_t kReceiveBuffer = 2048;  // larger than any datagram we accept, so oversized ones are seen whole
constexpr int kMaxPerLinkPerTurn = 64;   // a flood cannot hold the loop

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

uint32_t saturating_ms(Duration d) {
  const int64_t v = ms(d);
  return v < 0 ? 0 : v > int64_t(UINT32_MAX) ? UINT32_MAX : uint32_t(v);
}

}  // namespace

Result<std::unique_ptr<LanChannel>> LanChannel::open(const LanConfig& config, const AuthKey& cluster_key,
                                                     const SocketOpener& open_socket, const Uuid& cluster,
                                                     uint32_t node_id, const Timing& timing, Duration interval) {
  if (config.links.empty() || config.links.size() > 2)
    return Error(Code::invalid_argument, "the LAN channel needs one or two links");
  if (interval <= Duration(0) || interval > timing.io_timeout)
    return Error(Code::invalid_argument, "[lan] interval_ms must be at most io_timeout (" +
                                             std::to_string(timing.io_timeout.count()) + " ms)");
  auto seal = LanSeal::from_cluster_key(cluster_key);
  if (!seal.ok()) return seal.status().with_context("deriving the LAN key");
  std::unique_ptr<LanChannel> ch(new LanChannel(config, std::move(seal).value(), cluster, node_id, timing, interval));
  ch->buffer_.resize(kReceiveBuffer);
  uint32_t n = 0;
  for (const auto& lc : config.links) {
    ++n;
    auto sock = open_socket(lc, config.port);
    if (!sock.ok()) return sock.status().with_context("LAN link " + std::to_string(n));
    Link link{lc, std::move(sock).value(), LanLinkView(n, 2 * timing.io_timeout)};
    ch->links_.push_back(std::move(link));
  }
  return ch;
}

void LanChannel::send(Link& link, QuorumCore& core, TimePoint now, bool grant_reply) {
  const uint64_t inc = core.config().incarnation;
  if (link.incarnation != inc) {
    link.incarnation = inc;
    link.seq = 0;
  }
  LanDatagram d;
  d.cluster_uuid = cluster_;
  d.sender_node = node_id_;
  d.link = link.view.link();
  d.incarnation = inc;
  d.seq = ++link.seq;
  link.view.fill_echo(d, now);
  const auto last_ok = core.last_ok_write_issue();
  d.disk_ok = !core.disk_failing(now);
  d.disk_age_ms = last_ok ? saturating_ms(now - *last_ok) : UINT32_MAX;
  d.disk_seq = core.last_ok_written_seq();  // written ok: on the disk when this is sent
  d.peer_view = uint8_t(core.peer().view());
  // A grant reply never asks in turn: else each grant would draw a counter-grant, and the two nodes would
  // ping-pong ever faster. Requests go out with the periodic datagrams only.
  d.request_promise = !grant_reply && core.wants_promise(now);
  if (link.grant) {
    d.grant_incarnation = link.grant->incarnation;
    d.grant_request_seq = link.grant->request_seq;
    d.grant_ms = saturating_ms(link.grant->term);
    link.grant.reset();
  }
  auto bytes = encode_lan_datagram(d, seal_);
  if (!bytes.ok()) {  // never: every field is ours
    log::error("cannot encode a LAN datagram", {{"link", link.socket->describe()}, {"error", bytes.status().to_string()}});
    return;
  }
  link.view.sent(inc, d.seq, now);
  Status st = link.socket->send(*bytes);
  if (st.ok()) {
    ++link.sent;
    return;
  }
  ++link.send_errors;
  if (!link.last_send_error_log || now - *link.last_send_error_log >= std::chrono::seconds(10)) {
    link.last_send_error_log = now;
    log::warning("cannot send the LAN heartbeat", {{"link", link.socket->describe()},
                                                   {"error", st.to_string()},
                                                   {"send_errors", link.send_errors}});
  }
}

void LanChannel::tick(QuorumCore& core, TimePoint now) {
  const bool wants = core.wants_promise(now);
  if (riding_ && !core.disk_failing(now)) {
    riding_ = false;
    log::notice("quorum disk writes succeed again: the lease runs on the disk, no longer on the peer's promise",
                {{"promises_received", core.promises_received()}});
  }
  // A heartbeat write that just completed ok is told at once: the datagram then marks, on the peer's clock,
  // when that write was on the disk, and a peer that goes silent is suspected as soon as its silence since its
  // last write reaches S -- not up to a renew interval later, when a read of the disk first shows the value
  // (QuorumCore::silence_start). One datagram per write: the interval counts again from here.
  const std::pair<uint64_t, uint64_t> written{core.config().incarnation, core.last_ok_written_seq()};
  const bool fresh_write = written != told_write_;
  if (now < next_send_ && wants == requesting_ && !fresh_write) return;
  told_write_ = written;
  if (wants && !requesting_)
    log::warning("cannot write the quorum disk: asking the peer over the LAN for a promise not to declare this node "
                 "dead (a stall that both nodes see is ridden through; if only this node's path failed it fences)",
                 {{"incarnation", core.config().incarnation}});
  requesting_ = wants;
  for (auto& link : links_) send(link, core, now, false);
  // While asking, four times as often: the peer may refuse the first requests because its own write has not
  // timed out yet (its writes run up to T/2 out of phase with ours), and svcmgr is told to stop services 2T
  // after our last ok write -- a retry one whole interval later could come too late.
  next_send_ = now + (wants ? interval_ / 4 : interval_);
}

void LanChannel::receive(QuorumCore& core, TimePoint now, std::vector<CoreAction>& out, const Clock* clock) {
  const uint32_t peer = node_id_ == 1 ? 2 : 1;
  for (auto& link : links_) {
    for (int i = 0; i < kMaxPerLinkPerTurn; ++i) {
      auto got = link.socket->receive(buffer_);
      if (!got.ok()) {
        log::warning("cannot receive on the LAN link", {{"link", link.socket->describe()}, {"error", got.status().to_string()}});
        break;
      }
      if (!*got) break;
      // Read after the datagram was taken from the socket: an upper bound of its arrival, whatever pause came
      // after the turn's clock read (the review of e5f5ad2: stamped with the turn's reading, a datagram that
      // came during such a pause started the peer's silence before its write was even issued).
      const TimePoint heard = clock ? std::max(now, clock->now()) : now;
      const size_t length = std::min(**got, buffer_.size());
      auto decoded = decode_lan_datagram(std::span<const std::byte>(buffer_.data(), length), seal_, cluster_, peer,
                                         link.view.link());
      if (!decoded.datagram) {
        link.view.refused(decoded.why);
        continue;
      }
      if (link.view.accept(*decoded.datagram, core.config().incarnation, heard)) continue;  // refused and counted
      handle(link, *decoded.datagram, core, now, heard, out);
    }
  }
}

void LanChannel::handle(Link& link, const LanDatagram& d, QuorumCore& core, TimePoint now, TimePoint heard,
                        std::vector<CoreAction>& out) {
  const uint64_t mine = core.config().incarnation;
  core.on_peer_disk_report(d.disk_age_ms == UINT32_MAX ? std::nullopt
                                                       : std::optional<Duration>(std::chrono::milliseconds(d.disk_age_ms)),
                           d.peer_view == uint8_t(PeerView::up), now);
  core.on_peer_write_heard(d.incarnation, d.disk_seq, heard);
  if (d.grant_incarnation != 0 && d.grant_incarnation == mine && d.grant_ms > 0) {
    // Anchored at the send time of the request it answers, never at its arrival (stall_promise.h).
    if (auto sent = link.view.send_time(mine, d.grant_request_seq)) {
      if (core.on_promise(*sent, std::chrono::milliseconds(d.grant_ms), now, out) && !riding_) {
        riding_ = true;
        log::warning("riding through a quorum disk stall on the peer's promise (the peer cannot write the disk either)",
                     {{"link", link.socket->describe()},
                      {"lease_remaining", format_duration(*core.lease_expiry() - now)}});
      }
    }
  }
  if (d.request_promise) {
    const char* why = nullptr;
    if (auto term = core.grant_promise(d.incarnation, now, &why, heard)) {
      if (!granting_)
        log::warning("shared storage stall: promising the peer over the LAN not to declare it dead (neither node "
                     "can write the quorum disk; no ownership changes until it is back)",
                     {{"link", link.socket->describe()}, {"term", format_duration(*term)}});
      granting_ = true;
      last_refusal_.reset();
      link.grant = Link::Grant{d.incarnation, d.seq, *term};
      send(link, core, now, true);  // at once, on the link the request came on
    } else if (granting_ || !last_refusal_ || std::string(*last_refusal_) != why) {
      granting_ = false;
      last_refusal_ = why;
      log::notice("the peer asks for a promise over the LAN (it cannot write the quorum disk); refused",
                  {{"reason", why}, {"link", link.socket->describe()}});
    }
  }
}

bool LanChannel::peer_heard(TimePoint now) const {
  return std::any_of(links_.begin(), links_.end(), [&](const Link& l) { return l.view.up(now); });
}

std::optional<TimePoint> LanChannel::peer_last_heard() const {
  std::optional<TimePoint> best;
  for (const auto& l : links_)
    if (auto h = l.view.last_heard(); h && (!best || *h > *best)) best = h;
  return best;
}

std::optional<bool> LanChannel::peer_disk_ok(TimePoint) const {
  std::optional<TimePoint> best;
  std::optional<bool> ok;
  for (const auto& l : links_) {
    if (!l.view.last() || !l.view.last_heard()) continue;
    if (!best || *l.view.last_heard() > *best) {
      best = l.view.last_heard();
      ok = l.view.last()->disk_ok;
    }
  }
  return ok;
}

Json LanChannel::links_json(TimePoint now) const {
  Json arr = Json::array();
  for (const auto& l : links_) {
    Json j;
    j["name"] = "lan" + std::to_string(l.view.link());
    j["local"] = l.config.local;
    j["peer"] = l.config.peer;
    j["port"] = config_.port;
    j["up"] = l.view.up(now);
    if (auto a = l.view.age(now)) j["age_ms"] = ms(*a);
    else j["age_ms"] = nullptr;
    if (auto r = l.view.rtt())
      j["rtt_ms"] = double(std::chrono::duration_cast<std::chrono::microseconds>(*r).count()) / 1000.0;
    else
      j["rtt_ms"] = nullptr;
    j["loss_pct"] = l.view.loss_percent();
    j["peer_hears_me"] = l.view.peer_hears_me(l.incarnation, now);
    j["sent"] = l.sent;
    j["send_errors"] = l.send_errors;
    j["accepted"] = l.view.accepted();
    Json refused;
    for (size_t i = 0; i < kLanRefusalCount; ++i) {
      const auto why = LanRefusal(i);
      refused[lan_refusal_name(why)] = l.view.refused_count(why);
    }
    j["refused"] = std::move(refused);
    if (l.view.last()) j["peer_disk_ok"] = l.view.last()->disk_ok;
    else j["peer_disk_ok"] = nullptr;
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace castor
