#!/usr/bin/env python3
"""Adds up the runs of tests/cluster/torture_many.sh: OUT/run-NNN/summary.json -> OUT/summary.json, one line.

Usage: torture_many_sum.py OUT FAULTS_WANTED
Counts are summed; availability is weighted by each run's faults; the settle and outage figures keep the
worst (max) and the runs' medians. Exit status 1 when a run found a problem (or did not produce a summary),
2 when fewer faults than wanted were run (the command resumes where it stopped)."""
import glob
import json
import os
import sys

out, wanted = sys.argv[1], int(sys.argv[2])
runs = []
for p in sorted(glob.glob(os.path.join(out, 'run-*', 'summary.json'))):
    s = json.load(open(p))
    s['_name'] = os.path.basename(os.path.dirname(p))
    runs.append(s)

# Counts where any non-zero value is a failure of safety (the torture checker's own failures).
SAFETY = ['split_brains', 'older_epoch_split_brains', 'same_epoch_split_brains', 'services_on_both_nodes',
          'light_service_overlaps', 'lock_conflicts_across_nodes', 'lost_records', 'ledger_sequence_breaks',
          'mount_overlaps', 'kernel_double_mounts', 'init_force_accepted', 'fence_fail_violations']
OTHER = ['acknowledged_records', 'light_service_copies', 'mounts_seen', 'kernel_mount_events',
         'superblock_restores', 'init_force_refused', 'unsettled']
total = {k: 0 for k in SAFETY + OTHER}
faults, fences, commits, variants, takeovers = {}, {}, {}, {}, {}
db = {'acknowledged': 0, 'lost': 0, 'found': 0, 'failed_transactions': 0, 'indoubt_transactions': 0,
      'epoch_regressions': 0, 'unknown_epochs': 0, 'unclean_pg_disks': 0, 'copies_not_started': 0}
director = {'realserver_kills': 0, 'realserver_kill_castor_actions': 0, 'outages': 0, 'outage_max_ms': 0}
fsck_unclean, failed_runs, weighted_avail, weighted_dir = [], [], 0.0, 0.0
# Each service as its client saw it (web: HTTP probe; ledger, db: acknowledged writes; director: HTTP through
# its address): availability weighted by the faults of the runs that measured it, outages summed by kind.
services = {name: {'faults_measured': 0, 'weighted': 0.0, 'outages': 0, 'outage_max_ms': 0, 'run_medians_ms': [],
                   'by_kind': {}} for name in ('web', 'ledger', 'db', 'director')}


def add_service(name, n, av, outages, by_kind):
    if av is None:
        return
    acc = services[name]
    acc['faults_measured'] += n
    acc['weighted'] += av * n
    outages = outages or {}
    acc['outages'] += outages.get('n', 0) or 0
    acc['outage_max_ms'] = max(acc['outage_max_ms'], outages.get('max') or 0)
    if outages.get('median') is not None:
        acc['run_medians_ms'].append(outages['median'])
    for kind, v in (by_kind or {}).items():
        k = acc['by_kind'].setdefault(kind, {'n': 0, 'max_ms': 0})
        k['n'] += v.get('n', 0)
        k['max_ms'] = max(k['max_ms'], v.get('max_ms', 0))


settle_max, settle_medians, faults_total = 0, [], 0
for s in runs:
    n = s.get('faults_total', 0)
    if s.get('exit_status', 0) != 0 or 'faults_total' not in s:
        failed_runs.append(f"{s['_name']} (exit {s.get('exit_status')})")
    faults_total += n
    for k in total:
        total[k] += s.get(k, 0) or 0
    for k, v in (s.get('faults') or {}).items():
        faults[k] = faults.get(k, 0) + v
    for kind, f in (s.get('fences_by_kind') or {}).items():
        acc = fences.setdefault(kind, {})
        for k, v in f.items():
            acc[k] = acc.get(k, 0) + v
    for disk, st in (s.get('fsck') or {}).items():
        if st != 'clean':
            fsck_unclean.append(f"{s['_name']} {disk}: {st}")
    weighted_avail += (s.get('availability_percent') or 0) * n
    add_service('web', n, s.get('availability_percent'), s.get('outages_ms'), s.get('outages_by_kind'))
    for name in ('ledger', 'db'):
        a = s.get(name + '_availability')
        if a:
            add_service(name, n, a.get('availability_percent'), a.get('outages_ms'), a.get('outages_by_kind'))
    if s.get('director'):
        x = s['director']
        add_service('director', n, x.get('availability_percent'), x.get('outages_ms'), x.get('outages_by_kind'))
    st = s.get('settle_ms') or {}
    settle_max = max(settle_max, st.get('max') or 0)
    if st.get('median') is not None:
        settle_medians.append(st['median'])
    for kind, t in (s.get('takeover_ms_by_kind') or {}).items():
        if t:
            acc = takeovers.setdefault(kind, {'n': 0, 'max_ms': 0, 'run_medians_ms': []})
            acc['n'] += t['n']
            acc['max_ms'] = max(acc['max_ms'], t['max'])
            acc['run_medians_ms'].append(t['median'])
    commits[s.get('commit', '?')] = commits.get(s.get('commit', '?'), 0) + n
    variants[s.get('variant', '?')] = variants.get(s.get('variant', '?'), 0) + n
    b = s.get('db')
    if b:
        for k in ('acknowledged', 'lost', 'found', 'failed_transactions', 'indoubt_transactions', 'epoch_regressions'):
            db[k] += b.get(k, 0) or 0
        db['unknown_epochs'] += len(b.get('unknown_epochs') or [])
        if b.get('fsck') != 'clean':
            db['unclean_pg_disks'] += 1
        if not b.get('database_started'):
            db['copies_not_started'] += 1
    x = s.get('director')
    if x:
        director['realserver_kills'] += x.get('realserver_kills', 0)
        director['realserver_kill_castor_actions'] += x.get('realserver_kill_castor_actions', 0)
        o = x.get('outages_ms') or {}
        director['outages'] += o.get('n', 0) or 0
        director['outage_max_ms'] = max(director['outage_max_ms'], o.get('max') or 0)
        weighted_dir += (x.get('availability_percent') or 0) * n

def mid(values):
    v = sorted(values)
    return v[(len(v) - 1) // 2] if v else None


per_service = {}
for name, acc in services.items():
    if not acc['faults_measured']:
        continue
    med = sorted(acc['run_medians_ms'])
    per_service[name] = {
        'faults_measured': acc['faults_measured'],
        'availability_percent': round(acc['weighted'] / acc['faults_measured'], 3),
        'outages': acc['outages'], 'outage_max_ms': acc['outage_max_ms'],
        'outage_median_of_run_medians_ms': med[(len(med) - 1) // 2] if med else None,
        'outages_by_kind': dict(sorted(acc['by_kind'].items()))}

summary = dict(total)
summary.update({
    'runs': len(runs), 'faults_total': faults_total, 'faults_wanted': wanted, 'faults': faults,
    'fences_by_kind': fences, 'fsck_unclean': fsck_unclean, 'failed_runs': failed_runs,
    'availability_percent': round(weighted_avail / faults_total, 3) if faults_total else None,
    'settle_ms': {'max': settle_max, 'run_medians': sorted(settle_medians)},
    'commits': commits, 'variants': variants, 'db': db, 'services': per_service,
    'takeover_ms_by_kind': {k: {'n': v['n'], 'max_ms': v['max_ms'], 'median_of_run_medians_ms': mid(v['run_medians_ms'])}
                            for k, v in sorted(takeovers.items())},
    'director': dict(director, availability_percent=round(weighted_dir / faults_total, 3) if faults_total else None),
})
json.dump(summary, open(os.path.join(out, 'summary.json'), 'w'), indent=1)


def report(s):
    """The summary as markdown (OUT/summary.md), the form committed under docs/torture/."""
    r = [f"# torture-many: {s['faults_total']} faults in {s['runs']} runs", '',
         'Commits (faults run on each): ' + ', '.join(f'{k} ({v})' for k, v in s['commits'].items())
         + '; variants: ' + ', '.join(f'{k} ({v})' for k, v in s['variants'].items()) + '.', '',
         '## Safety (every figure must be 0)', '', '| check | count |', '|---|---|']
    r += [f'| {k} | {s[k]} |' for k in SAFETY]
    b = s['db']
    r += [f"| db: lost acknowledged commits | {b['lost']} |", f"| db: epoch regressions | {b['epoch_regressions']} |",
          f"| db: rows of an unknown epoch | {b['unknown_epochs']} |", f"| db: unclean pg disks | {b['unclean_pg_disks']} |",
          f"| unclean filesystems (fsck -n) | {len(s['fsck_unclean'])} |", f"| runs that failed | {len(s['failed_runs'])} |", '',
          '## What the clients wrote', '',
          f"- ledger: {s['acknowledged_records']} acknowledged records, {s['lost_records']} lost, "
          f"{s['ledger_sequence_breaks']} sequence breaks",
          f"- db (PostgreSQL through its floating IP): {b['acknowledged']} acknowledged commits, {b['found']} found after "
          f"the runs, {b['lost']} lost; {b['failed_transactions']} transactions failed and {b['indoubt_transactions']} "
          'were in doubt (a COMMIT without an answer: counted neither way)',
          f"- light services: {s['light_service_copies']} copies started, {s['light_service_overlaps']} overlaps; "
          f"mounts: {s['mounts_seen']} seen, {s['kernel_mount_events']} kernel mount events",
          f"- init --force on the live disk: {s['init_force_refused']} refused, {s['init_force_accepted']} accepted",
          f"- director: {s['director']['realserver_kills']} real server kills, "
          f"{s['director']['realserver_kill_castor_actions']} Castor actions on the director", '',
          '## Each service as its client saw it', '',
          '| service | measured over | availability | outages | longest | median outage (median of the runs\' medians) |',
          '|---|---|---|---|---|---|']
    for name, v in s['services'].items():
        r.append(f"| {name} | {v['faults_measured']} faults | {v['availability_percent']} % | {v['outages']} | "
                 f"{v['outage_max_ms']} ms | {v['outage_median_of_run_medians_ms']} ms |")
    kinds = sorted(s['faults'])
    r += ['', 'web: an HTTP probe of its page through its address; ledger and db: gaps of more than 500 ms between '
          'acknowledged writes; director: an HTTP probe through its address to the real servers behind HAProxy.', '',
          '## Faults by kind', '',
          '| kind | faults | self-fences | resets | svcmgr kills | lease-at-risk stops | power fences | '
          + ' | '.join(f'{n} outages (n, max ms)' for n in s['services']) + ' |',
          '|---|---|---|---|---|---|---|' + '---|' * len(s['services'])]
    for k in kinds:
        f = s['fences_by_kind'].get(k, {})
        cells = []
        for v in s['services'].values():
            o = v['outages_by_kind'].get(k)
            cells.append(f"{o['n']}, {o['max_ms']}" if o else '0')
        r.append(f"| {k} | {s['faults'][k]} | {f.get('fences', 0)} | {f.get('resets', 0)} | {f.get('svc_kills', 0)} | "
                 f"{f.get('risk_stops', 0)} | {f.get('power_fences', 0)} | " + ' | '.join(cells) + ' |')
    st = s['settle_ms']
    r += ['', '## Settle and takeover', '',
          f"- settle (from each fault until both nodes are up, every service runs somewhere and the page is served): "
          f"longest {st['max']} ms, median of the runs' medians {mid(st['run_medians'])} ms; unsettled faults: {s['unsettled']}"]
    for k, v in s['takeover_ms_by_kind'].items():
        r.append(f"- takeover after `{k}` (the crash to the first start on the peer): {v['n']} takeovers, longest "
                 f"{v['max_ms']} ms, median of the runs' medians {v['median_of_run_medians_ms']} ms")
    return '\n'.join(r) + '\n'


open(os.path.join(out, 'summary.md'), 'w').write(report(summary))

problems = sum(total[k] for k in SAFETY) + db['lost'] + db['epoch_regressions'] + db['unknown_epochs'] + db['unclean_pg_disks'] \
    + db['copies_not_started']
problems += len(fsck_unclean) + len(failed_runs)
print(f"[castor] torture-many: {faults_total} of {wanted} faults in {len(runs)} runs: "
      f"{total['split_brains']} split-brains, {total['lost_records']} lost of {total['acknowledged_records']} "
      f"acknowledged records, {total['mount_overlaps'] + total['kernel_double_mounts']} double mounts, "
      f"{total['services_on_both_nodes']} services on both nodes, {len(fsck_unclean)} unclean filesystems; "
      f"db: {db['lost']} lost of {db['acknowledged']} acknowledged commits, {db['epoch_regressions']} epoch regressions; "
      f"director: {director['realserver_kills']} real server kills, "
      f"{director['realserver_kill_castor_actions']} Castor actions; {len(failed_runs)} runs failed"
      + (f" ({', '.join(failed_runs)})" if failed_runs else ""))
for name, v in per_service.items():
    print(f"  {name}: availability {v['availability_percent']} % over {v['faults_measured']} faults, "
          f"{v['outages']} outages, longest {v['outage_max_ms']} ms")
print(f"summary: {os.path.join(out, 'summary.json')}")
sys.exit(1 if problems else (2 if faults_total < wanted else 0))
