# The layer order, enforced (docs/architecture.md). `make layer-check` (part of `make all`) fails when
#  - a source of a layer includes a header of a layer not in its LAYER_DEPS (tests/layer_includes.sh), or
#  - a layer's library, linked whole (every object of it) with only the libraries of its LAYER_DEPS,
#    leaves a symbol undefined: code that calls upward, even through a header-only path the grep missed.
.PHONY: layer-check

LAYER_CHECK_MAIN := $(BUILD)/obj/tests/layer_check_main.o

define layer_check_rule
$(BUILD)/layer-check/$(1): $(call layer_lib,$(1)) $(call link_libs,$(LAYER_DEPS_$(1))) $(LAYER_CHECK_MAIN)
	@mkdir -p $$(dir $$@)
	@$(CXX) $(LDFLAGS_BASE) -o $$@ $(LAYER_CHECK_MAIN) -Wl,--whole-archive $(call layer_lib,$(1)) \
	  -Wl,--no-whole-archive $(call link_libs,$(LAYER_DEPS_$(1))) $$(LIBS) $$(WEB_LIBS) \
	  || { echo "layer-check: layer '$(1)' uses a layer outside its LAYER_DEPS ($(LAYER_DEPS_$(1)))" >&2; exit 1; }
endef
$(foreach l,$(LAYERS),$(eval $(call layer_check_rule,$(l))))

layer-check: $(foreach l,$(LAYERS),$(BUILD)/layer-check/$(l))
	@tests/layer_includes.sh $(foreach l,$(LAYERS),'$(l):$(LAYER_DIRS_$(l)):$(LAYER_DEPS_$(l))')
