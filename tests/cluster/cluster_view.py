#!/usr/bin/env python3
"""What the torture cluster's two svcmgrs say runs where, in one line (for tests/cluster/torture.sh):

    cluster_view.py CASTOR RUN_DIR  ->  "WEB_NODE LEDGER_NODE STARTED"

WEB_NODE / LEDGER_NODE: the node whose svcmgr reports that service started ('-' if none); STARTED: how many
distinct services are started on some node. Asks each node's status (castor status --json) once; a node that
does not answer counts as running nothing. Test tool: reads status only."""
import json, subprocess, sys


def main():
    castor, d = sys.argv[1], sys.argv[2]
    where = {}
    for n in ('alpha', 'beta'):
        try:
            out = subprocess.run([castor, 'status', '--socket', f'{d}/{n}/quorumd.sock', '--svcmgr-socket',
                                  f'{d}/{n}/svcmgr.sock', '--json'], capture_output=True, timeout=5).stdout
            st = json.loads(out)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            continue
        for s in (st.get('services') or {}).get('services', []):
            if s.get('state') == 'started' and s.get('owner'):
                where.setdefault(s['name'], s['owner'])
    print(where.get('web', '-'), where.get('ledger', '-'), len(where))
    return 0


if __name__ == '__main__':
    sys.exit(main())
