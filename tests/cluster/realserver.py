#!/usr/bin/env python3
"""A real server behind the director (tests/cluster/director.sh): answers every GET with its own name, so the
client can tell through the director's floating IP which real server answered. Run it in the real server's
network namespace; it serves until it is killed.

    realserver.py --name rs1 --bind 192.0.2.21 [--port 80]"""
import argparse, http.server, socketserver, sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', required=True)
    ap.add_argument('--bind', required=True)
    ap.add_argument('--port', type=int, default=80)
    a = ap.parse_args()
    body = (a.name + '\n').encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):  # quiet: HAProxy's health checks come twice a second
            pass

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer((a.bind, a.port), Handler) as srv:
        srv.daemon_threads = True
        srv.serve_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main())
