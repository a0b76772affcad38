#!/usr/bin/python3
"""make bench's report: reads every *.jsonl a bench script wrote into the results folder, writes
results.json (every measurement and the summaries) and summary.md (the table printed here), and draws the
PNG plots (python3-matplotlib). Usage: report.py RESULTS_DIR"""
import glob, json, os, statistics, subprocess, sys

out = sys.argv[1]
data = {}
for f in sorted(glob.glob(os.path.join(out, '*.jsonl'))):
    name = os.path.basename(f)[:-6]
    data[name] = [json.loads(l) for l in open(f) if l.strip()]
meta = {}
if os.path.exists(os.path.join(out, 'meta.json')):
    meta = json.load(open(os.path.join(out, 'meta.json')))

def pct(xs, p):
    xs = sorted(xs)
    if not xs: return None
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs: return None
    return dict(n=len(xs), min=min(xs), median=statistics.median(xs), p95=pct(xs, 95), max=max(xs))

def s(ms):  # a duration for the table
    if ms is None: return 'n/a'
    return '%.2f s' % (ms / 1000) if ms >= 1000 else '%d ms' % round(ms)

lines, summary, goals = [], {}, []
def p(t=''):
    lines.append(t)

def fmt_load(recs):
    l = [r['load1'] for r in recs if 'load1' in r]
    return ' (load %.1f-%.1f)' % (min(l), max(l)) if l else ''

# ---- failover -------------------------------------------------------------------------------------------
fo = [r for r in data.get('failover', [])]
if fo:
    p('## Failover, end to end (SIGKILL of the node running web -> first HTTP reply through the floating IP)')
    p()
    p('| io_timeout | runs | min | median | p95 | max | detection | takeover | service start | reply | load |')
    p('|---|---|---|---|---|---|---|---|---|---|---|')
    summary['failover'] = {}
    for io in sorted({r['io_timeout_ms'] for r in fo}):
        rs = [r for r in fo if r['io_timeout_ms'] == io and r.get('ok')]
        bad = len([r for r in fo if r['io_timeout_ms'] == io and not r.get('ok')])
        st = stats([r['total_ms'] for r in rs])
        split = {k: stats([r[k] for r in rs if r.get(k) is not None]) for k in ('detect_ms', 'takeover_ms', 'start_ms', 'reply_ms')}
        summary['failover'][io] = dict(total=st, **split, failed_runs=bad)
        if not st: continue
        med = lambda k: s(split[k]['median']) if split[k] else 'n/a'
        loads = [r['load1'] for r in rs]
        p('| %s | %d%s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f-%.1f |' % (
            s(io), st['n'], (' (+%d failed)' % bad) if bad else '', s(st['min']), s(st['median']), s(st['p95']), s(st['max']),
            med('detect_ms'), med('takeover_ms'), med('start_ms'), med('reply_ms'), min(loads), max(loads)))
    p()
    p('The split columns are medians: detection = kill -> the survivor\'s quorumd declares the peer DEAD (dead time '
      'D = 6 T after the last heartbeat change it saw); takeover = DEAD -> svcmgr starts web (claim write, a read '
      'issued after it, owned write); service start = the agents (Filesystem, IPaddr2, the HTTP server); reply = '
      'web started -> the client\'s first reply (the HTTP server binding, gratuitous ARP, the next probe).')
    p()
    if 200 in summary['failover'] and summary['failover'][200]['total']:
        m = summary['failover'][200]['total']['median']
        goals.append(('failover median <= 2 s at io_timeout 200 ms', m <= 2000, 'median %s' % s(m)))

# ---- sanlock -------------------------------------------------------------------------------------------
sl = data.get('sanlock_detect', [])
if sl:
    p('## Detection beside sanlock (SIGKILL of the holder\'s daemon -> the other host may take over)')
    p()
    p('| io_timeout | sanlock runs | sanlock min / median / max | Castor runs | Castor (DEAD + claimed) median | ratio |')
    p('|---|---|---|---|---|---|')
    summary['sanlock'] = {}
    for io in sorted({r['io_timeout_ms'] for r in sl}):
        st = stats([r['takeover_ms'] for r in sl if r['io_timeout_ms'] == io and r.get('ok')])
        cs = stats([r['detect_ms'] + r['takeover_ms'] for r in fo if r['io_timeout_ms'] == io and r.get('ok')
                    and r.get('detect_ms') is not None and r.get('takeover_ms') is not None])
        ratio = st['median'] / cs['median'] if st and cs else None
        summary['sanlock'][io] = dict(sanlock=st, castor=cs, ratio=ratio)
        p('| %s | %s | %s | %s | %s | %s |' % (
            s(io), st['n'] if st else 0, ('%s / %s / %s' % (s(st['min']), s(st['median']), s(st['max']))) if st else 'n/a',
            cs['n'] if cs else 0, s(cs['median']) if cs else 'n/a (run failover at this io_timeout)',
            ('%.1fx' % ratio) if ratio else 'n/a'))
        if ratio:
            goals.append(('Castor >= 10x faster than sanlock at io_timeout %s' % s(io), ratio >= 10, '%.1fx' % ratio))
    p()
    p('sanlock lets another host take a dead host\'s lease after host_dead_seconds = 8 x io_timeout + 60 s; '
      'Castor declares the peer dead after D = 6 x io_timeout.')
    p()

# ---- fence ---------------------------------------------------------------------------------------------
fe = data.get('fence', [])
if fe:
    p('## Self-fence on disk loss (disk lost -> the node fences itself)')
    p()
    faults = [f for f in ('setro', 'eio', 'stall') if any(r['fault'] == f for r in fe)]
    p('| system | setting | ' + ' | '.join('%s (median of n)' % f for f in faults) + ' |')
    p('|---|---|' + '---|' * len(faults))
    summary['fence'] = []
    keys = []
    for r in fe:
        k = (r['system'], r['profile'])
        if k not in keys: keys.append(k)
    for k in keys:
        cells = []
        for f in faults:
            rs = [r for r in fe if (r['system'], r['profile']) == k and r['fault'] == f]
            ok = [r['fence_ms'] for r in rs if r.get('fenced')]
            st = stats(ok)
            summary['fence'].append(dict(system=k[0], profile=k[1], fault=f, stats=st, no_fence=len(rs) - len(ok)))
            if not rs: cells.append('-')
            elif not ok: cells.append('no fence (%d runs)' % len(rs))
            else: cells.append('%s (%d)%s' % (s(st['median']), st['n'], (', %d no fence' % (len(rs) - len(ok))) if len(rs) > len(ok) else ''))
        p('| %s | %s | %s |' % (k[0], k[1], ' | '.join(cells)))
    p()
    p('Faults: setro = blockdev --setro (writes fail, reads work); eio = the FUSE daemon under the loop device '
      'killed (all I/O fails); stall = it is SIGSTOPped (all I/O hangs). Castor fences when its lease '
      'lapses: F = 3 T after the issue of its last good write. sbd (no watchdog, debug mode) logs "would have fenced".')
    p()

# ---- idle ----------------------------------------------------------------------------------------------
idle = data.get('idle', [])
if idle:
    p('## Idle cost (all daemons measured in the same window)')
    p()
    p('| Castor io_timeout | sanlock io_timeout | system | daemon | CPU % | agents\' CPU % | wakeups/s | RSS MiB | PSS MiB |')
    p('|---|---|---|---|---|---|---|---|---|')
    summary['idle'] = [r for r in idle]
    for r in idle:
        if r['kind'] != 'daemon' or r.get('gone'): continue
        p('| %s | %d s | %s | %s | %.3f | %.3f | %.1f | %.1f | %.1f |' % (s(r['io_timeout_ms']), r.get('sanlock_io_timeout_s', 10), r['system'], r['name'], r['cpu_pct'],
          r['children_cpu_pct'], r['wakeups_per_s'], r['rss_kib'] / 1024, r['pss_kib'] / 1024))
    p()
    p('| Castor io_timeout | sanlock io_timeout | system | disk | reads/s | read B/s | writes/s | write B/s |')
    p('|---|---|---|---|---|---|---|---|')
    for r in idle:
        if r['kind'] != 'disk': continue
        p('| %s | %d s | %s | %s | %.2f | %d | %.2f | %d |' % (s(r['io_timeout_ms']), r.get('sanlock_io_timeout_s', 10), r['system'], r['name'], r['reads_per_s'],
          r['read_bytes_per_s'], r['writes_per_s'], r['write_bytes_per_s']))
    p()
    sl_io = sorted({'%s -> %s s' % (s(r['io_timeout_ms']), r.get('sanlock_io_timeout_s', 10)) for r in idle})
    p('Castor runs %d services (trivial exec agents); sanlock holds one resource, its lockspace at the io_timeout '
      'given here per Castor io_timeout (%s; 10 s, its default, in records without one); sbd runs at its '
      'defaults. CPU from /proc/PID/task/*/schedstat; wakeups = context switches; agents\' CPU = '
      'cutime+cstime of the children the daemon reaped.' % (idle[0].get('services', 0), ', '.join(sl_io)))
    p()
    for io in sorted({r['io_timeout_ms'] for r in idle}):
        ds = [r for r in idle if r['kind'] == 'daemon' and r['system'] == 'castor' and r['io_timeout_ms'] == io and not r.get('gone')]
        if ds:
            worst_cpu = max(ds, key=lambda r: r['cpu_pct'])
            worst_rss = max(ds, key=lambda r: r['rss_kib'])
            goals.append(('idle CPU <= 0.1 %% per daemon at io_timeout %s' % s(io), worst_cpu['cpu_pct'] <= 0.1,
                          'worst %s %.3f %%' % (worst_cpu['name'], worst_cpu['cpu_pct'])))
            goals.append(('RSS <= 8 MiB per daemon at io_timeout %s' % s(io), worst_rss['rss_kib'] <= 8192,
                          'worst %s %.1f MiB' % (worst_rss['name'], worst_rss['rss_kib'] / 1024)))

# ---- scale ---------------------------------------------------------------------------------------------
sc = data.get('scale', [])
if sc:
    agent = sc[0].get('agent', 'exec')
    p('## Scale (%s, all on one node, io_timeout %s)' % ('ocf:heartbeat:Dummy services' if agent == 'dummy' else 'trivial exec services', s(sc[0]['io_timeout_ms'])))
    p()
    p('| services | start all | svcmgr CPU % (owner) | quorumd CPU % (owner) | agents\' CPU % | svcmgr RSS MiB | status latency | relocate one | failover of all (DEAD / first / last) |')
    p('|---|---|---|---|---|---|---|---|---|')
    summary['scale'] = {}
    for n in sorted({r['services'] for r in sc}):
        rs = [r for r in sc if r['services'] == n]
        g = lambda m: [r for r in rs if r['metric'] == m]
        idle_s = {r['name']: r for r in g('idle')}
        st = g('start_all_ms'); stt = g('status_ms'); rl = stats([r['value'] for r in g('relocate_ms') if r.get('value') is not None]); fa = g('failover_all_ms')
        sv, qd = idle_s.get('svcmgr-alpha', {}), idle_s.get('quorumd-alpha', {})
        row = dict(start_ms=st[0]['value'] if st else None, svcmgr_cpu=sv.get('cpu_pct'), quorumd_cpu=qd.get('cpu_pct'),
                   agents_cpu=sv.get('children_cpu_pct'), svcmgr_rss_mib=(sv.get('rss_kib', 0) / 1024) or None,
                   status_ms=stt[0]['value'] if stt else None, status_has_services=(stt[0].get('with_services', 1) > 0) if stt else None, relocate_ms=rl['median'] if rl else None,
                   failover_all_ms=fa[0]['value'] if fa else None, failover_detect_ms=fa[0]['detect_ms'] if fa else None,
                   failover_first_ms=fa[0]['first_ms'] if fa else None)
        summary['scale'][n] = row
        f = lambda v, fmt='%.3f': (fmt % v) if v is not None else 'n/a'
        p('| %d | %s | %s | %s | %s | %s | %s | %s | %s |' % (n, s(row['start_ms']), f(row['svcmgr_cpu']), f(row['quorumd_cpu']),
          f(row['agents_cpu']), f(row['svcmgr_rss_mib'], '%.1f'), s(row['status_ms']) + ('' if row['status_has_services'] in (None, True) else ' (timeout: no services list)'),
          s(row['relocate_ms']) if row['status_has_services'] in (None, True) else 'fails (the CLI gets no services list)',
          ('%s / %s / %s' % (s(row['failover_detect_ms']), s(row['failover_first_ms']), s(row['failover_all_ms']))) if fa else 'n/a'))
    if any(r.get('status_has_services') is False for r in summary['scale'].values()):
        p()
        p('svcmgr\'s "services" reply does not fit the control protocol\'s 64 KiB frame beyond about 600 services '
          '(about 110 bytes each): `castor status` then waits for its 10 s timeout and shows no services, and '
          '`castor relocate` (which reads that list first) fails.')
    p()

# ---- relocation ----------------------------------------------------------------------------------------
rl = data.get('relocate', [])
if rl:
    p('## Planned relocation (castor relocate web --wait; until web is started on the target)')
    p()
    tot, ag, ca, cli = (stats([r[k] for r in rl]) for k in ('total_ms', 'agents_ms', 'castor_ms', 'cli_ms'))
    early = stats([r['cli_early_ms'] for r in rl])
    summary['relocate'] = dict(total=tot, agents=ag, castor=ca, cli=cli, cli_early=early)
    p('| runs | total median (min-max) | agents\' stop+start median | Castor\'s own median (min-max) | CLI returned (median) |')
    p('|---|---|---|---|---|')
    p('| %d | %s (%s-%s) | %s | %s (%s-%s) | %s |' % (tot['n'], s(tot['median']), s(tot['min']), s(tot['max']), s(ag['median']),
      s(ca['median']), s(ca['min']), s(ca['max']), s(cli['median'])))
    p()
    if early and early['max'] > 0:
        p('Note: the CLI returned before web was started on the target in %d of %d runs (by up to %s): the source\'s '
          'svcmgr reports a service the peer owns as "started" as soon as the peer\'s entry says owned.' % (
              len([r for r in rl if r['cli_early_ms'] > 0]), len(rl), s(early['max'])))
        p()

# ---- io tolerance --------------------------------------------------------------------------------------
it = data.get('io_tolerance_summary', [])
if it:
    p('## I/O tolerance (the largest disk stall, FUSE daemon SIGSTOPped, with no failover)')
    p()
    p('| io_timeout | largest stall without failover | largest without stopping services | smallest stall that failed over |')
    p('|---|---|---|---|')
    summary['io_tolerance'] = it
    for r in it:
        p('| %s | %s (%.2f T) | %s (%.2f T) | %s |' % (s(r['io_timeout_ms']), s(r['max_no_failover_ms']),
          r['max_no_failover_ms'] / r['io_timeout_ms'], s(r['max_no_stop_ms']), r['max_no_stop_ms'] / r['io_timeout_ms'],
          s(r['min_failover_ms']) if r['min_failover_ms'] else 'none tried'))
    p()
    p('A stall stops services once the lease is at risk (F - G = 2 T after the last good write was issued) and '
      'fails over once the lease lapses (F = 3 T): a write issued within a renew interval R = T/2 after the '
      'stall ends must land before then.')
    p()

# ---- power fencing (issue 16) -------------------------------------------------------------------------------
pf = data.get('power_fence', [])
if pf:
    p('## Failover with power fencing (crash of the owner, power still on -> web started on the peer)')
    p()
    p('| io_timeout | runs | min | median | max | dead time D | settle | decided by | vs sanlock (8T + 60 s) |')
    p('|---|---|---|---|---|---|---|---|---|')
    summary['power_fence'] = {}
    for io in sorted({r['io_timeout_ms'] for r in pf}):
        rs = [r for r in pf if r['io_timeout_ms'] == io and r.get('ok')]
        bad = len([r for r in pf if r['io_timeout_ms'] == io and not r.get('ok')])
        st = stats([r['total_ms'] for r in rs])
        summary['power_fence'][io] = dict(total=st, failed_runs=bad)
        if not st: continue
        sanlock_ms = 8 * io + 60000
        by = sorted({r.get('decided_by', 'fence') for r in rs})
        p('| %s | %d%s | %s | %s | %s | %s | %s | %s | %.1fx |' % (s(io), st['n'], (' (+%d failed)' % bad) if bad else '',
                                                            s(st['min']), s(st['median']), s(st['max']), s(6 * io),
                                                            s(rs[0]['settle_ms']), ', '.join(by), sanlock_ms / st['median']))
        goals.append(('power-fenced failover >= 10x faster than sanlock at io_timeout %s' % s(io),
                      sanlock_ms / st['median'] >= 10, '%.1fx' % (sanlock_ms / st['median'])))
        if io == 2000:
            goals.append(('power-fenced failover <= 3 s at io_timeout 2 s', st['median'] <= 3000, s(st['median'])))
    p()
    p('The suspicion S (T with the LAN, the peer silent there too), the fence intent written and looked at, the fence '
      'round (status, off, status through ipmi_sim), the settle delay, then the claim and the start (docs/design.md '
      '"Power fencing"); where the dead time D ends first (short io_timeouts) it decides, and the fence is confirmed '
      'after. sanlock figures from its formula 8T + 60 s.')
    p()

# ---- shared storage stall (issue 15) ----------------------------------------------------------------------
ss = data.get('stall_ride_summary', [])
if ss:
    p('## Shared storage stall ridden through (both quorum-disk paths stalled, the LAN up)')
    p()
    p('| io_timeout | max_storage_stall | stalls tried (fences/resets/svcmgr kills/risk stops, longest client outage) | longest with 0 resets | longest with services untouched |')
    p('|---|---|---|---|---|')
    summary['shared_stall'] = ss
    raw = data.get('stall_ride', [])
    for r in ss:
        tried = ', '.join('%d s (%d/%d/%d/%d, %s)' % (x['stall_s'], x['fences'], x['resets'], x.get('svc_kills', 0), x.get('risk_stops', 0),
                                                   s(x['outage_ms']) if x['outage_ms'] >= 0 else 'down')
                          for x in raw if x['io_timeout_ms'] == r['io_timeout_ms'])
        p('| %s | %d s | %s | %d s | %d s |' % (s(r['io_timeout_ms']), r['max_storage_stall_s'], tried, r['max_ridden_s'],
                                            r.get('max_untouched_s', 0)))
        if r['io_timeout_ms'] == 2000:
            goals.append(('shared stall ridden through >= 60 s at io_timeout 2 s', r['max_ridden_s'] >= 60, '%d s' % r['max_ridden_s']))
    p()
    p('Both nodes keep their leases on promises exchanged over the LAN while neither can write the quorum disk '
      '(docs/design.md); bench/shared_stall.sh stops at the first stall that fenced or reset a node; "untouched": no '
      'svcmgr killed or stopped every service either (a lease-at-risk stop restarts the services after the stall).')
    p()

if goals:
    p('## Goals')
    p()
    for g, ok, v in goals:
        p('- %s: %s (%s)' % (g, 'met' if ok else 'MISSED', v))
    p()
summary['goals'] = [dict(goal=g, met=ok, value=v) for g, ok, v in goals]

text = '\n'.join(lines)
print(text)
open(os.path.join(out, 'summary.md'), 'w').write(text + '\n')
json.dump(dict(meta=meta, summary=summary, measurements=data), open(os.path.join(out, 'results.json'), 'w'), indent=1, default=str)

# ---- plots ---------------------------------------------------------------------------------------------
try:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
except ImportError:
    print('(matplotlib missing: no plots)')
    sys.exit(0)

def save(fig, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=110)
    plt.close(fig)
    print('plot: %s' % os.path.join(out, name))

if fo:
    ios = sorted(summary['failover'])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.boxplot([[r['total_ms'] / 1000 for r in fo if r['io_timeout_ms'] == io and r.get('ok')] for io in ios],
               labels=[s(io) for io in ios])
    ax.set_yscale('log'); ax.set_xlabel('io_timeout'); ax.set_ylabel('kill -> first HTTP reply (s)')
    ax.set_title('Failover, end to end')
    ax = axes[1]
    bottom = [0] * len(ios)
    for k, lab in (('detect_ms', 'detection'), ('takeover_ms', 'takeover'), ('start_ms', 'service start'), ('reply_ms', 'reply')):
        v = [(summary['failover'][io][k] or {}).get('median', 0) / io for io in ios]
        ax.bar([s(io) for io in ios], v, bottom=bottom, label=lab)
        bottom = [a + b for a, b in zip(bottom, v)]
    ax.set_ylabel('median, in units of io_timeout T'); ax.set_xlabel('io_timeout')
    ax.set_title('Where the time goes (in units of T)'); ax.legend()
    save(fig, 'failover.png')

if sl and summary.get('sanlock'):
    ios = sorted(summary['sanlock'])
    fig, ax = plt.subplots(figsize=(6, 4))
    w = 0.38
    xs = range(len(ios))
    ax.bar([x - w / 2 for x in xs], [(summary['sanlock'][io]['sanlock'] or {}).get('median', 0) / 1000 for io in ios], w, label='sanlock')
    ax.bar([x + w / 2 for x in xs], [(summary['sanlock'][io]['castor'] or {}).get('median', 0) / 1000 for io in ios], w, label='Castor')
    ax.set_xticks(list(xs)); ax.set_xticklabels(['io_timeout ' + s(io) for io in ios]); ax.set_yscale('log')
    ax.set_ylabel('SIGKILL -> other host may take over (s)'); ax.legend(); ax.set_title('Detection: sanlock vs Castor')
    save(fig, 'sanlock_vs_castor.png')

if fe:
    keys = []
    for r in fe:
        if (r['system'], r['profile']) not in keys: keys.append((r['system'], r['profile']))
    faults = [f for f in ('setro', 'eio', 'stall') if any(r['fault'] == f for r in fe)]
    fig, ax = plt.subplots(figsize=(10, 4))
    w = 0.8 / len(faults)
    for i, f in enumerate(faults):
        v = [(stats([r['fence_ms'] for r in fe if (r['system'], r['profile']) == k and r['fault'] == f and r.get('fenced')]) or {}).get('median', 0) / 1000 for k in keys]
        ax.bar([x + (i - (len(faults) - 1) / 2) * w for x in range(len(keys))], v, w, label=f)
    ax.set_xticks(range(len(keys))); ax.set_xticklabels(['%s\n%s' % k for k in keys], fontsize=8)
    ax.set_ylabel('disk lost -> self-fence (s); 0 = none'); ax.set_yscale('symlog', linthresh=0.1); ax.legend()
    ax.set_title('Self-fence on disk loss: sbd vs Castor')
    save(fig, 'fence.png')

if idle:
    ds = [r for r in idle if r['kind'] == 'daemon' and not r.get('gone')]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    names = ['%s\n%s' % (r['name'], s(r['io_timeout_ms']) if r['system'] == 'castor' else 'default') for r in ds]
    for ax, key, lab, goal in ((axes[0], 'cpu_pct', 'CPU %', 0.1), (axes[1], 'rss_kib', 'RSS MiB', 8), (axes[2], 'wakeups_per_s', 'wakeups/s', None)):
        v = [r[key] / 1024 if key == 'rss_kib' else r[key] for r in ds]
        ax.bar(range(len(ds)), v, color=['C0' if r['system'] == 'castor' else 'C1' if r['system'] == 'sanlock' else 'C2' for r in ds])
        ax.set_xticks(range(len(ds))); ax.set_xticklabels(names, rotation=90, fontsize=7); ax.set_ylabel(lab)
        if goal: ax.axhline(goal, color='red', linestyle='--', linewidth=1)
    fig.suptitle('Idle cost (blue Castor, orange sanlock, green sbd; red: the goal)')
    save(fig, 'idle.png')

if sc:
    ns = sorted(summary['scale'])
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.8))
    for ax, keys, lab in ((axes[0], (('svcmgr_cpu', 'svcmgr'), ('quorumd_cpu', 'quorumd'), ('agents_cpu', "agents")), 'idle CPU %'),
                          (axes[1], (('status_ms', 'castor status'),), 'latency (ms)'),
                          (axes[2], (('relocate_ms', 'relocate one'),), 'latency (ms)'),
                          (axes[3], (('failover_detect_ms', 'DEAD'), ('failover_first_ms', 'first started'), ('failover_all_ms', 'all started')), 'since the crash (ms)')):
        for k, l in keys:
            bad = [n for n in ns if k in ('status_ms', 'relocate_ms') and summary['scale'][n]['status_has_services'] is False]
            pts = [(n, summary['scale'][n][k]) for n in ns if summary['scale'][n][k] and n not in bad]
            if pts: ax.plot([a for a, _ in pts], [b for _, b in pts], 'o-', label=l)
            for n in bad:
                ax.annotate('%d: fails\n(reply > 64 KiB)' % n, xy=(0.55, 0.5), xycoords='axes fraction', color='red', fontsize=8)
        ax.set_xscale('log'); ax.set_yscale('log'); ax.set_xlabel('services'); ax.set_ylabel(lab); ax.legend(fontsize=7)
    fig.suptitle('Scale: how each figure grows with the number of services')
    save(fig, 'scale.png')

if it:
    fig, ax = plt.subplots(figsize=(6, 4))
    raw = data.get('io_tolerance', [])
    for io in sorted({r['io_timeout_ms'] for r in raw}):
        rs = sorted([r for r in raw if r['io_timeout_ms'] == io], key=lambda r: r['stall_ms'])
        ax.scatter([r['stall_ms'] / io for r in rs], [s(io)] * len(rs), c=[['green', 'orange', 'red'][r['result']] for r in rs], s=60)
    ax.set_xlabel('stall / io_timeout (green: nothing, orange: services stopped, red: failover)')
    ax.set_title('I/O tolerance')
    save(fig, 'io_tolerance.png')
