# Castor — two-node failover manager. See README.md.
#   make            build everything (installs build dependencies first: make deps)
#   make check      run every test suite; ends with "N passed, N failed, N skipped"
#   make check-asan the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       the main job (see README)
#   make bench      benchmarks (never part of check)

VERSION     := $(shell cat VERSION)
BUILD       ?= build
CXX         ?= g++
# libsodium: HMAC-SHA256 of quorum-disk records and the cluster authkey (lib/common/auth_key.h) -- a
# well-kept library, no hand-written crypto; the LAN channel (issue 15) uses the same key and library.
PKGS        := blkid inih libsodium
SANITIZE    ?=
# Test-only hooks (common/test_hooks.h: CASTOR_TEST_BUG, ...): on in development builds so that `make check`
# can use them; the packaged builds (packaging/debian/rules, packaging/rpm/castor.spec) set TEST_HOOKS=0.
TEST_HOOKS  ?= 1

CXXFLAGS_BASE := -std=c++20 -O2 -g -pipe -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers -Wformat-security \
                 -fstack-protector-strong -fstack-clash-protection -fPIE -D_FORTIFY_SOURCE=2 \
                 -D_GLIBCXX_ASSERTIONS -DBOOST_LOG_DYN_LINK -DBOOST_LOG_USE_NATIVE_SYSLOG -DCASTOR_VERSION='"$(VERSION)"' -I. -Ilib
LDFLAGS_BASE  := -pie -Wl,-z,relro -Wl,-z,now -Wl,--as-needed
# Recursive (=), not :=, so pkg-config runs when a recipe needs it: after `make deps` installed it on a new machine.
LIBS           = -laio $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
                 -lboost_log -lboost_thread -lboost_filesystem -lpthread
# castor-web (issue 20) only: TLS for HTTPS (Boost.Asio's ssl over OpenSSL) and PAM for its logins. Its HTTP
# is Boost.Beast, header-only, from the Boost that Boost.Log already brings.
WEB_LIBS       = -lssl -lcrypto -lpam $(WEB_SANITIZE_LIBS)
# Under ASan, libcrypt must be loaded when the program starts: ASan resolves its crypt() interceptor's real
# function then, and pam_unix, which dlopen brings in later with libcrypt, otherwise calls address 0 (the
# PAM helper died on the first login in check-asan).
comma := ,
WEB_SANITIZE_LIBS = $(if $(SANITIZE),-Wl$(comma)--no-as-needed -lcrypt -Wl$(comma)--as-needed)

# Sanitizer builds: line tables only (-g1: a report still names file and line of every frame), and UBSan
# without its null and alignment checks, which instrument every member access and made the ASan+UBSan
# build take three times as long (a null dereference still stops the test: ASan reports the SEGV with its
# stack; x86-64 tolerates unaligned access and the on-disk codecs copy bytes, common/byte_codec.h).
SANITIZE_NO   := alignment,null
# Under TSan, GCC warns (-Wtsan) at every atomic_thread_fence, which Boost.Asio's fenced blocks use (the web
# console): TSan does not model fences, so it may report a race there; the warning is not an error of ours.
ifneq ($(SANITIZE),)
CXXFLAGS_BASE := $(filter-out -D_FORTIFY_SOURCE=2 -g,$(CXXFLAGS_BASE)) -O1 -g1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) \
                 $(if $(findstring undefined,$(SANITIZE)),-fno-sanitize=$(SANITIZE_NO)) -fno-sanitize-recover=all \
                 $(if $(findstring thread,$(SANITIZE)),-Wno-tsan)
LDFLAGS_BASE  += -fsanitize=$(SANITIZE)
endif

CXXFLAGS_ALL = $(CXXFLAGS_BASE) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CXXFLAGS)
# The tests' own objects (doctest cases expand to much code that runs once) at -O1 with line tables only: half
# the compile time of -O2 -g (tests/ is over half of the build). The code under test -- lib/, the daemons --
# keeps the build's flags. In a sanitizer build the tests' objects go without optimisation: ASan+UBSan at -O1
# made quorumd_daemon_test.o cost 42 CPU-seconds, at -O0 18 (TSan 18 and 14); the code under test keeps -O1,
# which the timing tests need. (-O0 only there: _FORTIFY_SOURCE, on in the normal build, needs -O1.)
TEST_OPT := $(if $(SANITIZE),-O0,-O1)
$(BUILD)/obj/tests/%.o: CXXFLAGS_BASE := $(filter-out -O2 -O1 -g,$(CXXFLAGS_BASE)) $(TEST_OPT) -g1
# Build in parallel; `deps` always finishes before the first compile (order-only prerequisite below).
MAKEFLAGS += --jobs=$(shell nproc 2>/dev/null || echo 2)

# One static library per layer (docs/architecture.md). A layer may use only the layers listed after it in
# LAYER_DEPS_<layer>; mk/layers.mk checks that at every build (includes and links), so an upward use fails.
# Every .cc of a layer's folders goes into its library, except *_main.cc (program entry points).
LAYERS            := common lan disk control config policy agent quorumd svcmgr tools web
LAYER_DIRS_common := lib/common
LAYER_DIRS_lan    := lib/lan
LAYER_DIRS_disk   := lib/disk lib/disk/testing
LAYER_DIRS_control:= lib/control
LAYER_DIRS_config := lib/config
LAYER_DIRS_policy := lib/policy
LAYER_DIRS_agent  := lib/agent
LAYER_DIRS_quorumd:= quorumd
LAYER_DIRS_svcmgr := svcmgr
LAYER_DIRS_tools  := tools
LAYER_DIRS_web    := tools/web
LAYER_DEPS_common :=
LAYER_DEPS_lan    := common
LAYER_DEPS_disk   := common
LAYER_DEPS_control:= disk common
LAYER_DEPS_config := common
LAYER_DEPS_policy := config common
LAYER_DEPS_agent  := config common
LAYER_DEPS_quorumd:= agent control config disk lan common
LAYER_DEPS_svcmgr := agent policy config control disk common
LAYER_DEPS_tools  := agent policy config control disk lan common
LAYER_DEPS_web    := tools agent policy config control disk lan common
layer_srcs = $(filter-out %_main.cc,$(foreach d,$(LAYER_DIRS_$(1)),$(wildcard $(d)/*.cc)))
layer_lib  = $(BUILD)/lib/libcastor_$(1).a
# Libraries in link order: a layer before every layer it uses.
LINK_ORDER := web tools svcmgr quorumd agent policy config control disk lan common
link_libs   = $(foreach l,$(LINK_ORDER),$(if $(filter $(l),$(1)),$(call layer_lib,$(l))))
LIB_SRCS  := $(foreach l,$(LAYERS),$(call layer_srcs,$(l)))
LIB_OBJS  := $(LIB_SRCS:%.cc=$(BUILD)/obj/%.o)
LIB       := $(call link_libs,$(LAYERS))
PROGRAMS  := $(BUILD)/castor $(BUILD)/quorumd $(BUILD)/svcmgr $(BUILD)/castor-web
UNIT_SRCS := $(wildcard tests/unit/*.cc)
ROOT_SRCS := $(wildcard tests/root/*.cc)
SUPPORT_OBJS := $(patsubst %.cc,$(BUILD)/obj/%.o,$(wildcard tests/support/*.cc))
TEST_BINS := $(BUILD)/tests/unit_tests $(BUILD)/tests/root_tests $(BUILD)/tests/watchdog_standin \
             $(BUILD)/tests/quorumd_nohooks $(BUILD)/tests/svcmgr_nohooks

.PHONY: all deps check check-asan demo torture torture-many bench clean tests
all: deps $(PROGRAMS) tests layer-check

tests: $(TEST_BINS)

deps:
	@tools/install-deps.sh

$(BUILD)/obj/%.o: %.cc | deps
	@mkdir -p $(dir $@)
	@echo "  CXX $<"; $(CXX) $(CXXFLAGS_ALL) -MMD -MP -c $< -o $@

# Only common/test_hooks.cc sees the switch; the stamp rebuilds it when TEST_HOOKS changes.
$(BUILD)/obj/lib/common/test_hooks.o: lib/common/test_hooks.cc $(BUILD)/test_hooks.$(TEST_HOOKS) | deps
	@mkdir -p $(dir $@)
	@echo "  CXX $< (TEST_HOOKS=$(TEST_HOOKS))"; $(CXX) $(CXXFLAGS_ALL) -DCASTOR_TEST_HOOKS=$(TEST_HOOKS) -MMD -MP -c $< -o $@
$(BUILD)/test_hooks.%:
	@mkdir -p $(BUILD); rm -f $(BUILD)/test_hooks.*; touch $@
# The daemons as a release build has them (test hooks off), for the test that they refuse a hook
# (tests/integration/test_hooks_off.sh): only test_hooks.o differs, linked ahead of the library's.
$(BUILD)/obj/tests/test_hooks_off.o: lib/common/test_hooks.cc | deps
	@mkdir -p $(dir $@)
	@echo "  CXX $< (TEST_HOOKS=0)"; $(CXX) $(CXXFLAGS_ALL) -DCASTOR_TEST_HOOKS=0 -MMD -MP -c $< -o $@

define layer_lib_rule
$(call layer_lib,$(1)): $(patsubst %.cc,$(BUILD)/obj/%.o,$(call layer_srcs,$(1)))
	@mkdir -p $$(dir $$@); rm -f $$@
	@echo "  AR  $$@"; ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_lib_rule,$(l))))

$(BUILD)/castor: $(BUILD)/obj/tools/castor_main.o $(call link_libs,tools $(LAYER_DEPS_tools))
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/castor-web: $(BUILD)/obj/tools/web/castor_web_main.o $(call link_libs,web $(LAYER_DEPS_web))
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS) $(WEB_LIBS)

$(BUILD)/quorumd: $(BUILD)/obj/quorumd/quorumd_main.o $(call link_libs,quorumd $(LAYER_DEPS_quorumd))
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/svcmgr: $(BUILD)/obj/svcmgr/svcmgr_main.o $(call link_libs,svcmgr $(LAYER_DEPS_svcmgr))
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit_tests: $(UNIT_SRCS:%.cc=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/doctest_main.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS) $(WEB_LIBS)

$(BUILD)/tests/root_tests: $(ROOT_SRCS:%.cc=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/doctest_main.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS) $(WEB_LIBS)

$(BUILD)/tests/watchdog_standin: $(BUILD)/obj/tests/watchdog_standin_main.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/tests/quorumd_nohooks: $(BUILD)/obj/quorumd/quorumd_main.o $(BUILD)/obj/tests/test_hooks_off.o \
                                $(call link_libs,quorumd $(LAYER_DEPS_quorumd))
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

$(BUILD)/tests/svcmgr_nohooks: $(BUILD)/obj/svcmgr/svcmgr_main.o $(BUILD)/obj/tests/test_hooks_off.o \
                               $(call link_libs,svcmgr $(LAYER_DEPS_svcmgr))
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

check: all
	@BUILD=$(BUILD) tests/run-tests

# torture_broken runs deliberately broken builds to show the checker catches them, torture_short, torture_fence and
# lan_stall and device_set run whole harness clusters for minutes, and the two ten-thousand-schedule simulations (and the fence
# intent review's randomized schedules) are
# seeded, single-threaded pure code, and bmc_chain runs no Castor daemon code but the harness: the sanitizers add
# little there and they are the longest suites, so
# check-asan leaves them to make check (CI's budget is 45 minutes). power_fence too: its BMC chain's timings failed
# under ASan beside CI's background fuzzing in two rehearsals running in a row (it passed alone under ASan); make check runs it.
ASAN_EXCLUDE ?= ^(torture_broken|torture_short|torture_fence|lan_stall|bmc_chain|power_fence|device_set|db_short)$$
ASAN_DOCTEST_ARGS ?= --test-case-exclude=*ten?thousand*,*randomized?schedules*
check-asan:
	@TESTS_EXCLUDE='$(ASAN_EXCLUDE)' DOCTEST_ARGS='$(ASAN_DOCTEST_ARGS)' $(MAKE) --no-print-directory BUILD=build-asan SANITIZE=address,undefined check

demo: all
	@BUILD=$(BUILD) tools/demo.sh

# The nemesis: FAULTS=N (default 12, tests/cluster/torture.sh) random faults from SEED=S (printed, to replay a run).
torture: all
	@BUILD=$(BUILD) bash tests/cluster/torture.sh

# The nemesis at scale (issue 18): FAULTS (default 1000) across seeds, with every workload (web, ledger, db, director)
# and the resource kinds; resumes where it stopped (tests/cluster/torture_many.sh: CHUNK, PARALLEL, VARIANTS, OUT).
torture-many: all
	@BUILD=$(BUILD) bash tests/cluster/torture_many.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz results dist

# One fragment per feature (packaging, verification, fuzzing, benchmarks), each owning its own targets.
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
