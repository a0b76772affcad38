# ThreadSanitizer: `make check-tsan` is `make check` built with -fsanitize=thread in build-tsan/, restricted
# by default to the suites whose threads matter and whose timing survives TSan's 5-15x slow-down: the unit
# tests, the root tests (AIO completion thread, agent processes) and the bad-input integration test (a
# live quorumd with its asynchronous log thread, hammered through its control socket). The timing tests
# (quorumd_faults, quorumd_two_nodes, svcmgr_two_nodes, torture) assert dead times within tens of
# milliseconds and are flaky under TSan, so they are left out; TSAN_TESTS=. runs everything.
# halt_on_error: the first report fails the suite (a daemon under test dies, so its test fails too).
# mk/tsan.supp suppresses what TSan cannot see into (Boost.Log's lock-free queue inside libboost_log.so).
TSAN_TESTS ?= ^(unit_tests|root_tests|bad_input)$$
# The two ten-thousand-schedule simulations are single-threaded pure code (nothing for TSan to see) and take
# five minutes under it: make check and check-asan run them.
TSAN_DOCTEST_ARGS ?= --test-case-exclude=*ten?thousand*,*randomized?schedules*

.PHONY: check-tsan
check-tsan:
	@TESTS_FILTER='$(TSAN_TESTS)' DOCTEST_ARGS='$(TSAN_DOCTEST_ARGS)' TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/mk/tsan.supp $(TSAN_OPTIONS)' \
	  $(MAKE) --no-print-directory BUILD=build-tsan SANITIZE=thread check
