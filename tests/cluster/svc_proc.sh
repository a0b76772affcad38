#!/bin/bash
# svc_proc.sh run|stop|monitor NAME EVIDENCE_DIR: one of the torture cluster's light `exec` services
# (svc01..svc40, enough to fill two service-table blocks), leaving evidence outside the nodes in
# EVIDENCE_DIR/svc-evidence.log ($CASTOR_NODE and $CASTOR_EPOCH come from svcmgr):
#   run      "start NODE EPOCH NS NAME PID" (wall-clock ns, before the process exists), then the service is
#            this process (exec'd as `castor-svc-NAME`, a sleep) holding an exclusive flock on
#            EVIDENCE_DIR/svc-locks/NAME.lock for its whole life: a second copy anywhere finds the lock held
#            and logs "conflict NODE EPOCH NS NAME PID HOLDER_NODE HOLDER_EPOCH HOLDER_PID" (the kernel's
#            own word that two copies ran at once). Started in the background by the start command.
#   stop     kills it, waits until it is gone, then logs "stop NODE EPOCH NS NAME PID".
#   monitor  exit 0 while it runs, 7 (not running) otherwise.
# tests/cluster/svc_watch.py logs each copy's exact end from outside (a pidfd), also when a fence or a
# reset SIGKILLs it without a stop. Test tool: never used in production.
name=$2 ev=$3
pidfile=/run/castor-node/$name.pid
now() { date +%s%N; }
case $1 in
  run)
    echo "start $CASTOR_NODE $CASTOR_EPOCH $(now) $name $$" >>"$ev/svc-evidence.log"
    exec 9>>"$ev/svc-locks/$name.lock"
    if flock -n 9; then
      echo "$CASTOR_NODE $CASTOR_EPOCH $$" >"$ev/svc-locks/$name.holder"
    else
      echo "conflict $CASTOR_NODE $CASTOR_EPOCH $(now) $name $$ $(cat "$ev/svc-locks/$name.holder" 2>/dev/null)" \
        >>"$ev/svc-evidence.log"
    fi
    exec -a "castor-svc-$name" sleep 1000000000 ;;
  stop)
    p=$(cat "$pidfile" 2>/dev/null)
    if [ -n "$p" ] && grep -qa "$name" "/proc/$p/cmdline" 2>/dev/null; then
      kill "$p" 2>/dev/null
      while kill -0 "$p" 2>/dev/null; do sleep 0.02; done
    fi
    rm -f "$pidfile"
    echo "stop $CASTOR_NODE $CASTOR_EPOCH $(now) $name ${p:-none}" >>"$ev/svc-evidence.log"
    exit 0 ;;
  monitor)
    p=$(cat "$pidfile" 2>/dev/null)
    [ -n "$p" ] && grep -qa "$name" "/proc/$p/cmdline" 2>/dev/null && exit 0
    exit 7 ;;
esac
exit 2
