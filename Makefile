# tlspolicy-milter — the entry point.
#   make            build build/tlspolicy-milter
#   make check      install what is missing (Debian, as root), build, run every test
#   make check-asan the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       Postfix on loopback with the milter: real verdicts and headers
# ./configure (made from configure.ac) checks the dependencies and writes build/config.mk.

BUILD ?= build
CONFIG_MK := build/config.mk

# Goals that first install packages, then call make again: on a fresh machine
# there is no autoconf yet to write build/config.mk with.
BOOTSTRAP_GOALS := check check-asan demo deps
ifeq ($(filter $(BOOTSTRAP_GOALS),$(MAKECMDGOALS)),)
include $(CONFIG_MK)
endif

WARN      := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
ifeq ($(SAN),1)
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ALL_CXXFLAGS = -std=c++20 $(WARN) $(CXXFLAGS) $(SANFLAGS) -Isrc \
               -DTLSPOLICY_VERSION='"$(PACKAGE_VERSION)"' \
               -DTLSPOLICY_SYSCONFDIR='"$(sysconfdir)"'
LIBS      := -lmilter -lpthread -lssl -lcrypto -ltomlplusplus -lsqlite3

CORE_SRCS   := $(wildcard src/core/*.cpp)
OTHER_SRCS  := $(filter-out src/cli/main.cpp,$(wildcard src/tls/*.cpp src/config/*.cpp src/store/*.cpp src/stats/*.cpp src/cli/*.cpp src/milter/*.cpp))
TEST_SRCS   := $(wildcard tests/unit/*.cpp)
CORE_OBJS   := $(CORE_SRCS:%.cpp=$(BUILD)/%.o)
OTHER_OBJS  := $(OTHER_SRCS:%.cpp=$(BUILD)/%.o)
TEST_OBJS   := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
LIB         := $(BUILD)/libtlspolicy.a
BIN         := $(BUILD)/tlspolicy-milter
UNIT        := $(BUILD)/tests/unit_tests

.PHONY: all check check-asan demo deps unit run-unit run-e2e clean distclean
all: $(BIN)

$(CONFIG_MK): configure src/config.mk.in
	./configure

configure: configure.ac
	autoconf

# The policy core may not see OpenSSL, libmilter or toml++: its dependency list
# (system headers included) is checked after each compile.
$(BUILD)/src/core/%.o: src/core/%.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MD -MP -c $< -o $@
	@tests/core-include-guard $< $(@:.o=.d) || { rm -f $@; exit 1; }

$(BUILD)/%.o: %.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJS) $(OTHER_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(LIB)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(TEST_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ -lgtest_main -lgtest $(LIBS)

unit: $(UNIT) $(BIN)

run-unit: unit
	$(UNIT)
	tests/core-boundary-test $(BUILD)

# End-to-end: the built daemon behind a real Postfix on loopback (root).
run-e2e: $(BIN)
	TLSPOLICY_BIN=$(abspath $(BIN)) python3 tests/e2e/run.py -q

deps:
	contrib/install-deps

check:
	contrib/install-deps
	$(MAKE) -j$$(nproc) unit
	$(MAKE) run-unit run-e2e

demo:
	contrib/install-deps
	$(MAKE) -j$$(nproc) $(BIN)
	python3 contrib/demo.py

check-asan:
	contrib/install-deps build
	$(MAKE) -j$$(nproc) BUILD=build-asan SAN=1 unit
	$(MAKE) BUILD=build-asan SAN=1 run-unit

clean:
	rm -rf build build-asan

distclean: clean
	rm -rf configure config.log config.status autom4te.cache

-include $(CORE_OBJS:.o=.d) $(OTHER_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
