#!/usr/bin/env python3
"""The `ledger` service of the cluster harness: a writer to shared storage that uses its epoch as a fencing
token, and acknowledges each record to a log outside the nodes once it is durable.

    ledger_writer.py --file SHARED_FILE --evidence OUTSIDE_LOG --node N --epoch E [--interval-ms 50]

On start it drops a torn last line (a crash mid-append), reads the last sequence number in SHARED_FILE
(on the shared filesystem, mounted by the service's Filesystem resource) and logs "start N E" to
OUTSIDE_LOG. Then, every interval: append "E N SEQ" to SHARED_FILE, fsync it, and only then append
"ack E N SEQ MS" to OUTSIDE_LOG (MS: CLOCK_MONOTONIC milliseconds, for the ledger's outages): an acknowledged record is one a client was told is safe. The torture checker
reads both: every acknowledged record must be in SHARED_FILE after the run (nothing lost), and no record of
an older epoch may follow the start of a newer one (two writers). Test tool: never used in production."""
import argparse, os, signal, sys, time


def last_seq(path):
    """The last sequence number in the ledger file, after cutting a torn (unterminated) last line."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        return 0
    if data and not data.endswith(b'\n'):
        cut = data.rfind(b'\n') + 1
        with open(path, 'r+b') as f:
            f.truncate(cut)
            os.fsync(f.fileno())
        data = data[:cut]
    lines = data.splitlines()
    return int(lines[-1].split()[2]) if lines else 0


def evidence(fd, line):
    os.write(fd, (line + '\n').encode())  # O_APPEND: one write per line, never interleaved


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--file', required=True)
    ap.add_argument('--evidence', required=True)
    ap.add_argument('--node', required=True)
    ap.add_argument('--epoch', required=True, type=int)
    ap.add_argument('--interval-ms', type=int, default=50)
    a = ap.parse_args()
    out = os.open(a.evidence, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    seq = last_seq(a.file)
    evidence(out, f'start {a.node} {a.epoch} {seq}')
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    fd = os.open(a.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    while not stop:
        seq += 1
        os.write(fd, f'{a.epoch} {a.node} {seq}\n'.encode())
        os.fsync(fd)
        evidence(out, f'ack {a.epoch} {a.node} {seq} {int(time.monotonic() * 1000)}')
        time.sleep(a.interval_ms / 1000)
    os.close(fd)
    evidence(out, f'stop {a.node} {a.epoch} {seq}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
