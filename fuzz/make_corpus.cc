// make_corpus: writes the seed corpus of every fuzz target (fuzz/corpus/<target>/) from Castor's own
// encoders, so the seeds are real records and frames, not hand-made bytes. Text seeds (INI files) come
// from etc/ and from the strings below. Usage: make_corpus OUTDIR (run from the repository root).
// Fuzzing only: never installed; writes only below OUTDIR.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "control/control_protocol.h"
#include "control/event_codec.h"
#include "control/reply_codec.h"
#include "control/services_codec.h"
#include "control/table_codec.h"
#include "disk/heartbeat_record.h"
#include "disk/epoch_record.h"
#include "disk/service_table_record.h"
#include "disk/superblock.h"
#include "fuzz/fuzz_lan.h"
#include "lan/lan_datagram.h"

using namespace castor;

namespace {

std::string g_out;

bool write(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::string dir = g_out + "/" + target;
  ::mkdir(g_out.c_str(), 0755);
  ::mkdir(dir.c_str(), 0755);
  std::ofstream f(dir + "/" + name, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  return bool(f);
}

// The options byte of fuzz_block.h, then extra bytes, then the block (trailing zeros cut: the target pads).
std::string block_input(uint8_t opts, const std::string& extra, std::span<const std::byte> block) {
  size_t end = block.size();
  while (end > 0 && block[end - 1] == std::byte{0}) --end;
  std::string s(1, char(opts));
  s += extra;
  s.append(reinterpret_cast<const char*>(block.data()), end);
  return s;
}

uint8_t opts_for(uint32_t sector, uint32_t param, bool reseal) {
  const uint8_t ss = sector == 512 ? 0 : sector == 4096 ? 1 : 2;
  return uint8_t((reseal ? 1 : 0) | (ss << 1) | ((param & 7) << 3));
}

Uuid uuid(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = uint8_t(seed + i * 29);
  return u;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Control-socket seeds serve both the protocol target and the server target (same input format).
bool write_ctl(const std::string& name, const std::string& bytes) {
  return write("control_protocol", name, bytes) && write("control_server", name, bytes);
}

std::string frame(const std::string& payload) {
  auto f = encode_frame(payload);
  return f.ok() ? *f : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_corpus OUTDIR\n";
    return 2;
  }
  g_out = argv[1];
  bool ok = true;
  for (uint32_t ss : {512u, 4096u, 8192u}) {
    const DiskLayout layout = *DiskLayout::for_sector_size(ss);
    std::vector<std::byte> block(layout.block_size());
    const std::string sfx = "_" + std::to_string(ss);

    Superblock sb;
    sb.cluster_uuid = uuid(1);
    sb.cluster_name = "prod-db";
    sb.sector_size = ss;
    sb.nodes[0] = {1, "alpha"};
    sb.nodes[1] = {2, "beta.example"};
    sb.timing = *Timing::from_io_timeout(Millis(ss == 512 ? 2000 : 200));
    sb.service_slots = layout.service_slots();
    sb.created_wall_ns = 1764170000123456789;
    if (!encode_superblock(sb, layout, RecordSeal::crc_only(), block).ok()) return 1;
    ok &= write("superblock", "valid" + sfx, block_input(opts_for(ss, 0, false), "", block));
    ok &= write("superblock", "valid_reseal" + sfx, block_input(opts_for(ss, 0, true), "", block));

    if (ss == 4096) continue;  // the other records' block is the same 4 KiB for 512- and 4096-byte sectors
    for (uint32_t node : {1u, 2u}) {
      HeartbeatRecord hb;
      hb.cluster_uuid = uuid(1);
      hb.node_id = node;
      hb.incarnation = 0x1122334455667788ull + node;
      hb.seq = 42;
      hb.wall_time_ns = 1764170000000000000;
      hb.state = node == 1 ? NodeState::up : NodeState::leaving;
      hb.peer_view = node == 1 ? PeerView::up : PeerView::dead;
      hb.flags = node == 2 ? HeartbeatRecord::kStandby : 0;
      hb.last_io_latency_us = 812;
      hb.max_io_latency_us = 90000;
      hb.services_digest = 0xdeadbeefcafef00dull;
      hb.peer_incarnation = 77;
      hb.peer_seq = 9;
      encode_heartbeat(hb, layout, RecordSeal::crc_only(), block);
      const std::string n = "_node" + std::to_string(node) + sfx;
      ok &= write("heartbeat", "valid" + n, block_input(opts_for(ss, node, false), "", block));
      ok &= write("heartbeat", "valid_reseal" + n, block_input(opts_for(ss, node, true), "", block));

      EpochRecord ep;
      ep.cluster_uuid = uuid(1);
      ep.node_id = node;
      ep.incarnation = 5;
      ep.seq = 3;
      ep.wall_time_ns = 1;
      ep.epoch_floor = 42;
      if (!encode_epoch_record(ep, layout, RecordSeal::crc_only(), block).ok()) return 1;
      ok &= write("epoch_record", "valid" + n, block_input(opts_for(ss, node, false), "", block));
      ok &= write("epoch_record", "valid_reseal" + n, block_input(opts_for(ss, node, true), "", block));

      for (uint32_t index : {0u, 1u, kServiceTableBlocks - 1}) {
        ServiceTableRecord rec;
        rec.cluster_uuid = uuid(1);
        rec.node_id = node;
        rec.block_index = index;
        rec.incarnation = 9;
        rec.seq = 1234;
        rec.wall_time_ns = 5;
        rec.entries.resize(layout.services_per_block());
        rec.entries[0] = {true, OwnershipState::owned, 0, node, 17, 3, 0xabcdef, 77, 2, "web"};
        rec.entries[1] = {true, OwnershipState::releasing, ServiceEntry::kRestartRequest, 0, 19, 5, 2, 79, 1, "db"};
        rec.entries.back() = {true, OwnershipState::claiming, ServiceEntry::kFrozen, 2, 18, 4, 1, 78, 0,
                              std::string(63, 'x')};
        if (!encode_service_table(rec, layout, RecordSeal::crc_only(), block).ok()) return 1;
        const std::string ni = "_node" + std::to_string(node) + "_block" + std::to_string(index) + sfx;
        ok &= write("service_table", "valid" + ni, block_input(opts_for(ss, node, false), std::string(1, char(index)), block));
        ok &= write("service_table", "valid_reseal" + ni,
                    block_input(opts_for(ss, node, true), std::string(1, char(index)), block));
      }
    }
  }
  ok &= write("superblock", "empty", std::string(1, '\0'));
  ok &= write("heartbeat", "empty", std::string(1, char(opts_for(512, 1, false))));

  // LAN datagrams (lan_datagram_fuzz.cc, input layout in fuzz_lan.h): sealed with the target's fixed key.
  for (uint32_t node : {1u, 2u}) {
    for (uint32_t link : {1u, 2u}) {
      LanDatagram d;
      d.cluster_uuid = fuzz::lan_fuzz_cluster();
      d.sender_node = node;
      d.link = link;
      d.incarnation = 0x1122334455667788ull + node;
      d.seq = 42 + link;
      d.echo_incarnation = 0x99;
      d.echo_seq = 17;
      d.echo_hold_us = 1500;
      d.disk_ok = node == 1;
      d.disk_age_ms = node == 1 ? 180 : 4000;
      d.disk_seq = 1234;
      d.peer_view = uint8_t(node);
      d.request_promise = node == 2;
      if (node == 1) {
        d.grant_incarnation = 0x77;
        d.grant_request_seq = 40;
        d.grant_ms = 6000;
      }
      auto b = encode_lan_datagram(d, fuzz::lan_fuzz_seal());
      if (!b.ok()) return 1;
      const std::string bytes(reinterpret_cast<const char*>(b->data()), b->size());
      const std::string n = "_node" + std::to_string(node) + "_link" + std::to_string(link);
      ok &= write("lan_datagram", "valid" + n, std::string(1, char(fuzz::lan_fuzz_options(false, node, link))) + bytes);
      ok &= write("lan_datagram", "valid_reseal" + n,
                  std::string(1, char(fuzz::lan_fuzz_options(true, node, link))) + bytes.substr(0, kLanTagOffset));
      // Delivered on the other link, or expected from the other node.
      ok &= write("lan_datagram", "wrong_link" + n,
                  std::string(1, char(fuzz::lan_fuzz_options(false, node, 3 - link))) + bytes);
      ok &= write("lan_datagram", "wrong_sender" + n,
                  std::string(1, char(fuzz::lan_fuzz_options(false, 3 - node, link))) + bytes);
      if (node == 1 && link == 1) {
        ok &= write("lan_datagram", "truncated", std::string(1, char(0)) + bytes.substr(0, 255));
        ok &= write("lan_datagram", "oversized", std::string(1, char(0)) + bytes + std::string(44, '\0'));
      }
    }
  }
  ok &= write("lan_datagram", "empty", std::string(1, char(fuzz::lan_fuzz_options(true, 1, 1))));

  // castor.ini: the shipped example, with its keys uncommented, and a few bad ones.
  const std::string ini = read_file("etc/castor.ini");
  if (!ini.empty()) {
    ok &= write("quorumd_config", "etc_castor.ini", ini);
    std::string on = ini;
    for (size_t p = 0; (p = on.find("\n;", p)) != std::string::npos;) {
      const size_t eol = on.find('\n', p + 1);
      if (on.substr(p + 2, eol - p - 2).find(" = ") != std::string::npos) on.erase(p + 1, 1);
      ++p;
    }
    ok &= write("quorumd_config", "etc_castor_uncommented.ini", on);
  }
  ok &= write("quorumd_config", "full.ini",
              "[quorumd]\ndevice = /dev/sdb\nnode = alpha\ncluster = demo\nio_timeout_ms = 2000\n"
              "watchdog_device = none\nallow_unsafe_no_watchdog = yes\nsocket = /run/q.sock\n"
              "lock_memory = off\nrealtime = 0\n\n[svcmgr]\nservices_dir = /etc/castor/services.d\n");
  ok &= write("quorumd_config", "bad.ini",
              "\xEF\xBB\xBF  [ quorumd ]\r\ndevice=LABEL=q\r\nnode : beta ; comment\n  continued\n[other]\nx = 1\n"
              "key outside\n[quorumd\nio_timeout_ms = 1e3\nnode = again\n# end\n");

  // Service files: the shipped examples and a few edge cases.
  for (const char* f : {"dummy.ini", "web.ini"}) {
    const std::string text = read_file(std::string("etc/services.d/") + f);
    if (!text.empty()) ok &= write("service_file", f, text);
  }
  ok &= write("service_file", "exec.ini",
              "[service]\nname = app\nnodes = alpha, beta\nrecovery = relocate\nmax_restarts = 3\n"
              "restart_window = 10m\nstart_timeout = 30s\n\n[resource app]\nagent = exec\n"
              "start = /usr/bin/app --start \"quoted arg\"\nstop = /usr/bin/app --stop\nmonitor_interval = 0\n"
              "[resource sh]\nagent = exec\nshell = yes\nstart = echo start ; true\nstop = true\n"
              "[resource ip]\nagent = ocf:heartbeat:IPaddr2\nparam.ip = 10.0.0.5\ncheck_level = 10\n"
              "[resource init]\nagent = lsb:nginx\n[resource unit]\nagent = systemd:foo.service\n");
  ok &= write("service_file", "bad.ini",
              "\xEF\xBB\xBF[service]\nname = -bad\nnodes = alpha,,gamma\nfailback = maybe\nrecovery = restrat\n"
              "[resource]\n[resource x] junk\n[resource y]\nagnet = ocf:a:b\nparam.p = 1\n[service]\n"
              "[resource z]\nagent = exec\nstart = relative/path\n");

  // Control frames: each verb, several frames in one stream, a split one, and malformed ones.
  // Byte 0 of each input is the chunk size minus one (see control_protocol_fuzz.cc, control_server_fuzz.cc).
  const std::vector<std::string> verbs = {"status", "leave", "subscribe", "register-pgid 1234",
                                          "unregister-pgid 1234", "bogus-verb x y z"};
  std::string all;
  for (const auto& v : verbs) {
    ok &= write_ctl("verb_" + v.substr(0, v.find(' ')), std::string(1, char(255)) + frame(v));
    all += frame(v);
  }
  ok &= write_ctl("stream_all_chunk1", std::string(1, char(0)) + all);
  ok &= write_ctl("stream_all_chunk7", std::string(1, char(6)) + all);
  std::string big = frame(std::string(kMaxPayload, 'a'));
  ok &= write_ctl("max_payload", std::string(1, char(255)) + big);
  const std::string huge("\x00\x00\x00\x40\x01\x00", 6);  // 1 GiB declared
  ok &= write_ctl("declared_1GiB", std::string(1, char(255)) + huge + "status");
  ok &= write_ctl("version2", std::string(1, char(255)) + std::string("\x06\x00\x00\x00\x02\x00status", 12));
  ok &= write_ctl("nonprintable", std::string(1, char(255)) + frame("status\nleave"));
  // Control messages (control_codec_fuzz.cc gives every input to every parser): each from its encoder.
  {
    ServiceEntry e;
    e.in_use = true;
    e.name = "web";
    e.state = OwnershipState::owned;
    e.node = 2;
    e.epoch = 5;
    e.ballot = 3;
    e.flags = ServiceEntry::kFrozen;
    e.restarts = 1;
    e.definition_digest = 99;
    e.changed_wall_ns = 1700000000000000000;
    ok &= write("control_codec", "table_set_args", encode_table_set_args(TableSetRequest::from_entry(e)));
    ok &= write("control_codec", "table_set_reply", encode_table_set_reply({123456789}));
    ok &= write("control_codec", "refused", encode_error_reply("no lease: this node may not write"));
    ok &= write("control_codec", "admin_reply", encode_admin_reply("enable web accepted"));
    ServicesReply services;
    services.node = "alpha";
    services.peer = "beta";
    services.peer_view = PeerView::up;
    services.load_errors.push_back("x.ini:3: unknown key");
    ServiceStatus st;
    st.name = "web";
    st.state = "started";
    st.owner = "alpha";
    st.epoch = 5;
    st.restarts = 1;
    st.max_restarts = 3;
    st.phase = "running";
    st.last_failure = ServiceStatus::Failure{"monitor: not running", 1500};
    st.pending = "relocate to beta";
    services.services.push_back(st);
    st.name = "db";
    st.last_failure.reset();
    st.pending.reset();
    st.peer_entry = "unknown (corrupt record at block 3)";
    st.orphaned = "orphaned";
    services.services.push_back(st);
    ok &= write("control_codec", "services", encode_services_reply(services));
    ok &= write("control_codec", "status",
                "{\"ok\":true,\"node\":{\"id\":2,\"name\":\"beta\"},\"standby\":false,\"peer\":{\"id\":1,"
                "\"name\":\"alpha\",\"view\":\"UP\"},\"timing_ms\":{\"io_timeout\":2000,\"renew_interval\":1000}}");
    TableOwnReply own;
    own.entries.push_back({e, std::nullopt, std::nullopt});
    own.own_epoch_floor = 5;
    own.corrupt_blocks.push_back({3, "bad CRC", std::nullopt});
    ok &= write("control_codec", "table_own", encode_table_own_reply(own));
    TablePeerReply peer;
    peer.read_issued_boottime_ns = 1000;
    peer.entries.push_back({e, 0, 7});
    e.name = "db";
    e.state = OwnershipState::claiming;
    peer.entries.push_back({e, 1, 7});
    peer.corrupt_blocks.push_back({4, "torn", 0xDEADBEEF});
    peer.peer_epoch_floor = 5;
    peer.own_epoch_floor = 6;
    peer.peer = {PeerView::up, 7, 900, true, 42, false};
    ok &= write("control_codec", "table_peer", encode_table_peer_reply(peer));
    peer.peer_epoch_floor.reset();
    peer.peer_epoch_floor_error = "epoch record: bad magic";
    ok &= write("control_codec", "table_peer_no_floor", encode_table_peer_reply(peer));
    QuorumdEvent ev;
    ev.node = "alpha";
    ev.incarnation = 3;
    ev.boottime_ns = 5000;
    ev.seq = 17;
    ev.lease_expiry_boottime_ns = 9000;
    ok &= write("control_codec", "event_lease_renewed", encode_quorumd_event(ev));
    ev.lease_expiry_boottime_ns.reset();
    ev.reason = "renewal late";
    for (QuorumdEventKind k : {QuorumdEventKind::lease_at_risk, QuorumdEventKind::leaving, QuorumdEventKind::fenced,
                               QuorumdEventKind::left, QuorumdEventKind::peer_changed}) {
      ev.kind = k;
      ev.fences = k == QuorumdEventKind::fenced ? 1 : 0;
      if (k == QuorumdEventKind::peer_changed) {
        ev.peer = "beta";
        ev.from = PeerView::up;
        ev.to = PeerView::dead;
        ev.peer_incarnation = 4;
      }
      ok &= write("control_codec", std::string("event_") + quorumd_event_name(k), encode_quorumd_event(ev));
    }
  }
  if (!ok) {
    std::cerr << "make_corpus: could not write every file under " << g_out << "\n";
    return 1;
  }
  return 0;
}
