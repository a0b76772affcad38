# Benchmarks (issue 7): `make bench` — never part of `make check`. Installs what it needs (sanlock, sbd,
# python3-matplotlib; see bench/install-deps.sh), runs bench/run.sh and prints the table; JSON, PNG plots
# and logs go to results/bench-<UTC timestamp>/ (git-ignored). Figures, never timed assertions.
#   make bench                                  everything, the full default (about 1 h 30 min)
#   make bench BENCH=failover,idle BENCH_RUNS=3 a subset, fewer runs
#   make bench BENCH_PROFILES="200 1000" BENCH_RUNS_10000=5 SANLOCK_RUNS=1   (see bench/run.sh for all knobs)
BENCH_VARS := BENCH BENCH_OUT BENCH_RUNS BENCH_PROFILES BENCH_RUNS_200 BENCH_RUNS_1000 BENCH_RUNS_10000 \
              BENCH_SANLOCK_BG SANLOCK_PROFILES SANLOCK_RUNS FENCE_RUNS FENCE_CAP_S FENCE_CASTOR_PROFILES \
              FENCE_FAULTS IDLE_PROFILES IDLE_SECONDS IDLE_SERVICES SCALE_COUNTS SCALE_IO_TIMEOUT_MS \
              SCALE_IDLE_SECONDS SCALE_MONITOR_INTERVAL SCALE_AGENT RELOCATE_RUNS IOTOL_PROFILES IOTOL_FRACTIONS

bench: all $(BUILD)/bench/auth_cost
	@bench/install-deps.sh
	@$(foreach v,$(BENCH_VARS),$(if $(value $(v)),$(v)='$($(v))')) \
	  BUILD=$(BUILD) BENCH_OUT=$${BENCH_OUT:-results/bench-$$(date -u +%Y%m%dT%H%M%SZ)} bash bench/run.sh

# bench-auth: the CPU cost of authenticated quorum-disk records (bench/auth_cost.cc): per block, and per
# renew interval of quorumd at io_timeout 200 ms. Seconds, no root; also run by `make bench` (BENCH=auth).
$(BUILD)/bench/auth_cost: $(BUILD)/obj/bench/auth_cost.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

.PHONY: bench-auth
bench-auth: $(BUILD)/bench/auth_cost
	@$(BUILD)/bench/auth_cost $(BENCH_AUTH_ITERATIONS)
