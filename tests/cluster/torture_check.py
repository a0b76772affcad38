#!/usr/bin/env python3
"""The torture run's checker: reads only evidence gathered outside the nodes and prints the verdict.

    torture_check.py --dir RUN_DIR --ledger-file FILE --seed S --out JSON

RUN_DIR holds, from tests/cluster/torture.sh and the harness:
  ledger.log        the ledger writer's evidence: "start NODE EPOCH SEQ", "ack EPOCH NODE SEQ [MS]",
                    "stop NODE EPOCH SEQ", in the order they happened (O_APPEND from both nodes)
  mounts.log        tests/cluster/mount_watch.py: where each shared filesystem was mounted, and overlaps
  mounts-marks.log  "mount|umount NODE EPOCH SERVICE" from the web service, at its mount and unmount
  probe.log         tests/cluster/http_probe.py: "MS ok|fail", the client's view of web
  faults.log        "fault N KIND VICTIM SERVICE WALL_TIME MONOTONIC_MS" then "settled MS" or "unsettled"
  fsck.log          "DISK clean|dirty" per shared ext4 disk
  svc-evidence.log  tests/cluster/svc_proc.sh, the light services svc01..: "start|stop NODE EPOCH NS NAME PID",
                    "conflict NODE EPOCH NS NAME PID HOLDER_NODE HOLDER_EPOCH HOLDER_PID" (lock found held)
  svc-ends.log      tests/cluster/svc_watch.py: "end|open NODE EPOCH NS NAME PID", each copy's exit as seen
  kills.log         the harness: "kill NODE NS" after a node's reset, "end NS" when the run ended
  probe-director.log (DIRECTOR=1) tests/cluster/http_probe.py through the director's floating IP: "MS ok|fail"
  db-acks.log       (DB=1) tests/cluster/db_client.py: "ack SEQ EPOCH NODE MS", "fail ...", "indoubt ..."
  faults.log        also "detail N corrupt_block NODE BLOCK_NAME BLOCK HOW", "detail N init_force
                    refused|accepted RC MESSAGE", "detail N restored_header", "detail N fences F resets R
                    svc_kills K risk_stops S" (how many times a node fenced, was reset, its svcmgr killed every
                    service itself, and stopped every service as the lease was at risk, from fault N's start
                    until it settled; FENCE=1 adds "power_fences P power_verdicts V": power fences of the peer
                    begun, and peers declared dead on a confirmed power-off), "detail N crashed NODE NS T" (a
                    crash or fence_fail fault: NODE's processes were killed from NS on, io_timeout T ms);
                    RESOURCE_FAULTS=1 (tests/cluster/resource_faults.sh): "detail N moves M web W ledger L regrants R"
                    (how many services ran on another node once fault N settled than before it, and how many
                    were granted anew, with a greater epoch, meanwhile: its failovers), and "detail N
                    slow_disk|cpu_starve|mem_pressure NODE KEY VALUE ..." (what the fault did: quorumd's write
                    latencies, the CPU throttling, the memory limit and the OOM kills);
                    "detail N realserver_kill NAME MS CHANGES" (DIRECTOR=1: a real server's HTTP server killed
                    for MS ms; CHANGES: the director's state changes meanwhile, which must be 0)
FILE is the ledger file as read from the ledger disk after the run.

Takeovers: after a crash (crash, fence_fail), the first start on the other node of a light service whose copy
ran on the crashed node, measured from the crash. A fence_fail fault (the crashed node's BMC unreachable) must
end in no confirmed power fence, and its takeover must come no sooner than D - T (D = 6T; the crash can come up
to a heartbeat interval plus a write after the last heartbeat the peer saw): a takeover earlier than that
without a confirmed fence is a failed fence taken for a success, and fails the run.

Split-brains, two kinds: (older) a ledger record (start, ack or stop) of an older epoch after a newer epoch
started, or a service granted (started, mounted) with an older epoch than one granted before; (same epoch)
one epoch of a service held by two nodes: a ledger record, a start of a light service or a mount mark of
web with the epoch another node already started it with. An epoch is a fencing token: every grant must carry
a greater one than any grant before, whatever was lost or corrupted. Services on both nodes: a light
service's copies on two nodes whose lives [start, end] overlap, where start is logged before the copy
exists and end is the earliest of its stop (logged after it is gone), its exit seen from outside (pidfd)
and its node's reset as the harness logged it: an interval that can only be too long, never too short; and
a copy that found the service's lock held by a copy on the other node. Lost records: acknowledged records missing from the ledger file
(acknowledged = made durable with fsync and reported outside). Overlaps: a filesystem seen mounted on both
nodes at once, or a mount mark whose epoch does not grow. Exits 1 if any of them is not 0 or a disk is
not clean, a light service ran on both nodes at once, or `castor init --force` on the live disk was not
refused.
The director (DIRECTOR=1): its availability and outages as the client saw them through its floating IP, by
the fault they followed, and the real server kills during which Castor changed the director's state (it must
not: HAProxy's health checks take a dead real server out). Such a change fails the run."""
import argparse, json, os, re, sys


def lines(path):
    try:
        with open(path) as f:
            return [l.split() for l in f if l.strip()]
    except FileNotFoundError:
        return []


def split_brains(evidence):
    """Ledger records: (older, same, examples)."""
    newest, owner, older, same, examples = 0, None, 0, 0, []
    for rec in evidence:
        if rec[0] == 'start':
            node, epoch = rec[1], int(rec[2])
        elif rec[0] == 'ack':
            epoch, node = int(rec[1]), rec[2]
        elif rec[0] == 'stop':
            node, epoch = rec[1], int(rec[2])
        else:
            continue
        if epoch < newest or (epoch == newest and node != owner):
            if epoch < newest:
                older += 1
            else:
                same += 1
            if len(examples) < 5:
                examples.append('ledger: ' + ' '.join(rec) + f' (after epoch {newest} of {owner} started)')
        if rec[0] == 'start' and epoch > newest:
            newest, owner = epoch, node
    return older, same, examples


def epoch_grants(grants):
    """grants: (time, service, node, epoch) in time order. Each grant's epoch must exceed every earlier
    grant's of that service, except a restart in place (same node, same epoch as the newest).
    Returns (older, same, examples)."""
    newest, older, same, examples = {}, 0, 0, []
    for t, svc, node, epoch in grants:
        if svc in newest:
            e, n = newest[svc]
            if epoch < e or (epoch == e and node != n):
                kind = 'an older epoch' if epoch < e else 'the same epoch'
                if epoch < e:
                    older += 1
                else:
                    same += 1
                if len(examples) < 5:
                    examples.append(f'{svc} granted to {node} with {kind} ({epoch}) after {n} held epoch {e}')
                if epoch < e:
                    continue
        newest[svc] = (epoch, node)
    return older, same, examples


def light_services(ev, ends, kills):
    """The light services' copies: (grants, overlaps, conflicts_cross, conflicts_same, copies)."""
    run_end = max([t for n, t in kills if n is None] or [None], key=lambda x: x or 0)
    end_of, stop_of = {}, {}
    for r in ends:
        if len(r) == 6 and r[0] in ('end', 'open'):
            end_of.setdefault((r[4], r[5]), int(r[3]))
    starts, conflicts_cross, conflicts_same = [], [], []
    for r in ev:
        if len(r) == 6 and r[0] == 'start':
            starts.append((int(r[3]), r[4], r[1], int(r[2]), r[5]))
        elif len(r) == 6 and r[0] == 'stop' and r[5] != 'none':
            stop_of.setdefault((r[4], r[5]), int(r[3]))
        elif len(r) >= 6 and r[0] == 'conflict':
            holder = r[6] if len(r) > 6 else '?'
            text = (f'{r[4]}: a copy on {r[1]} (epoch {r[2]}) found the lock held by a copy on {holder}'
                    f' (epoch {r[7] if len(r) > 7 else "?"})')
            (conflicts_same if holder == r[1] else conflicts_cross).append(text)
    starts.sort()
    copies = {}
    for t0, svc, node, epoch, pid in starts:
        bounds = [b for b in (end_of.get((svc, pid)), stop_of.get((svc, pid))) if b is not None]
        bounds += [t for n, t in kills if n == node and t > t0][:1]
        if run_end:
            bounds.append(run_end)
        copies.setdefault(svc, []).append((t0, min(bounds) if bounds else float('inf'), node, epoch))
    overlaps = []
    for svc, cs in sorted(copies.items()):
        for i, a in enumerate(cs):
            for b in cs[i + 1:]:
                if a[2] != b[2] and a[0] < b[1] and b[0] < a[1]:
                    ms = (min(a[1], b[1]) - max(a[0], b[0])) / 1e6
                    overlaps.append((svc, f'{svc} ran on {a[2]} (epoch {a[3]}) and {b[2]} (epoch {b[3]}) at once'
                                          f' for {ms:.0f} ms'))
    grants = [(t0, svc, node, epoch) for t0, svc, node, epoch, _ in starts]
    return grants, overlaps, conflicts_cross, conflicts_same, sum(len(c) for c in copies.values())


def takeovers(crashes, ev):
    """crashes: {fault: (node, ns, t_ms)}. Returns {fault: ms from the crash to the first start, on the other
    node, of a light service whose last copy before the crash ran on the crashed node} (None: no such start)."""
    starts = sorted((int(r[3]), r[4], r[1]) for r in ev if len(r) == 6 and r[0] == 'start')
    out = {}
    for fault, (node, ns, _t) in crashes.items():
        last = {}
        for t, svc, n in starts:
            if t >= ns:
                break
            last[svc] = n
        first = next((t for t, svc, n in starts if t >= ns and n != node and last.get(svc) == node), None)
        out[fault] = None if first is None else (first - ns) // 1_000_000
    return out


def lost_records(evidence, ledger):
    on_disk = {(int(r[0]), r[1], int(r[2])) for r in ledger if len(r) == 3}
    acked = [(int(r[1]), r[2], int(r[3])) for r in evidence if r[0] == 'ack']
    lost = [a for a in acked if a not in on_disk]
    seqs = [int(r[2]) for r in ledger if len(r) == 3]
    disorder = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    return len(acked), lost, disorder


def mount_overlaps(watch, marks):
    overlaps = [' '.join(r) for r in watch if len(r) == 3 and r[1] == 'overlap']
    last, bad = {}, []
    for r in marks:
        if r[0] != 'mount':
            continue
        node, epoch, svc = r[1], int(r[2]), r[3]
        if svc in last and epoch <= last[svc][1] and node != last[svc][0]:
            bad.append(f'{svc} mounted by {node} in epoch {epoch} after {last[svc][0]} in epoch {last[svc][1]}')
        last[svc] = (node, max(epoch, last.get(svc, (None, 0))[1]))
    mounts = sum(1 for r in watch if len(r) == 4 and r[3] == 'mounted')
    return overlaps, bad, mounts


def kernel_overlaps(kernel_lines, loop_map):
    """From the kernel log: a filesystem (by UUID) mounted through one node's loop device while it was
    still mounted through the other's -- at the superblock level, which can outlive a namespace's mount."""
    node_of = {}
    words = loop_map.split()
    for i in range(0, len(words), 3):
        for dev in words[i + 1:i + 3]:
            node_of[dev.replace('/dev/', '')] = words[i]
    mounted, bad, events = {}, [], 0
    pattern = re.compile(r'\[\s*([0-9.]+)\] EXT4-fs \((loop\d+)\): (mounted|unmounting) filesystem ([0-9a-f-]+)')
    for line in kernel_lines:
        m = pattern.search(line)
        if not m or m.group(2) not in node_of:
            continue
        t, dev, what, uuid = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        events += 1
        holders = mounted.setdefault(uuid, set())
        if what == 'mounted':
            others = {node_of[x] for x in holders} - {node_of[dev]}
            if others:
                bad.append(f'[{t:.3f}] {uuid[:8]} mounted by {node_of[dev]} ({dev}) while mounted by '
                           + ', '.join(sorted(others)))
            holders.add(dev)
        else:
            holders.discard(dev)
    return bad, events


def availability(probe, fault_starts=()):
    """(percent ok, outage lengths, outages by kind). fault_starts: (monotonic ms, kind) of each fault; an
    outage counts for the last fault that began before it ('start': none had)."""
    results = [(int(r[0]), r[1] == 'ok') for r in probe if len(r) == 2]
    if not results:
        return 0.0, [], {}
    outages, spans, start = [], [], None
    for ms, ok in results:
        if not ok and start is None:
            start = ms
        elif ok and start is not None:
            outages.append(ms - start)
            spans.append((start, ms - start))
            start = None
    if start is not None:
        outages.append(results[-1][0] - start)
        spans.append((start, results[-1][0] - start))
    ok = sum(1 for _, k in results if k)
    return 100.0 * ok / len(results), outages, outages_by_kind(spans, fault_starts)


def outages_by_kind(spans, fault_starts):
    """spans [(start ms, length ms)] -> {kind of the last fault begun before the start: {n, max_ms}}."""
    by_kind = {}
    for t, length in spans:
        before = [k for ms, k in fault_starts if ms <= t]
        k = by_kind.setdefault(before[-1] if before else 'start', {'n': 0, 'max_ms': 0})
        k['n'] += 1
        k['max_ms'] = max(k['max_ms'], length)
    return by_kind


ACK_GAP_MS = 500  # a client that commits every 20-50 ms and got no acknowledgement for this long saw an outage


def ack_availability(ack_ms, end_ms, fault_starts, gap_ms=ACK_GAP_MS):
    """The view of a client that writes continuously (the ledger, the db client): ack_ms, the CLOCK_MONOTONIC
    ms of each acknowledgement, in order; end_ms, the end of the run on the same clock (None: the last ack).
    An outage is a gap of more than gap_ms between two acknowledgements (or from the last one to the end):
    its length is the whole gap. Returns a dict (availability over the time from the first ack to the end,
    outage lengths, outages by kind) or None without acknowledgements."""
    if not ack_ms:
        return None
    end = max(ack_ms[-1], end_ms or 0)
    points = ack_ms + ([end] if end > ack_ms[-1] else [])
    gaps = [(a, b) for a, b in zip(points, points[1:]) if b - a > gap_ms]
    whole = end - ack_ms[0]
    down = sum(b - a for a, b in gaps)
    # A gap begins at the last acknowledgement, usually before the fault that caused it: it is put down to the
    # last fault begun before its end.
    return {'availability_percent': round(100.0 * (whole - down) / whole, 3) if whole > 0 else 100.0,
            'outages_ms': summary([b - a for a, b in gaps]),
            'outages_by_kind': outages_by_kind([(b - 1, b - a) for a, b in gaps], fault_starts), 'gap_ms': gap_ms}


def summary(values):
    v = sorted(values)
    if not v:
        return None
    pick = lambda q: v[min(len(v) - 1, max(0, (len(v) * q + 99) // 100 - 1))]
    return {'n': len(v), 'min': v[0], 'median': v[(len(v) - 1) // 2], 'p95': pick(95), 'max': v[-1]}


def print_availability(label, percent, o, by_kind, by_kind_label):
    print(f'{label}: {percent:.2f} %' +
          (f'; {o["n"]} outages, ms: min {o["min"]} median {o["median"]} p95 {o["p95"]} max {o["max"]}' if o else ''))
    if by_kind:
        print(f'{by_kind_label}: ' + ', '.join(f"{k} {v['n']} (max {v['max_ms']} ms)" for k, v in sorted(by_kind.items())))


STUCK_AFTER = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--ledger-file', required=True)
    ap.add_argument('--seed', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    d = a.dir
    evidence = lines(os.path.join(d, 'ledger.log'))
    sb_older, sb_same, sb_examples = split_brains(evidence)
    kills = []
    for r in lines(os.path.join(d, 'kills.log')):
        if r[0] == 'kill' and len(r) == 3:
            kills.append((r[1], int(r[2])))
        elif r[0] == 'end' and len(r) == 2:
            kills.append((None, int(r[1])))
    grants, svc_overlaps, conflicts_cross, conflicts_same, copies = light_services(
        lines(os.path.join(d, 'svc-evidence.log')), lines(os.path.join(d, 'svc-ends.log')), kills)
    # web's grants are its mount marks (written by the node that mounts, in the epoch it holds)
    grants += [(i, r[3], r[1], int(r[2])) for i, r in enumerate(lines(os.path.join(d, 'mounts-marks.log')))
               if len(r) == 4 and r[0] == 'mount']
    g_older, g_same, g_examples = epoch_grants(
        sorted([g for g in grants if g[1] != 'web']) +
        [g for g in grants if g[1] == 'web'])  # web's marks are in log order, not timed
    sb_older += g_older
    sb_same += g_same
    sb_examples = (sb_examples + g_examples)[:8]
    sb = sb_older + sb_same
    both_services = sorted({svc for svc, _ in svc_overlaps} | {c.split(':')[0] for c in conflicts_cross})
    acked, lost, disorder = lost_records(evidence, lines(a.ledger_file))
    overlaps, epoch_faults, mounts = mount_overlaps(lines(os.path.join(d, 'mounts.log')),
                                                    lines(os.path.join(d, 'mounts-marks.log')))
    try:
        kernel = open(os.path.join(d, 'kernel-mounts.log')).read().splitlines()
        loop_map = open(os.path.join(d, 'loops.map')).read()
    except FileNotFoundError:
        kernel, loop_map = [], ''
    kernel_bad, kernel_events = kernel_overlaps(kernel, loop_map)
    fault_starts = [(int(r[6]), r[2]) for r in lines(os.path.join(d, 'faults.log'))
                    if r[0] == 'fault' and len(r) >= 7 and r[6].isdigit()]
    avail, outages, outages_by_kind = availability(lines(os.path.join(d, 'probe.log')), fault_starts)
    faults, settle, unsettled = {}, [], 0
    # A correct cluster settles after every fault. STUCK_AFTER faults in a row that do not settle is a hang
    # (a leave that never ends, a service nobody starts): every later fault is then meaningless.
    last_fault, run_unsettled, stuck_runs, stuck_at = '0', [], 0, []
    corrupted, init_refused, init_accepted, header_restores = {}, [], [], 0
    kind_of, fences_by_kind, crashes, power_verdicts_of = {}, {}, {}, {}
    moves_by_kind, resource_details = {}, []
    rs_kills, rs_bad = 0, []
    for r in lines(os.path.join(d, 'faults.log')):
        if r[0] == 'detail' and len(r) >= 3:
            if r[2] == 'fences' and len(r) >= 6 and r[1] in kind_of:
                k = fences_by_kind.setdefault(kind_of[r[1]], {'faults': 0, 'fences': 0, 'resets': 0, 'svc_kills': 0,
                                                              'risk_stops': 0, 'power_fences': 0, 'power_verdicts': 0,
                                                              'faults_without_any': 0})
                kills = int(r[7]) if len(r) >= 8 and r[6] == 'svc_kills' else 0
                stops = int(r[9]) if len(r) >= 10 and r[8] == 'risk_stops' else 0
                pfences = int(r[11]) if len(r) >= 12 and r[10] == 'power_fences' else 0
                pverdicts = int(r[13]) if len(r) >= 14 and r[12] == 'power_verdicts' else 0
                power_verdicts_of[r[1]] = pverdicts
                k['faults'] += 1
                k['fences'] += int(r[3])
                k['resets'] += int(r[5])
                k['svc_kills'] += kills
                k['risk_stops'] += stops
                k['power_fences'] += pfences
                k['power_verdicts'] += pverdicts
                k['faults_without_any'] += (int(r[3]) == 0 and int(r[5]) == 0 and kills == 0 and stops == 0
                                            and pfences == 0)
            elif r[2] == 'crashed' and len(r) >= 6:
                crashes[r[1]] = (r[3], int(r[4]), int(r[5]))
            elif r[2] == 'corrupt_block' and len(r) >= 7:
                corrupted[r[4]] = corrupted.get(r[4], 0) + 1
            elif r[2] == 'init_force' and len(r) >= 5:
                (init_refused if r[3] == 'refused' else init_accepted).append(
                    f'fault {r[1]}: exit {r[4]}: ' + ' '.join(r[5:]).replace('_', ' '))
            elif r[2] == 'restored_header':
                header_restores += 1
            elif r[2] == 'moves' and len(r) >= 8 and r[1] in kind_of:
                m = moves_by_kind.setdefault(kind_of[r[1]], {'faults': 0, 'services_moved': 0, 'web_moves': 0,
                                                             'ledger_moves': 0, 'faults_with_moves': 0, 'regrants': 0})
                m['faults'] += 1
                m['services_moved'] += int(r[3])
                m['web_moves'] += int(r[5])
                m['ledger_moves'] += int(r[7])
                m['faults_with_moves'] += int(r[3]) > 0
                m['regrants'] += int(r[9]) if len(r) >= 10 and r[8] == 'regrants' else 0
            elif r[2] in ('slow_disk', 'cpu_starve', 'mem_pressure') and len(r) >= 4:
                resource_details.append({'fault': int(r[1]), 'kind': r[2], 'node': r[3], 'detail': ' '.join(r[4:])})
            elif r[2] == 'realserver_kill' and len(r) >= 6:
                rs_kills += 1
                if int(r[5]):
                    rs_bad.append(f'fault {r[1]}: {r[5]} state changes of the director while real server {r[3]}'
                                  f' was down for {r[4]} ms')
        elif r[0] == 'fault':
            faults[r[2]] = faults.get(r[2], 0) + 1
            kind_of[r[1]] = r[2]
        elif r[0] == 'settled':
            settle.append(int(r[1]))
        elif r[0] == 'unsettled':
            unsettled += 1
            run_unsettled.append(last_fault)
            stuck_runs = max(stuck_runs, len(run_unsettled))
            if len(run_unsettled) == STUCK_AFTER:
                stuck_at.append(run_unsettled[0])
        if r[0] == 'fault' and len(r) >= 2:
            last_fault = r[1]
        elif r[0] == 'settled':
            run_unsettled = []
    fsck = {r[0]: r[1] for r in lines(os.path.join(d, 'fsck.log'))}
    took = takeovers(crashes, lines(os.path.join(d, 'svc-evidence.log')))
    takeover_by_kind, fence_fail_bad = {}, []
    for fault, ms in sorted(took.items(), key=lambda x: int(x[0])):
        kind = kind_of.get(fault, '?')
        if ms is not None:
            takeover_by_kind.setdefault(kind, []).append(ms)
        if kind == 'fence_fail':
            node, _ns, t = crashes[fault]
            if power_verdicts_of.get(fault, 0):
                fence_fail_bad.append(f'fault {fault}: {power_verdicts_of[fault]} peers declared dead on a confirmed'
                                      f' power-off while the BMC of {node} was unreachable')
            if ms is not None and ms < 5 * t:
                fence_fail_bad.append(f'fault {fault}: a service of {node} started on its peer {ms} ms after the'
                                      f' crash, before D - T = {5 * t} ms, with its BMC unreachable')
    # The ledger's and the database's own clients (each acknowledgement timed): their outages, as web's.
    probe_end = [int(r[0]) for r in lines(os.path.join(d, 'probe.log')) if len(r) == 2 and r[0].isdigit()]
    end_ms = probe_end[-1] if probe_end else None
    ledger_avail = ack_availability([int(r[4]) for r in evidence if r[0] == 'ack' and len(r) >= 5 and r[4].isdigit()],
                                    end_ms, fault_starts)
    db_avail = ack_availability([int(r[4]) for r in lines(os.path.join(d, 'db-acks.log'))
                                 if r[0] == 'ack' and len(r) >= 5 and r[4].isdigit()], end_ms, fault_starts)
    director = None
    director_probe = os.path.join(d, 'probe-director.log')
    if os.path.exists(director_probe):
        d_avail, d_outages, d_by_kind = availability(lines(director_probe), fault_starts)
        director = {'availability_percent': round(d_avail, 3), 'outages_ms': summary(d_outages),
                    'outages_by_kind': d_by_kind, 'realserver_kills': rs_kills,
                    'realserver_kill_castor_actions': len(rs_bad), 'realserver_kill_castor_action_examples': rs_bad[:5]}
    result = {
        'seed': int(a.seed), 'faults': faults, 'faults_total': sum(faults.values()),
        'split_brains': sb, 'older_epoch_split_brains': sb_older, 'same_epoch_split_brains': sb_same,
        'split_brain_examples': sb_examples,
        'light_service_copies': copies, 'services_on_both_nodes': len(both_services),
        'light_service_overlaps': len(svc_overlaps), 'lock_conflicts_across_nodes': len(conflicts_cross),
        'lock_conflicts_same_node': len(conflicts_same),
        'services_on_both_nodes_examples': ([e for _, e in svc_overlaps] + conflicts_cross)[:8],
        'corrupted_blocks': corrupted, 'superblock_restores': header_restores,
        'init_force_refused': len(init_refused), 'init_force_accepted': len(init_accepted),
        'init_force_accepted_examples': init_accepted[:3],
        'acknowledged_records': acked, 'lost_records': len(lost), 'lost_examples': [list(x) for x in lost[:5]],
        'ledger_sequence_breaks': disorder,
        'mounts_seen': mounts, 'mount_overlaps': len(overlaps) + len(epoch_faults),
        'mount_overlap_examples': (overlaps + epoch_faults)[:5],
        'kernel_mount_events': kernel_events, 'kernel_double_mounts': len(kernel_bad),
        'kernel_double_mount_examples': kernel_bad[:5],
        'fsck': fsck, 'availability_percent': round(avail, 3),
        'outages_ms': summary(outages), 'outages_by_kind': outages_by_kind, 'settle_ms': summary(settle), 'unsettled': unsettled,
        'longest_unsettled_run': stuck_runs, 'stuck_from_fault': stuck_at,
        'fences_by_kind': fences_by_kind, 'moves_by_kind': moves_by_kind, 'resource_faults': resource_details,
        'takeover_ms_by_kind': {k: summary(v) for k, v in sorted(takeover_by_kind.items())},
        'fence_fail_violations': len(fence_fail_bad), 'fence_fail_violation_examples': fence_fail_bad[:5],
        'director': director, 'ledger_availability': ledger_avail, 'db_availability': db_avail,
    }
    with open(a.out, 'w') as f:
        json.dump(result, f, indent=2)
    print('faults injected:')
    for k in sorted(faults):
        print(f'  {k}: {faults[k]}')
    if fences_by_kind:
        print('fences, resets, svcmgr kills and lease-at-risk stops by kind (from the fault until the cluster'
              ' settled):')
        for k in sorted(fences_by_kind):
            v = fences_by_kind[k]
            power = (f", {v['power_fences']} power fences begun ({v['power_verdicts']} peers declared dead on a confirmed"
                     f" power-off)" if any(x['power_fences'] for x in fences_by_kind.values()) else '')
            print(f"  {k}: {v['fences']} fences, {v['resets']} resets, {v['svc_kills']} svcmgr kills,"
                  f" {v['risk_stops']} risk stops{power} in {v['faults']} faults ({v['faults_without_any']} without any)")
    if moves_by_kind:
        print('failovers by kind (services on another node once the cluster settled than before the fault; granted'
              ' anew: with a greater epoch, failed back since included):')
        for k in sorted(moves_by_kind):
            m = moves_by_kind[k]
            print(f"  {k}: {m['services_moved']} services moved (web {m['web_moves']}, ledger {m['ledger_moves']}),"
                  f" {m['regrants']} granted anew"
                  f" in {m['faults']} faults ({m['faults'] - m['faults_with_moves']} without any)")
    for r in resource_details:
        print(f"  fault {r['fault']} {r['kind']} on {r['node']}: {r['detail']}")
    for k, v in sorted(takeover_by_kind.items()):
        t = summary(v)
        print(f'takeover after {k} (crash to the first of its services started on the peer, ms): min {t["min"]}'
              f' median {t["median"]} max {t["max"]} ({t["n"]} faults)')
    if fence_fail_bad or 'fence_fail' in faults:
        print(f'fence_fail faults that took over on an unconfirmed fence: {len(fence_fail_bad)}')
        for e in fence_fail_bad[:5]:
            print(f'  e.g. {e}')
    print(f'split-brains (records or grants of an older epoch, or of the same epoch on two nodes): {sb}')
    print(f'  older epoch after a newer one: {sb_older}')
    print(f'  same epoch held by two nodes: {sb_same}')
    for e in sb_examples:
        print(f'  e.g. {e}')
    print(f'light services on both nodes at once: {len(both_services)}'
          f' ({len(svc_overlaps)} overlapping pairs of copies, {len(conflicts_cross)} lock conflicts across nodes;'
          f' {copies} copies started)')
    for e in ([e for _, e in svc_overlaps] + conflicts_cross)[:8]:
        print(f'  e.g. {e}')
    if conflicts_same:
        print(f'  (not across nodes: {len(conflicts_same)} copies found a copy on their own node still running,'
              f' e.g. {conflicts_same[0]})')
    if corrupted:
        print('quorum disk blocks corrupted under the running cluster: '
              + ', '.join(f'{k} {v}' for k, v in sorted(corrupted.items()))
              + f' (superblock restored {header_restores} times)')
    if init_refused or init_accepted:
        print(f'castor init --force on the live quorum disk: {len(init_refused)} refused,'
              f' {len(init_accepted)} NOT refused')
        for e in init_accepted[:3]:
            print(f'  NOT REFUSED: {e}')
        if init_accepted:
            print('  -> this build wiped a live Castor disk: the refusal of issue 12 item 9 (castor init watches '
                  'the heartbeats for D first) is missing from it')
    print(f'lost acknowledged records: {len(lost)} of {acked} acknowledged'
          f' (ledger sequence breaks: {disorder})')
    print(f'shared filesystems mounted on both nodes at once: {len(overlaps) + len(epoch_faults)}'
          f' ({mounts} mounts watched)')
    for e in (overlaps + epoch_faults)[:5]:
        print(f'  e.g. {e}')
    print(f"shared filesystems mounted through both nodes' disks at once, as the kernel logged it: {len(kernel_bad)}"
          f' ({kernel_events} kernel mount events)')
    for e in kernel_bad[:5]:
        print(f'  e.g. {e}')
    print('fsck -n of the shared disks: ' + ', '.join(f'{k} {v}' for k, v in sorted(fsck.items())))
    print_availability('availability seen by the client', avail, summary(outages), outages_by_kind,
                       'client outages by the fault they followed')
    for name, av in (('ledger', ledger_avail), ('db', db_avail)):
        if av:
            print_availability(f"{name} availability seen by its client (acknowledged writes, gaps > {av['gap_ms']} ms)",
                               av['availability_percent'], av['outages_ms'], av['outages_by_kind'],
                               f'{name} outages by the fault they followed')
    if director:
        print_availability('director availability seen by the client (through its floating IP)',
                           director['availability_percent'], director['outages_ms'], director['outages_by_kind'],
                           'director outages by the fault they followed')
        print(f'real server kills: {rs_kills}, during which Castor changed the director: {len(rs_bad)}')
        for e in rs_bad[:5]:
            print(f'  e.g. {e}')
    s = summary(settle)
    if s:
        print(f'time to settle after a fault (ms): min {s["min"]} median {s["median"]} p95 {s["p95"]} max {s["max"]}'
              f' ({unsettled} unsettled)')
    if stuck_at:
        print(f'the cluster stopped settling: {STUCK_AFTER} or more faults in a row did not settle, from fault '
              + ', '.join(stuck_at) + ' (a hang: read both nodes\' logs from that fault on)')
    bad = (stuck_at or sb or lost or overlaps or epoch_faults or kernel_bad or any(v != 'clean' for v in fsck.values())
           or not fsck or both_services or conflicts_cross or init_accepted or fence_fail_bad or rs_bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
