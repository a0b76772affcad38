#!/bin/bash
# The harness's `db` service (issue 18), sourced by tests/cluster/harness.sh; with DB=1 only (DB=0, the
# default, makes every function here a no-op, so every other run replays as before).
#   A third shared ext4 disk, the pg disk ($dir/pgdisks/pgdisk.img, DB_DISK_MB MiB, sparse), seen by each node
#   through its own FUSE pass-through (bindfs, PID FUSE_NODE_pg, mounted at $dir/NODE/qpg) under its own loop
#   device (P_NODE; /run/castor-node/pgdisk in the node), so a fault can stall the disk under the database on
#   one node: stall_pgdisk / unstall_pgdisk NODE (its bindfs SIGSTOPped / resumed; a node's watchdog reset
#   resumes it too). On it, Debian's PostgreSQL 15 (initdb at set-up, data checksums on) with a table of rows
#   (the client's, tests/cluster/db_client.py) and a table of epochs.
#   The service db: ocf:heartbeat:Filesystem + ocf:heartbeat:pgsql (its unix socket in the node's private
#   /run/castor-node/pgsock, never the host's shared /var/run/postgresql; its log outside the nodes,
#   $dir/pglog/postgresql.log, both nodes' in one) + an exec resource `epoch` that inserts (CASTOR_EPOCH,
#   CASTOR_NODE) into the epochs table at each start (and logs it to db-epochs.log) + IPaddr2 (DB_VIP
#   192.0.2.11) last, so that no client reaches a start whose epoch is not recorded yet.
#   The client reads the newest epoch in the transaction that commits each row: every row names the epoch
#   current when it was written. db_client_start runs it in the client namespace; its acknowledgements go
#   to $dir/db-acks.log, outside the nodes; tests/cluster/db_check.py judges them after the run, on a copy
#   of the disk image (crash recovery never runs on the shared disk itself).
# It must never touch the host's own PostgreSQL (its clusters, /var/run/postgresql, port 5432 on the host).
DB=${DB:-0}
DB_VIP=192.0.2.11
DB_DISK_MB=${DB_DISK_MB:-256}
DB_SYNC_METHOD=${DB_SYNC_METHOD:-syncfs}  # postgresql.conf's recovery_init_sync_method (fsync: PostgreSQL's default)
PGBIN=/usr/lib/postgresql/15/bin
DB_PY=/usr/bin/python3  # Debian's python: python3-psycopg2 is installed for it (make deps)
# A node booted by its BMC (FENCE=1: tests/cluster/bmc.sh runs the harness with HARNESS_NODE_DIR) learns DB
# and its pg disk paths from what db_setup left in the run folder.
if [ -n "${HARNESS_NODE_DIR:-}" ] && [ -f "$HARNESS_NODE_DIR/db.env" ]; then . "$HARNESS_NODE_DIR/db.env"; fi
DB_SERVICES=0; [ "$DB" = 1 ] && DB_SERVICES=1  # how many services this file adds (torture.sh counts them)

# db_setup: the pg disk, initdb and the tables on it, and each node's path to it. Called by cluster_setup
# once the other disks exist, before the nodes' configs are written.
db_setup() {
  [ "$DB" = 1 ] || return 0
  local n i p
  [ -x "$PGBIN/postgres" ] || fail "PostgreSQL 15 is not installed ($PGBIN)"
  getent passwd postgres >/dev/null || fail "no user postgres"
  step "The pg disk: a $DB_DISK_MB MiB ext4 disk (sparse) with PostgreSQL 15's data directory, seen by each node through its own FUSE pass-through and loop device"
  mkdir -p "$dir/pgdisks" && truncate -s "${DB_DISK_MB}M" "$dir/pgdisks/pgdisk.img" || fail "the pg disk's backing file"
  mkfs.ext4 -q -L castor-pg "$dir/pgdisks/pgdisk.img" || fail "mkfs.ext4 (pg disk)"
  # The database's own user (postgres) reaches its log folder outside the nodes: the run folder only
  # traversable (its files keep their modes), the log folder its own.
  chmod o+x "$dir" && mkdir -p "$dir/pglog" && chown postgres: "$dir/pglog" || fail "the pg log folder"
  db_initdb
  for n in alpha beta; do
    mkdir -p "$dir/$n/qpg"
    bindfs -f --no-allow-other "$dir/pgdisks" "$dir/$n/qpg" >>"$dir/$n-bindfs.log" 2>&1 &
    eval "FUSE_${n}_pg=$!"
    fuse_mounts+=("${n}_pg")  # cleanup resumes, unmounts and ends it (fuse_mountpoint: $dir/NODE/qpg)
    for ((i = 0; i < 50; i++)); do [ -e "$dir/$n/qpg/pgdisk.img" ] && break; sleep 0.1; done
    p=$(losetup -f --show --direct-io=on "$dir/$n/qpg/pgdisk.img") || fail "losetup (pg disk of $n)"
    loops+=("$p")
    eval "P_$n=$p"
  done
  echo "DB=1 FUSE_alpha_pg=$FUSE_alpha_pg FUSE_beta_pg=$FUSE_beta_pg P_alpha=$P_alpha P_beta=$P_beta" >"$dir/db.env"
  echo "alpha sees the pg disk as $P_alpha, beta as $P_beta (each through its own FUSE); the db service's address $DB_VIP"
}

# db_initdb: the data directory on the pg disk (mounted on the host for the while), its configuration, and
# the tables, made by a postmaster started on the host with no TCP and a private socket.
db_initdb() {
  # In a mount namespace of its own, private: a mount made in the host's namespace propagates into every
  # namespace that is its slave (another run's `ip netns exec`, say), where it can outlive the umount here;
  # the file system is then never shut down, its last writes never reach the image (seen: the nodes found
  # the data directory half written), and its superblock could be written back later, under a node's mount.
  DB_VIP=$DB_VIP PGBIN=$PGBIN DB_SYNC_METHOD=$DB_SYNC_METHOD dir=$dir \
    unshare --mount --propagation private bash -c "$(declare -f db_initdb_private); db_initdb_private" ||
    fail "the pg disk's set-up (initdb, configuration, tables: see $dir/pg-initdb.log, $dir/pglog/setup.log)"
  debugfs -R "cat /pgdata/postgresql.conf" "$dir/pgdisks/pgdisk.img" 2>/dev/null | grep -q "^recovery_init_sync_method = $DB_SYNC_METHOD" ||
    fail "the pg disk's image does not hold the configuration just written"
}
db_initdb_private() {  # db_initdb's work, in its private mount namespace (no harness function here)
  fail() { echo "FAILED: $*" >&2; exit 1; }
  local pgdata=$dir/m/pgdata sock=$dir/pgsetup-sock
  # Through a loop device of its own with direct I/O, as the nodes' (a buffered one could leave writes in its
  # cache that the nodes' direct reads through their FUSE paths do not see).
  local lo
  lo=$(losetup -f --show --direct-io=on "$dir/pgdisks/pgdisk.img") || fail "losetup (pg disk set-up)"
  mount "$lo" "$dir/m" || { losetup -d "$lo"; fail "mount the pg disk"; }
  mkdir -p "$pgdata" && chown postgres: "$pgdata" && chmod 0700 "$pgdata" || fail "pgdata"
  runuser -u postgres -- "$PGBIN/initdb" -D "$pgdata" -U postgres --auth-local=trust --auth-host=trust -E UTF8 \
    --locale=C --data-checksums --no-instructions >"$dir/pg-initdb.log" 2>&1 || { umount "$dir/m"; losetup -d "$lo"; fail "initdb (see $dir/pg-initdb.log)"; }
  cat >>"$pgdata/postgresql.conf" <<EOC

# The harness's db service (tests/cluster/db.sh): every address of the node (its namespace's: the test LAN;
# the floating IP comes last in the service, once the epoch is recorded), the socket in the node's private
# /run/castor-node, every commit durable before it is acknowledged.
listen_addresses = '*'
port = 5432
unix_socket_directories = '/run/castor-node/pgsock'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 16MB
max_connections = 40
max_wal_size = 64MB
min_wal_size = 32MB
checkpoint_timeout = 60s
log_line_prefix = '%m [%p] '
log_checkpoints = on
# Crash recovery first makes the whole data directory durable: fsync of every file (PostgreSQL's default)
# took 2-5 s here before redo even began; syncfs, one call for the file system, a fraction of it.
recovery_init_sync_method = $DB_SYNC_METHOD
EOC
  cat >"$pgdata/pg_hba.conf" <<EOC
# The harness's test LAN only (no route out): trust.
local all all trust
host all all 192.0.2.0/24 trust
host all all 127.0.0.1/32 trust
EOC
  mkdir -p "$sock" && chmod 0777 "$sock"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -w -t 60 -l "$dir/pglog/setup.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$sock'" start >/dev/null ||
    { umount "$dir/m"; losetup -d "$lo"; fail "start PostgreSQL for the set-up (see $dir/pglog/setup.log)"; }
  "$PGBIN/psql" -h "$sock" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<'EOS' || { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -m immediate stop; umount "$dir/m"; losetup -d "$lo"; fail "the tables"; }
-- One row per start of the db service: the epoch Castor granted it with (CASTOR_EPOCH), the node.
CREATE TABLE epochs (id bigserial PRIMARY KEY, epoch bigint NOT NULL, node text NOT NULL,
                     at timestamptz NOT NULL DEFAULT clock_timestamp());
-- The client's rows: its sequence number, and the newest epoch it read in the transaction that wrote it.
CREATE TABLE rows (seq bigint PRIMARY KEY, epoch bigint NOT NULL, node text NOT NULL,
                   at timestamptz NOT NULL DEFAULT clock_timestamp());
EOS
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -w -m fast stop >/dev/null || fail "stop PostgreSQL after the set-up"
  rm -rf "$sock"
  umount "$dir/m" || fail "umount the pg disk"
  losetup -d "$lo"
  sync "$dir/pgdisks/pgdisk.img"
}

# db_node_sh NODE: the lines of node.sh (the node's boot) for the db service: the FUSE views hidden in the
# node, as the quorum disk's are; its path to the pg disk, the database's mount point and socket folder.
db_node_sh() {
  [ "$DB" = 1 ] || return 0
  local p=P_$1
  echo "umount -l $dir/alpha/qpg 2>/dev/null; umount -l $dir/beta/qpg 2>/dev/null"
  # The node's own /dev/shm, as a host has (PostgreSQL's dynamic shared memory is there): on one kernel the
  # host's is shared by both nodes and outlives a node's reset, leaking a killed postmaster's segments.
  echo "mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm || exit 1"
  echo "mkdir -p /run/castor-node/db /run/castor-node/pgsock && chown postgres: /run/castor-node/pgsock && ln -s ${!p} /run/castor-node/pgdisk"
}

# db_unshare: what else a node unshares at boot with DB=1: its own System V IPC (PostgreSQL's shared memory
# segment is keyed by its data directory's inode; on one kernel a killed node's segment outlives it, and the
# peer, whose mount of the disk has another device number, takes it for another cluster's and leaks it).
# A node's IPC namespace dies with the node, as a host's IPC does with its reset.
db_unshare() { [ "$DB" = 1 ] && echo --ipc; }

# db_paths NODE: the PIDs of NODE's FUSE paths to the pg disk (its watchdog's reset resumes them)
db_paths() { [ "$DB" = 1 ] || return 0; eval "echo \${FUSE_$1_pg:-}"; }

# db_service_ini NODE: the db service in NODE's services.d
db_service_ini() {
  [ "$DB" = 1 ] || return 0
  cat >"$dir/$1/services.d/db.ini" <<EOI
; PostgreSQL on the shared pg disk (tests/cluster/db.sh): the disk, the floating IP, the database on both,
; and the epoch this start was granted recorded in the database itself.
[service]
name = db
nodes = alpha, beta
monitor_interval = 2s

[resource fs]
agent = ocf:heartbeat:Filesystem
param.device = /run/castor-node/pgdisk
param.directory = /run/castor-node/db
param.fstype = ext4

[resource pgsql]
agent = ocf:heartbeat:pgsql
param.pgctl = $PGBIN/pg_ctl
param.psql = $PGBIN/psql
param.pgdata = /run/castor-node/db/pgdata
param.config = /run/castor-node/db/pgdata/postgresql.conf
param.socketdir = /run/castor-node/pgsock
param.pgdb = postgres
param.logfile = $dir/pglog/postgresql.log
start_timeout = 120s
stop_timeout = 60s
monitor_interval = 3s
monitor_timeout = 20s

[resource epoch]
; Every row the client commits reads the newest epoch here in its own transaction.
agent = exec
shell = yes
start = $PGBIN/psql -h /run/castor-node/pgsock -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "INSERT INTO epochs (epoch, node) VALUES (\$CASTOR_EPOCH, '\$CASTOR_NODE')" >>$dir/db-epoch.err 2>&1 && touch /run/castor-node/db.epoch && echo "epoch \$CASTOR_NODE \$CASTOR_EPOCH \$(date +%s%N)" >>$dir/db-epochs.log
stop = rm -f /run/castor-node/db.epoch
monitor = test -e /run/castor-node/db.epoch || exit 7

[resource ip]
; Last: clients reach the database only once this start's epoch is recorded (before it, a row would name
; the previous owner's epoch), and lose it first at a stop.
agent = ocf:heartbeat:IPaddr2
param.ip = $DB_VIP
param.cidr_netmask = 24
param.nic = eth0
EOI
}

# stall_pgdisk / unstall_pgdisk NODE: NODE's path to the pg disk hangs (its bindfs SIGSTOPped: the database's
# I/O waits, the writes land when it resumes) / resumes. Logged to $dir/stalls.log ("pgstall|pgunstall NODE NS").
stall_pgdisk() { [ "$DB" = 1 ] || fail "stall_pgdisk needs DB=1"; kill -STOP "$(db_paths "$1")" || fail "stop the pg disk path of $1"; echo "pgstall $1 $(date +%s%N)" >>"$dir/stalls.log"; }
unstall_pgdisk() { kill -CONT "$(db_paths "$1")" 2>/dev/null; echo "pgunstall $1 $(date +%s%N)" >>"$dir/stalls.log"; }

# db_owner: the node whose own svcmgr says db is started there (empty if none)
db_owner() {
  local n o
  for n in alpha beta; do
    o=$(qstatus "$n" "next((s['owner'] for s in (d.get('services') or {}).get('services', []) if s['name'] == 'db' and s['state'] == 'started' and s.get('owner') == '$n'), '')")
    [ -n "$o" ] && { echo "$o"; return; }
  done
}
# db_postmaster NODE: the postmaster's PID on NODE (the postgres process whose parent is not a postgres)
db_postmaster() {
  local p pp
  for p in $(cat "$CGROOT/$1/cgroup.procs" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = postgres ] || continue
    pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
    [ "$(cat "/proc/$pp/comm" 2>/dev/null)" = postgres ] || { echo "$p"; return; }
  done
}
# db_query SQL: SQL's answer through the VIP from the client namespace (empty if none within 2 s)
db_query() { ip netns exec "$NS_C" timeout 3 "$PGBIN/psql" "host=$DB_VIP user=postgres dbname=postgres connect_timeout=2" -Atqc "$1" 2>/dev/null; }
db_answers() { [ "$(db_query 'SELECT 1')" = 1 ]; }

# db_client_start: the client (tests/cluster/db_client.py) in the client namespace, its evidence in
# $dir/db-acks.log; db_client_stop ends it.
db_client_start() {
  [ "$DB" = 1 ] || return 0
  ip netns exec "$NS_C" "$DB_PY" "$ROOT/tests/cluster/db_client.py" --host "$DB_VIP" --out "$dir/db-acks.log" \
    >>"$dir/db-client.err" 2>&1 &
  DB_CLIENT=$!
  track_pid "$DB_CLIENT"
}
db_client_stop() { [ -n "${DB_CLIENT:-}" ] || return 0; kill -TERM "$DB_CLIENT" 2>/dev/null; wait "$DB_CLIENT" 2>/dev/null; DB_CLIENT=; }

# db_check OUT_JSON [ACKS]: the checker (tests/cluster/db_check.py) on a copy of the pg disk, once both nodes
# are down; ACKS (default $dir/db-acks.log) is the client's evidence. Returns its exit status.
db_check() {
  python3 "$ROOT/tests/cluster/db_check.py" --image "$dir/pgdisks/pgdisk.img" --acks "${2:-$dir/db-acks.log}" \
    --epochs-log "$dir/db-epochs.log" --pgbin "$PGBIN" --out "$1"
}
