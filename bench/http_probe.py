#!/usr/bin/env python3
"""First successful HTTP reply from URL, polled by overlapping attempts: a new connection every INTERVAL_MS,
each with a 1 s timeout, so a SYN sent to a dead MAC does not delay the probe by a TCP retransmit.
Usage: http_probe.py URL INTERVAL_MS TIMEOUT_S  -> prints the wall-clock time (ms since the epoch) at which
the first reply with status 200 arrived; exits 1 if none came within TIMEOUT_S."""
import sys, threading, time, urllib.request

url, interval, timeout = sys.argv[1], float(sys.argv[2]) / 1000, float(sys.argv[3])
done = threading.Event()
first = []
lock = threading.Lock()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy

def attempt():
    try:
        with opener.open(url, timeout=1.0) as r:
            if r.status == 200:
                r.read()
                t = time.time()
                with lock:
                    if not first:
                        first.append(t)
                done.set()
    except Exception:
        pass

deadline = time.monotonic() + timeout
while not done.is_set() and time.monotonic() < deadline:
    threading.Thread(target=attempt, daemon=True).start()
    done.wait(interval)
if not first:
    sys.exit(1)
print(int(first[0] * 1000))
