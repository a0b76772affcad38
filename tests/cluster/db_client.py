#!/usr/bin/python3
"""The db service's client (tests/cluster/db.sh): commits numbered rows to PostgreSQL through the floating IP
and logs, outside the nodes, each commit it got an acknowledgement for.

    db_client.py --host VIP --out LOG [--interval-ms 20] [--first-seq N]

Each transaction reads the newest epoch in the epochs table (recorded by the db service at each start) and
inserts (seq, that epoch, its node) into rows, then commits; only once COMMIT returned does it append
"ack SEQ EPOCH NODE MS" to LOG (MS: CLOCK_MONOTONIC milliseconds). A transaction that fails before COMMIT
is "fail SEQ MS STAGE ERROR" (not written); one whose COMMIT failed is "indoubt SEQ MS ERROR" (it may or may
not have been written: the checker counts it neither way). Then it reconnects ("connect MS" once it
has). A sequence number is never reused. Every write is one O_APPEND line. Runs until SIGTERM ("end SEQ").
Test tool: never used in production. Needs Debian's python3-psycopg2 (make deps)."""
import argparse, os, signal, sys, time

import psycopg2


def ms():
    return int(time.monotonic() * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', required=True)
    ap.add_argument('--port', type=int, default=5432)
    ap.add_argument('--out', required=True)
    ap.add_argument('--interval-ms', type=int, default=20)
    ap.add_argument('--first-seq', type=int, default=1)
    a = ap.parse_args()
    out = os.open(a.out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    log = lambda line: os.write(out, (line + '\n').encode())
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    seq, conn = a.first_seq - 1, None
    while not stop:
        if conn is None:
            try:
                # A dead server answers nothing: the TCP user timeout and keepalives end a connection to it
                # within ~2 s, so the client reconnects to whoever holds the address next.
                conn = psycopg2.connect(host=a.host, port=a.port, user='postgres', dbname='postgres',
                                        connect_timeout=2, keepalives=1, keepalives_idle=1,
                                        keepalives_interval=1, keepalives_count=2, tcp_user_timeout=2000,
                                        options='-c statement_timeout=5000')
                log(f'connect {ms()}')
            except psycopg2.Error:
                conn = None
                time.sleep(0.1)
                continue
        seq += 1
        stage = 'begin'
        try:
            cur = conn.cursor()
            stage = 'epoch'
            cur.execute('SELECT epoch, node FROM epochs ORDER BY id DESC LIMIT 1')
            epoch, node = cur.fetchone()
            stage = 'insert'
            cur.execute('INSERT INTO rows (seq, epoch, node) VALUES (%s, %s, %s)', (seq, epoch, node))
            stage = 'commit'
            conn.commit()
            log(f'ack {seq} {epoch} {node} {ms()}')
        except (psycopg2.Error, TypeError) as e:  # TypeError: no epoch recorded yet (fetchone gave None)
            text = ' '.join(str(e).split())[:160] or type(e).__name__
            if stage == 'commit':
                log(f'indoubt {seq} {ms()} {text}')
            else:
                log(f'fail {seq} {ms()} {stage} {text}')
            try:
                conn.close()
            except psycopg2.Error:
                pass
            conn = None
            continue
        time.sleep(a.interval_ms / 1000)
    log(f'end {seq} {ms()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
