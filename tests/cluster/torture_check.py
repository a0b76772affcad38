#!/usr/bin/env python3
"""The torture run's checker: reads only evidence gathered outside the nodes and prints the verdict.

    torture_check.py --dir RUN_DIR --ledger-file FILE --seed S --out JSON

RUN_DIR holds, from tests/cluster/torture.sh and the harness:
  ledger.log        the ledger writer's evidence: "start NODE EPOCH SEQ", "ack EPOCH NODE SEQ",
                    "stop NODE EPOCH SEQ", in the order they happened (O_APPEND from both nodes)
  mounts.log        tests/cluster/mount_watch.py: where each shared filesystem was mounted, and overlaps
  mounts-marks.log  "mount|umount NODE EPOCH SERVICE" from the web service, at its mount and unmount
  probe.log         tests/cluster/http_probe.py: "MS ok|fail", the client's view of web
  faults.log        "fault N KIND VICTIM" then "settled MS" or "unsettled"
  fsck.log          "DISK clean|dirty" per shared ext4 disk
FILE is the ledger file as read from the ledger disk after the run.

Split-brains: a ledger record (ack or stop) of an older epoch, or of the same epoch by another node, after a
newer epoch started: two writers at once. Lost records: acknowledged records missing from the ledger file
(acknowledged = made durable with fsync and reported outside). Overlaps: a filesystem seen mounted on both
nodes at once, or a mount mark whose epoch does not grow. Exits 1 if any of them is not 0 or a disk is
not clean."""
import argparse, json, os, re, sys


def lines(path):
    try:
        with open(path) as f:
            return [l.split() for l in f if l.strip()]
    except FileNotFoundError:
        return []


def split_brains(evidence):
    newest, owner, bad, examples = 0, None, 0, []
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
            bad += 1
            if len(examples) < 5:
                examples.append(' '.join(rec) + f' (after epoch {newest} of {owner} started)')
        if rec[0] == 'start' and epoch > newest:
            newest, owner = epoch, node
    return bad, examples


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


def availability(probe):
    results = [(int(r[0]), r[1] == 'ok') for r in probe if len(r) == 2]
    if not results:
        return 0.0, []
    outages, start = [], None
    for ms, ok in results:
        if not ok and start is None:
            start = ms
        elif ok and start is not None:
            outages.append(ms - start)
            start = None
    if start is not None:
        outages.append(results[-1][0] - start)
    ok = sum(1 for _, k in results if k)
    return 100.0 * ok / len(results), outages


def summary(values):
    v = sorted(values)
    if not v:
        return None
    pick = lambda q: v[min(len(v) - 1, max(0, (len(v) * q + 99) // 100 - 1))]
    return {'n': len(v), 'min': v[0], 'median': v[(len(v) - 1) // 2], 'p95': pick(95), 'max': v[-1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--ledger-file', required=True)
    ap.add_argument('--seed', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    d = a.dir
    evidence = lines(os.path.join(d, 'ledger.log'))
    sb, sb_examples = split_brains(evidence)
    acked, lost, disorder = lost_records(evidence, lines(a.ledger_file))
    overlaps, epoch_faults, mounts = mount_overlaps(lines(os.path.join(d, 'mounts.log')),
                                                    lines(os.path.join(d, 'mounts-marks.log')))
    try:
        kernel = open(os.path.join(d, 'kernel-mounts.log')).read().splitlines()
        loop_map = open(os.path.join(d, 'loops.map')).read()
    except FileNotFoundError:
        kernel, loop_map = [], ''
    kernel_bad, kernel_events = kernel_overlaps(kernel, loop_map)
    avail, outages = availability(lines(os.path.join(d, 'probe.log')))
    faults, settle, unsettled = {}, [], 0
    for r in lines(os.path.join(d, 'faults.log')):
        if r[0] == 'fault':
            faults[r[2]] = faults.get(r[2], 0) + 1
        elif r[0] == 'settled':
            settle.append(int(r[1]))
        elif r[0] == 'unsettled':
            unsettled += 1
    fsck = {r[0]: r[1] for r in lines(os.path.join(d, 'fsck.log'))}
    result = {
        'seed': int(a.seed), 'faults': faults, 'faults_total': sum(faults.values()),
        'split_brains': sb, 'split_brain_examples': sb_examples,
        'acknowledged_records': acked, 'lost_records': len(lost), 'lost_examples': [list(x) for x in lost[:5]],
        'ledger_sequence_breaks': disorder,
        'mounts_seen': mounts, 'mount_overlaps': len(overlaps) + len(epoch_faults),
        'mount_overlap_examples': (overlaps + epoch_faults)[:5],
        'kernel_mount_events': kernel_events, 'kernel_double_mounts': len(kernel_bad),
        'kernel_double_mount_examples': kernel_bad[:5],
        'fsck': fsck, 'availability_percent': round(avail, 3),
        'outages_ms': summary(outages), 'settle_ms': summary(settle), 'unsettled': unsettled,
    }
    with open(a.out, 'w') as f:
        json.dump(result, f, indent=2)
    print('faults injected:')
    for k in sorted(faults):
        print(f'  {k}: {faults[k]}')
    print(f'split-brains (ledger records of an older epoch after a newer start): {sb}')
    for e in sb_examples:
        print(f'  e.g. {e}')
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
    o = summary(outages)
    print(f'availability seen by the client: {avail:.2f} %' +
          (f'; {o["n"]} outages, ms: min {o["min"]} median {o["median"]} p95 {o["p95"]} max {o["max"]}' if o else ''))
    s = summary(settle)
    if s:
        print(f'time to settle after a fault (ms): min {s["min"]} median {s["median"]} p95 {s["p95"]} max {s["max"]}'
              f' ({unsettled} unsettled)')
    bad = sb or lost or overlaps or epoch_faults or kernel_bad or any(v != 'clean' for v in fsck.values()) or not fsck
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
