# MQTT conformance harness: top-level build.
#
# Every part adds itself through its own fragment (<part>/<part>.mk), which
# appends to ALL_TARGETS (built by `make`), CHECK_SUITES (run by `make check`),
# DEPS_BUILD / DEPS_CHECK (Debian packages) and BENCH_TARGETS (`make bench`).
#
# Two builds of everything:
#   release   -O2, into build/bin and build/lib (what users run and install)
#   asan      -O1 -g with ASan + UBSan, into build/asan/{bin,lib,tests} (what tests run)
# Objects live under build/obj/<variant>/ mirroring the source tree.

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   := build
BIN     := $(BUILD)/bin
LIB     := $(BUILD)/lib
ABIN    := $(BUILD)/asan/bin
ALIB    := $(BUILD)/asan/lib
ATEST   := $(BUILD)/asan/tests

STD      := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers -Werror
INCLUDES := -Icodec/include -I.
CFLAGS_release := $(STD) $(WARN) $(INCLUDES) -O2 -g -fPIC $(CFLAGS)
CFLAGS_asan    := $(STD) $(WARN) $(INCLUDES) -O1 -g -fno-omit-frame-pointer \
                  -fsanitize=address,undefined -fno-sanitize-recover=all $(CFLAGS)
LDFLAGS_asan   := -fsanitize=address,undefined
# Criterion's headers are C, but use a GNU extension in a macro; tests relax -Wpedantic.
CFLAGS_test    := $(filter-out -Wpedantic -Wmissing-prototypes,$(CFLAGS_asan))

export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

ALL_TARGETS   :=
CHECK_SUITES  := check-gate
BENCH_TARGETS :=
DEPS_BUILD    := build-essential pkg-config
DEPS_CHECK    := libcriterion-dev

# $(call objs,VARIANT,SOURCES): object files for SOURCES in VARIANT.
objs = $(patsubst %.c,$(BUILD)/obj/$(1)/%.o,$(2))

.PHONY: all check bench install clean deps deps-check conform
all: deps build-all

include net/net.mk
include codec/codec.mk
-include broker/broker.mk
-include conformance/conformance.mk
-include tools/tools.mk
-include pcaps/pcaps.mk
-include fuzz/fuzz.mk
-include bench/bench.mk

# Every Criterion test binary links scripts/criterion_deadline.c: each test gets a
# deadline (120 s unless it sets its own .timeout), and a hung test fails naming itself.
# A new test binary adds itself to this list.
TEST_DEADLINE := $(BUILD)/obj/test/scripts/criterion_deadline.o
$(ATEST)/test-codec $(ATEST)/test-broker $(ATEST)/test-conform $(ATEST)/test-pcap $(ATEST)/test-tools: $(TEST_DEADLINE)

.PHONY: build-all
build-all: $(ALL_TARGETS)

# Everything users run: the library (install-codec) and every binary in build/bin.
install: build-all install-codec
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN)/* $(DESTDIR)$(PREFIX)/bin/

deps:
	@scripts/ensure-deps.sh $(sort $(DEPS_BUILD))

deps-check: deps
	@scripts/ensure-deps.sh $(sort $(DEPS_CHECK))

# `make check`: every suite, each under a deadline (scripts/run-suite.sh),
# whatever the others did; then a line per suite with its time and one closing
# line `check: N passed, N failed, N skipped (...)`; non-zero if anything failed
# (and, with CI=true, if anything skipped).
# Suites run side by side (CHECK_JOBS at a time, scripts/run-checks.sh); the
# slowest start first, so that the short ones fill the time they take.
CHECK_SLOW := check-conform-clients check-tools-cli check-conform-peer-mosquitto check-conform-peer-rabbitmq \
              check-fuzz-live check-bench-cli check-conform check-conform-peer-rabbitmq-ws check-codec check-broker
CHECK_JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
check: deps-check
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) $(ALL_TARGETS)
	@MAKE="$(MAKE)" CHECK_JOBS=$(CHECK_JOBS) scripts/run-checks.sh \
	    $(filter $(CHECK_SUITES),$(CHECK_SLOW)) $(filter-out $(CHECK_SLOW),$(CHECK_SUITES))

# The gate itself: run-suite.sh and the summary turn red on a failing, lying,
# silent, hung or sanitizer-reporting suite and count skips (scripts/tests/fixtures).
.PHONY: check-gate
check-gate:
	@scripts/run-suite.sh gate scripts/tests/check_gate.sh

bench: deps $(BENCH_TARGETS)

# The project's main job: the conformance suite against the reference broker.
conform: deps
	@if [ -f conformance/conformance.mk ]; then $(MAKE) --no-print-directory conform-run; \
	 else echo "mqtt-conform is not built yet (issue 4): nothing to run" >&2; exit 1; fi

$(BUILD)/obj/release/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_release) -MMD -MP -c $< -o $@

$(BUILD)/obj/asan/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_asan) -MMD -MP -c $< -o $@

$(BUILD)/obj/test/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_test) -MMD -MP -c $< -o $@

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
