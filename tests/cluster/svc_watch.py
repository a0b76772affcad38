#!/usr/bin/env python3
"""Watches, from outside the nodes, when each copy of the torture cluster's light services ends.

    svc_watch.py --evidence DIR/svc-evidence.log --out DIR/svc-ends.log

Tails the evidence log tests/cluster/svc_proc.sh writes; for every "start NODE EPOCH NS NAME PID" it opens a
pidfd on PID (the nodes share the host's PID namespace) and, when the process exits, logs
"end NODE EPOCH NS NAME PID" (wall-clock ns, read after the exit was seen: an upper bound on the end). A copy
already gone when its start is read (or a PID now naming another process) ends "now", also an upper bound.
This is the end of a copy that a fence or a node reset SIGKILLed without running its stop. Runs until
SIGTERM, then reads the log a last time and ends every copy still tracked at that moment. Test tool."""
import argparse, os, select, signal, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--evidence', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    poller = select.poll()
    tracked = {}  # pidfd -> (node, epoch, name, pid)
    out = open(a.out, 'a', buffering=1)
    pos, partial = 0, b''

    def end(fd):
        node, epoch, name, pid = tracked.pop(fd)
        out.write(f'end {node} {epoch} {time.time_ns()} {name} {pid}\n')
        try:
            poller.unregister(fd)
        except KeyError:
            pass
        os.close(fd)

    def read_new():
        nonlocal pos, partial
        try:
            with open(a.evidence, 'rb') as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            return
        pos += len(data)
        data = partial + data
        lines = data.split(b'\n')
        partial = lines.pop()
        for line in lines:
            r = line.decode(errors='replace').split()
            if len(r) != 6 or r[0] != 'start':
                continue
            node, epoch, name, pid = r[1], r[2], r[4], int(r[5])
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                out.write(f'end {node} {epoch} {time.time_ns()} {name} {pid}\n')
                continue
            try:
                with open(f'/proc/{pid}/cmdline', 'rb') as c:
                    same = name.encode() in c.read()
            except OSError:
                same = False
            tracked[fd] = (node, epoch, name, pid)
            if not same:
                end(fd)
                continue
            poller.register(fd, select.POLLIN)

    while not stop:
        read_new()
        for fd, _ in poller.poll(20):
            if fd in tracked:
                end(fd)
    read_new()
    for fd, _ in poller.poll(0):
        if fd in tracked:
            end(fd)
    for fd in list(tracked):
        node, epoch, name, pid = tracked.pop(fd)
        out.write(f'open {node} {epoch} {time.time_ns()} {name} {pid}\n')  # still running at the end of the run
    return 0


if __name__ == '__main__':
    sys.exit(main())
