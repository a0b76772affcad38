#!/bin/bash
# Running sbd (Debian package sbd) for the benchmarks, harmlessly: no watchdog (SBD_WATCHDOG_DEV=/dev/null)
# and debug mode (-Z -Z) so that a fence is only logged ("DEBUG MODE: Would have fenced"), never a reboot;
# no Pacemaker. sbd logs only to syslog and there is none here: each sbd runs in its own mount namespace
# whose /dev is an overlay of the real /dev with /dev/log pointing at our own listener (bench/syslog_sink.py),
# which stamps every line with the wall time it arrived. Nothing outside that namespace changes.
SBD_SINK_PID="" SBD_PIDS=""
sbd_sink_start() {  # sbd_sink_start WORK: the listener at WORK/log.sock, lines to WORK/syslog.txt
  python3 "$BENCH_DIR/syslog_sink.py" "$1/log.sock" "$1/syslog.txt" &
  SBD_SINK_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do [ -S "$1/log.sock" ] && return 0; sleep 0.05; done
}
# sbd_watch WORK DEV:NODE...: one sbd per DEV:NODE (all in one namespace); their daemon PIDs in SBD_PIDS
sbd_watch() {
  local work=$1 ov cmds="" dn; shift
  ov=$(mktemp -d "$work/ov.XXXXXX"); mkdir -p "$ov/up" "$ov/work"
  for dn in "$@"; do
    rm -f "$work/sbd-${dn#*:}.pid"
    cmds+="sbd -d ${dn%%:*} -n ${dn#*:} -W -W -Z -Z -p $work/sbd-${dn#*:}.pid watch; "
  done
  SBD_SYNC_RESOURCE_STARTUP=no SBD_WATCHDOG_DEV=/dev/null SBD_PACEMAKER=no \
    unshare --mount --propagation private bash -c "mount -t overlay overlay -o lowerdir=/dev,upperdir=$ov/up,workdir=$ov/work /dev &&
      ln -s $work/log.sock /dev/log && $cmds" >>"$work/sbd-start.log" 2>&1
  SBD_PIDS=""
  local i p
  for dn in "$@"; do
    for ((i = 0; i < 50; i++)); do [ -s "$work/sbd-${dn#*:}.pid" ] && break; sleep 0.1; done
    p=$(cat "$work/sbd-${dn#*:}.pid" 2>/dev/null | tr -d ' ')
    [ -n "$p" ] && SBD_PIDS+="$p "
  done
}
sbd_children() { local p; for p in $SBD_PIDS; do cat /proc/"$p"/task/*/children 2>/dev/null; done; }
sbd_stop() {  # every sbd we started: its servants (children of its daemon), then the daemon
  local p
  for p in $(sbd_children) $SBD_PIDS; do kill -KILL "$p" 2>/dev/null; done
  SBD_PIDS=""
}
sbd_sink_stop() { [ -n "$SBD_SINK_PID" ] && { kill "$SBD_SINK_PID" 2>/dev/null; wait "$SBD_SINK_PID" 2>/dev/null; }; SBD_SINK_PID=""; }
