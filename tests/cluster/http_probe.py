#!/usr/bin/env python3
"""The client's view of the service: fetches URL every INTERVAL and logs each result, so outages and their
lengths are measured where users see them (run it inside the client's network namespace).

    http_probe.py --url URL --out FILE [--interval-ms 100] [--timeout-ms 500]

Lines: "MS ok|fail" (MS: CLOCK_MONOTONIC milliseconds at the start of the request). Runs until SIGTERM."""
import argparse, signal, sys, time, urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--url', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--interval-ms', type=int, default=100)
    ap.add_argument('--timeout-ms', type=int, default=500)
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(a.out, 'a', buffering=1) as out:
        while not stop:
            t = time.monotonic()
            try:
                with urllib.request.urlopen(a.url, timeout=a.timeout_ms / 1000) as r:
                    ok = r.status == 200 and len(r.read()) > 0
            except Exception:
                ok = False
            out.write(f'{int(t * 1000)} {"ok" if ok else "fail"}\n')
            time.sleep(max(0.0, a.interval_ms / 1000 - (time.monotonic() - t)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
