#!/usr/bin/env python3
"""Idle cost of daemons over a window: CPU (schedstat run time, summed over threads), wakeups (context
switches, voluntary + involuntary, and schedstat timeslices), RSS/PSS (smaps_rollup), the CPU of reaped
children (cutime+cstime: agents svcmgr runs), and disk traffic of loop devices (/sys/block/loopN/stat).
Usage: proc_sample.py SECONDS SYSTEM:NAME:PID[+tree] ... disk:SYSTEM:NAME:/dev/loopN ...
Prints one JSON object per entity (a daemon, or a disk), rates per second over the window."""
import json, os, sys, time

TICK = os.sysconf('SC_CLK_TCK')

def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir('/proc/%d/task' % p):
                with open('/proc/%d/task/%s/children' % (p, t)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out

def proc(pid):
    cpu_ns = slices = ctxt = 0
    for t in os.listdir('/proc/%d/task' % pid):
        with open('/proc/%d/task/%s/schedstat' % (pid, t)) as f:
            a = f.read().split()
            cpu_ns += int(a[0]); slices += int(a[2])
        with open('/proc/%d/task/%s/status' % (pid, t)) as f:
            for line in f:
                if line.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')):
                    ctxt += int(line.split()[1])
    with open('/proc/%d/stat' % pid) as f:
        st = f.read().rsplit(')', 1)[1].split()
    children_ns = (int(st[13]) + int(st[14])) * 1e9 / TICK  # cutime, cstime (fields 16, 17)
    rss = pss = 0
    with open('/proc/%d/smaps_rollup' % pid) as f:
        for line in f:
            if line.startswith('Rss:'): rss = int(line.split()[1])
            elif line.startswith('Pss:'): pss = int(line.split()[1])
    return dict(cpu_ns=cpu_ns, slices=slices, ctxt=ctxt, children_ns=children_ns, rss_kib=rss, pss_kib=pss)

def sample(spec):
    out = {}
    for s in spec:
        if s.startswith('disk:'):
            _, system, name, dev = s.split(':', 3)
            with open('/sys/block/%s/stat' % os.path.basename(dev)) as f:
                a = [int(x) for x in f.read().split()]
            out[s] = dict(reads=a[0], read_sectors=a[2], writes=a[4], write_sectors=a[6])
        else:
            system, name, pid = s.split(':', 2)
            tree = pid.endswith('+tree')
            pid = int(pid.replace('+tree', ''))
            tot = None
            for p in (descendants(pid) if tree else [pid]):
                try:
                    v = proc(p)
                except (OSError, IndexError):
                    continue
                tot = v if tot is None else {k: tot[k] + v[k] for k in tot}
            out[s] = tot
    return out

secs, spec = float(sys.argv[1]), sys.argv[2:]
a = sample(spec); t0 = time.monotonic()
time.sleep(secs)
b = sample(spec); dt = time.monotonic() - t0
for s in spec:
    if s.startswith('disk:'):
        _, system, name, dev = s.split(':', 3)
        d = {k: b[s][k] - a[s][k] for k in a[s]}
        print(json.dumps(dict(kind='disk', system=system, name=name, device=dev, seconds=round(dt, 1),
                              reads_per_s=round(d['reads'] / dt, 2), writes_per_s=round(d['writes'] / dt, 2),
                              read_bytes_per_s=round(d['read_sectors'] * 512 / dt), write_bytes_per_s=round(d['write_sectors'] * 512 / dt))))
    else:
        system, name, pid = s.split(':', 2)
        x, y = a[s], b[s]
        if x is None or y is None:
            print(json.dumps(dict(kind='daemon', system=system, name=name, gone=True)))
            continue
        print(json.dumps(dict(kind='daemon', system=system, name=name, pid=pid, seconds=round(dt, 1),
                              cpu_pct=round((y['cpu_ns'] - x['cpu_ns']) / 1e9 / dt * 100, 4),
                              children_cpu_pct=round((y['children_ns'] - x['children_ns']) / 1e9 / dt * 100, 4),
                              wakeups_per_s=round((y['ctxt'] - x['ctxt']) / dt, 2),
                              timeslices_per_s=round((y['slices'] - x['slices']) / dt, 2),
                              rss_kib=y['rss_kib'], pss_kib=y['pss_kib'])))
