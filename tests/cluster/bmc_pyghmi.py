#!/usr/bin/python3
"""A node's BMC for the harness (tests/cluster/bmc.sh with BMC_IMPL=pyghmi): IPMI 2.0 over LAN (lanplus, cipher
suite 3) served by pyghmi's BMC class (Debian's python3-pyghmi; OpenStack's virtualbmc is built on it), in place
of ipmi_sim. The power is the same wrapper ipmi_sim runs as its startcmd (bmc.sh writes it): power on starts
it (the node boots), the power is on while it lives; power off sends it SIGTERM and answers once it has exited,
which it does once every process of the node is gone. So a `chassis power off` takes effect before its answer,
as a hard power-off does on a real BMC, where ipmi_sim acts on its next one-second tick and reports "on" until
then. Reset: SIGUSR1 to the wrapper (it halts and boots the node).

    bmc_pyghmi.py --address A --port P --user U --password-file F --startcmd CMD

Test tool: never used in production. Needs Debian's python3-pyghmi (run it with /usr/bin/python3)."""
import argparse
import shlex
import signal
import subprocess
import sys
import time

from pyghmi.ipmi import bmc


class NodeBmc(bmc.Bmc):
    def __init__(self, authdata, port, address, startcmd):
        super().__init__(authdata, port=port, address=address)
        self.startcmd = startcmd
        self.power = None  # the wrapper while the power is on

    def on(self):
        return self.power is not None and self.power.poll() is None

    def log(self, what):
        print(f'{time.strftime("%H:%M:%S")} {what}', flush=True)

    def get_power_state(self):
        return 'on' if self.on() else 'off'

    def power_on(self):
        if not self.on():
            self.power = subprocess.Popen(self.startcmd, stdin=subprocess.DEVNULL)
            self.log(f'power on: wrapper {self.power.pid}')
        return 0

    def power_off(self):
        if self.on():
            self.power.send_signal(signal.SIGTERM)
            self.power.wait()  # the node is halted: only then is the power off, and the command answered
            self.log('power off')
        return 0

    def power_shutdown(self):  # no operating system to ask: as ipmi_sim without a VM connection, a power off
        return self.power_off()

    def power_reset(self):
        if self.on():
            self.power.send_signal(signal.SIGUSR1)
            self.log('reset')
        return 0

    def power_cycle(self):
        self.power_off()
        return self.power_on()

    def is_active(self):
        return self.on()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--address', required=True)
    ap.add_argument('--port', type=int, default=623)
    ap.add_argument('--user', required=True)
    ap.add_argument('--password-file', required=True)
    ap.add_argument('--startcmd', required=True)
    a = ap.parse_args()
    with open(a.password_file) as f:
        password = f.read().strip()
    b = NodeBmc({a.user: password}, a.port, a.address, shlex.split(a.startcmd))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    b.log(f'listening on {a.address}:{a.port}')
    b.listen()


if __name__ == '__main__':
    main()
