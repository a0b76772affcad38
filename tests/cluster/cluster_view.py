#!/usr/bin/env python3
"""What the torture cluster's two svcmgrs say runs where, in one line (for tests/cluster/torture.sh):

    cluster_view.py CASTOR RUN_DIR  ->  "WEB_NODE LEDGER_NODE STARTED WHOLE"

WEB_NODE / LEDGER_NODE: the node whose own svcmgr reports that service started there ('-' if none; what a
node reports of its peer's entries is not counted: a crashed peer's entries read as started until its
death is confirmed); STARTED: how many distinct services are started on some node, by the same rule; WHOLE:
1 if both nodes answered and each sees its peer UP, else 0. Asks each node's status (castor status --json)
once; a node that does not answer counts as running nothing. Test tool: reads status only."""
import json, subprocess, sys


def main():
    castor, d = sys.argv[1], sys.argv[2]
    where, up = {}, 0
    for n in ('alpha', 'beta'):
        try:
            out = subprocess.run([castor, 'status', '--socket', f'{d}/{n}/quorumd.sock', '--svcmgr-socket',
                                  f'{d}/{n}/svcmgr.sock', '--json'], capture_output=True, timeout=5).stdout
            st = json.loads(out)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            continue
        svc = st.get('services') or {}
        up += svc.get('peer_view') == 'UP'
        for s in svc.get('services', []):
            if s.get('state') == 'started' and s.get('owner') == n:
                where.setdefault(s['name'], n)
    print(where.get('web', '-'), where.get('ledger', '-'), len(where), 1 if up == 2 else 0)
    return 0


if __name__ == '__main__':
    sys.exit(main())
