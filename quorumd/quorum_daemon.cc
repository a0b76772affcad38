#include "quorumd/quorum_daemon.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/aligned_buffer.h"
#include "common/crc32c.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/uuid.h"
#include "disk/aio_block_device.h"
#include "quorumd/peer_region.h"
#include "disk/heartbeat_record.h"
#include "common/cli_args.h"
#include "disk/device_probe.h"

namespace castor {
namespace {

// epoll keys of the daemon's own set.
constexpr uint64_t kKeyTimer = 1, kKeySignal = 2, kKeyDevice = 3, kKeyControl = 4;
constexpr Millis kStartupIoTimeout{5000};
constexpr size_t kReadBuffers = 8;  // two kinds, each at most one in flight per core, plus a replaced core's
constexpr int kRealtimePriority = 50;

int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }
int64_t us(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }
size_t purpose_index(int p) { return p == 1 ? 0 : 1; }  // IoPurpose::read_own -> 0, read_peer -> 1

std::string nodes_text(const Superblock& sb) {
  std::string s;
  for (const auto& n : sb.nodes) {
    if (!s.empty()) s += ", ";
    s += n.name + " (id " + std::to_string(n.id) + ")";
  }
  return s;
}

// Re-reads both superblock copies through a separate read-only handle (so that no completion of the
// daemon's own device is consumed) and compares them with the one this daemon started with. A quorumd
// paused for longer than the dead time may find the disk re-initialised (`castor init --force` watched
// that long and saw no heartbeat change): rejoining would write the old cluster's records onto the new
// disk. Returns Code::refused if a copy that decodes names another cluster UUID or node set; another error
// if neither copy decodes or the read fails (the caller cannot tell yet and does not rejoin); Ok otherwise.
Status superblock_unchanged(const std::string& path, const Superblock& mine, const DiskLayout& layout,
                            const Clock& clock, Duration timeout) {
  auto dev = AioBlockDevice::open(path, AioBlockDevice::OpenMode::read_only);
  if (!dev.ok()) return dev.status().with_context("re-reading the superblock");
  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory re-reading the superblock");
  bool any = false;
  std::string why;
  for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()}) {
    RETURN_IF_ERROR(read_blocking(**dev, clock, off, block.span(), timeout).with_context("re-reading the superblock"));
    auto sb = decode_superblock(block.span(), layout);
    if (!sb.ok()) {
      why += (why.empty() ? "" : "; ") + sb.status().to_string();
      continue;
    }
    any = true;
    if (!(sb->cluster_uuid == mine.cluster_uuid) || !(sb->nodes == mine.nodes))
      return Error(Code::refused, "the quorum disk " + path + " now belongs to cluster '" + sb->cluster_name +
                                      "' (UUID " + sb->cluster_uuid.to_string() + ", nodes " + nodes_text(*sb) +
                                      "), not to cluster '" + mine.cluster_name + "' (UUID " +
                                      mine.cluster_uuid.to_string() + ", nodes " + nodes_text(mine) +
                                      ") that this quorumd started with: it was re-initialised (castor init) "
                                      "while this node was away");
  }
  if (!any) return Error(Code::corrupt, "no superblock copy decodes (" + why + ")");
  return Status::Ok();
}

void log_heartbeat_found(const char* whose, const RecordRead<HeartbeatRecord>& r) {
  if (r.record) {
    log::info("heartbeat block at startup",
              {{"whose", whose},
               {"incarnation", r.record->incarnation},
               {"seq", r.record->seq},
               {"state", node_state_name(r.record->state)},
               {"peer_view", peer_view_name(r.record->peer_view)},
               {"written", format_wall_time(r.record->wall_time_ns)}});
  } else {
    log::info("heartbeat block at startup",
              {{"whose", whose}, {"status", r.status.ok() ? "empty" : r.status.to_string()}});
  }
}

}  // namespace

Status block_daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
    return errno_status("pthread_sigmask", "SIGTERM/SIGINT", rc);
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return errno_status("signal", "SIGPIPE");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Startup

Result<std::unique_ptr<QuorumDaemon>> QuorumDaemon::start(const QuorumdConfig& config) {
  std::unique_ptr<QuorumDaemon> d(new QuorumDaemon(config));
  auto path = resolve_device(config.device);
  if (!path.ok()) return path.status().with_context("quorum device");
  RETURN_IF_ERROR(d->init(*path));
  return d;
}

QuorumDaemon::~QuorumDaemon() = default;

Status QuorumDaemon::init(const std::string& device_path) {
  device_path_ = device_path;
  auto dev = AioBlockDevice::open(device_path, AioBlockDevice::OpenMode::read_write);
  if (!dev.ok()) return dev.status().with_context("opening the quorum disk");
  device_ = std::move(dev).value();
  auto layout = DiskLayout::for_sector_size(device_->geometry().logical_sector_size);
  if (!layout.ok()) return layout.status().with_context(device_path);
  layout_ = *layout;

  auto snap = read_disk_snapshot(*device_, clock_, kStartupIoTimeout);
  if (!snap.ok()) return snap.status().with_context("reading the quorum disk");
  RETURN_IF_ERROR(check_superblock(*snap));
  log::info("quorum disk", {{"device", device_path},
                            {"cluster", superblock_.cluster_name},
                            {"uuid", superblock_.cluster_uuid.to_string()},
                            {"node_id", node_id_},
                            {"peer", peer_name_},
                            {"timing", superblock_.timing.describe()}});
  if (const char* bugs = std::getenv("CASTOR_TEST_BUG"); bugs && *bugs) {
    std::string list = bugs;
    for (size_t i = 0; i <= list.size();) {
      size_t j = list.find(',', i);
      if (j == std::string::npos) j = list.size();
      const std::string name = list.substr(i, j - i);
      if (name == "read_block0") bug_read_block0_ = true;
      if (name == "down_while_owned") bug_down_while_owned_ = true;
      i = j + 1;
    }
    if (bug_read_block0_)
      log::critical("CASTOR_TEST_BUG=read_block0: A DELIBERATELY BROKEN BUILD for testing the nemesis: table-peer "
                    "reads only the peer's first table block; services in later blocks look free. NEVER in production.",
                    {{"CASTOR_TEST_BUG", list}});
    if (bug_down_while_owned_)
      log::critical("CASTOR_TEST_BUG=down_while_owned: A DELIBERATELY BROKEN BUILD for testing the nemesis: DOWN is "
                    "written while the service table may still hold services up here. NEVER in production.",
                    {{"CASTOR_TEST_BUG", list}});
  }
  load_own_region(*snap);
  RegionWriter::Options wo;
  wo.io_timeout = superblock_.timing.io_timeout;
  wo.scrub_interval = config_.scrub_interval;
  wo.retry_delay = superblock_.timing.renew_interval / 5;
  region_writer_ = std::make_unique<RegionWriter>(*table_, layout_, node_id_, wo, clock_.now());
  peer_table_buffer_ = AlignedBuffer(size_t(kPeerRegionReadBlocks) * layout_.block_size(), layout_.block_size());
  superblock_buffer_ = AlignedBuffer(layout_.block_size(), layout_.block_size());
  if (!superblock_buffer_.valid()) return Error(Code::internal, "out of memory for the superblock buffer");
  if (!peer_table_buffer_.valid()) return Error(Code::internal, "out of memory for table buffers");
  log_heartbeat_found("mine", snap->nodes[node_id_ - 1].heartbeat);
  log_heartbeat_found("peer", snap->nodes[(node_id_ == 1 ? 2 : 1) - 1].heartbeat);

  write_buffer_ = AlignedBuffer(layout_.block_size(), layout_.block_size());
  if (!write_buffer_.valid()) return Error(Code::internal, "out of memory for the heartbeat write buffer");
  for (size_t i = 0; i < kReadBuffers; ++i) {
    read_buffers_.emplace_back(layout_.block_size(), layout_.block_size());
    if (!read_buffers_.back().valid()) return Error(Code::internal, "out of memory for heartbeat read buffers");
    free_read_buffers_.push_back(int(i));
  }
  pending_.reserve(64);
  completions_.reserve(64);

  auto server = ControlServer::listen(config_.socket_path);
  if (!server.ok()) return server.status().with_context("control socket");
  server_ = std::move(server).value();
  RETURN_IF_ERROR(setup_loop_fds());

  // Last: a hardware watchdog runs from the moment it is opened, so nothing may fail after this.
  if (config_.no_watchdog()) {
    log::critical("RUNNING WITHOUT A WATCHDOG (allow_unsafe_no_watchdog = yes): if quorumd hangs, this node may "
                  "keep running services after its peer has declared it dead and taken them over. For tests only.",
                  {{"watchdog_device", "none"}});
  } else {
    auto wd = Watchdog::open(config_.watchdog_device, superblock_.timing.watchdog);
    if (!wd.ok()) return wd.status().with_context("watchdog");
    watchdog_ = std::move(wd).value();
    log::info("watchdog open", {{"watchdog", watchdog_->describe()},
                                {"required_ms", int64_t(superblock_.timing.watchdog.count())}});
    if (watchdog_->is_standin())
      log::critical("TEST WATCHDOG STAND-IN (CASTOR_TEST_WATCHDOG_STANDIN=1): not a hardware watchdog; tests only",
                    {{"watchdog", config_.watchdog_device}});
  }
  tune_process();
  return Status::Ok();
}

// This node's epoch record and service table, as the startup snapshot found them. A block that does not
// decode (zeroed, torn, bad CRC, another cluster...) starts empty and is rewritten as soon as this node
// holds a lease; a floor that does not decode is rebuilt from every epoch still known (valid entries of
// both nodes, the peer's floor) and rewritten before any table block that needs it.
void QuorumDaemon::load_own_region(const DiskSnapshot& snap) {
  table_ = std::make_unique<ServiceTableStore>(layout_, superblock_.cluster_uuid, node_id_);
  const NodeRegionSnapshot& mine = snap.nodes[node_id_ - 1];
  const NodeRegionSnapshot& peer = snap.nodes[(node_id_ == 1 ? 2 : 1) - 1];
  std::string zeroed;
  for (uint32_t b = 0; b < kServiceTableBlocks; ++b) {
    const auto& t = mine.table[b];
    if (t.record) {
      table_->load(b, *t.record);
      continue;
    }
    table_->mark_corrupt(b, t.status.to_string());
    if (t.status.code() == Code::not_found)
      zeroed += (zeroed.empty() ? "" : ",") + std::to_string(b);
    else
      log::warning("own service table block does not decode: rewritten once this node holds a lease "
                   "(the entries it held are lost)",
                   {{"block", b}, {"reason", t.status.to_string()}});
  }
  if (!zeroed.empty())
    log::warning("own service table blocks are empty (never written, or zeroed): rewritten once this node "
                 "holds a lease",
                 {{"blocks", zeroed}});
  uint64_t peer_max = 0;
  if (peer.epoch.record) peer_max = peer.epoch.record->epoch_floor;
  for (const auto& t : peer.table)
    if (t.record)
      for (const auto& e : t.record->entries)
        if (e.in_use) peer_max = std::max(peer_max, e.epoch);
  if (mine.epoch.record) {
    table_->load_floor(mine.epoch.record->epoch_floor);
  } else {
    // wanted_floor() already covers every epoch of the own valid entries (load()).
    const uint64_t rebuilt = std::max(table_->wanted_floor(), peer_max);
    table_->rebuild_floor(rebuilt, mine.epoch.status.to_string());
    log::warning("own epoch record does not decode: floor rebuilt from the valid entries of both nodes and the "
                 "peer's floor; rewritten once this node holds a lease",
                 {{"reason", mine.epoch.status.to_string()}, {"floor", rebuilt}});
  }
  table_->raise_floor(peer_max);
  log::info("own region loaded", {{"floor", table_->durable_floor()},
                                  {"wanted_floor", table_->wanted_floor()},
                                  {"entries", table_->entries().size()},
                                  {"corrupt_blocks", table_->corrupt().size()}});
}

Status QuorumDaemon::check_superblock(const DiskSnapshot& snap) {
  const Superblock* sb = snap.valid_superblock();
  if (!sb)
    return Error(Code::corrupt, device_path_ + " holds no valid Castor superblock (primary: " +
                                    snap.superblock.status.to_string() + "; backup: " +
                                    snap.superblock_backup.status.to_string() +
                                    "). Initialise it with `castor init`, or check the device setting");
  if (!snap.superblock.record)
    log::warning("the primary superblock is not valid; using the backup copy",
                 {{"device", device_path_}, {"primary", snap.superblock.status.to_string()}});
  if (snap.superblock.record && snap.superblock_backup.record &&
      !(*snap.superblock.record == *snap.superblock_backup.record))
    return Error(Code::corrupt, device_path_ + ": the superblock and its backup copy differ; refusing to guess "
                                               "which one is right (check the disk with `castor dump`)");
  superblock_ = *sb;
  const std::string& file = config_.config_file;
  if (config_.cluster && *config_.cluster != sb->cluster_name)
    return Error(Code::refused, file + " says cluster '" + *config_.cluster + "', but the quorum disk " + device_path_ +
                                    " belongs to cluster '" + sb->cluster_name + "' (UUID " +
                                    sb->cluster_uuid.to_string() + ")");
  const NodeEntry* me = sb->node_named(config_.node);
  if (!me)
    return Error(Code::refused, "node '" + config_.node + "' is not a member of cluster '" + sb->cluster_name +
                                    "' on " + device_path_ + " (its nodes: " + nodes_text(*sb) + ")");
  if (config_.io_timeout && *config_.io_timeout != sb->timing.io_timeout)
    return Error(Code::refused, "io_timeout_ms in " + file + " is " + std::to_string(config_.io_timeout->count()) +
                                    ", but the quorum disk " + device_path_ + " says " +
                                    std::to_string(sb->timing.io_timeout.count()) +
                                    ": both nodes must run with the disk's value (remove the key, or re-initialise "
                                    "the disk)");
  RETURN_IF_ERROR(sb->timing.check_formula().with_context(device_path_));
  node_id_ = me->id;
  for (const auto& n : sb->nodes)
    if (n.id != node_id_) peer_name_ = n.name;
  return Status::Ok();
}

Status QuorumDaemon::setup_loop_fds() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return errno_status("epoll_create1", "");
  timer_.reset(::timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_.valid()) return errno_status("timerfd_create", "CLOCK_BOOTTIME");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  signal_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_.valid()) return errno_status("signalfd", "SIGTERM/SIGINT");
  auto add = [&](int fd, uint64_t key, const char* what) -> Status {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = key;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return errno_status("epoll_ctl ADD", what);
    return Status::Ok();
  };
  RETURN_IF_ERROR(add(timer_.get(), kKeyTimer, "timerfd"));
  RETURN_IF_ERROR(add(signal_.get(), kKeySignal, "signalfd"));
  if (device_->completion_fd() >= 0) RETURN_IF_ERROR(add(device_->completion_fd(), kKeyDevice, "disk completion fd"));
  RETURN_IF_ERROR(add(server_->fd(), kKeyControl, "control socket"));
  return Status::Ok();
}

void QuorumDaemon::tune_process() {
  if (config_.lock_memory) {
    if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
      log::warning("cannot lock memory (mlockall); pages may be swapped out and delay heartbeats",
                   {{"error", std::strerror(errno)}});
    else
      log::info("memory locked (mlockall)");
  }
  if (config_.realtime) {
    sched_param p{};
    p.sched_priority = kRealtimePriority;
    if (::sched_setscheduler(0, SCHED_FIFO, &p) != 0)
      log::warning("cannot switch to SCHED_FIFO; heartbeats may be delayed by a busy CPU",
                   {{"priority", kRealtimePriority}, {"error", std::strerror(errno)}});
    else
      log::info("running SCHED_FIFO", {{"priority", kRealtimePriority}});
  }
}

// ---------------------------------------------------------------------------------------------------------
// The core's lifecycle

Status QuorumDaemon::start_core(TimePoint now) {
  auto inc = random_u64();
  for (int i = 0; i < 4 && inc.ok() && *inc == 0; ++i) inc = random_u64();
  if (!inc.ok()) return inc.status().with_context("choosing an incarnation");
  if (*inc == 0) return Error(Code::internal, "getrandom kept returning zero");
  CoreConfig cc;
  cc.cluster_uuid = superblock_.cluster_uuid;
  cc.node_id = node_id_;
  cc.incarnation = *inc;
  cc.timing = superblock_.timing;
  cc.services_digest = services_digest_;
  cc.standby = standby_;
  core_ = std::make_unique<QuorumCore>(cc, now);
  ++generation_;
  core_started_ = now;
  peer_observed_ = false;
  lease_acquired_ = false;
  last_lease_expiry_.reset();
  rejoin_at_.reset();
  deferred_read_ = {};
  read_retry_after_ = {};
  log::notice(generation_ == 1 ? "joining the cluster" : "rejoining the cluster with a new incarnation",
              {{"incarnation", *inc}, {"node_id", node_id_}, {"device", device_path_}});
  if (leave_requested_) {
    std::vector<CoreAction> acts;
    core_->request_leave(now, acts);
    execute(acts, now);
  }
  return Status::Ok();
}

void QuorumDaemon::maybe_rejoin(TimePoint now) {
  if (core_->phase() != CorePhase::fenced || !rejoin_at_ || now < *rejoin_at_) return;
  // Wait until every I/O of the fenced incarnation has been reported (completed or timed out).
  for (const auto& p : pending_)
    if (p.generation == generation_) return;
  // ...and until the kernel holds none of our writes: one that timed out may still land, and if it landed
  // after the new incarnation's first heartbeat the peer could read the old life's record (a late DOWN,
  // say) as the newest word of this node.
  if (device_->held_by_kernel() != 0) return;
  // Never rejoin with a superblock the disk no longer holds (see superblock_unchanged).
  if (Status sbst = superblock_unchanged(device_path_, superblock_, layout_, clock_, superblock_.timing.io_timeout);
      !sbst.ok()) {
    if (sbst.code() == Code::refused) {
      log::critical("the quorum disk was re-initialised while this node was fenced; exiting instead of rejoining "
                    "with the old cluster's superblock (restart quorumd to join the new cluster)",
                    {{"device", device_path_}, {"reason", sbst.message()}});
      exit_unproven("the quorum disk was re-initialised: " + sbst.message());
      return;
    }
    log::error("cannot re-read the superblock before rejoining; retrying in 1s", {{"error", sbst.to_string()}});
    rejoin_at_ = now + std::chrono::seconds(1);
    return;
  }
  Status st = start_core(now);
  if (!st.ok()) {
    log::error("cannot rejoin; retrying in 1s", {{"error", st.to_string()}});
    rejoin_at_ = now + std::chrono::seconds(1);
  }
}

// ---------------------------------------------------------------------------------------------------------
// I/O

void QuorumDaemon::submit_write(const HeartbeatRecord& rec, TimePoint now, std::vector<CoreAction>& out) {
  if (rec.state == NodeState::down && !done_) {
    // DOWN lets the peer take over at once: never while a service may still be up here.
    if (std::string why; !may_write_down(why)) {
      exit_unproven("about to write DOWN, but " + why);
      return;
    }
  }
  HeartbeatRecord r = rec;
  r.wall_time_ns = wall_time_ns();  // display only
  encode_heartbeat(r, layout_, write_buffer_.span());
  const uint64_t tag = next_tag_++;
  const TimePoint deadline = now + superblock_.timing.io_timeout;
  Status st = device_->submit_write(tag, layout_.heartbeat_offset(node_id_), write_buffer_.span(), now, deadline);
  if (!st.ok()) {
    if (auto n = log_allowed(write_error_log_, now))
      log::warning("heartbeat write not submitted", {{"seq", r.seq}, {"error", st.to_string()}, {"suppressed", *n}});
    write_failing_ = true;
    core_->on_write_done(r.seq, now, st, now, out);
    return;
  }
  pending_.push_back({tag, IoPurpose::write, generation_, r.seq, -1, now, deadline});
}

void QuorumDaemon::fail_read(IoPurpose purpose, const Status& st, TimePoint now, std::vector<CoreAction>& out) {
  const size_t i = purpose_index(int(purpose));
  read_retry_after_[i] = now + superblock_.timing.renew_interval / 5;
  if (auto n = log_allowed(read_error_log_, now))
    log::warning("heartbeat read failed", {{"block", purpose == IoPurpose::read_own ? "mine" : "peer"},
                                           {"error", st.to_string()},
                                           {"suppressed", *n}});
  Result<HeartbeatRecord> none(st);
  if (purpose == IoPurpose::read_own)
    core_->on_own_read(now, none, st, now, out);
  else
    core_->on_peer_read(now, none, 0, st, now, out);
}

void QuorumDaemon::submit_read(IoPurpose purpose, TimePoint now, std::vector<CoreAction>& out) {
  const size_t i = purpose_index(int(purpose));
  if (now < read_retry_after_[i]) {
    deferred_read_[i] = read_retry_after_[i];
    return;
  }
  deferred_read_[i].reset();
  if (free_read_buffers_.empty()) {
    fail_read(purpose, Error(Code::busy, "no free heartbeat read buffer"), now, out);
    return;
  }
  const int buf = free_read_buffers_.back();
  free_read_buffers_.pop_back();
  const uint64_t tag = next_tag_++;
  const TimePoint deadline = now + superblock_.timing.io_timeout;
  const uint32_t owner = purpose == IoPurpose::read_own ? node_id_ : core_->peer_id();
  Status st =
      device_->submit_read(tag, layout_.heartbeat_offset(owner), read_buffers_[size_t(buf)].span(), now, deadline);
  if (!st.ok()) {
    free_read_buffers_.push_back(buf);
    fail_read(purpose, st, now, out);
    return;
  }
  pending_.push_back({tag, purpose, generation_, 0, buf, now, deadline});
}

void QuorumDaemon::handle_completion(const IoCompletion& c, TimePoint now, std::vector<CoreAction>& out) {
  {
    std::vector<RegionWriter::Reply> replies;
    if (region_writer_->on_completion(c, now, replies)) {
      deliver(replies);
      pump_table(now);
      return;
    }
  }
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const PendingIo& p) { return p.tag == c.tag; });
  if (it == pending_.end()) {
    log::warning("completion of an I/O quorumd did not submit; ignored", {{"tag", c.tag}});
    return;
  }
  const PendingIo p = *it;
  pending_.erase(it);
  struct Release {  // the read buffer goes back to the pool whatever happens below
    QuorumDaemon* d;
    int buf;
    ~Release() {
      if (buf >= 0) d->free_read_buffers_.push_back(buf);
    }
  } release{this, p.buffer};
  if (p.purpose == IoPurpose::table_read) {
    table_completion(p, c, now);
    return;
  }
  if (p.purpose == IoPurpose::superblock_read) {
    superblock_completion(c);
    return;
  }
  if (p.generation != generation_) return;  // an I/O of a fenced, replaced incarnation

  switch (p.purpose) {
    case IoPurpose::write: {
      if (!c.status.ok()) {
        write_failing_ = true;
        if (auto n = log_allowed(write_error_log_, now))
          log::warning("heartbeat write failed", {{"seq", p.seq}, {"error", c.status.to_string()}, {"suppressed", *n}});
      } else if (write_failing_) {
        write_failing_ = false;
        log::notice("heartbeat writes succeed again", {{"seq", p.seq}, {"latency_us", us(now - p.issued)}});
      }
      core_->on_write_done(p.seq, p.issued, c.status, now, out);
      auto expiry = core_->lease_expiry();
      if (expiry && expiry != last_lease_expiry_ && core_->may_act(now)) {
        last_lease_expiry_ = expiry;
        if (!lease_acquired_) {
          lease_acquired_ = true;
          log::notice("lease acquired", {{"incarnation", core_->config().incarnation},
                                         {"seq", p.seq},
                                         {"write_latency_us", us(now - p.issued)},
                                         {"lease_ms", int64_t(superblock_.timing.lease.count())}});
        }
        if (server_->subscriber_count() > 0) {  // every renewal: build nothing when nobody listens
          JsonWriter w;
          begin_event(w, "lease_renewed", now);
          w.field("seq", p.seq).field("lease_expiry_boottime_ns", ns(*expiry));
          emit_event(w);
        }
      }
      break;
    }
    case IoPurpose::read_own:
    case IoPurpose::read_peer: {
      if (!c.status.ok()) {
        fail_read(p.purpose, c.status, now, out);
        break;
      }
      const auto block = std::span<const std::byte>(read_buffers_[size_t(p.buffer)].span());
      if (p.purpose == IoPurpose::read_own) {
        core_->on_own_read(p.issued, decode_heartbeat(block, layout_, node_id_), c.status, now, out);
      } else {
        peer_observed_ = true;
        core_->on_peer_read(p.issued, decode_heartbeat(block, layout_, core_->peer_id()), crc32c(block), c.status,
                            now, out);
      }
      break;
    }
    case IoPurpose::table_read:
    case IoPurpose::superblock_read:
      break;  // handled above
  }
}

// ---------------------------------------------------------------------------------------------------------
// Actions

void QuorumDaemon::execute(std::vector<CoreAction>& actions, TimePoint now) {
  // Handlers may append (a failed submit reports back to the core at once): index, never iterate.
  for (size_t i = 0; i < actions.size(); ++i) {
    const CoreAction a = std::move(actions[i]);
    switch (a.kind) {
      case CoreActionKind::write_heartbeat: submit_write(a.record, now, actions); break;
      case CoreActionKind::read_own: submit_read(IoPurpose::read_own, now, actions); break;
      case CoreActionKind::read_peer: submit_read(IoPurpose::read_peer, now, actions); break;
      case CoreActionKind::stop_services: on_stop_services(a, now, actions); break;
      case CoreActionKind::fence: on_fence(a, now); break;
      case CoreActionKind::peer_changed: {
        const PeerTransition& t = *a.peer;
        log::notice("peer changed", {{"peer", peer_name_},
                                     {"from", peer_view_name(t.from)},
                                     {"to", peer_view_name(t.to)},
                                     {"peer_incarnation", t.incarnation},
                                     {"reason", t.reason}});
        JsonWriter w;
        begin_event(w, "peer_changed", now);
        w.field("peer", peer_name_)
            .field("from", peer_view_name(t.from))
            .field("to", peer_view_name(t.to))
            .field("peer_incarnation", t.incarnation)
            .field("reason", t.reason);
        emit_event(w);
        break;
      }
      case CoreActionKind::left: on_left(a, now); break;
    }
  }
  actions.clear();
}

void QuorumDaemon::on_stop_services(const CoreAction& a, TimePoint now, std::vector<CoreAction>& out) {
  if (core_->phase() == CorePhase::leaving_stopping) {
    if (!service_managers_.empty()) {
      // svcmgr stops and releases every service, then says "services-stopped"; only then is DOWN written.
      log::notice("leaving: waiting for the service manager to stop and release every service",
                  {{"reason", a.reason}});
      awaiting_services_stopped_ = true;
      JsonWriter w;
      begin_event(w, "leaving", now);
      w.field("reason", a.reason);
      emit_event(w);
      return;
    }
    if (groups_.any_alive()) {
      exit_unproven("leaving with service processes registered but no service manager to stop them");
      return;
    }
    if (std::string why; !may_write_down(why)) {
      exit_unproven("leaving with no service manager connected, and " + why);
      return;
    }
    log::notice("leaving: no service manager is connected and no service process is registered",
                {{"reason", a.reason}});
    core_->services_stopped(now, out);
    return;
  }
  log::warning("lease at risk: services must stop now", {{"reason", a.reason}});
  JsonWriter w;
  begin_event(w, "lease_at_risk", now);
  w.field("reason", a.reason);
  if (auto e = core_->lease_expiry()) w.field("lease_expiry_boottime_ns", ns(*e));
  emit_event(w);
}

void QuorumDaemon::on_fence(const CoreAction& a, TimePoint now) {
  ++fences_;
  last_fence_reason_ = a.reason;
  last_fence_at_ = now;
  log::critical("FENCED: this incarnation may no longer act; killing registered process groups and no longer "
                "petting the watchdog",
                {{"incarnation", core_->config().incarnation}, {"reason", a.reason}});
  for (const auto& k : groups_.kill_all()) {
    if (k.status.ok())
      log::notice("process group killed (SIGKILL)", {{"pgid", int64_t(k.pgid)}});
    else if (k.status.code() == Code::not_found)
      log::info("process group already gone", {{"pgid", int64_t(k.pgid)}});
    else
      log::error("cannot kill process group", {{"pgid", int64_t(k.pgid)}, {"error", k.status.to_string()}});
  }
  JsonWriter w;
  begin_event(w, "fenced", now);
  w.field("reason", a.reason).field("fences", fences_);
  emit_event(w);

  // Rejoin after a renew interval; an incarnation fenced again soon after joining waits twice as long
  // each time (at most 64 renew intervals), so a persistent conflict does not spin.
  const Duration base = superblock_.timing.renew_interval;
  if (now - core_started_ < Duration(superblock_.timing.dead))
    rejoin_delay_ = std::min<Duration>(std::max<Duration>(base, rejoin_delay_ * 2), base * 64);
  else
    rejoin_delay_ = base;
  rejoin_at_ = now + rejoin_delay_;
  log::notice("will rejoin with a new incarnation", {{"in", format_duration(rejoin_delay_)}});
}

void QuorumDaemon::on_left(const CoreAction& a, TimePoint now) {
  log::notice("left the cluster", {{"incarnation", core_->config().incarnation}, {"reason", a.reason}});
  JsonWriter w;
  begin_event(w, "left", now);
  w.field("reason", a.reason);
  emit_event(w);
  JsonWriter r;
  r.begin_object().field("ok", true).field("left", true).field("incarnation", core_->config().incarnation)
      .field("message", a.reason).end_object();
  for (auto conn : leave_waiters_) server_->reply(conn, r.str());
  leave_waiters_.clear();
  done_ = true;
  exit_code_ = kQuorumdExitLeft;
}

void QuorumDaemon::request_leave(TimePoint now, const std::string& why) {
  leave_requested_ = true;
  const CorePhase ph = core_->phase();
  if (ph == CorePhase::joining || ph == CorePhase::up) {
    log::notice("leaving the cluster: writing LEAVING, then DOWN", {{"why", why}});
    std::vector<CoreAction> acts;
    core_->request_leave(now, acts);
    execute(acts, now);
  } else if (ph == CorePhase::fenced) {
    log::notice("leave requested while fenced: will leave right after rejoining", {{"why", why}});
  }
}

// ---------------------------------------------------------------------------------------------------------
// The loop

std::optional<uint64_t> QuorumDaemon::log_allowed(RateLimit& rl, TimePoint now) {
  if (rl.last && now - *rl.last < std::chrono::seconds(1)) {
    ++rl.suppressed;
    return std::nullopt;
  }
  rl.last = now;
  return std::exchange(rl.suppressed, 0);
}

void QuorumDaemon::pet_watchdog(TimePoint now) {
  if (!watchdog_) return;
  // The pet guard (design.md, "The watchdog margin"): only with at least W of lease left at `now`, so a
  // pet delayed by a freeze after this check still lands before the lease end.
  auto petted = watchdog_->pet_within_lease(now, core_->may_act(now) ? core_->lease_expiry() : std::nullopt);
  if (petted.ok()) {
    if (*petted) ++pets_;
    return;
  }
  if (auto n = log_allowed(pet_error_log_, now))
    log::error("cannot pet the watchdog", {{"error", petted.status().to_string()}, {"suppressed", *n}});
}

void QuorumDaemon::handle_signals(TimePoint now) {
  for (;;) {
    signalfd_siginfo si;
    ssize_t n = ::read(signal_.get(), &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof si) {
      if (n < 0 && errno != EAGAIN)
        log::error("reading the signalfd failed", {{"error", std::strerror(errno)}});
      return;
    }
    ++signals_seen_;
    const char* name = si.ssi_signo == SIGTERM ? "SIGTERM" : si.ssi_signo == SIGINT ? "SIGINT" : "signal";
    if (signals_seen_ == 1) {
      log::notice("signal received: leaving the cluster cleanly (send it again to exit at once)",
                  {{"signal", name}, {"from_pid", int64_t(si.ssi_pid)}});
      request_leave(now, std::string(name) + " from pid " + std::to_string(si.ssi_pid));
    } else {
      log::warning("second signal: exiting at once, without a clean leave; the watchdog stays armed",
                   {{"signal", name}, {"from_pid", int64_t(si.ssi_pid)}});
      done_ = true;
      exit_code_ = kQuorumdExitUnclean;
      return;
    }
  }
}

TimePoint QuorumDaemon::next_wakeup(TimePoint now) const {
  TimePoint t = now + superblock_.timing.renew_interval;
  t = std::min(t, core_->next_wakeup());
  for (const auto& p : pending_) t = std::min(t, p.deadline);
  for (const auto& d : deferred_read_)
    if (d) t = std::min(t, *d);
  if (rejoin_at_) t = std::min(t, *rejoin_at_);
  t = std::min(t, region_writer_->next_wakeup(now));
  // Never re-arm into the past: whatever was due has just been done by step().
  return std::max(t, now + std::chrono::microseconds(200));
}

Status QuorumDaemon::arm_timer(TimePoint when) {
  itimerspec its{};
  const int64_t t = ns(when);
  its.it_value.tv_sec = time_t(t / 1000000000);
  its.it_value.tv_nsec = long(t % 1000000000);
  if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
    return errno_status("timerfd_settime", "CLOCK_BOOTTIME");
  return Status::Ok();
}

void QuorumDaemon::step() {
  std::vector<CoreAction> acts;
  completions_.clear();
  // The clock is read after io_getevents: a pause before it cannot make a read of the peer's block look
  // completed earlier than it was seen (which would shrink the dead time counted from it).
  const TimePoint now = device_->reap_with_clock(clock_, completions_);
  for (const auto& c : completions_) {
    handle_completion(c, now, acts);
    execute(acts, now);
  }
  for (size_t i = 0; i < deferred_read_.size(); ++i) {
    if (deferred_read_[i] && now >= *deferred_read_[i]) {
      submit_read(i == 0 ? IoPurpose::read_own : IoPurpose::read_peer, now, acts);
      execute(acts, now);
    }
  }
  core_->tick(now, acts);
  execute(acts, now);
  maybe_rejoin(now);
  check_superblock_async(now);
  pump_table(now);
}

// Every scrub_interval one superblock copy (primary and backup in turn) is re-read, asynchronously like
// every other I/O of the loop: a disk re-initialised under a running node (its header and heartbeats
// zeroed by hand, then a plain castor init) must not keep it writing the old cluster's records there.
// (A node paused over a castor init --force is fenced and checked in maybe_rejoin.)
void QuorumDaemon::check_superblock_async(TimePoint now) {
  if (done_ || superblock_reading_) return;
  if (superblock_checked_ && now - *superblock_checked_ < config_.scrub_interval) return;
  superblock_checked_ = now;
  const uint64_t off = superblock_read_backup_ ? layout_.superblock_backup_offset() : layout_.superblock_offset();
  superblock_read_backup_ = !superblock_read_backup_;
  const uint64_t tag = next_tag_++;
  const TimePoint deadline = now + superblock_.timing.io_timeout;
  Status st = device_->submit_read(tag, off, superblock_buffer_.span(), now, deadline);
  if (!st.ok()) {
    log::warning("cannot re-read the superblock (checked every scrub interval)", {{"error", st.to_string()}});
    return;
  }
  superblock_reading_ = true;
  pending_.push_back({tag, IoPurpose::superblock_read, generation_, 0, -1, now, deadline});
}

void QuorumDaemon::superblock_completion(const IoCompletion& c) {
  superblock_reading_ = false;
  if (!c.status.ok()) {
    log::warning("cannot re-read the superblock (checked every scrub interval)", {{"error", c.status.to_string()}});
    return;
  }
  auto sb = decode_superblock(superblock_buffer_.span(), layout_);
  if (!sb.ok()) {  // damage (the nemesis writes garbage there): the other copy and castor dump tell more
    log::warning("a superblock copy does not decode (checked every scrub interval)", {{"error", sb.status().to_string()}});
    return;
  }
  if (sb->cluster_uuid == superblock_.cluster_uuid && sb->nodes == superblock_.nodes) return;
  const std::string why = "the quorum disk " + device_path_ + " now belongs to cluster '" + sb->cluster_name +
                          "' (UUID " + sb->cluster_uuid.to_string() + "), not to cluster '" + superblock_.cluster_name +
                          "' (UUID " + superblock_.cluster_uuid.to_string() + ") that this quorumd started with";
  log::critical("the quorum disk was re-initialised under this running node; exiting (restart quorumd to join the "
                "new cluster)", {{"device", device_path_}, {"reason", why}});
  exit_unproven("the quorum disk was re-initialised: " + why);
}

int QuorumDaemon::run() {
  if (Status st = start_core(clock_.now()); !st.ok()) {
    log::error("cannot start", {{"error", st.to_string()}});
    return kQuorumdExitStartup;
  }
  log::notice("quorumd running", {{"socket", server_->path()},
                                  {"pid", int64_t(::getpid())},
                                  {"watchdog", watchdog_ ? watchdog_->describe() : std::string("none (UNSAFE)")}});
  while (!done_) {
    step();
    if (done_) break;
    const TimePoint now = clock_.now();
    pet_watchdog(now);
    if (Status st = arm_timer(next_wakeup(now)); !st.ok()) {
      log::critical("cannot arm the loop timer; exiting without a clean leave", {{"error", st.to_string()}});
      exit_code_ = kQuorumdExitUnclean;
      break;
    }
    epoll_event events[8];
    int n = ::epoll_wait(epoll_.get(), events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::critical("epoll_wait failed; exiting without a clean leave", {{"error", std::strerror(errno)}});
      exit_code_ = kQuorumdExitUnclean;
      break;
    }
    for (int i = 0; i < n && !done_; ++i) {
      switch (events[i].data.u64) {
        case kKeyTimer: {
          uint64_t expirations;
          if (::read(timer_.get(), &expirations, sizeof expirations) < 0 && errno != EAGAIN && errno != EINTR)
            log::error("reading the timerfd failed", {{"error", std::strerror(errno)}});
          break;
        }
        case kKeySignal: handle_signals(clock_.now()); break;
        case kKeyDevice: break;  // step() reaps
        case kKeyControl: server_->process(*this); break;
        default: break;
      }
    }
  }

  if (exit_code_ == kQuorumdExitLeft && watchdog_) {
    Status st = watchdog_->disarm();
    if (st.ok())
      log::info("watchdog disarmed (magic close)", {{"watchdog", watchdog_->path()}});
    else
      log::error("cannot disarm the watchdog; it may still reset this node", {{"error", st.to_string()}});
  }
  server_->flush_all();
  log::notice("quorumd exiting",
              {{"exit_code", exit_code_}, {"clean_leave", exit_code_ == kQuorumdExitLeft ? "yes" : "no"}});
  return exit_code_;
}

// ---------------------------------------------------------------------------------------------------------
// Control requests

void QuorumDaemon::begin_event(JsonWriter& w, const char* name, TimePoint now) const {
  w.begin_object()
      .field("event", name)
      .field("node", config_.node)
      .field("incarnation", core_->config().incarnation)
      .field("boottime_ns", ns(now));
}

void QuorumDaemon::emit_event(JsonWriter& w) {
  w.end_object();
  server_->broadcast(w.str());
}

std::string QuorumDaemon::status_json(TimePoint now) const {
  const QuorumCore& c = *core_;
  const Timing& t = superblock_.timing;
  JsonWriter w;
  w.begin_object().field("ok", true);
  w.key("node").begin_object().field("id", node_id_).field("name", config_.node).end_object();
  w.key("cluster").begin_object().field("name", superblock_.cluster_name)
      .field("uuid", superblock_.cluster_uuid.to_string()).end_object();
  w.field("device", device_path_).field("pid", int64_t(::getpid()));
  w.field("incarnation", c.config().incarnation).field("phase", core_phase_name(c.phase()));
  w.field("seq", c.last_written_seq()).field("leaving", leave_requested_).field("standby", standby_);
  w.key("lease").begin_object().field("valid", c.may_act(now));
  if (auto e = c.lease_expiry()) {
    w.field("remaining_ms", c.may_act(now) ? to_ms(*e - now) : int64_t(0)).field("expiry_boottime_ns", ns(*e));
  } else {
    w.field("remaining_ms", int64_t(0)).key("expiry_boottime_ns").null();
  }
  w.end_object();
  w.key("fence_reason");
  if (c.fence_reason().empty()) w.null(); else w.value(c.fence_reason());
  w.field("fences", fences_);
  w.key("last_fence");
  if (last_fence_at_) {
    w.begin_object().field("reason", last_fence_reason_).field("ago_ms", to_ms(now - *last_fence_at_)).end_object();
  } else {
    w.null();
  }
  const PeerMonitor& pm = c.peer();
  w.key("peer").begin_object().field("id", c.peer_id()).field("name", peer_name_)
      .field("view", peer_view_name(pm.view())).field("incarnation", pm.incarnation()).field("seq", pm.seq());
  w.key("state");
  if (pm.record()) w.value(node_state_name(pm.record()->state)); else w.null();
  w.key("heartbeat_age_ms");
  if (peer_observed_) w.value(to_ms(now - pm.first_seen())); else w.null();
  w.field("standby", pm.record() && (pm.record()->flags & HeartbeatRecord::kStandby) != 0);
  if (pm.record())  // what the peer reports of its own heartbeat writes
    w.key("write_latency_us").begin_object().field("last", pm.record()->last_io_latency_us)
        .field("worst", pm.record()->max_io_latency_us).end_object();
  w.end_object();
  w.key("write_latency_us").begin_object().field("last", us(c.last_write_latency()))
      .field("worst", us(c.worst_write_latency())).end_object();
  w.key("timing_ms").begin_object()
      .field("io_timeout", int64_t(t.io_timeout.count()))
      .field("renew_interval", int64_t(t.renew_interval.count()))
      .field("lease", int64_t(t.lease.count()))
      .field("kill_grace", int64_t(t.kill_grace.count()))
      .field("watchdog", int64_t(t.watchdog.count()))
      .field("dead", int64_t(t.dead.count()))
      .end_object();
  w.key("watchdog").begin_object();
  if (watchdog_) {
    w.field("device", watchdog_->path()).field("standin", watchdog_->is_standin()).field("pets", pets_);
    w.field("kind", watchdog_->kind());
  } else {
    w.key("device").null().field("unsafe_none", true).field("kind", "none-unsafe");
  }
  w.field("pet_guard_ms", int64_t(superblock_.timing.pet_guard().count()));
  w.end_object();
  w.key("process_groups").begin_array();
  for (pid_t g : groups_.groups()) w.value(int64_t(g));
  w.end_array();
  // This node's region: the durable epoch floor, own blocks found corrupt at start (being rewritten), scrubs.
  w.field("floor", table_->durable_floor());
  if (const auto& fe = table_->floor_error()) w.field("floor_error", *fe);
  w.key("corrupt_blocks").begin_array();
  for (const auto& [b, why] : table_->corrupt()) w.begin_object().field("block", b).field("reason", why).end_object();
  w.end_array();
  w.key("scrub").begin_object().field("interval_ms", to_ms(config_.scrub_interval))
      .field("scrubs", region_writer_->scrubs()).field("blocks_written", region_writer_->blocks_written());
  w.key("last_ago_ms");
  if (auto ls = region_writer_->last_scrub()) w.value(to_ms(now - *ls)); else w.null();
  w.end_object();
  w.field("boottime_ns", ns(now)).end_object();
  return w.str();
}

void QuorumDaemon::on_request(ControlServer::ConnId conn, const ControlRequest& req) {
  const TimePoint now = clock_.now();
  auto no_args = [&]() {
    if (req.args.empty()) return true;
    server_->reply_error(conn, "'" + req.verb + "' takes no arguments", false);
    return false;
  };
  auto ok_reply = [&](const char* key, bool v) {
    JsonWriter w;
    w.begin_object().field("ok", true).field(key, v).end_object();
    server_->reply(conn, w.str());
  };
  if (req.verb == "status") {
    if (no_args()) server_->reply(conn, status_json(now));
  } else if (req.verb == "leave") {
    if (!no_args()) return;
    if (core_->phase() == CorePhase::left) {
      ok_reply("left", true);
      return;
    }
    leave_waiters_.push_back(conn);
    request_leave(now, "'leave' over the control socket");
  } else if (req.verb == "services-stopped") {
    if (!no_args()) return;
    if (core_->phase() != CorePhase::leaving_stopping || !awaiting_services_stopped_) {
      server_->reply_error(conn, "services-stopped: this node is not leaving", false);
      return;
    }
    awaiting_services_stopped_ = false;
    if (groups_.any_alive()) {
      // A stop that returned ok may have left a process behind: DOWN would let the peer start the service
      // at once while it runs (the path without a service manager refuses the same).
      server_->reply_error(conn, "services-stopped: not writing DOWN: a registered service process group is alive", false);
      exit_unproven("the service manager said every service is stopped, but a registered service process group "
                    "still has a process");
      return;
    }
    if (std::string why; !may_write_down(why)) {
      server_->reply_error(conn, "services-stopped: not writing DOWN: " + why, false);
      exit_unproven("the service manager said every service is stopped, but " + why);
      return;
    }
    log::notice("the service manager stopped and released every service: writing DOWN", {});
    std::vector<CoreAction> acts;
    core_->services_stopped(now, acts);
    execute(acts, now);
    ok_reply("down", true);
  } else if (req.verb == "subscribe") {
    // "subscribe service-manager": svcmgr, which must stop and release every service before a clean leave
    // may write DOWN. Any other subscriber only listens.
    if (!req.args.empty() && req.args != "service-manager") {
      server_->reply_error(conn, "subscribe: unknown role '" + req.args + "' (only: service-manager)", false);
      return;
    }
    if (!req.args.empty()) service_managers_.insert(conn);
    server_->subscribe(conn);
    JsonWriter w;
    w.begin_object().field("ok", true).field("subscribed", true).field("node", config_.node)
        .field("incarnation", core_->config().incarnation).field("phase", core_phase_name(core_->phase()));
    if (auto e = core_->lease_expiry(); e && core_->may_act(now)) w.field("lease_expiry_boottime_ns", ns(*e));
    w.end_object();
    server_->reply(conn, w.str());
  } else if (req.verb == "register-pgid" || req.verb == "unregister-pgid") {
    auto pgid = parse_int(req.args, 2, INT_MAX, "process group id");
    if (!pgid.ok()) {
      server_->reply_error(conn, req.verb + ": " + pgid.status().message(), false);
      return;
    }
    if (req.verb == "register-pgid") {
      if (Status st = groups_.add(pid_t(*pgid)); !st.ok()) {
        server_->reply_error(conn, req.verb + ": " + st.message(), false);
        return;
      }
      log::info("process group registered: it will be killed if this node fences", {{"pgid", *pgid}});
      ok_reply("registered", true);
    } else {
      const bool was = groups_.remove(pid_t(*pgid));
      if (was) log::info("process group unregistered", {{"pgid", *pgid}});
      ok_reply("unregistered", was);
    }
  } else if (req.verb.rfind("table-", 0) == 0 || req.verb == "set-digest" || req.verb == "fence" ||
             req.verb == "standby") {
    table_request(conn, req, now);
  } else {
    server_->reply_error(conn, "unknown verb '" + req.verb +
                                   "' (verbs: status, leave, subscribe [service-manager], services-stopped, register-pgid N, unregister-pgid N)",
                         false);
  }
}

void QuorumDaemon::on_closed(ControlServer::ConnId conn) {
  leave_waiters_.erase(std::remove(leave_waiters_.begin(), leave_waiters_.end(), conn), leave_waiters_.end());
  service_managers_.erase(conn);
  if (awaiting_services_stopped_ && service_managers_.empty() && !done_)
    exit_unproven("the service manager went away before it said every service was stopped");
}

bool QuorumDaemon::may_write_down(std::string& why) const {
  const auto up = table_->up_entries();
  if (up.empty()) return true;
  if (bug_down_while_owned_) {
    log::critical("CASTOR_TEST_BUG=down_while_owned: writing DOWN although the service table holds services "
                  "that may be up here",
                  {{"entries", std::to_string(up.size())}});
    return true;
  }
  why = "the service table holds " + std::to_string(up.size()) + " entr" + (up.size() == 1 ? "y" : "ies") +
        " that may be up here: ";
  for (size_t i = 0; i < up.size() && i < 5; ++i) why += (i ? ", " : "") + up[i];
  if (up.size() > 5) why += ", ...";
  return false;
}

void QuorumDaemon::exit_unproven(const std::string& why) {
  log::critical("leaving without DOWN: services are not proven stopped; killing registered process groups, "
                "the watchdog stays armed and the peer waits the dead time",
                {{"reason", why}});
  for (const auto& k : groups_.kill_all())
    if (!k.status.ok() && k.status.code() != Code::not_found)
      log::error("cannot kill process group", {{"pgid", int64_t(k.pgid)}, {"error", k.status.to_string()}});
  done_ = true;
  exit_code_ = kQuorumdExitUnclean;
}

// ---- svcmgr's service table ----------------------------------------------------------------------------

namespace {

// `block`/`incarnation`: the peer table block holding the entry and the incarnation that wrote it (table-peer
// only): with changed_wall_ns they tell two writes of equal fields apart.
void entry_json(JsonWriter& w, const ServiceEntry& e, std::optional<uint32_t> block = std::nullopt,
                std::optional<uint64_t> incarnation = std::nullopt) {
  w.begin_object().field("name", e.name).field("state", ownership_state_name(e.state)).field("node", e.node);
  w.field("epoch", e.epoch).field("ballot", e.ballot).field("flags", unsigned(e.flags)).field("restarts", e.restarts);
  w.field("digest", e.definition_digest).field("changed_wall_ns", e.changed_wall_ns);
  if (block) w.field("block", *block);
  if (incarnation) w.field("incarnation", *incarnation);
  w.end_object();
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 20) return Error(Code::invalid_argument, "bad number '" + s + "'");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Error(Code::invalid_argument, "bad number '" + s + "'");
    uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Error(Code::invalid_argument, "number too large '" + s + "'");
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

void QuorumDaemon::table_request(ControlServer::ConnId conn, const ControlRequest& req, TimePoint now) {
  const auto words = split_words(req.args);
  if (req.verb == "table-own") {
    JsonWriter w;
    w.begin_object().field("ok", true).key("entries").begin_array();
    for (const auto& e : table_->entries()) entry_json(w, e);
    w.end_array();
    w.field("own_epoch_floor", table_->durable_floor());
    if (const auto& fe = table_->floor_error()) w.field("own_epoch_floor_error", *fe);
    w.key("corrupt_blocks").begin_array();  // found corrupt at start, being rewritten
    for (const auto& [b, why] : table_->corrupt()) w.begin_object().field("block", b).field("reason", why).end_object();
    w.end_array().end_object();
    server_->reply(conn, w.str());
  } else if (req.verb == "table-set") {
    // table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST
    if (words.size() != 8) return server_->reply_error(conn, "table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST", false);
    ServiceEntry e;
    e.in_use = true;
    e.name = words[0];
    bool state_ok = false;
    for (uint8_t i = 0; i <= kMaxOwnershipState; ++i)
      if (words[1] == ownership_state_name(OwnershipState(i))) {
        e.state = OwnershipState(i);
        state_ok = true;
      }
    std::vector<uint64_t> n;
    for (size_t i = 2; i < 8; ++i) {
      auto v = parse_u64(words[i]);
      if (!v.ok()) return server_->reply_error(conn, "table-set: " + v.status().message(), false);
      n.push_back(*v);
    }
    if (!state_ok || n[0] > kNodeCount || n[3] > 0xFFFF || n[4] > 0xFFFFFFFFu || !check_name("service", e.name).ok())
      return server_->reply_error(conn, "table-set: a field is out of range", false);
    e.node = uint32_t(n[0]);
    e.epoch = n[1];
    e.ballot = n[2];
    e.flags = uint16_t(n[3] & ServiceEntry::kKnownFlags);
    e.restarts = uint32_t(n[4]);
    e.definition_digest = n[5];
    e.changed_wall_ns = wall_time_ns();
    if (!core_->may_act(now)) return server_->reply_error(conn, "no lease: this node may not write", false);
    const bool up = e.state == OwnershipState::claiming || e.state == OwnershipState::owned ||
                    e.state == OwnershipState::releasing;
    if (up && (core_->phase() == CorePhase::leaving_down || core_->phase() == CorePhase::left))
      return server_->reply_error(conn, "table-set: this node is writing DOWN; it takes no service", false);
    auto b = region_writer_->set(e, conn);
    if (!b.ok()) return server_->reply_error(conn, "table-set: " + b.status().message(), false);
    pump_table(now);
  } else if (req.verb == "table-peer") {
    // The peer's epoch record and all 34 table blocks, in one read (blocks 1..35 of its region).
    if (!words.empty()) return server_->reply_error(conn, "table-peer takes no arguments", false);
    peer_table_waiters_.push_back(conn);
    if (peer_table_reading_) return;
    const uint64_t tag = next_tag_++;
    const TimePoint deadline = now + superblock_.timing.io_timeout;
    Status st = device_->submit_read(tag, layout_.epoch_record_offset(core_->peer_id()), peer_table_buffer_.span(),
                                     now, deadline);
    if (!st.ok()) {
      for (auto c : std::exchange(peer_table_waiters_, {})) server_->reply_error(c, "reading the peer's table: " + st.message(), false);
      return;
    }
    peer_table_reading_ = true;
    pending_.push_back({tag, IoPurpose::table_read, generation_, 0, -1, now, deadline});
  } else if (req.verb == "set-digest") {
    auto v = words.size() == 1 ? parse_u64(words[0]) : Result<uint64_t>(Error(Code::invalid_argument, "set-digest N"));
    if (!v.ok()) return server_->reply_error(conn, v.status().message(), false);
    services_digest_ = *v;
    services_digest_known_ = true;
    core_->set_services_digest(*v);
    JsonWriter w;
    w.begin_object().field("ok", true).end_object();
    server_->reply(conn, w.str());
  } else if (req.verb == "standby") {
    if (words.size() != 1 || (words[0] != "0" && words[0] != "1")) return server_->reply_error(conn, "standby 0|1", false);
    standby_ = words[0] == "1";
    core_->set_standby(standby_);
    log::notice(standby_ ? "node in standby: it runs no service" : "node out of standby", {});
    JsonWriter w;
    w.begin_object().field("ok", true).field("standby", standby_).end_object();
    server_->reply(conn, w.str());
  } else if (req.verb == "fence") {
    std::vector<CoreAction> acts;
    log::critical("fence requested by svcmgr", {{"reason", req.args}});
    core_->fence_now(now, "svcmgr: " + req.args, acts);
    execute(acts, now);
    // A service that could not be stopped may still hold what it held (a mount, an address): killing its
    // processes proves nothing. Like Pacemaker's fencing of a node whose stop failed, the node must be
    // reset: this incarnation never rejoins, so the watchdog (no longer petted) resets the node and the
    // peer takes over once it declared it dead. Without a watchdog nothing would reset it: quorumd rejoins
    // and the service's entry stays owned here (safe, but it waits for an admin).
    if (!config_.no_watchdog()) {
      rejoin_at_.reset();
      log::critical("fenced for a failed stop: not rejoining; the watchdog resets this node", {{"reason", req.args}});
    }
    JsonWriter w;
    w.begin_object().field("ok", true).end_object();
    server_->reply(conn, w.str());
  } else {
    server_->reply_error(conn, "unknown verb '" + req.verb + "'", false);
  }
}

void QuorumDaemon::deliver(std::vector<RegionWriter::Reply>& replies) {
  for (const auto& r : replies) {
    if (r.status.ok()) {
      JsonWriter w;
      w.begin_object().field("ok", true).field("completed_boottime_ns", ns(r.completed)).end_object();
      server_->reply(r.waiter, w.str());
    } else {
      server_->reply_error(r.waiter, r.status.message(), false);
    }
  }
  replies.clear();
}

void QuorumDaemon::pump_table(TimePoint now) {
  std::vector<RegionWriter::Reply> replies;
  region_writer_->pump(*device_, now, core_->may_act(now), core_->config().incarnation, next_tag_, replies);
  deliver(replies);
}

void QuorumDaemon::table_completion(const PendingIo& p, const IoCompletion& c, TimePoint) {
  peer_table_reading_ = false;
  if (!c.status.ok()) {
    for (auto conn : std::exchange(peer_table_waiters_, {}))
      server_->reply_error(conn, "reading the peer's table failed: " + c.status.to_string(), false);
    return;
  }
  const PeerRegion region = decode_peer_region(peer_table_buffer_.span(), layout_, core_->peer_id(),
                                               superblock_.cluster_uuid, bug_read_block0_ ? 1 : kServiceTableBlocks);
  // This node's floor also bounds every epoch it saw: written before its next table write.
  table_->raise_floor(region.max_epoch());
  const PeerMonitor& pm = core_->peer();
  JsonWriter w;
  w.begin_object().field("ok", true).field("read_issued_boottime_ns", ns(p.issued)).key("entries").begin_array();
  for (size_t i = 0; i < region.entries.size(); ++i) entry_json(w, region.entries[i], region.entry_blocks[i], region.entry_incarnations[i]);
  w.end_array();
  w.key("corrupt_blocks").begin_array();
  for (const auto& cb : region.corrupt)
    w.begin_object().field("block", cb.block).field("reason", cb.reason).field("hash", cb.hash).end_object();
  w.end_array();
  w.key("peer_epoch_floor");
  if (region.floor) {
    w.value(*region.floor);
  } else {
    w.null();
    w.field("peer_epoch_floor_error", region.floor_error);
  }
  w.field("own_epoch_floor", table_->durable_floor());
  w.key("peer").begin_object().field("view", peer_view_name(pm.view())).field("incarnation", pm.incarnation());
  w.field("confirmed_boottime_ns", ns(pm.confirmed_read_issued()));
  const bool known = pm.record().has_value() && pm.record()->services_digest != 0;
  w.field("digest_known", known).field("services_digest", known ? pm.record()->services_digest : uint64_t(0));
  w.field("standby", pm.record() && (pm.record()->flags & HeartbeatRecord::kStandby) != 0);
  w.end_object().end_object();
  for (auto conn : std::exchange(peer_table_waiters_, {})) server_->reply(conn, w.str());
}

}  // namespace castor
