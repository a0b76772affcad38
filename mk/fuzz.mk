# Fuzzing with libFuzzer (clang): `make fuzz` builds every target in build-fuzz/ with
# -fsanitize=fuzzer,address,undefined, replays fuzz/regressions/<target>/ (inputs that once crashed),
# then fuzzes each target for FUZZ_SECONDS (default 60) from its seed corpus fuzz/corpus/<target>/.
# Fails on any crash, leak, timeout or sanitizer report; prints executions per target.
#   make fuzz FUZZ_SECONDS=15 FUZZ_JOBS=2     CI (two targets at a time)
#   make fuzz FUZZ_TARGETS="superblock epoch_record"
#   make fuzz-corpus                          regenerates fuzz/corpus/ from the real encoders
# The fuzzing build is a separate tree (build-fuzz): nothing here touches $(BUILD) of a normal build.

FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CXX     ?= clang++
FUZZ_TARGETS ?= superblock heartbeat service_table epoch_record quorumd_config service_file control_protocol \
                control_server control_codec lan_datagram cib
FUZZ_SANITIZE := address,undefined
# What the targets need: the on-disk format, the LAN datagram, the two INI loaders, the control protocol, the CIB
# reader of `castor import pacemaker` (and what they use). Not the whole library: the daemons' other sources need
# not be rebuilt with clang to fuzz.
FUZZ_LIB_SRCS := $(foreach l,common lan disk control config,$(call layer_srcs,$(l))) tools/xml_subset.cc tools/pacemaker_import.cc tools/pacemaker_colocation.cc
FUZZ_LIB      := $(BUILD)/libcastor-fuzz.a

.PHONY: fuzz fuzz-build fuzz-corpus fuzz-deps fuzz-bins

fuzz-deps:
	@fuzz/install-deps.sh $(FUZZ_CXX)

# The library and targets are compiled by a sub-make with BUILD=$(FUZZ_BUILD), so the normal object rules
# (and LIB_SRCS) apply unchanged; -fsanitize=fuzzer-no-link instruments the library for coverage.
fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CXX=$(FUZZ_CXX) SANITIZE=$(FUZZ_SANITIZE) \
	  CXXFLAGS=-fsanitize=fuzzer-no-link FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins

# FUZZ_JOBS=2: the targets in two halves at once (CI, where the fuzzing is the last step and two cores idle).
FUZZ_JOBS ?= 1
fuzz: fuzz-build
	@set -- $(FUZZ_TARGETS); \
	if [ "$(FUZZ_JOBS)" = 2 ] && [ $$# -gt 1 ]; then \
	  n=$$(( ($$# + 1) / 2 )); first=$$(printf '%s\n' "$$@" | head -n $$n); rest=$$(printf '%s\n' "$$@" | tail -n +$$((n + 1))); \
	  fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $$first >$(FUZZ_BUILD)/fuzz-first-half.log 2>&1 & p=$$!; \
	  fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $$rest; b=$$?; wait $$p; a=$$?; \
	  cat $(FUZZ_BUILD)/fuzz-first-half.log; [ $$a = 0 ] && [ $$b = 0 ]; \
	else fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS); fi

fuzz-corpus: fuzz-build
	@$(FUZZ_BUILD)/fuzz/make_corpus fuzz/corpus && echo "fuzz/corpus/ regenerated"

# Only meaningful inside the sub-make above (BUILD=$(FUZZ_BUILD), CXX=clang++).
fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%_fuzz) $(BUILD)/fuzz/make_corpus

$(FUZZ_LIB): $(FUZZ_LIB_SRCS:%.cc=$(BUILD)/obj/%.o) mk/fuzz.mk  # rebuilt when the list above changes
	@rm -f $@
	@ar rcs $@ $(filter %.o,$^)

$(BUILD)/fuzz/%_fuzz: $(BUILD)/obj/fuzz/%_fuzz.o $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(BUILD)/fuzz/make_corpus: $(BUILD)/obj/fuzz/make_corpus.o $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CXX) $(LDFLAGS_BASE) -o $@ $^ $(LIBS)

# Keep the objects (they are intermediate files of the pattern rules above; make would delete them).
.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/obj/fuzz/%_fuzz.o) $(BUILD)/obj/fuzz/make_corpus.o
