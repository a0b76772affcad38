#!/usr/bin/env python3
"""A small client of quorumd's control socket for the integration tests (framing: u32le length, u16le
version 1, payload). Usage: qctl.py SOCKET COMMAND [ARGS...]; see main() for the commands."""
import json, os, signal, socket, struct, sys, time

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def send(s, payload):
    b = payload if isinstance(payload, bytes) else payload.encode()
    s.sendall(struct.pack('<IH', len(b), 1) + b)

def recv_exact(s, n):
    out = b''
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            return None
        out += c
    return out

def recv(s):
    h = recv_exact(s, 6)
    if h is None:
        return None
    n, v = struct.unpack('<IH', h)
    body = recv_exact(s, n)
    return None if body is None else json.loads(body)

def request(path, verb):
    s = connect(path)
    send(s, verb)
    return recv(s)

def get(d, dotted):
    for k in dotted.split('.'):
        d = d[k]
    return d

def main():
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'status':  # status [dotted.field]
        r = request(path, 'status')
        print(json.dumps(get(r, args[0]) if args else r))
    elif cmd == 'send':  # send VERB [ARGS]: prints the reply
        print(json.dumps(request(path, ' '.join(args))))
    elif cmd == 'raw':  # raw HEX: sends bytes, prints every reply, then "closed" or "open"
        s = connect(path)
        s.sendall(bytes.fromhex(args[0]))
        s.settimeout(1.0)
        try:
            while True:
                r = recv(s)
                if r is None:
                    print('closed')
                    return
                print(json.dumps(r))
        except socket.timeout:
            print('open')
    elif cmd == 'wait-peer':  # wait-peer VIEW TIMEOUT_S: polls status until the peer has that view
        view, deadline = args[0], time.monotonic() + float(args[1])
        while time.monotonic() < deadline:
            try:
                if request(path, 'status')['peer']['view'] == view:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit('peer never became %s' % view)
    elif cmd == 'kill-and-wait':  # kill-and-wait PID SIGNAL VIEW TIMEOUT_S: prints ms until peer_changed to VIEW
        pid, sig, view, tmo = int(args[0]), getattr(signal, args[1]), args[2], float(args[3])
        s = connect(path)
        send(s, 'subscribe')
        assert recv(s)['ok']
        s.settimeout(tmo)
        t0 = time.monotonic()
        os.kill(pid, sig)
        while True:
            e = recv(s)
            if e is None:
                sys.exit('connection closed before the peer became %s' % view)
            if e.get('event') == 'peer_changed' and e['to'] == view:
                print(int((time.monotonic() - t0) * 1000))
                return
    elif cmd == 'race':  # race SOCK_A SOCK_B ACTION TIMEOUT_S: subscribe to both, run ACTION (a shell command),
        # then print, one per line, "ms source event to/reason" for every event until both stop or the timeout
        import subprocess
        socks = {}
        for name, p in (('a', path), ('b', args[0])):
            try:
                s = connect(p)
                send(s, 'subscribe')
                recv(s)
                s.setblocking(False)
                socks[name] = (s, b'')
            except OSError:
                pass
        t0 = time.monotonic()
        subprocess.Popen(args[1], shell=True)
        deadline = t0 + float(args[2])
        import select
        while socks and time.monotonic() < deadline:
            r, _, _ = select.select([v[0] for v in socks.values()], [], [], 0.05)
            for name in list(socks):
                s, buf = socks[name]
                if s not in r:
                    continue
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    print('%d %s closed -' % ((time.monotonic() - t0) * 1000, name), flush=True)
                    del socks[name]
                    continue
                buf += chunk
                while len(buf) >= 6:
                    n, _ = struct.unpack('<IH', buf[:6])
                    if len(buf) < 6 + n:
                        break
                    e = json.loads(buf[6:6 + n])
                    buf = buf[6 + n:]
                    what = e.get('to') or e.get('reason', '')
                    print('%d %s %s %s' % ((time.monotonic() - t0) * 1000, name, e.get('event'), what), flush=True)
                socks[name] = (s, buf)
    else:
        sys.exit('unknown command ' + cmd)

if __name__ == '__main__':  # also imported (tests/lib/web_browser.py)
    main()
