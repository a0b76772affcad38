# Castor — two-node failover manager. See README.md.
#   make            build everything (installs build dependencies first: make deps)
#   make check      run every test suite; ends with "N passed, N failed, N skipped"
#   make check-asan the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       the main job (see README)
#   make bench      benchmarks (never part of check)

VERSION     := $(shell cat VERSION)
BUILD       ?= build
CXX         ?= g++
PKGS        := blkid inih
SANITIZE    ?=

CXXFLAGS_BASE := -std=c++20 -O2 -g -pipe -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
                 -fstack-protector-strong -fstack-clash-protection -fPIE -D_FORTIFY_SOURCE=2 \
                 -D_GLIBCXX_ASSERTIONS -DBOOST_LOG_DYN_LINK -DBOOST_LOG_USE_NATIVE_SYSLOG -DCASTOR_VERSION='"$(VERSION)"' -I.
LDFLAGS_BASE  := -pie -Wl,-z,relro -Wl,-z,now -Wl,--as-needed
# Recursive (=), not :=, so pkg-config runs when a recipe needs it: after `make deps` installed it on a new machine.
LIBS           = -laio $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
                 -lboost_log -lboost_thread -lboost_filesystem -lpthread

ifneq ($(SANITIZE),)
CXXFLAGS_BASE := $(filter-out -D_FORTIFY_SOURCE=2,$(CXXFLAGS_BASE)) -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
LDFLAGS_BASE  += -fsanitize=$(SANITIZE)
endif

CXXFLAGS_ALL = $(CXXFLAGS_BASE) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CXXFLAGS)
# Build in parallel; `deps` always finishes before the first compile (order-only prerequisite below).
MAKEFLAGS += --jobs=$(shell nproc 2>/dev/null || echo 2)

# Every .cc in the component folders goes into one static library, except *_main.cc (program entry points).
LIB_SRCS  := $(filter-out %_main.cc,$(wildcard common/*.cc quorumd/*.cc quorumd/daemon/*.cc svcmgr/*.cc tools/*.cc))
LIB_OBJS  := $(LIB_SRCS:%.cc=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libcastor.a
PROGRAMS  := $(BUILD)/castor $(BUILD)/quorumd $(BUILD)/svcmgr
UNIT_SRCS := $(wildcard tests/unit/*.cc)
ROOT_SRCS := $(wildcard tests/root/*.cc)
SUPPORT_OBJS := $(patsubst %.cc,$(BUILD)/obj/%.o,$(wildcard tests/support/*.cc))
TEST_BINS := $(BUILD)/tests/unit_tests $(BUILD)/tests/root_tests $(BUILD)/tests/watchdog_standin

.PHONY: all deps check check-asan demo torture bench clean tests
all: deps $(PROGRAMS) tests

tests: $(TEST_BINS)

deps:
	@tools/install-deps.sh

$(BUILD)/obj/%.o: %.cc | deps
	@mkdir -p $(dir $@)
	@echo "  CXX $<"; $(CXX) $(CXXFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/castor: $(BUILD)/obj/tools/castor_main.o $(LIB)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/quorumd: $(BUILD)/obj/quorumd/quorumd_main.o $(LIB)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/svcmgr: $(BUILD)/obj/svcmgr/svcmgr_main.o $(LIB)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit_tests: $(UNIT_SRCS:%.cc=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/doctest_main.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/tests/root_tests: $(ROOT_SRCS:%.cc=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/doctest_main.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/tests/watchdog_standin: $(BUILD)/obj/tests/watchdog_standin_main.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

check: all
	@BUILD=$(BUILD) tests/run-tests

# torture_broken runs deliberately broken builds to show the checker catches them: the sanitizers add
# nothing there, and it is the longest suite, so check-asan leaves it to make check.
check-asan:
	@TESTS_EXCLUDE='^torture_broken$$' $(MAKE) --no-print-directory BUILD=build-asan SANITIZE=address,undefined check

demo: all
	@BUILD=$(BUILD) tools/demo.sh

# The nemesis: FAULTS=N (default 10) random faults from SEED=S (printed, to replay a run).
torture: all
	@BUILD=$(BUILD) bash tests/cluster/torture.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz results dist

# One fragment per feature (packaging, verification, fuzzing, benchmarks), each owning its own targets.
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
