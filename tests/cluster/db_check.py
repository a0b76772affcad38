#!/usr/bin/env python3
"""The db service's checker (tests/cluster/db.sh): judges the client's acknowledgements against what
PostgreSQL itself has on the pg disk after the run.

    db_check.py --image PGDISK_IMG --acks ACK_LOG [--epochs-log LOG] --pgbin DIR --out JSON

Run once both nodes are down, in a private mount namespace (it re-executes itself so). First fsck -n of the image; then a COPY of it (cp --sparse=always; crash
recovery runs on the copy, never on the shared disk), mounted on its own loop device, where PostgreSQL starts
in the host namespace with no TCP and a private socket (the crashed owner's postmaster.pid removed first: it
names a process of a node that is gone), is asked for its rows and epochs, and is stopped; the copy goes.
Verdicts:
  lost           an acknowledged commit ("ack SEQ EPOCH NODE MS" in ACK_LOG) whose row is not there, or is
                 there with another epoch
  epoch order    rows in commit order (by seq: the client commits one at a time) must have non-decreasing
                 epochs, and every epoch a row names must be one a start of the service recorded; the epochs
                 table in insertion order must not go back either (a start granted an older epoch than one
                 before it)
Also reported: rows found, transactions failed and in doubt (neither counted as lost), PostgreSQL's own
recovery on the copy (ms, from its log). Exits 1 on any lost commit, epoch regression, unknown epoch,
dirty filesystem, or a database that does not start. Test tool: never used in production."""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def read_acks(path):
    acks, failed, indoubt = {}, 0, 0
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) >= 4 and w[0] == 'ack':
                    acks[int(w[1])] = int(w[2])
                elif w and w[0] == 'fail':
                    failed += 1
                elif w and w[0] == 'indoubt':
                    indoubt += 1
    except FileNotFoundError:
        pass
    return acks, failed, indoubt


def judge(acks, rows, epochs):
    """acks {seq: epoch}; rows [(seq, epoch)] by seq; epochs [(id, epoch, node)] by id -> verdict dict."""
    found = dict(rows)
    lost = [s for s in sorted(acks) if found.get(s) != acks[s]]
    regress = []
    prev = None
    for seq, e in rows:
        if prev is not None and e < prev[1]:
            regress.append(f'row {seq} has epoch {e} after row {prev[0]} with epoch {prev[1]}')
        prev = (seq, e) if prev is None or e >= prev[1] else prev
    recorded = {e for _, e, _ in epochs}
    unknown = sorted({e for _, e in rows if e not in recorded})
    newest = None
    for i, e, node in epochs:
        if newest is not None and e < newest:
            regress.append(f'start {i} on {node} recorded epoch {e} after epoch {newest}')
        newest = e if newest is None else max(newest, e)
    return {'acknowledged': len(acks), 'found': sum(1 for s in acks if found.get(s) == acks[s]),
            'lost': len(lost), 'lost_examples': lost[:10], 'rows': len(rows),
            'epochs_recorded': len(epochs), 'epochs_in_rows': sorted({e for _, e in rows}),
            'epoch_regressions': len(regress), 'epoch_regression_examples': regress[:5],
            'unknown_epochs': unknown}


def recovery_ms(log_text):
    """PostgreSQL's crash recovery in its log: from 'database system was interrupted' (or 'was not properly shut
    down') to 'ready to accept connections', by the %m timestamps; None if it did not recover."""
    stamp = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})')
    t0 = t1 = None
    for line in log_text.splitlines():
        m = stamp.match(line)
        if not m:
            continue
        t = time.mktime(time.strptime(m.group(1)[:19], '%Y-%m-%d %H:%M:%S')) + int(m.group(1)[20:]) / 1000
        if t0 is None and ('was interrupted' in line or 'not properly shut down' in line):
            t0 = t
        if t0 is not None and 'ready to accept connections' in line:
            t1 = t
            break
    return None if t0 is None or t1 is None else int(round((t1 - t0) * 1000))


def read_database(image, pgbin, work, copy):
    """(rows, epochs, recovery_ms, error) from PostgreSQL started on copy, a copy of image; its mount point,
    socket and log in work (a folder the user postgres can reach)."""
    mnt, sock, log = os.path.join(work, 'mnt'), os.path.join(work, 'sock'), os.path.join(work, 'pg.log')
    os.makedirs(mnt)
    os.makedirs(sock)
    os.chmod(work, 0o755)
    os.chmod(sock, 0o777)
    r = run(['cp', '--sparse=always', image, copy])
    if r.returncode:
        return [], [], None, f'cp: {r.stderr.strip()}'
    loop = run(['losetup', '-f', '--show', copy]).stdout.strip()
    if not loop:
        return [], [], None, 'losetup of the copy failed'
    started = False
    try:
        r = run(['mount', '-t', 'ext4', loop, mnt])
        if r.returncode:
            return [], [], None, f'mount of the copy: {r.stderr.strip()}'
        pgdata = os.path.join(mnt, 'pgdata')
        try:
            os.unlink(os.path.join(pgdata, 'postmaster.pid'))  # the crashed owner's: its PID means nothing here
        except FileNotFoundError:
            pass
        open(log, 'w').close()
        shutil.chown(log, 'postgres')
        r = run(['runuser', '-u', 'postgres', '--', os.path.join(pgbin, 'pg_ctl'), '-D', pgdata, '-w', '-t', '300',
                 '-l', log, '-o', f"-c listen_addresses='' -c unix_socket_directories='{sock}' -c port=5432",
                 'start'])
        started = r.returncode == 0
        if not started:
            return [], [], None, 'PostgreSQL did not start on the copy: ' + open(log).read()[-600:]
        psql = [os.path.join(pgbin, 'psql'), '-h', sock, '-U', 'postgres', '-d', 'postgres', '-Atq', '-F', ' ', '-c']
        a = run(psql + ['SELECT seq, epoch FROM rows ORDER BY seq'])
        b = run(psql + ['SELECT id, epoch, node FROM epochs ORDER BY id'])
        if a.returncode or b.returncode:
            return [], [], None, f'psql: {a.stderr.strip()} {b.stderr.strip()}'
        rows = [tuple(int(x) for x in l.split()) for l in a.stdout.splitlines() if l.strip()]
        epochs = [(int(l.split()[0]), int(l.split()[1]), l.split()[2]) for l in b.stdout.splitlines() if l.strip()]
        return rows, epochs, recovery_ms(open(log).read()), None
    finally:
        if started:
            run(['runuser', '-u', 'postgres', '--', os.path.join(pgbin, 'pg_ctl'), '-D', os.path.join(mnt, 'pgdata'),
                 '-w', '-m', 'fast', 'stop'])
        run(['umount', mnt])
        run(['losetup', '-d', loop])
        try:
            os.unlink(copy)
        except FileNotFoundError:
            pass


def main():
    if os.environ.get('DB_CHECK_PRIVATE') != '1':
        # Its mount in a private mount namespace: one made in the host's propagates into the namespaces that
        # are its slaves (another run's `ip netns exec`) and can outlive the umount here, keeping the copy's
        # loop device busy.
        os.environ['DB_CHECK_PRIVATE'] = '1'
        os.execvp('unshare', ['unshare', '--mount', '--propagation', 'private', sys.executable] + sys.argv)
    ap = argparse.ArgumentParser()
    ap.add_argument('--image', required=True)
    ap.add_argument('--acks', required=True)
    ap.add_argument('--epochs-log')
    ap.add_argument('--pgbin', default='/usr/lib/postgresql/15/bin')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    fsck = run(['fsck.ext4', '-n', a.image])
    acks, failed, indoubt = read_acks(a.acks)
    # The copy beside the image (the same file system: a sparse copy is quick); the rest where postgres can
    # reach it (the run's folder may be root's alone).
    copy = tempfile.mkdtemp(prefix='castor-dbcheck.', dir=os.path.dirname(os.path.abspath(a.image)))
    work = tempfile.mkdtemp(prefix='castor-dbcheck.')
    try:
        rows, epochs, rec, err = read_database(a.image, a.pgbin, work, os.path.join(copy, 'pgdisk-copy.img'))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(copy, ignore_errors=True)
    d = judge(acks, rows, epochs)
    starts = 0
    if a.epochs_log:
        try:
            starts = sum(1 for l in open(a.epochs_log) if l.startswith('epoch '))
        except FileNotFoundError:
            pass
    d.update({'failed_transactions': failed, 'indoubt_transactions': indoubt, 'fsck': 'clean' if fsck.returncode == 0
              else 'dirty', 'database_started': err is None, 'error': err, 'recovery_ms_on_copy': rec,
              'starts_logged': starts})
    with open(a.out, 'w') as f:
        json.dump(d, f, indent=2)
    print(f"db: {d['lost']} lost of {d['acknowledged']} acknowledged commits ({d['found']} found, {d['rows']} rows;"
          f" {failed} failed and {indoubt} in-doubt transactions), {d['epoch_regressions']} epoch regressions,"
          f" {len(d['unknown_epochs'])} unknown epochs (epochs in rows: {d['epochs_in_rows'][:12]};"
          f" {d['epochs_recorded']} starts recorded), pg disk fsck {d['fsck']},"
          f" recovery on the copy {rec} ms")
    if err:
        print(f'db: {err}')
    for e in d['epoch_regression_examples']:
        print(f'  e.g. {e}')
    if d['lost']:
        print(f"  lost seqs, e.g. {d['lost_examples']}")
    bad = d['lost'] or d['epoch_regressions'] or d['unknown_epochs'] or d['fsck'] != 'clean' or err
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
