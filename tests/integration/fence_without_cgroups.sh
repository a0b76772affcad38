#!/bin/bash
# Where no cgroup file system is usable (a container; a node entered with `ip netns exec`, whose fresh
# /sys has no /sys/fs/cgroup), svcmgr tracks services by process group as before issue 14, and quorumd's
# fence must then kill the registered process groups. Here quorumd runs in a mount namespace with an empty
# tmpfs over /sys/fs/cgroup; a registered process group (a `setsid sleep`) must die when quorumd, frozen
# past its lease, fences. Without the fallback quorumd found the group outside Castor's cgroups (there
# are none to see) and left it alive.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/quorumd_test.sh"
need_quorumd

dev=$(new_loop "$dir/q.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster nocg --nodes a,b --io-timeout 200
cat >"$dir/a.ini" <<EOI
[quorumd]
device = $dev
node = a
cluster = nocg
watchdog_device = none
allow_unsafe_no_watchdog = yes
socket = $dir/a.sock
lock_memory = no
realtime = no
EOI
chmod 600 "$dir/a.ini"
setsid unshare --mount --propagation private sh -c \
  "mount -t tmpfs nocgroups /sys/fs/cgroup && exec '$QUORUMD' --config '$dir/a.ini'" >>"$dir/a.log" 2>&1 &
qpid=$!; register_pid "$qpid"
for ((i = 0; i < 50; i++)); do qctl "$dir/a.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
qctl "$dir/a.sock" status >/dev/null 2>&1 || die "quorumd did not answer"
qd=$(pgrep -P "$qpid" -x quorumd || echo "$qpid")
for ((i = 0; i < 50; i++)); do [ "$(qctl "$dir/a.sock" status phase)" = '"up"' ] && break; sleep 0.1; done

setsid sleep 600 &
victim=$!; register_pid "$victim"
OUT=$(qctl "$dir/a.sock" send register-pgid "$victim")
echo "$OUT" | grep -q '"registered": true' || die "register-pgid refused: $OUT"
say "quorumd frozen past its lease fences: the registered process group must die"
kill -STOP "$qd"; sleep 1; kill -CONT "$qd"
for ((i = 0; i < 30; i++)); do [ "$(qctl "$dir/a.sock" status fences)" = 1 ] && break; sleep 0.1; done
[ "$(qctl "$dir/a.sock" status fences)" = 1 ] || die "quorumd did not fence after being frozen past its lease"
live() {  # exists and is not a zombie (our child until we reap it)
  kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}
for ((i = 0; i < 20; i++)); do live "$victim" || break; sleep 0.1; done
live "$victim" && die "the registered process group survived the fence (no cgroups here)"
wait "$victim" 2>/dev/null
grep -q "process group killed (SIGKILL) pgid=$victim" "$dir/a.log" || die "the kill of the group is not logged"
say "ok: without cgroups the fence killed the registered process group"
