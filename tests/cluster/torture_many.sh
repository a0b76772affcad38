#!/bin/bash
# make torture-many: the nemesis at scale (issue 18), one command for FAULTS faults across seeds.
#   FAULTS=N (default 1000) faults in runs of CHUNK (default 100) faults, each a run of tests/cluster/torture.sh with
#   its own seed (SEED0 + the run's number) and a fresh cluster, PARALLEL (default 1) runs at a time, each cluster
#   under its own CLUSTER_ID (tm0, tm1, ...). Every run has the full workload: web, the ledger, the light services,
#   the db service with its client (DB=1), the director with its real servers (DIRECTOR=1) and the resource kinds
#   (RESOURCE_FAULTS=1). VARIANTS (default "base") lists extra settings taken in turn by the runs, e.g.
#   VARIANTS="base FENCE=1 QUORUM_DEVICES=3": run 0 plain, run 1 with power fencing, run 2 on three quorum devices,
#   run 3 plain again, ...
#   OUT (default results/torture-many-SEED0) keeps each run's summary (run-NNN/summary.json, its log run-NNN.log,
#   and on a failure the nodes' logs). The command resumes: a run whose summary is there is not run again, so
#   FAULTS=1000 may be reached across several sittings (each run records the commit it ran on).
#   At the end (and with AGGREGATE_ONLY=1 alone) tests/cluster/torture_many_sum.py adds the runs up into
#   OUT/summary.json and prints one line; the exit status is non-zero if any run found a problem or failed to run.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FAULTS=${FAULTS:-1000}
CHUNK=${CHUNK:-100}
PARALLEL=${PARALLEL:-1}
SEED0=${SEED0:-181800}
VARIANTS=${VARIANTS:-base}
OUT=${OUT:-$ROOT/results/torture-many-$SEED0}
BUILD=${BUILD:-build}
export BUILD
mkdir -p "$OUT"
read -r -a variants <<<"$VARIANTS"
runs=$(( (FAULTS + CHUNK - 1) / CHUNK ))
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo "+changes")

run_one() {  # run_one I SLOT: run number I on cluster slot SLOT
  local i=$1 slot=$2 name faults variant rc
  name=$(printf 'run-%03d' "$i")
  faults=$(( i == runs - 1 ? FAULTS - CHUNK * (runs - 1) : CHUNK ))
  variant=${variants[$(( i % ${#variants[@]} ))]}
  rm -rf "${OUT:?}/$name"
  echo "$(date +%T) $name: seed $((SEED0 + i)), $faults faults, variant $variant, cluster tm$slot" >&2
  # shellcheck disable=SC2086 # the variant is NAME=VALUE words
  env CLUSTER_ID="tm$slot" SEED=$((SEED0 + i)) FAULTS="$faults" RESULTS="$OUT/$name" DB=1 DIRECTOR=1 \
      RESOURCE_FAULTS=1 $( [ "$variant" = base ] || echo "$variant" ) \
      bash "$ROOT/tests/cluster/torture.sh" >"$OUT/$name.log" 2>&1
  rc=$?
  python3 - "$OUT/$name" "$rc" "$commit$dirty" "$variant" <<'EOP'
import json, os, sys
d, rc, commit, variant = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
os.makedirs(d, exist_ok=True)
p = os.path.join(d, 'summary.json')
s = json.load(open(p)) if os.path.exists(p) else {}
s.update({'exit_status': rc, 'commit': commit, 'variant': variant})
json.dump(s, open(p, 'w'), indent=1)
EOP
  echo "$(date +%T) $name: exit $rc, $(grep -F '[castor] torture:' "$OUT/$name.log" | tail -1 | grep . || echo 'no summary line')" >&2
}

if [ -z "${AGGREGATE_ONLY:-}" ]; then
  echo "torture-many: $FAULTS faults in $runs runs of $CHUNK (seeds $SEED0..$((SEED0 + runs - 1))), $PARALLEL at a time," \
       "variants: $VARIANTS, commit $commit$dirty; results in $OUT"
  declare -A slot_pid=()
  for ((i = 0; i < runs; i++)); do
    s="$OUT/$(printf 'run-%03d' "$i")/summary.json"
    if [ -f "$s" ] && python3 -c 'import json,sys; sys.exit(0 if "faults_total" in json.load(open(sys.argv[1])) else 1)' "$s"; then
      echo "  run $i: done before, kept"; continue
    fi
    while :; do  # a free slot
      for ((slot = 0; slot < PARALLEL; slot++)); do
        p=${slot_pid[$slot]:-}
        if [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null; then break 2; fi
      done
      wait -n 2>/dev/null || sleep 1
    done
    run_one "$i" "$slot" &
    slot_pid[$slot]=$!
    sleep 5  # the clusters' set-ups one after the other (each installs and formats)
  done
  wait
fi
python3 "$ROOT/tests/cluster/torture_many_sum.py" "$OUT" "$FAULTS"
