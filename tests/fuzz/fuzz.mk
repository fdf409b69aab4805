# The libFuzzer targets (clang 14, ASan + UBSan), built apart from the g++
# build: the src/ files they need are compiled again, instrumented, into
# build-fuzz/. Called from the top Makefile (make fuzz, make fuzz-short).
#   make -f tests/fuzz/fuzz.mk              build every target
#   make -f tests/fuzz/fuzz.mk short        each target FUZZ_SECONDS (40) on its seeds
#   make -f tests/fuzz/fuzz.mk run T=config FUZZ_SECONDS=600   one target, longer
# Seeds: tests/fuzz/corpus/<target>/ (committed, small); what the fuzzer finds
# goes to build-fuzz/corpus/<target>/, crashes to build-fuzz/crashes/.

FUZZ_BUILD   ?= build-fuzz
FUZZ_CXX     ?= clang++-14
FUZZ_SECONDS ?= 40
TARGETS      := config facts sanitize milter authserv address mta_sts ingest

FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CXXFLAGS_F := -std=c++20 -g1 -O1 -Wall -Wextra $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
              -Isrc -Itests/fuzz -DTLSPOLICY_VERSION='"fuzz"' -DTLSPOLICY_SYSCONFDIR='"/etc"'
LIBS_F     := -lmilter -lpthread -lssl -lcrypto -lsqlite3

# What each target needs from src/ (toml++ comes in instrumented, from headers).
# --check's spool checks (config/policy_checks.cpp) look at the spool file,
# so the policy targets link the SQLite store room and -lsqlite3.
POLICY_SRCS := $(wildcard src/core/*.cpp src/tls/*.cpp src/config/*.cpp) src/store/database_url.cpp src/store/spool_claim.cpp src/store/observation_row.cpp src/store/summary_sql.cpp $(wildcard src/store/sqlite/*.cpp) tests/fuzz/toml_impl.cpp
SRCS_config   := $(POLICY_SRCS) tests/fuzz/fuzz_config.cpp
SRCS_facts    := $(POLICY_SRCS) tests/fuzz/fuzz_facts.cpp
SRCS_sanitize := src/core/sanitize.cpp src/core/header_stamp.cpp src/core/verdict.cpp src/core/tls_version.cpp \
                 src/core/policy.cpp src/core/address.cpp src/core/ip_address.cpp src/core/selector_index.cpp \
                 src/core/profile.cpp tests/fuzz/fuzz_sanitize.cpp
SRCS_authserv := $(SRCS_sanitize:tests/fuzz/fuzz_sanitize.cpp=tests/fuzz/fuzz_authserv.cpp)
SRCS_address  := $(SRCS_sanitize:tests/fuzz/fuzz_sanitize.cpp=tests/fuzz/fuzz_address.cpp)
SRCS_mta_sts  := src/core/mta_sts.cpp src/core/tls_rpt.cpp tests/fuzz/fuzz_mta_sts.cpp
# The log parsers and the assembler: pure, the core and src/ingest only.
SRCS_ingest   := $(wildcard src/core/*.cpp src/ingest/*.cpp) tests/fuzz/fuzz_ingest.cpp
# src/milter/log.cpp is replaced by log_probe.cpp, which checks every line.
# The libc shim is linked as in the daemon: libmilter's I/O takes the same path.
SRCS_milter   := $(POLICY_SRCS) src/stats/metrics.cpp src/milter/callbacks.cpp src/milter/snapshot.cpp \
                 src/milter/mta_io.cpp src/milter/libc_shim.cpp tests/fuzz/log_probe.cpp tests/fuzz/fuzz_milter.cpp

obj = $(patsubst %.cpp,$(FUZZ_BUILD)/obj/%.o,$(1))
BINS := $(TARGETS:%=$(FUZZ_BUILD)/fuzz-%)

.PHONY: all short run need-clang
all: $(BINS)

need-clang:
	@tests/fuzz/need-clang

# toml++'s known unreachable-code UB: see the comment in toml_impl.cpp.
$(FUZZ_BUILD)/obj/tests/fuzz/toml_impl.o: CXXFLAGS_F += -fno-sanitize=unreachable

$(FUZZ_BUILD)/obj/%.o: %.cpp | need-clang
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(CXXFLAGS_F) -MMD -MP -c $< -o $@

.SECONDEXPANSION:
$(FUZZ_BUILD)/fuzz-%: $$(call obj,$$(SRCS_$$*))
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_F)

# One target for FUZZ_SECONDS: new inputs are kept in build-fuzz/corpus/T, the
# committed seeds are only read. Exit status non-zero on any finding.
run: $(FUZZ_BUILD)/fuzz-$(T)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(T) $(FUZZ_BUILD)/crashes
	$(FUZZ_BUILD)/fuzz-$(T) -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=4096 \
	    -max_len=$(if $(filter config,$(T)),8192,4096) -print_final_stats=1 \
	    $(if $(wildcard tests/fuzz/$(T).dict),-dict=tests/fuzz/$(T).dict) \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$(T)- \
	    $(FUZZ_BUILD)/corpus/$(T) tests/fuzz/corpus/$(T)

# Each target on one core: with -j the targets run side by side (make
# fuzz-short passes -j$(nproc)); a target's figures print when it ends.
short: $(addprefix short-,$(TARGETS))

short-%: $(FUZZ_BUILD)/fuzz-%
	@mkdir -p $(FUZZ_BUILD)/logs
	@if $(MAKE) -f tests/fuzz/fuzz.mk --no-print-directory run T=$* FUZZ_SECONDS=$(FUZZ_SECONDS) \
	       >$(FUZZ_BUILD)/logs/$*.log 2>&1; then \
	    echo "== fuzz-$*, $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/logs/$*.log)"; \
	    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::(number_of_executed_units|new_units_added))' $(FUZZ_BUILD)/logs/$*.log; \
	else \
	    tail -n 60 $(FUZZ_BUILD)/logs/$*.log; echo "fuzz-$* FAILED"; exit 1; \
	fi

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
