#!/usr/bin/env python3
"""A syslog sink for sbd in the benchmarks: binds a datagram socket at PATH and appends every message to
FILE, each prefixed with the wall time it arrived (seconds since the epoch, ms). Usage: syslog_sink.py PATH FILE"""
import os, socket, sys, time

path, out = sys.argv[1], open(sys.argv[2], 'a', buffering=1)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
while True:
    data = s.recv(65536)
    out.write('%.3f %s\n' % (time.time(), data.decode(errors='replace').rstrip('\n')))
