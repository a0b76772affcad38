#!/bin/bash
# Trusted inputs only (issue 14), end to end through the binaries:
#   - castor check names a group-writable service file, a service file owned by another user, a symlink in
#     a directory others can write to, and (with --agents) an agent program others can write to; exit 2
#   - the same files fixed: castor check is happy
#   - quorumd and svcmgr refuse to start on a castor.ini that group can write to, saying why
#   - castor init prints the cluster_uuid line for castor.ini; with another disk's UUID pinned, quorumd
#     refuses the disk; with its own it starts
. "$(dirname "$0")/../lib/common.sh"
need_root
QUORUMD=${QUORUMD:-$BUILD/quorumd}
SVCMGR=${SVCMGR:-$BUILD/svcmgr}
[ -x "$QUORUMD" ] && [ -x "$SVCMGR" ] && [ -x "$CASTOR" ] || skip "castor, quorumd or svcmgr is not built"
make_scratch; dir=$SCRATCH
WHY="only root may be able to change a file Castor runs"

mkdir -m 0755 "$dir/services.d" "$dir/bin"
install -m 0755 /dev/stdin "$dir/bin/app" <<<'#!/bin/sh
exit 0'
svc() {  # svc NAME -> a valid service file text
  printf '[service]\nname = %s\nnodes = a, b\n[resource r]\nagent = exec\nstart = %s\nstop = /bin/true\n' "$1" "$dir/bin/app"
}
for n in web db cache; do svc $n >"$dir/services.d/$n.ini"; done
chmod 0644 "$dir"/services.d/*.ini
expect_exit 0 "$CASTOR" check "$dir/services.d" --nodes a,b --agents
echo "$OUT" | grep -q "3 service(s) valid, 0 error(s)" || fail "castor check: $OUT"

say "a group-writable service file: castor check names it"
chmod 0664 "$dir/services.d/web.ini"
expect_exit 2 "$CASTOR" check "$dir/services.d" --nodes a,b
echo "$OUT" | grep -qF "$dir/services.d/web.ini: writable by group (mode 0664); $WHY" || fail "castor check: $OUT"
echo "$OUT" | grep -q "2 service(s) valid, 1 error(s)" || fail "castor check: $OUT"
chmod 0644 "$dir/services.d/web.ini"

say "a service file owned by another user"
chown 65534:65534 "$dir/services.d/db.ini"
expect_exit 2 "$CASTOR" check "$dir/services.d" --nodes a,b
echo "$OUT" | grep -qF "$dir/services.d/db.ini: owned by uid 65534, not root; $WHY" || fail "castor check: $OUT"
chown 0:0 "$dir/services.d/db.ini"

say "a symlink to a trusted file, in a directory others can write to"
mkdir -m 0777 "$dir/open"
svc other >"$dir/open-target.ini"; chmod 0644 "$dir/open-target.ini"
ln -s "$dir/open-target.ini" "$dir/open/other.ini"
expect_exit 2 "$CASTOR" check "$dir/open" --nodes a,b
echo "$OUT" | grep -qF "$dir/open: writable by group and others (mode 0777); $WHY" || fail "castor check: $OUT"
mkdir -m 0755 "$dir/links"
ln -s "$dir/open/other.ini" "$dir/links/other.ini"  # a trusted link whose way runs through the open directory
expect_exit 2 "$CASTOR" check "$dir/links" --nodes a,b
echo "$OUT" | grep -qF "directory $dir/open is writable by group and others (mode 0777)" || fail "castor check: $OUT"

say "an agent program others can write to: castor check --agents names it"
chmod 0757 "$dir/bin/app"
expect_exit 2 "$CASTOR" check "$dir/services.d" --nodes a,b --agents
echo "$OUT" | grep -qF "start command $dir/bin/app: writable by others (mode 0757); $WHY" || fail "castor check: $OUT"
chmod 0755 "$dir/bin/app"
expect_exit 0 "$CASTOR" check "$dir/services.d" --nodes a,b --agents

say "quorumd and svcmgr refuse a group-writable castor.ini"
printf '[quorumd]\ndevice = /dev/null\nnode = a\nwatchdog_device = none\nallow_unsafe_no_watchdog = yes\nsocket = %s/q.sock\n[svcmgr]\nservices_dir = %s/services.d\nsocket = %s/s.sock\nquorumd_socket = %s/q.sock\n' \
  "$dir" "$dir" "$dir" "$dir" >"$dir/castor.ini"
chmod 0664 "$dir/castor.ini"
expect_exit 1 timeout 10 "$QUORUMD" --config "$dir/castor.ini"
echo "$OUT" | grep -qF "$dir/castor.ini: writable by group (mode 0664); $WHY" || fail "quorumd: $OUT"
expect_exit 1 timeout 10 "$SVCMGR" --config "$dir/castor.ini"
echo "$OUT" | grep -qF "$dir/castor.ini: writable by group (mode 0664); $WHY" || fail "svcmgr: $OUT"

say "castor init prints the cluster_uuid line; a pinned UUID refuses any other disk"
dev=$(new_loop "$dir/q.img" 8); register_loop "$dev"
expect_exit 0 "$CASTOR" init "$dev" --cluster it --nodes a,b --io-timeout 200
uuid=$(echo "$OUT" | sed -n 's/^  cluster_uuid = \([0-9a-f-]*\)$/\1/p')
[ ${#uuid} = 36 ] || fail "castor init printed no cluster_uuid line: $OUT"
echo "$OUT" | grep -q "(UUID $uuid)" || fail "the hint's UUID is not the disk's: $OUT"
other=$(python3 -c 'import uuid; print(uuid.uuid4())' 2>/dev/null || cat /proc/sys/kernel/random/uuid)
conf() {  # conf UUID -> castor.ini for node a pinning UUID
  printf '[quorumd]\ndevice = %s\nnode = a\ncluster_uuid = %s\nwatchdog_device = none\nallow_unsafe_no_watchdog = yes\nsocket = %s/a.sock\nlock_memory = no\nrealtime = no\n' \
    "$dev" "$1" "$dir" >"$dir/a.ini"
  chmod 0644 "$dir/a.ini"
}
conf "$other"
expect_exit 1 timeout 10 "$QUORUMD" --config "$dir/a.ini"
echo "$OUT" | grep -qF "pins cluster_uuid $other, but the quorum disk $dev holds cluster 'it' with UUID $uuid" || fail "quorumd: $OUT"
conf "$uuid"
setsid "$QUORUMD" --config "$dir/a.ini" >"$dir/a.log" 2>&1 &
qpid=$!; register_pid "$qpid"
for _ in $(seq 100); do [ -S "$dir/a.sock" ] && break; kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
[ -S "$dir/a.sock" ] || fail "quorumd with its own cluster_uuid did not start: $(cat "$dir/a.log")"
kill -TERM "$qpid"; wait "$qpid" 2>/dev/null
echo "all trusted-input checks passed"
