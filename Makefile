# tlspolicy-milter — the entry point.
#   make            build build/tlspolicy-milter
#   make check      install what is missing (Debian, as root: contrib/install-deps
#                   says what first; NO_INSTALL=1 installs nothing), build, run every test
#   make run-pg     the PostgreSQL store tests against a private server (tests/e2e/pg_fixture.py)
#   make check-asan the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       Postfix on loopback with the milter: real verdicts and headers
#                   (make demo MTA=sendmail: the same behind Sendmail 8.17)
# ./configure (made from configure.ac) checks the dependencies and writes build/config.mk.

BUILD ?= build
MTA ?= postfix
CONFIG_MK := build/config.mk

# Goals that first install packages, then call make again: on a fresh machine
# there is no autoconf yet to write build/config.mk with.
BOOTSTRAP_GOALS := check check-asan demo deps fuzz fuzz-short deb check-deb
ifeq ($(filter $(BOOTSTRAP_GOALS),$(MAKECMDGOALS)),)
include $(CONFIG_MK)
endif

WARN      := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
ifeq ($(SAN),1)
# -O0 and line tables only (-g1): the sanitizers catch the same at -O0, stacks
# keep file:line, and the build takes a third of -O1 -g's time (one test
# file: 10 s against 33 s), which CI's 20 minutes need.
SANFLAGS  := -O0 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ALL_CXXFLAGS = -std=c++20 $(WARN) $(CPPFLAGS) $(CXXFLAGS) $(SANFLAGS) -Isrc \
               -DTLSPOLICY_VERSION='"$(PACKAGE_VERSION)"' \
               -DTLSPOLICY_SYSCONFDIR='"$(sysconfdir)"'
LIBS      := -lmilter -lpthread -lssl -lcrypto -ltomlplusplus -lsqlite3 $(PQ_LIBS) $(LDNS_LIBS)

# The program's own objects, kept out of libtlspolicy.a: the entry point, the
# daemon's life cycle and the libc shim (src/milter/libc_shim.cpp, the one
# file that may define libc's functions; tests/libc-shim-guard holds every
# other object to that). The glue tests are the only other program with the shim.
# Every room of src/ and the rooms inside it (src/store/sqlite/, ...).
CORE_SRCS   := $(wildcard src/core/*.cpp)
SHIM_SRC    := src/milter/libc_shim.cpp
PROGRAM_SRCS := src/cli/main.cpp src/milter/daemon.cpp
OTHER_SRCS  := $(filter-out $(CORE_SRCS) $(PROGRAM_SRCS) $(SHIM_SRC),$(wildcard src/*/*.cpp src/*/*/*.cpp))
# tests/unit/ mirrors the rooms of src/; its shared helpers (golden.hpp, the
# test policies and store helpers) sit at its top.
GLUE_SRCS   := tests/unit/milter/milter_glue_test.cpp
TEST_SRCS   := $(filter-out $(GLUE_SRCS),$(wildcard tests/unit/*.cpp tests/unit/*/*.cpp))
CORE_OBJS   := $(CORE_SRCS:%.cpp=$(BUILD)/%.o)
OTHER_OBJS  := $(OTHER_SRCS:%.cpp=$(BUILD)/%.o)
SHIM_OBJ    := $(SHIM_SRC:%.cpp=$(BUILD)/%.o)
PROGRAM_OBJS := $(PROGRAM_SRCS:%.cpp=$(BUILD)/%.o)
TEST_OBJS   := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
GLUE_OBJS   := $(GLUE_SRCS:%.cpp=$(BUILD)/%.o)
LIB         := $(BUILD)/libtlspolicy.a
BIN         := $(BUILD)/tlspolicy-milter
UNIT        := $(BUILD)/tests/unit_tests
GLUE        := $(BUILD)/tests/glue_tests

.PHONY: all check check-asan demo deps unit run-unit run-sanitized run-pg run-e2e clean distclean
all: $(BIN)

$(CONFIG_MK): configure src/config.mk.in
	./configure

configure: configure.ac
	autoconf

# Each library lives in one room of src/ (tests/include-rooms has the table:
# OpenSSL in tls/, toml++ in config/, libmilter in milter/, SQLite in
# store/sqlite/, libpq in store/postgres/, ldns in dns/, CLI11 in cli/; the core and the
# report none). Every object's dependency list, system headers included, is
# checked after its compile, so an include through another header fails too.
$(BUILD)/src/%.o: src/%.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MD -MP -c $< -o $@
	@tests/include-rooms $< $(@:.o=.d) || { rm -f $@; exit 1; }

# The tests find the tree they were built from wherever they are started.
$(BUILD)/tests/unit/%.o: ALL_CXXFLAGS += -Itests/unit -DTLSPOLICY_TEST_SRCDIR='"$(CURDIR)"'

# libpq's and ldns's include paths are given to their rooms only.
$(BUILD)/src/store/postgres/%.o: ALL_CXXFLAGS += $(PQ_CFLAGS)
$(BUILD)/src/dns/%.o: ALL_CXXFLAGS += $(LDNS_CFLAGS)

$(BUILD)/%.o: %.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJS) $(OTHER_OBJS)
	@tests/libc-shim-guard $^
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(PROGRAM_OBJS) $(SHIM_OBJ) $(LIB)
	@tests/libc-shim-guard $(PROGRAM_OBJS)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(TEST_OBJS) $(LIB)
	@mkdir -p $(@D)
	@tests/libc-shim-guard $(TEST_OBJS)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ -lgtest_main -lgtest $(LIBS)

$(GLUE): $(GLUE_OBJS) $(SHIM_OBJ) $(LIB)
	@mkdir -p $(@D)
	@tests/libc-shim-guard $(GLUE_OBJS)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ -lgtest_main -lgtest $(LIBS)

unit: $(UNIT) $(GLUE) $(BIN)

# The Postgres* tests need a server: run-pg gives them one.
run-unit: unit
	$(UNIT) --gtest_filter='-Postgres*'
	$(GLUE)
	tests/boundary-test $(BUILD)

# The PostgreSQL backend against a real server: tests/e2e/pg_fixture.py starts a
# private one on loopback (or TLSPOLICY_TEST_PG=postgresql://... names one).
# Skipped only when told so: TLSPOLICY_TEST_PG=skip.
run-pg: unit
	@if [ "$$TLSPOLICY_TEST_PG" = skip ]; then echo "run-pg: SKIPPED on request (TLSPOLICY_TEST_PG=skip)"; \
	elif [ -n "$$TLSPOLICY_TEST_PG" ]; then $(UNIT) --gtest_filter='Postgres*'; \
	else python3 tests/e2e/pg_fixture.py -- $(UNIT) --gtest_filter='Postgres*'; fi

# End-to-end: the built daemon behind a real Postfix on loopback (root). The
# PostgreSQL outages (two times 30 s down) and the alert rules on a real
# Prometheus (40 s), mostly waiting, run beside the rest.
run-e2e: $(BIN)
	TLSPOLICY_BIN=$(abspath $(BIN)) python3 tests/e2e/run.py -q --beside=FleetOutage --beside=AlertsOnRealPrometheus

deps:
	contrib/install-deps

check:
	contrib/install-deps
	$(MAKE) -j$$(nproc) unit
	$(MAKE) run-unit run-pg run-e2e

demo:
	contrib/install-deps
	$(MAKE) -j$$(nproc) $(BIN)
	python3 contrib/demo.py --mta $(MTA)

# The unit and glue tests only: the build's fences (boundary-test) are the
# same for any flags, and over the sanitized objects they took 4 minutes.
check-asan:
	contrib/install-deps build
	$(MAKE) -j$$(nproc) BUILD=build-asan SAN=1 unit
	$(MAKE) BUILD=build-asan SAN=1 run-sanitized

run-sanitized: unit
	$(UNIT) --gtest_filter='-Postgres*'
	$(GLUE)

clean:
	rm -rf build build-asan

distclean: clean
	rm -rf configure config.log config.status autom4te.cache

-include $(CORE_OBJS:.o=.d) $(OTHER_OBJS:.o=.d) $(SHIM_OBJ:.o=.d) $(PROGRAM_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(GLUE_OBJS:.o=.d)

# Benchmarks (tests/bench/, see BENCHMARKS.md): they print figures and are
# never part of `make check`. Built into $(BUILD)/bench/.
BENCH_DIR := $(BUILD)/bench
BENCH_CXXFLAGS = -std=c++20 $(WARN) $(CPPFLAGS) $(CXXFLAGS) -O2 -Isrc
.PHONY: bench-tools bench-protocol bench-scale bench-store soak bench-ingest

$(BENCH_DIR)/milter_driver: tests/bench/milter_driver.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $<

$(BENCH_DIR)/floor_milter: tests/bench/floor_milter.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $< -lmilter -lpthread

$(BENCH_DIR)/plain_milter: tests/bench/plain_milter.cpp $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $< -lmilter -lpthread

$(BENCH_DIR)/policy_scale: tests/bench/policy_scale.cpp $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $< $(LIB) -lbenchmark $(LIBS)

$(BENCH_DIR)/store_write_bench: tests/bench/store_write_bench.cpp $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BENCH_DIR)/ingest_bench: tests/bench/ingest_bench.cpp $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

bench-tools: $(BIN) $(BENCH_DIR)/milter_driver $(BENCH_DIR)/floor_milter $(BENCH_DIR)/plain_milter $(BENCH_DIR)/policy_scale $(BENCH_DIR)/store_write_bench

# Milter protocol benchmark: (b) floor, (c) plain, ours annotate/enforce, unix
# and TCP, concurrency 1/32/512 (takes the benchmark lock itself).
bench-protocol: $(BIN) $(BENCH_DIR)/milter_driver $(BENCH_DIR)/floor_milter $(BENCH_DIR)/plain_milter
	BUILD=$(BUILD) tests/bench/run-protocol-bench

# 100,000-rule policy: load time, evaluation time, resident memory.
bench-scale: $(BENCH_DIR)/policy_scale
	flock /tmp/tlspolicy-bench.lock $(BENCH_DIR)/policy_scale

# The PostgreSQL observation store (issue 15; tests/bench/store/, BENCHMARKS.md):
# rows/s from 4 milters into one PostgreSQL, milter throughput with the store
# on and off; then 10 million generated rows and the time `report` takes over
# them (STORE_ROWS=1000000 for a quicker run). Root: a private PostgreSQL.
STORE_ROWS ?= 10000000
bench-store: $(BIN) $(BENCH_DIR)/milter_driver
	BUILD=$(BUILD) tests/bench/store/run-store-bench
	BUILD=$(BUILD) tests/bench/store/gen-observations --rows $(STORE_ROWS)

# The ingest parser over a generated mail.log of INGEST_BYTES (1 GB; written
# once to $(BENCH_DIR)/mail.log, never committed), on one core, under the lock.
INGEST_BYTES ?= 1000000000
bench-ingest: $(BENCH_DIR)/ingest_bench
	@test -s $(BENCH_DIR)/mail.log || tests/bench/ingest/gen-maillog --bytes $(INGEST_BYTES) $(BENCH_DIR)/mail.log
	flock /tmp/tlspolicy-bench.lock taskset -c 1 $(BENCH_DIR)/ingest_bench $(BENCH_DIR)/mail.log

# 200,000 messages and 1,000 held connections against tlspolicy-milter
# (takes the benchmark lock itself).
soak: $(BIN) $(BENCH_DIR)/milter_driver
	BUILD=$(BUILD) tests/bench/soak

# Install, uninstall and the release tarball. Paths come from ./configure
# (build/config.mk: --prefix, --sbindir, --sysconfdir, --mandir); DESTDIR
# stages the whole tree elsewhere. `make install` installs
#   $(sbindir)/tlspolicy-milter
#   $(mandir)/man8/tlspolicy-milter.8, $(mandir)/man5/tlspolicy-milter.toml.5
#   $(sysconfdir)/tlspolicy-milter/tlspolicy-milter.toml  (only when absent)
#   $(systemdunitdir)/tlspolicy-milter.service            ($(prefix)/lib/systemd/system)
#   $(systemdunitdir)/tlspolicy-ingest.service             (outbound deliveries; not enabled)
# and `make uninstall` removes them, except a config that differs from the
# sample: that one is the operator's.
INSTALL        ?= install
systemdunitdir ?= $(prefix)/lib/systemd/system
DIST           := tlspolicy-milter-$(PACKAGE_VERSION)
INSTALL_CONF   = $(DESTDIR)$(sysconfdir)/tlspolicy-milter/tlspolicy-milter.toml
# The unit, man pages and sample name Debian's paths; the installed copies
# name the configured ones.
INSTALL_PATHS  = sed -e 's,/usr/sbin/tlspolicy-milter,$(sbindir)/tlspolicy-milter,g' \
                     -e 's,/etc/tlspolicy-milter/,$(sysconfdir)/tlspolicy-milter/,g'
INSTALL_COPIES := $(BUILD)/install/tlspolicy-milter.8 $(BUILD)/install/tlspolicy-milter.toml.5 \
                  $(BUILD)/install/tlspolicy-milter.toml $(BUILD)/install/tlspolicy-milter.service \
                  $(BUILD)/install/tlspolicy-ingest.service
.PHONY: install uninstall dist distcheck

$(BUILD)/install/tlspolicy-milter.8: man/tlspolicy-milter.8
$(BUILD)/install/tlspolicy-milter.toml.5: man/tlspolicy-milter.toml.5
$(BUILD)/install/tlspolicy-milter.toml: conf/tlspolicy-milter.toml
$(BUILD)/install/tlspolicy-milter.service: contrib/tlspolicy-milter.service
$(BUILD)/install/tlspolicy-ingest.service: contrib/tlspolicy-ingest.service
$(INSTALL_COPIES): $(CONFIG_MK)
	@mkdir -p $(@D)
	$(INSTALL_PATHS) $(firstword $(filter-out $(CONFIG_MK),$^)) > $@

install: $(BIN) $(INSTALL_COPIES)
	@$(BIN) --help | grep -qF -- '$(sysconfdir)/tlspolicy-milter/tlspolicy-milter.toml' || { \
	  echo "install: $(BIN) was built for another sysconfdir than $(sysconfdir);" \
	       "set paths with ./configure, then make" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8 $(DESTDIR)$(mandir)/man5 \
	    $(DESTDIR)$(sysconfdir)/tlspolicy-milter $(DESTDIR)$(systemdunitdir)
	$(INSTALL) -m 0755 $(BIN) $(DESTDIR)$(sbindir)/tlspolicy-milter
	$(INSTALL) -m 0644 $(BUILD)/install/tlspolicy-milter.8 $(DESTDIR)$(mandir)/man8/tlspolicy-milter.8
	$(INSTALL) -m 0644 $(BUILD)/install/tlspolicy-milter.toml.5 $(DESTDIR)$(mandir)/man5/tlspolicy-milter.toml.5
	$(INSTALL) -m 0644 $(BUILD)/install/tlspolicy-milter.service $(DESTDIR)$(systemdunitdir)/tlspolicy-milter.service
	$(INSTALL) -m 0644 $(BUILD)/install/tlspolicy-ingest.service $(DESTDIR)$(systemdunitdir)/tlspolicy-ingest.service
	@if [ -e $(INSTALL_CONF) ]; then echo "install: kept the existing $(INSTALL_CONF)"; \
	 else echo "$(INSTALL) -m 0644 $(BUILD)/install/tlspolicy-milter.toml $(INSTALL_CONF)"; \
	      $(INSTALL) -m 0644 $(BUILD)/install/tlspolicy-milter.toml $(INSTALL_CONF); fi

uninstall: $(BUILD)/install/tlspolicy-milter.toml
	rm -f $(DESTDIR)$(sbindir)/tlspolicy-milter $(DESTDIR)$(mandir)/man8/tlspolicy-milter.8 \
	    $(DESTDIR)$(mandir)/man5/tlspolicy-milter.toml.5 $(DESTDIR)$(systemdunitdir)/tlspolicy-milter.service \
	    $(DESTDIR)$(systemdunitdir)/tlspolicy-ingest.service
	@if [ -e $(INSTALL_CONF) ]; then \
	   if cmp -s $(BUILD)/install/tlspolicy-milter.toml $(INSTALL_CONF); then \
	     echo "rm -f $(INSTALL_CONF)"; rm -f $(INSTALL_CONF); \
	   else echo "uninstall: kept $(INSTALL_CONF): it differs from the sample"; fi; fi
	@rmdir $(DESTDIR)$(sysconfdir)/tlspolicy-milter 2>/dev/null || true

# The release tarball: every file git tracks, plus the generated configure.
dist: configure
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "dist: needs a git checkout" >&2; exit 1; }
	{ git ls-files | while read -r f; do [ -e "$$f" ] && echo "$$f"; done; echo configure; } | \
	  LC_ALL=C sort -u | tar -czf $(DIST).tar.gz --owner=0 --group=0 --numeric-owner \
	    --transform 's,^,$(DIST)/,S' --no-recursion -T -
	@echo "dist: wrote $(DIST).tar.gz"

# Proves the tarball: unpacked in a clean directory it configures, builds,
# passes its unit tests, installs into a DESTDIR and uninstalls without a trace.
distcheck: dist
	rm -rf $(BUILD)/distcheck && mkdir -p $(BUILD)/distcheck
	tar -C $(BUILD)/distcheck -xzf $(DIST).tar.gz
	set -e; cd $(BUILD)/distcheck/$(DIST); unset TLSPOLICY_SRCDIR; \
	  ./configure --prefix=/usr --sysconfdir=/etc >/dev/null; \
	  $(MAKE) -j$$(nproc) unit; $(MAKE) run-unit; \
	  $(MAKE) install DESTDIR=$$PWD/stage; $(MAKE) uninstall DESTDIR=$$PWD/stage; \
	  left=$$(find stage -type f); \
	  if [ -n "$$left" ]; then echo "distcheck: uninstall left behind: $$left" >&2; exit 1; fi
	rm -rf $(BUILD)/distcheck
	@echo "distcheck: $(DIST).tar.gz builds, passes its unit tests, installs and uninstalls"

# The Debian package (debian/, debian/README.Debian): build/deb/tlspolicy-milter_VERSION_ARCH.deb
# and the source package (.dsc) beside it, the version from configure.ac's
# AC_INIT, built in a copy of the files git tracks; lintian on both must find
# no error and no warning. DEB_BUILD_OPTIONS=nocheck skips the unit tests.
# check-deb (root) builds it, installs it on this machine behind a private
# Postfix, upgrades, removes and purges it (tests/e2e/package_test.py):
# minutes, and it changes the machine for a while, so not part of make check.
.PHONY: deb check-deb
deb:
	contrib/install-deps deb
	debian/make-deb build/deb

check-deb: deb
	contrib/install-deps
	python3 tests/e2e/package_test.py -v

# Fuzzing (tests/fuzz/README.md): libFuzzer targets, clang 14 with ASan and
# UBSan, built into build-fuzz/ apart from the g++ build. fuzz-short runs each
# target FUZZ_SECONDS (CI); one target longer:
#   make -f tests/fuzz/fuzz.mk run T=milter FUZZ_SECONDS=600
.PHONY: fuzz fuzz-short bench-postfix faults
fuzz:
	contrib/install-deps build
	$(MAKE) -f tests/fuzz/fuzz.mk -j$$(nproc) all

fuzz-short: fuzz
	$(MAKE) -f tests/fuzz/fuzz.mk -j$$(nproc) short

# A real Postfix fed by postal, (a)-(e), and faults under Postfix load (root;
# tests/bench/postal/, BENCHMARKS.md). Under the benchmark lock, so that no
# other measurement runs at the same time.
bench-postfix: $(BIN) $(BENCH_DIR)/floor_milter $(BENCH_DIR)/plain_milter
	contrib/install-deps bench
	BUILD=$(BUILD) flock /tmp/tlspolicy-bench.lock tests/bench/postal/run-postfix-bench

faults: $(BIN)
	BUILD=$(BUILD) flock /tmp/tlspolicy-bench.lock tests/bench/postal/faults
