# Model checking of the heartbeat / lease / ownership protocol (tests/model/, see its README.md).
#   make verify        exhaustive safety runs of tests/model/castor.pml (ten scenarios, three of them the
#                      promises over the LAN) + the relocation liveness check, then the seeded bugs
#   make verify-bugs   each seeded bug (BUG_SKIP_REREAD, BUG_EARLY_TAKEOVER, BUG_READ_BLOCK0, BUG_CORRUPT_FREE,
#                      BUG_FLOOR_AFTER, BUG_DOWN_WHILE_OWNED, BUG_LATE_DOWN, BUG_RESTART_NO_WAIT,
#                      BUG_RESTART_REBUILD_FLOOR, BUG_PROMISE_NO_FLOOR, BUG_PROMISE_RECEIPT_ANCHOR,
#                      BUG_GRANT_DISK_OK, BUG_PROMISE_FORGOTTEN) must be found, with a trail
#   make model-trails  as verify-bugs, and refresh tests/model/trails/ (replayed by model_trail_replay_test)
# Installs spin and gcc with apt-get if missing. Generated files go to $(BUILD)/model.
#   make verify-safety the safety runs and the liveness check only (about 28 CPU-minutes)
#   make verify-ci     CI's share of verify-safety (tests/model/verify.sh CI_RUNS: every model, a run of most fault kinds,
#                      the runs under a minute each, about 5 CPU-minutes). The rest of verify-safety and the seeded
#                      bugs (which test the model, not the code) run before each stop, outside CI's 45 minutes;
#                      results in docs/model/
.PHONY: verify verify-safety verify-ci verify-bugs model-trails
verify-safety:
	@tests/model/verify.sh verify $(BUILD)/model
verify-ci:
	@tests/model/verify.sh ci $(BUILD)/model
verify:
	@tests/model/verify.sh verify $(BUILD)/model
	@tests/model/verify.sh bugs $(BUILD)/model-bugs
verify-bugs:
	@tests/model/verify.sh bugs $(BUILD)/model-bugs
model-trails:
	@tests/model/verify.sh trails $(BUILD)/model-bugs
