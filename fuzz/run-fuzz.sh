#!/bin/bash
# Runs the libFuzzer targets built by `make fuzz-build`: for each target, first replays every input in
# fuzz/regressions/<target>/ (each once crashed: it must not crash now), then fuzzes for SECONDS starting
# from the seed corpus fuzz/corpus/<target>/ (read only; new inputs go to BUILD/corpus/<target>/).
# Any crash, leak, timeout, out-of-memory or sanitizer report fails the run; the input that caused it is
# left in BUILD/artifacts/<target>/ (copy it into fuzz/regressions/<target>/ once the bug is fixed).
# Ends with one line per target: executions, corpus size, result.
# Usage: fuzz/run-fuzz.sh BUILD SECONDS TARGET...
set -u
B=$1 SECONDS_EACH=$2
shift 2
failed=0
summary=()
max_len_of() {
  case $1 in
    superblock | heartbeat | epoch_record | service_table) echo 8194 ;;  # options + extra byte + 8 KiB block
    control_protocol | control_server) echo 70000 ;;                 # a 64 KiB payload and some more
    lan_datagram) echo 1600 ;;                                        # options + a 1500-byte (MTU) datagram
    *) echo 16384 ;;
  esac
}
for t in "$@"; do
  bin=$B/fuzz/${t}_fuzz
  [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; exit 2; }
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t" "$B/fuzz-logs"
  log=$B/fuzz-logs/$t.log
  common=(-max_len="$(max_len_of "$t")" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$B/artifacts/$t/")
  reg=(fuzz/regressions/"$t"/*)
  if [ -e "${reg[0]}" ]; then
    if ! "$bin" "${common[@]}" "${reg[@]}" >"$B/fuzz-logs/$t.regressions.log" 2>&1; then
      echo "== $t: a regression input crashes again (fuzz/regressions/$t/)"
      tail -40 "$B/fuzz-logs/$t.regressions.log"
      summary+=("$(printf '%-18s regression FAILED' "$t")")
      failed=1
      continue
    fi
    echo "== $t: ${#reg[@]} regression input(s) replayed, no crash"
  fi
  start=$SECONDS
  "$bin" "${common[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 "$B/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  units=$(ls "$B/corpus/$t" | wc -l)
  if [ "$rc" = 0 ]; then
    echo "== $t: ${execs:-?} executions in $((SECONDS - start))s, no crash ($units inputs in $B/corpus/$t)"
    summary+=("$(printf '%-18s %10s execs  %4ss  ok' "$t" "${execs:-?}" "$((SECONDS - start))")")
  else
    failed=1
    echo "== $t: FAILED (exit $rc) after ${execs:-?} executions; input kept in $B/artifacts/$t/"
    grep -E -m1 -A30 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log" | head -60
    ls -t "$B/artifacts/$t" | head -3 | sed "s|^|   $B/artifacts/$t/|"
    summary+=("$(printf '%-18s %10s execs  %4ss  FAILED (see %s)' "$t" "${execs:-?}" "$((SECONDS - start))" "$log")")
  fi
done
echo "fuzz summary (FUZZ_SECONDS=$SECONDS_EACH):"
printf '  %s\n' "${summary[@]}"
exit $failed
