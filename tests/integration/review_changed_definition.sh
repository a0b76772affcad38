#!/bin/bash
# REVIEW FINDING R3 (issue 12 adversarial review, sibling of item 10): a service file CHANGED while svcmgr
# was down. svcmgr's start-up probes (and would stop) the service with the NEW definition and overwrites the
# saved copy of the old one before it is proven stopped. An instance started under the old definition that
# the new probe cannot see is then "not running": the entry is released and the peer starts the service
# while the old instance still runs here.
# Schedule: a runs web under v1 (marker web-v1-a). a's svcmgr is killed (its services keep running, as
# agents' processes, mounts and addresses do). The admin edits web.ini on both nodes to v2 (another marker,
# and now preferring b). a's svcmgr starts: probe with v2 says stopped, a releases, b starts web under v2:
# web-v1-a and web-v2-b both exist — the service runs on both nodes.
# Expected (fixed): svcmgr probes/stops with the saved copy of the definition the instance was started
# under (Pacemaker stops with the parameters of the last start) before it releases the entry.
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=$BUILD/quorumd SVCMGR=$BUILD/svcmgr
[ -x "$SVCMGR" ] || skip "svcmgr not built"
make_scratch; dir=$SCRATCH

show_logs() { for f in "$dir"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done; }
die() { show_logs; fail "$*"; }

truncate -s 8M "$dir/lun.img"
dev_a=$(losetup -f --show --direct-io=on "$dir/lun.img") || die losetup; register_loop "$dev_a"
dev_b=$(losetup -f --show --direct-io=on "$dir/lun.img") || die losetup; register_loop "$dev_b"
expect_exit 0 "$CASTOR" init "$dev_a" --cluster rev3 --nodes a,b --io-timeout 200
mkdir -p "$dir/state"

webdef() {  # webdef VERSION NODES
  cat <<EOI
[service]
name = web
nodes = $2
failback = yes
monitor_interval = 1s
start_timeout = 5s
stop_timeout = 5s

[resource r]
agent = exec
shell = yes
start = echo "start \$CASTOR_NODE \$CASTOR_EPOCH $1" >> $dir/ledger && touch $dir/state/web-$1-\$CASTOR_NODE
stop = echo "stop \$CASTOR_NODE \$CASTOR_EPOCH $1" >> $dir/ledger; rm -f $dir/state/web-$1-\$CASTOR_NODE
monitor = test -e $dir/state/web-$1-\$CASTOR_NODE || exit 7
EOI
}
for n in a b; do
  dev_var=dev_$n
  mkdir -p "$dir/$n-services"
  cat >"$dir/$n.ini" <<EOI
[quorumd]
device = ${!dev_var}
node = $n
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $dir/$n-q.sock
lock_memory = no
realtime = no

[svcmgr]
services_dir = $dir/$n-services
socket = $dir/$n-s.sock
quorumd_socket = $dir/$n-q.sock
state_dir = $dir/$n-state
EOI
  webdef v1 "a, b" >"$dir/$n-services/web.ini"
done

start_quorumd() { $QUORUMD --config "$dir/$1.ini" >>"$dir/$1-quorumd.log" 2>&1 & register_pid $!; }
start_svcmgr() { $SVCMGR --config "$dir/$1.ini" >>"$dir/$1-svcmgr.log" 2>&1 & eval "SV_$1=$!"; register_pid $!; }

say "a and b up: web starts on a under v1"
start_quorumd a; start_quorumd b
sleep 0.5
start_svcmgr a; start_svcmgr b
end=$((SECONDS + 30))
until [ -e "$dir/state/web-v1-a" ] || ((SECONDS >= end)); do sleep 0.2; done
[ -e "$dir/state/web-v1-a" ] || die "web did not start on a"

say "a's svcmgr is killed (web keeps running); web.ini edited on both nodes to v2 (prefers b)"
kill -KILL "$SV_a"; wait "$SV_a" 2>/dev/null
for n in a b; do webdef v2 "b, a" >"$dir/$n-services/web.ini"; done
kill -HUP "$SV_b"
sleep 0.5

say "a's svcmgr starts again"
start_svcmgr a
end=$((SECONDS + 20))
until [ -e "$dir/state/web-v2-b" ] || [ -e "$dir/state/web-v2-a" ] || ((SECONDS >= end)); do sleep 0.2; done
sleep 1
echo "ledger:"; cat "$dir/ledger"
ls "$dir/state"
if [ -e "$dir/state/web-v1-a" ] && { [ -e "$dir/state/web-v2-b" ] || [ -e "$dir/state/web-v2-a" ]; }; then
  show_logs
  fail "R3: web runs twice: the v1 instance on a was never stopped, and v2 started ($(ls "$dir/state" | tr '\n' ' '))"
fi
say "ok: the v1 instance was stopped before web started again"
