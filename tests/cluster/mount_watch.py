#!/usr/bin/env python3
"""Watches, from outside the nodes, where the shared filesystems are mounted: every INTERVAL it reads the
mount table of one process of each node's cgroup (a node is one mount namespace) and logs each change.

    mount_watch.py --cgroot DIR --nodes alpha,beta --points P1,P2 --out FILE [--interval-ms 10]

Lines: "MS NODE POINT mounted|unmounted" (MS: CLOCK_MONOTONIC milliseconds); "MS overlap POINT" when a
sample finds one mount point mounted in both nodes at once — a filesystem mounted on two hosts. A mount
shorter than the interval can be missed; the epoch marks the services log at mount time complement it.
Runs until SIGTERM. Test tool: reads /proc and cgroup files only."""
import argparse, os, signal, sys, time


def mounted_points(cgdir, points):
    try:
        with open(os.path.join(cgdir, 'cgroup.procs')) as f:
            pids = f.read().split()
    except OSError:
        return set()
    for pid in pids:
        try:
            with open(f'/proc/{pid}/mountinfo') as f:
                return {line.split()[4] for line in f} & points
        except OSError:
            continue  # it exited meanwhile: try the next one
    return set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cgroot', required=True)
    ap.add_argument('--nodes', required=True)
    ap.add_argument('--points', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--interval-ms', type=int, default=10)
    a = ap.parse_args()
    nodes, points = a.nodes.split(','), set(a.points.split(','))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    state = {n: set() for n in nodes}
    with open(a.out, 'a', buffering=1) as out:
        while not stop:
            ms = int(time.monotonic() * 1000)
            for n in nodes:
                now = mounted_points(os.path.join(a.cgroot, n), points)
                for p in sorted(now - state[n]):
                    out.write(f'{ms} {n} {p} mounted\n')
                for p in sorted(state[n] - now):
                    out.write(f'{ms} {n} {p} unmounted\n')
                state[n] = now
            for p in sorted(points):
                if all(p in state[n] for n in nodes):
                    out.write(f'{ms} overlap {p}\n')
            time.sleep(a.interval_ms / 1000)
    return 0


if __name__ == '__main__':
    sys.exit(main())
