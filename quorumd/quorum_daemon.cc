// quorumd's start-up, its loop and its rejoin after a fence: what QuorumDaemon does between the core's
// actions (core_actions.cc) and the control verbs (control_verbs.cc). Start-up is the only place that
// blocks on the disk; after it nothing here may block but the EventLoop's wait in run().
#include "quorumd/quorum_daemon.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "common/auth_key.h"
#include "common/errno_status.h"
#include "common/group_lookup.h"
#include "common/log.h"
#include "common/test_hooks.h"
#include "common/uuid.h"
#include "disk/failed_block_device.h"
#include "disk/life_number.h"
#include "disk/quorum_device_set.h"
#include "quorumd/life_file.h"
#include "quorumd/peer_watchdog_file.h"

namespace castor {
namespace {

// EventLoop keys of the daemon's own descriptors (the loop has its own for the timer and the signals).
constexpr uint64_t kKeyDevice = 1, kKeyControl = 2, kKeyLan = 16;  // kKeyLan + link index
constexpr Millis kStartupIoTimeout{5000};
constexpr size_t kReadBuffers = 8;  // two kinds, each at most one in flight per core, plus a replaced core's

std::string nodes_text(const Superblock& sb) {
  std::string s;
  for (const auto& n : sb.nodes) {
    if (!s.empty()) s += ", ";
    s += n.name + " (id " + std::to_string(n.id) + ")";
  }
  return s;
}

// One superblock copy, for the checks that the disk was not re-initialised under this node. With
// authentication on, a copy whose tag does not verify is either damage or forgery -- or a castor init
// without this key (without --authenticate, or with another key): decoded without its tag, it is returned
// when it names another cluster, another node set or no longer says "authenticated", so that the node exits
// rather than keep writing on a disk made for someone else. A forger gains nothing by it: he could already
// stop this node by destroying its blocks; he can never make it keep running or write a DOWN.
Result<Superblock> superblock_for_reinit_check(std::span<const std::byte> block, const DiskLayout& layout,
                                               const RecordSeal& seal, const Superblock& mine) {
  auto sb = decode_superblock(block, layout, seal);
  if (sb.ok() || !seal.authenticated()) return sb;
  auto unchecked = decode_superblock(block, layout, RecordSeal::tag_unchecked());
  if (unchecked.ok() && (!unchecked->records_authenticated || !(unchecked->cluster_uuid == mine.cluster_uuid) ||
                         !(unchecked->nodes == mine.nodes)))
    return unchecked;
  return sb;
}

bool same_cluster(const Superblock& a, const Superblock& b) {
  return a.cluster_uuid == b.cluster_uuid && a.nodes == b.nodes && a.records_authenticated == b.records_authenticated;
}

// Re-reads both superblock copies through a separate read-only handle (so that no completion of the
// daemon's own device is consumed) and compares them with the one this daemon started with. A quorumd
// paused for longer than the dead time may find the disk re-initialised (`castor init --force` watched
// that long and saw no heartbeat change): rejoining would write the old cluster's records onto the new
// disk. Returns Code::refused if a copy that decodes names another cluster UUID or node set, or differs in
// "records authenticated" (see superblock_for_reinit_check); another error
// if neither copy decodes or the read fails (the caller cannot tell yet and does not rejoin); Ok otherwise.
Status superblock_unchanged(QuorumdEnv& env, const std::string& path, const Superblock& mine, const DiskLayout& layout,
                            const RecordSeal& seal, Duration timeout) {
  auto dev = env.open_device(path, QuorumdEnv::Access::read_only);
  if (!dev.ok()) return dev.status().with_context("re-reading the superblock");
  AlignedBuffer block(layout.block_size(), layout.block_size());
  if (!block.valid()) return Error(Code::internal, "out of memory re-reading the superblock");
  bool any = false;
  std::string why;
  for (uint64_t off : {layout.superblock_offset(), layout.superblock_backup_offset()}) {
    RETURN_IF_ERROR(
        read_blocking(**dev, env.clock(), off, block.span(), timeout).with_context("re-reading the superblock"));
    auto sb = superblock_for_reinit_check(block.span(), layout, seal, mine);
    if (!sb.ok()) {
      why += (why.empty() ? "" : "; ") + sb.status().to_string();
      continue;
    }
    any = true;
    if (!same_cluster(*sb, mine))
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

// superblock_unchanged on the quorum device, or on every member of a set that can be read: a member that
// names another cluster refuses; members that cannot be read are skipped while a majority of them could be checked.
Status superblock_unchanged_on_devices(QuorumdEnv& env, const std::vector<std::string>& paths, const Superblock& mine,
                                       const DiskLayout& layout, const RecordSeal& seal, Duration timeout) {
  if (paths.size() == 1) return superblock_unchanged(env, paths[0], mine, layout, seal, timeout);
  size_t checked = 0;
  std::string why;
  for (const std::string& p : paths) {
    if (p.empty()) continue;  // a member none of the listed paths held
    Status st = superblock_unchanged(env, p, mine, layout, seal, timeout);
    if (st.code() == Code::refused) return st;
    // A member that answered with no decodable superblock (zeroed or overwritten there; the repair rewrites
    // only the node regions) still takes this node's writes: it is reachable.
    if (st.ok() || st.code() == Code::corrupt) ++checked;
    else why += (why.empty() ? "" : "; ") + p + ": " + st.to_string();
  }
  // A majority, as every read of the set needs: a new life starts only when its writes can complete, so
  // that a node whose paths to two members fail writes no life that would land on the third alone (its
  // copy there keeps the node alive in the peer's eyes; review of 4cf5f45, findings 3 and 4). These reads
  // move nothing the peer sees.
  const size_t majority = paths.size() / 2 + 1;
  if (checked < majority)
    return Error(Code::io_error, "only " + std::to_string(checked) + " of " + std::to_string(paths.size()) +
                                     " quorum devices of the set could be re-read, a majority is needed (" + why + ")");
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

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

Status block_daemon_signals() {
  const sigset_t set = daemon_signals();
  if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
    return errno_status("pthread_sigmask", "SIGTERM/SIGINT", rc);
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return errno_status("signal", "SIGPIPE");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Startup

Result<std::unique_ptr<QuorumDaemon>> QuorumDaemon::start(const QuorumdConfig& config) {
  std::unique_ptr<QuorumdEnv> env = make_production_quorumd_env();
  QuorumdEnv& ref = *env;
  auto d = start(config, ref);
  if (!d.ok()) return d.status();
  (*d)->owned_env_ = std::move(env);
  return d;
}

Result<std::unique_ptr<QuorumDaemon>> QuorumDaemon::start(const QuorumdConfig& config, QuorumdEnv& env) {
  std::unique_ptr<QuorumDaemon> d(new QuorumDaemon(config, env));
  RETURN_IF_ERROR(check_device_list(config.devices(), "device"));
  std::vector<std::string> paths;
  for (const std::string& spec : config.devices()) {
    auto path = env.resolve_device(spec);
    if (!path.ok()) return path.status().with_context("quorum device");
    paths.push_back(*path);
  }
  RETURN_IF_ERROR(d->init(paths));
  return d;
}

void QuorumDaemon::watch_device_health(TimePoint now) {
  if (!majority_) return;
  if (!device_report_) device_report_.emplace(superblock_.timing.io_timeout);
  for (size_t i = 0; i < majority_->device_count(); ++i) {
    // Every loop pass: only the time (health() copies names and errors; it is read when there is news).
    const std::optional<bool> lost = device_report_->observe(i, majority_->failing_since(i), now);
    if (!lost) continue;
    const DeviceHealth h = majority_->health(i);
    QuorumdEvent e = event(QuorumdEventKind::device_changed, now);
    e.device_index = i;
    e.device = h.name;
    e.failing = *lost;
    e.redundant = !majority_->degraded();
    e.reason = *lost ? (h.last_error.empty() ? std::string("failing") : h.last_error) : "answers again";
    log::event(*lost ? log::Level::error : log::Level::notice,
               *lost ? "a quorum device of the set is lost" : "a quorum device of the set answers again",
               {{"member", int64_t(i)}, {"device", h.name}, {"redundant", e.redundant ? "yes" : "no"}, {"reason", e.reason}});
    emit_event(e);
  }
}

void QuorumDaemon::repair_damaged_member(TimePoint now) {
  if (!majority_ || done_) return;
  const Duration every = 10 * Duration(superblock_.timing.io_timeout);
  // Damaged copies of the peer's region: only the peer may rewrite it; ask it in our heartbeats for 10 T.
  const uint64_t peer_damaged = majority_->damaged_region_reads(core_->peer_id());
  if (peer_damaged > peer_damaged_seen_) peer_damage_seen_at_ = now;
  peer_damaged_seen_ = peer_damaged;
  core_->set_peer_region_damaged(peer_damage_seen_at_ && now - *peer_damage_seen_at_ < every);
  // Our own region: damaged copies read of it (at start, or our own heartbeat), or the peer asks.
  const uint64_t own_damaged = majority_->damaged_region_reads(node_id_);
  bool asked = false;
  if (const auto& r = core_->peer().record(); r && (r->flags & HeartbeatRecord::kPeerRegionDamaged) != 0 &&
                                              (!repair_asked_by_ || r->seq != *repair_asked_by_)) {
    asked = true;
    repair_asked_by_ = r->seq;
  }
  const bool damaged = own_damaged > own_damaged_seen_;
  own_damaged_seen_ = own_damaged;
  if (!damaged && !asked) return;
  if (last_repair_ && now - *last_repair_ < every) return;
  last_repair_ = now;
  table_->rewrite_region_now();
  log::warning("a quorum device holds damaged copies (zeroed or overwritten blocks) of this node's region: rewriting "
               "it on every member so that it heals",
               {{"seen_by", damaged ? std::string("this node") : std::string("the peer")},
                {"damaged_reads", int64_t(own_damaged)}});
}

void QuorumDaemon::step_device_set_change(TimePoint now) {
  (void)now;
  if (!majority_ || !set_change_ || done_) return;
  const PeerMonitor& peer = core_->peer();
  if (peer.record() && peer.record()->incarnation == peer.incarnation()) set_change_->on_peer_record(*peer.record());
  core_->set_set_posture(set_change_->posted());  // what the heartbeat says changes when this node gets vouched
  switch (set_change_->next(set_new_member_ != nullptr)) {
    case DeviceSetChange::Step::none: return;
    case DeviceSetChange::Step::retire: {
      const uint8_t k = set_change_->pending_slot();
      const uint16_t g = set_change_->pending_generation();
      const std::string old = k < device_paths_.size() ? device_paths_[k] : std::string("?");
      Status st = majority_->replace_device(
          k, std::make_unique<FailedBlockDevice>(old, majority_->geometry(),
                                                 Error(Code::busy, "retired: generation " + std::to_string(g) +
                                                                       " of the set replaces it")));
      if (!st.ok()) {
        log::error("cannot retire a member of the quorum device set", {{"slot", int64_t(k)}, {"error", st.to_string()}});
        return;
      }
      set_change_->retired();
      if (k < slot_in_use_.size()) slot_in_use_[k] = false;
      core_->set_set_posture(set_change_->posted());
      log::notice("quorum device retired: it no longer counts; its replacement counts once the peer has retired it too",
                  {{"slot", int64_t(k)}, {"device", old}, {"generation", int64_t(g)},
                   {"waiting_for", set_change_->waiting_for()}});
      return;
    }
    case DeviceSetChange::Step::adopt: {
      const uint8_t k = set_change_->posture().slot;
      Status st = majority_->replace_device(k, std::move(set_new_member_));
      if (!st.ok()) {
        log::error("cannot put the new member into the quorum device set", {{"slot", int64_t(k)}, {"error", st.to_string()}});
        return;
      }
      set_new_member_.reset();
      if (k < device_paths_.size()) device_paths_[k] = set_new_member_path_;
      if (k < slot_in_use_.size()) slot_in_use_[k] = true;
      set_change_->adopted();
      core_->set_set_posture(set_change_->posted());
      table_->rewrite_region_now();
      log::notice("quorum device adopted: the set is whole again; this node's region is being written to it",
                  {{"slot", int64_t(k)}, {"device", set_new_member_path_},
                   {"generation", int64_t(set_change_->posture().generation)}});
      return;
    }
  }
}

Status QuorumDaemon::open_device_set() {
  auto set = open_quorum_device_set(
      device_paths_,
      [this](const std::string& p) { return env_.open_device(p, QuorumdEnv::Access::read_write); }, clock_,
      kStartupIoTimeout, seal_);
  if (!set.ok()) return set.status().with_context("opening the set of quorum devices " + device_path_);
  std::vector<std::unique_ptr<BlockDevice>> devices;
  device_paths_.clear();
  // A set past a replacement: the member that generation brought in counts only once the peer confirms it no
  // longer counts the old one (device_set_change.h); until then it is held aside and its slot is retired.
  const DeviceSet& ds = set->superblock.devices;
  // It may post generation G only if both other members said G at open (else once the peer posts it, or the
  // tool hands it the new member: device_set_change.h).
  bool vouched = true;
  for (uint32_t i = 0; i < set->members.size(); ++i)
    if (ds.generation > 0 && i != ds.changed_slot &&
        (!set->members[i].superblock || set->members[i].superblock->devices.generation != ds.generation))
      vouched = false;
  set_change_.emplace(SetPosture{uint16_t(ds.generation), ds.generation > 0, uint8_t(ds.changed_slot)}, vouched);
  if (ds.generation > 0 && !set->members[ds.changed_slot].lost()) {
    QuorumDeviceMember& m = set->members[ds.changed_slot];
    set_new_member_ = std::move(m.device);
    set_new_member_path_ = m.path;
    m.device = std::make_unique<FailedBlockDevice>(
        m.path, set_new_member_->geometry(),
        Error(Code::busy, "member " + std::to_string(ds.changed_slot) + " of generation " + std::to_string(ds.generation) +
                              " is not in use until the peer confirms it no longer counts the member it replaced"));
  }
  for (size_t i = 0; i < set->members.size(); ++i) {
    QuorumDeviceMember& m = set->members[i];
    if (m.lost())
      log::error("a quorum device of the set is lost: running on the majority that answers, without redundancy",
                 {{"member", int64_t(i)}, {"device", m.path.empty() ? std::string("(not listed)") : m.path},
                  {"error", m.status.to_string()}});
    device_paths_.push_back(m.path);
    slot_in_use_.push_back(!m.lost() && !(set_new_member_ && ds.generation > 0 && i == ds.changed_slot));
    devices.push_back(std::move(m.device));
  }
  auto dev = MajorityBlockDevice::create(std::move(devices), seal_, set->superblock.cluster_uuid, device_path_);
  if (!dev.ok()) return dev.status().with_context("the set of quorum devices " + device_path_);
  majority_ = dev->get();
  device_ = std::move(dev).value();
  log::info("quorum device set", {{"devices", device_path_},
                                  {"generation", int64_t(set->superblock.devices.generation)},
                                  {"answering", int64_t(set->answering())}});
  return Status::Ok();
}

QuorumDaemon::~QuorumDaemon() = default;

Status QuorumDaemon::init(const std::vector<std::string>& device_paths) {
  device_paths_ = device_paths;
  device_path_.clear();
  for (const auto& p : device_paths) device_path_ += (device_path_.empty() ? "" : " ") + p;
  RETURN_IF_ERROR(setup_seal());
  if (device_paths.size() == 1) {
    auto dev = env_.open_device(device_path_, QuorumdEnv::Access::read_write);
    if (!dev.ok()) return dev.status().with_context("opening the quorum disk");
    device_ = std::move(dev).value();
  } else {
    RETURN_IF_ERROR(open_device_set());
  }
  auto layout = DiskLayout::for_sector_size(device_->geometry().logical_sector_size);
  if (!layout.ok()) return layout.status().with_context(device_path_);
  layout_ = *layout;

  auto snap = read_disk_snapshot(*device_, clock_, kStartupIoTimeout, seal_);
  if (!snap.ok()) return snap.status().with_context("reading the quorum disk");
  if (!snap->valid_superblock() && seal_.authenticated()) {
    // Say why: a disk made without --authenticate, or a superblock whose tag does not verify with this key.
    auto peek = read_disk_snapshot(*device_, clock_, kStartupIoTimeout, RecordSeal::tag_unchecked());
    if (!peek.ok()) return peek.status().with_context("reading the quorum disk");
    if (const Superblock* unchecked = peek->valid_superblock()) {
      RETURN_IF_ERROR(check_authentication(*unchecked));
      return Error(Code::refused, device_path_ + ": the superblock's authentication tag does not verify with the key " +
                                      config_.authkey + " (primary: " + snap->superblock.status.to_string() +
                                      "; backup: " + snap->superblock_backup.status.to_string() +
                                      "): another cluster's key, or a forged superblock; install the cluster's "
                                      "authkey on this node (the same file as on the peer)");
    }
  }
  RETURN_IF_ERROR(check_superblock(*snap));
  if (majority_) RETURN_IF_ERROR(hold_node_lock());
  log::info("quorum disk", {{"device", device_path_},
                            {"cluster", superblock_.cluster_name},
                            {"uuid", superblock_.cluster_uuid.to_string()},
                            {"node_id", node_id_},
                            {"peer", peer_name_},
                            {"timing", superblock_.timing.describe()}});
  if (const char* bugs = test_hook_env("CASTOR_TEST_BUG"); bugs && *bugs) {
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
  // The control socket first: the table service answers through it.
  ControlAccess access;
  if (!config_.status_group.empty()) {
    auto gid = lookup_group(config_.status_group);
    if (!gid.ok()) return gid.status().with_context("status_group");
    access.status_group = *gid;
    access.read_verbs = {"status"};  // what castor status and the web console read; nothing that acts
  }
  auto server = env_.listen(config_.socket_path, std::move(access));
  if (!server.ok()) return server.status().with_context("control socket");
  server_ = std::move(server).value();
  TableService::Options to;
  to.scrub_interval = config_.scrub_interval;
  to.bug_read_block0 = bug_read_block0_;
  auto table = TableService::create(layout_, superblock_, node_id_, seal_, *snap, to, clock_.now(), *server_, *device_, io_);
  if (!table.ok()) return table.status();
  table_ = std::move(table).value();
  superblock_buffer_ = AlignedBuffer(layout_.block_size(), layout_.block_size());
  if (!superblock_buffer_.valid()) return Error(Code::internal, "out of memory for the superblock buffer");
  log_heartbeat_found("mine", snap->nodes[node_id_ - 1].heartbeat);
  log_heartbeat_found("peer", snap->nodes[(node_id_ == 1 ? 2 : 1) - 1].heartbeat);

  RETURN_IF_ERROR(io_.init(layout_, kReadBuffers, seal_));
  completions_.reserve(64);
  RETURN_IF_ERROR(setup_power_fence());  // a bad fence option refuses the start before any socket is bound
  RETURN_IF_ERROR(setup_lan());
  RETURN_IF_ERROR(setup_loop());
  RETURN_IF_ERROR(load_peer_watchdog_fact());

  // Last: a hardware watchdog runs from the moment it is opened, so nothing may fail after this.
  if (config_.power_fence_only()) {
    log::warning("running without a watchdog: this node's power fence is its only fence; its peer takes over "
                 "only after a confirmed power-off (or this node's clean leave), never on the dead time",
                 {{"watchdog_device", "none"}, {"fence", fence_device_for(config_.fence, config_.node)->describe()}});
  } else if (config_.no_watchdog()) {
    log::critical("RUNNING WITHOUT A WATCHDOG (allow_unsafe_no_watchdog = yes): if quorumd hangs, this node may "
                  "keep running services after its peer has declared it dead and taken them over. For tests only.",
                  {{"watchdog_device", "none"}});
  } else {
    auto wd = env_.open_watchdog(config_.watchdog_device, superblock_.timing.watchdog);
    if (!wd.ok()) return wd.status().with_context("watchdog");
    watchdog_ = std::move(wd).value();
    log::info("watchdog open", {{"watchdog", watchdog_->describe()},
                                {"required_ms", int64_t(superblock_.timing.watchdog.count())}});
    if (watchdog_->is_standin())
      log::critical("TEST WATCHDOG STAND-IN (CASTOR_TEST_WATCHDOG_STANDIN=1): not a hardware watchdog; tests only",
                    {{"watchdog", config_.watchdog_device}});
  }
  env_.tune_process(config_);
  return Status::Ok();
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
  if (majority_ == nullptr && !sb->devices.single())
    return Error(Code::refused, device_path_ + " is member " + std::to_string(sb->devices.index) + " of a set of " +
                                    std::to_string(sb->devices.count) + " quorum devices: list all of them in the device "
                                    "setting (one member alone is never the quorum disk)");
  superblock_ = *sb;
  RETURN_IF_ERROR(check_authentication(*sb));
  const std::string& file = config_.config_file;
  if (config_.cluster && *config_.cluster != sb->cluster_name)
    return Error(Code::refused, file + " says cluster '" + *config_.cluster + "', but the quorum disk " + device_path_ +
                                    " belongs to cluster '" + sb->cluster_name + "' (UUID " +
                                    sb->cluster_uuid.to_string() + ")");
  if (config_.cluster_uuid && !(*config_.cluster_uuid == sb->cluster_uuid))
    return Error(Code::refused, file + " pins cluster_uuid " + config_.cluster_uuid->to_string() + ", but the quorum disk " +
                                    device_path_ + " holds cluster '" + sb->cluster_name + "' with UUID " +
                                    sb->cluster_uuid.to_string() + " (a clone or snapshot, or the wrong device)");
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

Status QuorumDaemon::setup_seal() {
  if (!config_.authenticate_disk) {
    seal_ = RecordSeal::crc_only();
    return Status::Ok();
  }
  auto key = load_auth_key(config_.authkey);
  if (!key.ok())
    return key.status().with_context("authenticate_disk = yes in " + config_.config_file + ", but the cluster key");
  auto seal = disk_record_seal(*key);
  if (!seal.ok()) return seal.status().with_context("deriving the disk records key");
  seal_ = *seal;
  log::info("quorum-disk records are authenticated (HMAC-SHA256 with the cluster key)", {{"authkey", config_.authkey}});
  return Status::Ok();
}

Status QuorumDaemon::check_authentication(const Superblock& sb) {
  const std::string& file = config_.config_file;
  if (sb.records_authenticated && !config_.authenticate_disk)
    return Error(Code::refused, "the quorum disk " + device_path_ + " says its records are authenticated (castor init "
                                    "--authenticate), but " + file + " does not: set authenticate_disk = yes in "
                                    "[quorumd] and install the cluster's authkey (" + config_.authkey + ", mode 0600)");
  if (!sb.records_authenticated && config_.authenticate_disk)
    return Error(Code::refused, file + " says authenticate_disk = yes, but the quorum disk " + device_path_ +
                                    " was initialised without authentication (its superblock does not carry the "
                                    "flag): refusing to run unauthenticated (re-initialise it with castor init "
                                    "--authenticate, or set authenticate_disk = no)");
  return Status::Ok();
}

Status QuorumDaemon::setup_lan() {
  if (!config_.lan.enabled()) {
    log::notice("no LAN heartbeat configured ([lan] in castor.ini): a quorum-disk stall that both nodes see "
                "makes both fence", {{"max_stall", format_duration(superblock_.timing.lease)}});
    return Status::Ok();
  }
  auto key = load_auth_key(config_.authkey);
  if (!key.ok())
    return key.status().with_context("[lan] is configured in " + config_.config_file +
                                     " (the LAN heartbeat is always authenticated), but the cluster key");
  const Duration interval = config_.lan.interval ? Duration(*config_.lan.interval) : Duration(superblock_.timing.renew_interval);
  auto lan = LanChannel::open(
      config_.lan, *key, [this](const LanLinkConfig& l, uint16_t port) { return env_.open_lan_socket(l, port); },
      superblock_.cluster_uuid, node_id_, superblock_.timing, interval);
  if (!lan.ok()) return lan.status().with_context("[lan] in " + config_.config_file);
  lan_ = std::move(lan).value();
  log::info("LAN heartbeat", {{"links", int64_t(lan_->link_count())},
                              {"port", int64_t(config_.lan.port)},
                              {"interval", format_duration(interval)},
                              {"max_storage_stall", format_duration(config_.lan.max_storage_stall)}});
  return Status::Ok();
}

Status QuorumDaemon::setup_loop() {
  auto loop = EventLoop::create(daemon_signals());
  if (!loop.ok()) return loop.status().with_context("the event loop");
  loop_.emplace(std::move(loop).value());
  if (device_->completion_fd() >= 0)
    RETURN_IF_ERROR(loop_->add_fd(device_->completion_fd(), EPOLLIN, kKeyDevice).with_context("disk completion fd"));
  RETURN_IF_ERROR(loop_->add_fd(server_->fd(), EPOLLIN, kKeyControl).with_context("control socket"));
  if (lan_)
    for (size_t i = 0; i < lan_->link_count(); ++i)
      if (lan_->fd(i) >= 0) RETURN_IF_ERROR(loop_->add_fd(lan_->fd(i), EPOLLIN, kKeyLan + i).with_context("LAN socket"));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// The core's lifecycle

QuorumDaemon::OwnLivesSeen QuorumDaemon::own_lives_seen() const {
  OwnLivesSeen seen;
  const ReplicaChoice& choice = majority_->chooser();
  for (uint32_t k = 0; k < kRegionBlocks; ++k) {
    const uint64_t off = layout_.region_offset(node_id_) + uint64_t(k) * layout_.block_size();
    for (size_t d = 0; d < choice.devices(); ++d)
      if (auto h = choice.remembered(d, off)) seen.highest = std::max(seen.highest, life_of(h->incarnation));
    if (auto h = choice.handed_out(off)) seen.highest = std::max(seen.highest, life_of(h->incarnation));
  }
  // A member is silent when it never answered a read, or showed no valid copy of a block of this node's
  // region that another member showed valid (damaged there: what it held is unknown).
  for (size_t d = 0; d < choice.devices(); ++d) {
    bool silent = majority_->health(d).reads_ok == 0;
    for (uint32_t k = 0; k < kRegionBlocks && !silent; ++k) {
      const uint64_t off = layout_.region_offset(node_id_) + uint64_t(k) * layout_.block_size();
      if (choice.remembered(d, off)) continue;
      for (size_t o = 0; o < choice.devices() && !silent; ++o) silent = o != d && choice.remembered(o, off).has_value();
    }
    if (silent) seen.silent_members.push_back("member " + std::to_string(d) + " (" + device_paths_[d] + ")");
  }
  return seen;
}

Status QuorumDaemon::hold_node_lock() {
  // Two processes of one node writing its blocks of a set at once -- the first stopped, frozen or stuck on a
  // stalled path, a second started beside it -- is the one schedule in which the set is weaker than one disk:
  // the first life's late writes can hide the second's heartbeat from a member the peer reads, while the first
  // still holds a lease (the model's maj_undead). One disk has no such window (the one block is overwritten).
  // The kernel drops the lock only when the holder's open file goes -- its descriptor and its mapping
  // (common/file_lock.h) -- after its I/O has drained; node_lock_ is destroyed after the devices.
  const std::string path = node_lock_path(kNodeLockDir, superblock_.cluster_uuid, node_id_);
  auto lock = env_.lock_node(path);
  if (!lock.ok()) {
    if (lock.status().code() != Code::busy) return lock.status().with_context("this node's lock");
    return Error(Code::refused,
                 "another quorumd of node " + config_.node + " holds " + path +
                     " (running, stopped, or stuck on I/O that may still land): two processes must never write one "
                     "node's blocks of a set. Stop that process and start this one once it has exited (one stuck "
                     "on a quorum device that never answers exits only when the device does: give the paths "
                     "finite timeouts, e.g. multipath no_path_retry, iSCSI replacement_timeout)");
  }
  node_lock_ = std::move(lock).value();
  return Status::Ok();
}

Result<uint64_t> QuorumDaemon::next_set_incarnation() {
  // On a set the chooser orders this node's copies by (life, seq): the new life's number must be above every
  // earlier life's, durably, before its first write. The file is the source. Without one (a new node, or its
  // state directory lost), what the devices show of this node's region decides -- but only when every member
  // showed its heartbeat block: a member that did not may hold the copy of a later life that never completed
  // a write elsewhere (the model's maj_life_reused: a life number taken twice loses to that copy).
  const std::string path = life_file_path(config_.state_dir, superblock_.cluster_uuid, node_id_);
  auto stored = env_.load_life(path);
  if (!stored.ok()) return stored.status().with_context("this node's life number");
  const OwnLivesSeen seen = own_lives_seen();
  if (*stored == 0 && life_ == 0 && !seen.silent_members.empty()) {
    std::string who;
    for (const auto& m : seen.silent_members) who += (who.empty() ? "" : ", ") + m;
    return Error(Code::refused,
                 "this node's life number: no life file " + path + ", and " + who +
                     " did not show this node's region at start (no answer, or a damaged copy), so a later life of "
                     "this node may be on it unseen (the devices show life " + std::to_string(seen.highest) +
                     " at most). Start again once every member answers, or, if this node's state directory was "
                     "lost, write a number above every life it ever had to that file (e.g. " +
                     std::to_string(uint64_t(seen.highest) + 65536) + ") and start again");
  }
  auto life = next_life(*stored, std::max(life_, seen.highest));
  if (!life.ok()) return life.status();
  if (Status st = env_.store_life(path, *life); !st.ok()) return st.with_context("storing this node's life number");
  if (*stored == 0 && life_ == 0)
    log::notice("no life file (yet): this node's life number follows the highest every member shows",
                {{"file", path}, {"life", int64_t(*life)}});
  life_ = *life;
  auto r = random_u64();
  if (!r.ok()) return r.status().with_context("choosing an incarnation");
  return make_incarnation(*life, uint32_t(r.value()));
}

Status QuorumDaemon::start_core(TimePoint now) {
  Result<uint64_t> inc = uint64_t(0);
  if (majority_) {
    inc = next_set_incarnation();
  } else {
    inc = random_u64();
    for (int i = 0; i < 4 && inc.ok() && *inc == 0; ++i) inc = random_u64();
  }
  if (!inc.ok()) return inc.status().with_context("choosing an incarnation");
  if (*inc == 0) return Error(Code::internal, "getrandom kept returning zero");
  if (core_) keep_peer_watchdog_fact(now);  // what the core being replaced read, to its successor
  keep_fence_subject_current();             // and what it read since the last turn of the fence
  CoreConfig cc;
  cc.cluster_uuid = superblock_.cluster_uuid;
  cc.node_id = node_id_;
  cc.incarnation = *inc;
  cc.timing = superblock_.timing;
  cc.services_digest = services_digest_;
  cc.standby = standby_;
  cc.no_watchdog = config_.power_fence_only();
  cc.peer_no_watchdog = peer_no_watchdog_;
  cc.peer_no_watchdog_only_assumed = peer_no_watchdog_only_assumed_;
  cc.give_up_failed_join = majority_ != nullptr;
  if (set_change_) cc.set_posture = set_change_->posted();
  if (lan_) cc.promises = PromiseTerms::from(superblock_.timing, config_.lan.max_storage_stall);
  core_ = std::make_unique<QuorumCore>(cc, now);
  if (fencer_) core_->set_suspicion_time(suspicion_time());
  core_->set_takes_peer_requests(!request_takers_.empty());
  core_->set_handled_peer_request(handled_request_incarnation_, handled_request_serial_);
  core_->set_started_mark(started_mark_, not_started_);
  peer_request_since_.reset();  // a request of the previous life is not this one's
  ++generation_;
  core_started_ = now;
  peer_observed_ = false;
  lease_acquired_ = false;
  last_lease_expiry_.reset();
  rejoin_at_.reset();
  io_.reset_backoff();
  log::notice(generation_ == 1 ? "joining the cluster" : "rejoining the cluster with a new incarnation",
              {{"incarnation", *inc}, {"life", int64_t(majority_ ? life_ : 0)}, {"node_id", node_id_},
               {"device", device_path_}});
  if (leave_requested_) {
    std::vector<CoreAction> acts;
    core_->request_leave(now, acts);
    execute(acts, now);
  }
  return Status::Ok();
}

Status QuorumDaemon::load_peer_watchdog_fact() {
  const std::string path = peer_watchdog_file_path(config_.state_dir, superblock_.cluster_uuid, node_id_);
  auto known = env_.load_peer_no_watchdog(path);
  if (!known.ok()) return known.status().with_context("whether the peer runs without a watchdog");
  if (!known->has_value()) {
    // Nothing known: a new node, or its state directory lost. A peer this node can power fence may run
    // without a watchdog (its own castor.ini allows that only with a [fence] for it), and if its quorumd hangs
    // with its block torn before this quorumd reads the flag, the dead time would declare dead a node whose
    // services run on. So it is taken for one without a watchdog -- the same as having read the flag -- until a
    // life of it is seen running without the flag (it read this core's writes: PeerMonitor), which a live
    // peer with a watchdog shows within a few reads. Without a [fence] for the peer nothing is assumed: such
    // a peer runs with a watchdog, or castor.ini differs between the nodes.
    // Nothing is stored while only assumed (a restart finds no file and assumes the same again); "none" once
    // the flag is read, "ok" once the peer is seen running without it.
    peer_no_watchdog_ = fencer_ != nullptr;
    peer_no_watchdog_only_assumed_ = peer_no_watchdog_;
    // Without an assumption a missing file stands for "ok" until the flag is read ("none" then); with one,
    // the first fact learned is stored whatever it is.
    if (peer_no_watchdog_) peer_no_watchdog_stored_.reset();
    else peer_no_watchdog_stored_ = false;
    if (peer_no_watchdog_)
      log::notice("no peer-watchdog file (a new node, or a lost state directory): the peer, which this node can "
                  "power fence, is taken for one without a watchdog until it is seen running without the flag; "
                  "until then it is not declared dead on the dead time, nor power fenced before it was seen: "
                  "this node waits for it (or for castor fence PEER --confirm-off)",
                  {{"peer", peer_name_}, {"file", path}});
    return Status::Ok();
  }
  peer_no_watchdog_ = **known;
  peer_no_watchdog_stored_ = **known;
  if (**known)
    log::notice("the peer said to an earlier quorumd of this node that it runs without a watchdog: it is never "
                "declared dead on the dead time, only after a confirmed power fence or its clean leave",
                {{"peer", peer_name_}, {"file", path}});
  return Status::Ok();
}

void QuorumDaemon::keep_peer_watchdog_fact(TimePoint now) {
  if (core_) {
    peer_no_watchdog_ = core_->peer().no_dead_time();
    peer_no_watchdog_only_assumed_ = peer_no_watchdog_ && !core_->peer().no_watchdog_known();
  }
  if (peer_no_watchdog_only_assumed_) return;  // nothing read: the missing file says the same
  if (peer_no_watchdog_stored_ == peer_no_watchdog_) return;
  const std::string path = peer_watchdog_file_path(config_.state_dir, superblock_.cluster_uuid, node_id_);
  if (Status st = env_.store_peer_no_watchdog(path, peer_no_watchdog_); !st.ok()) {
    peer_no_watchdog_stored_.reset();  // tried again next turn
    if (auto n = log_allowed(peer_watchdog_store_log_, now))
      log::error("cannot store whether the peer runs without a watchdog: a restarted quorumd would not know it "
                 "until it reads a valid record of the peer",
                 {{"peer", peer_name_}, {"peer_without_watchdog", peer_no_watchdog_}, {"error", st.to_string()},
                  {"suppressed", int64_t(*n)}});
    return;
  }
  peer_no_watchdog_stored_ = peer_no_watchdog_;
}

void QuorumDaemon::maybe_rejoin(TimePoint now) {
  if (core_->phase() != CorePhase::fenced || !rejoin_at_ || now < *rejoin_at_) return;
  // Wait until every I/O of the fenced incarnation has been reported (completed or timed out).
  if (io_.has_generation(generation_)) return;
  // ...and until the kernel holds none of our writes: one that timed out may still land, and if it landed
  // after the new incarnation's first heartbeat the peer could read the old life's record (a late DOWN,
  // say) as the newest word of this node.
  // On a set of quorum devices: on NO device (total_held, not held_by_kernel's majority-th count): a reader
  // of the stalled device and one other would take such a late write for this node's newest; a device that
  // keeps our writes forever holds the rejoin back until it answers (a replaced member too: it is parked, and its
  // held I/O still counts), as one stalled disk does.
  if ((majority_ ? majority_->total_held() : device_->held_by_kernel()) != 0) return;
  // ...and never while a process of the fenced incarnation's services still lives (the fence's kill
  // failed, or a process does not die): a new incarnation would pet the watchdog again and the node would
  // run a service its peer may take over. Killed again; without pets the watchdog resets the node if they
  // do not end.
  if (groups_.any_alive()) {
    log::critical("fenced: processes of this node's services are still alive after the fence's kill; not "
                  "rejoining (the watchdog is not petted and resets this node if they do not end); killing "
                  "them again",
                  {{"retry_in", format_duration(std::chrono::seconds(1))}});
    (void)groups_.kill_all();
    rejoin_at_ = now + std::chrono::seconds(1);
    return;
  }
  // Never rejoin with a superblock the disk no longer holds (see superblock_unchanged).
  // Only the members the set uses count (not a slot lost at start, retired, or awaiting the peer): a path
  // listed there may be readable while this node's writes to that slot fail.
  std::vector<std::string> in_use = device_paths_;
  for (size_t i = 0; i < in_use.size() && majority_; ++i)
    if (i >= slot_in_use_.size() || !slot_in_use_[i]) in_use[i].clear();
  if (Status sbst = superblock_unchanged_on_devices(env_, in_use, superblock_, layout_, seal_,
                                                   superblock_.timing.io_timeout);
      !sbst.ok()) {
    if (sbst.code() == Code::refused) {
      log::critical("the quorum disk was re-initialised while this node was fenced; exiting instead of rejoining "
                    "with the old cluster's superblock (restart quorumd to join the new cluster)",
                    {{"device", device_path_}, {"reason", sbst.message()}});
      exit_unproven("the quorum disk was re-initialised: " + sbst.message());
      return;
    }
    // Tried again after a renew interval (at most 1 s): the paths' return is seen about as soon as a joining
    // life on one disk would see it (review_join's finding: a shared loss of two members of a set cost
    // ~0.4 s more than one disk at T = 100 ms when this waited 1 s at every scale).
    const Duration retry = std::min<Duration>(std::chrono::seconds(1), superblock_.timing.renew_interval);
    log::error("cannot re-read the superblock before rejoining; retrying",
               {{"error", sbst.to_string()}, {"retry_in", format_duration(retry)}});
    rejoin_at_ = now + retry;
    return;
  }
  Status st = start_core(now);
  if (!st.ok()) {
    log::error("cannot rejoin; retrying in 1s", {{"error", st.to_string()}});
    rejoin_at_ = now + std::chrono::seconds(1);
  }
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
  Status st = io_.submit_read_into(*device_, IoPurpose::superblock_read, off, superblock_buffer_.span(), generation_,
                                   now, now + superblock_.timing.io_timeout);
  if (!st.ok()) {
    log::warning("cannot re-read the superblock (checked every scrub interval)", {{"error", st.to_string()}});
    return;
  }
  superblock_reading_ = true;
}

void QuorumDaemon::superblock_completion(const IoCompletion& c) {
  superblock_reading_ = false;
  if (!c.status.ok()) {
    log::warning("cannot re-read the superblock (checked every scrub interval)", {{"error", c.status.to_string()}});
    return;
  }
  auto sb = superblock_for_reinit_check(superblock_buffer_.span(), layout_, seal_, superblock_);
  if (!sb.ok()) {  // damage (the nemesis writes garbage there): the other copy and castor dump tell more
    log::warning("a superblock copy does not decode (checked every scrub interval)", {{"error", sb.status().to_string()}});
    return;
  }
  if (same_cluster(*sb, superblock_)) return;
  const std::string why = "the quorum disk " + device_path_ + " now belongs to cluster '" + sb->cluster_name +
                          "' (UUID " + sb->cluster_uuid.to_string() + "), not to cluster '" + superblock_.cluster_name +
                          "' (UUID " + superblock_.cluster_uuid.to_string() + ") that this quorumd started with";
  log::critical("the quorum disk was re-initialised under this running node; exiting (restart quorumd to join the "
                "new cluster)", {{"device", device_path_}, {"reason", why}});
  exit_unproven("the quorum disk was re-initialised: " + why);
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
  auto signals = loop_->read_signals();
  if (!signals.ok()) {
    log::error("reading the signalfd failed", {{"error", signals.status().to_string()}});
    return;
  }
  for (const auto& si : *signals) {
    ++signals_seen_;
    const char* name = si.signo == SIGTERM ? "SIGTERM" : si.signo == SIGINT ? "SIGINT" : "signal";
    if (signals_seen_ == 1) {
      log::notice("signal received: leaving the cluster cleanly (send it again to exit at once)",
                  {{"signal", name}, {"from_pid", int64_t(si.pid)}});
      request_leave(now, std::string(name) + " from pid " + std::to_string(si.pid));
    } else {
      log::warning("second signal: exiting at once, without a clean leave; the watchdog stays armed",
                   {{"signal", name}, {"from_pid", int64_t(si.pid)}});
      done_ = true;
      exit_code_ = kQuorumdExitUnclean;
      return;
    }
  }
}

TimePoint QuorumDaemon::next_wakeup(TimePoint now) const {
  TimePoint t = now + superblock_.timing.renew_interval;
  t = std::min(t, core_->next_wakeup());
  t = io_.earliest_deadline(t);
  if (rejoin_at_) t = std::min(t, *rejoin_at_);
  if (lan_) t = std::min(t, lan_->next_wakeup());
  t = std::min(t, table_->next_wakeup(now));
  if (fencer_) t = std::min(t, fencer_->next_wakeup());
  if (fencer_ && fencer_->phase() == PowerFencer::Phase::idle) {  // the probe ahead, on the clock
    if (auto due = core_->suspicion_due(suspicion_time())) {
      const TimePoint probe_at = *due - PowerFencer::probe_lead(suspicion_time());
      if (probe_at > now) t = std::min(t, probe_at);
    }
  }
  if (fence_proc_) t = std::min(t, fence_proc_->next_deadline());
  // Never re-arm into the past: whatever was due has just been done by step().
  return std::max(t, now + std::chrono::microseconds(200));
}

// One turn of the loop: reaps the disk (reading the clock after io_getevents), then runs the timers.
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
  if (lan_) {  // requests and grants of the peer, before the core's timers look at the lease
    lan_->receive(*core_, now, acts, &clock_);
    execute(acts, now);
    announce_lease(now, core_->last_written_seq(), Duration(0));  // a promise may have extended it
  }
  for (IoPurpose read : {IoPurpose::read_own, IoPurpose::read_peer}) {
    if (io_.due(read, now)) {
      submit_read(read, now, acts);
      execute(acts, now);
    }
  }
  update_table_generation();
  core_->tick(now, acts);
  execute(acts, now);
  expire_peer_request(now);
  if (!done_) {
    fence_step(now);
    core_->tick(now, acts);  // a confirmed fence schedules a read of the peer
    execute(acts, now);
  }
  if (lan_ && !done_) lan_->tick(*core_, now);
  keep_peer_watchdog_fact(now);
  maybe_rejoin(now);
  step_device_set_change(now);
  repair_damaged_member(now);
  watch_device_health(now);
  check_superblock_async(now);
  table_->pump(*core_, now);
}

Status QuorumDaemon::join() {
  RETURN_IF_ERROR(start_core(clock_.now()));
  log::notice("quorumd running", {{"socket", server_->path()},
                                  {"pid", int64_t(::getpid())},
                                  {"watchdog", watchdog_                  ? watchdog_->describe()
                                               : config_.power_fence_only() ? std::string("none (its power fence is its only fence)")
                                                                            : std::string("none (UNSAFE)")}});
  return Status::Ok();
}

TimePoint QuorumDaemon::turn() {
  step();
  const TimePoint now = clock_.now();
  if (!done_) pet_watchdog(now);
  return now;
}

int QuorumDaemon::run() {
  if (Status st = join(); !st.ok()) {
    log::error("cannot start", {{"error", st.to_string()}});
    return kQuorumdExitStartup;
  }
  while (!done_) {
    const TimePoint now = turn();
    if (done_) break;
    if (Status st = loop_->arm_timer(next_wakeup(now)); !st.ok()) {
      log::critical("cannot arm the loop timer; exiting without a clean leave", {{"error", st.to_string()}});
      exit_code_ = kQuorumdExitUnclean;
      break;
    }
    auto ready = loop_->wait(std::nullopt);
    if (!ready.ok()) {
      log::critical("waiting for events failed; exiting without a clean leave", {{"error", ready.status().to_string()}});
      exit_code_ = kQuorumdExitUnclean;
      break;
    }
    for (const auto& r : *ready) {
      if (done_) break;
      switch (r.key) {
        case EventLoop::kTimerKey: break;  // drained by wait(); step() runs what is due
        case EventLoop::kSignalKey: handle_signals(clock_.now()); break;
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

}  // namespace castor
