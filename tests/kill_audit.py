#!/usr/bin/env python3
"""kill_audit: which signals did one test suite send to another suite's processes?

    tests/kill_audit.py CMD...      (root; e.g. tests/kill_audit.py make check)

Runs CMD with the kernel's tracing on (tracefs: signal_generate for SIGKILL and SIGTERM, and every fork and
exec), then prints each signal whose sender and target descend from different suites (a suite: a child of
tests/run-tests's `timeout`), with both ancestries, and one summary line. A PID alone names whatever process
has the number now: a suite that kills a PID recorded long ago, or a resource agent that kills the PID in a
pidfile another node wrote (IPaddr2's send_arp on a shared /run/resource-agents), hits another suite's process.
That is how the harness's shared HA_RSCTMP was found (pacemaker_live's node killed in CI). Exits with CMD's
status. A diagnostic, not a test: it needs tracefs and root, and leaves the tracing as it found it (off).
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

TRACE = "/sys/kernel/tracing"
EVENTS = ["signal/signal_generate", "sched/sched_process_fork", "sched/sched_process_exec"]
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+\[\d+\].*?\s([\d.]+): (\w+): (.*)$")


def write(path, text):
    with open(os.path.join(TRACE, path), "w") as f:
        f.write(text)


def record(cmd, out_path):
    if not os.path.isdir(os.path.join(TRACE, "events")):
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACE], check=True)
    write("trace", "")
    write("buffer_size_kb", "65536")
    write("events/signal/signal_generate/filter", "sig == 9 || sig == 15")
    for e in EVENTS:
        write(f"events/{e}/enable", "1")
    write("tracing_on", "1")
    with open(out_path, "w") as out:
        pipe = subprocess.Popen(["cat", os.path.join(TRACE, "trace_pipe")], stdout=out)
        try:
            rc = subprocess.call(cmd)
        finally:
            for e in EVENTS:
                write(f"events/{e}/enable", "0")
            write("tracing_on", "0")
            write("events/signal/signal_generate/filter", "0")
            pipe.terminate()
            pipe.wait()
    return rc


def analyse(path):
    gen = collections.defaultdict(int)  # a PID's generation: each fork of that number is a new process
    parent, exe, kills = {}, {}, []

    def key(p):
        return (p, gen[p])

    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        sender, ev, rest = int(m.group(2)), m.group(4), m.group(5)
        f = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
        if ev == "sched_process_fork":
            child = int(f["child_pid"])
            gen[child] += 1
            parent[key(child)] = key(int(f["pid"]))
            exe[key(child)] = exe.get(key(int(f["pid"])), "?")
        elif ev == "sched_process_exec":
            exe[key(int(f["pid"]))] = f["filename"]
        elif ev == "signal_generate" and f.get("res") == "0":
            kills.append((m.group(3), key(sender), key(int(f["pid"])), f["sig"], f["comm"]))

    def suite(k):
        for _ in range(200):
            p = parent.get(k)
            if p is None:
                return None
            if exe.get(p, "").endswith("/timeout"):
                return k
            k = p
        return None

    def chain(k):
        out = []
        while k and len(out) < 8:
            out.append(f"{k[0]}:{exe.get(k, '?').rsplit('/', 1)[-1]}")
            k = parent.get(k)
        return " < ".join(out)

    crossing = 0
    for ts, s, t, sig, comm in kills:
        if suite(s) != suite(t):
            crossing += 1
            print(f"{ts} SIG{'KILL' if sig == '9' else 'TERM'} from {chain(s)}\n    to {t[0]} ({comm}) {chain(t)}")
    print(f"kill_audit: {len(kills)} SIGKILL/SIGTERM sent, {crossing} across suites")


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip())
        return 2
    with tempfile.NamedTemporaryFile(prefix="kill_audit.", suffix=".trace", delete=False) as t:
        path = t.name
    rc = record(sys.argv[1:], path)
    analyse(path)
    print(f"kill_audit: the trace is in {path}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
