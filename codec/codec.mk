# libmqttcodec: the library (static + shared, release and asan), the
# mqtt-codec CLI, the Criterion tests, the purity check, coverage and bench.

CODEC_SRCS     := $(wildcard codec/src/*.c)
CODEC_HEADERS  := $(wildcard codec/include/mqtt/*.h)
CODEC_TESTS    := $(wildcard codec/tests/*.c)
CODEC_VERSION  := 0.1.0

# Only the API of the public headers is exported (they push default visibility);
# internal helpers stay inside the library (codec/tests/check_exports.sh).
$(call objs,release,$(CODEC_SRCS)): CFLAGS_release += -fvisibility=hidden
$(call objs,asan,$(CODEC_SRCS)): CFLAGS_asan += -fvisibility=hidden

$(LIB)/libmqttcodec.a: $(call objs,release,$(CODEC_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIB)/libmqttcodec.so: $(call objs,release,$(CODEC_SRCS))
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libmqttcodec.so.0 -o $@ $^

$(ALIB)/libmqttcodec.a: $(call objs,asan,$(CODEC_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN)/mqtt-codec: $(call objs,release,codec/cli/mqtt_codec_cli.c) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

$(ABIN)/mqtt-codec: $(call objs,asan,codec/cli/mqtt_codec_cli.c) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

# The tests link net/ too: test_interop.c talks to Debian's mosquitto_pub over TCP.
$(ATEST)/test-codec: $(call objs,test,$(CODEC_TESTS)) $(call objs,asan,$(NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion

ALL_TARGETS  += $(LIB)/libmqttcodec.a $(LIB)/libmqttcodec.so $(BIN)/mqtt-codec
DEPS_CHECK   += mosquitto-clients binutils
CHECK_SUITES += check-codec check-codec-pure check-codec-exports check-codec-cli check-readme-example check-install

.PHONY: install-codec check-codec check-codec-pure check-codec-exports check-codec-cli check-readme-example check-install coverage bench-codec
check-codec: $(ATEST)/test-codec
	@scripts/run-suite.sh codec $(ATEST)/test-codec --jobs 2

# The codec is pure: no allocation, no I/O, no formatted output linked in (DESIGN.md, 1).
check-codec-pure: $(LIB)/libmqttcodec.a
	@scripts/run-suite.sh codec-pure codec/tests/check_pure.sh $(LIB)/libmqttcodec.a

# The shared library exports exactly the functions of the public headers.
check-codec-exports: $(LIB)/libmqttcodec.so
	@scripts/run-suite.sh codec-exports codec/tests/check_exports.sh $(LIB)/libmqttcodec.so codec/include/mqtt

check-codec-cli: $(ABIN)/mqtt-codec
	@scripts/run-suite.sh codec-cli codec/tests/check_cli.sh $(ABIN)/mqtt-codec

# The README's C example must compile and run against the installed layout.
check-readme-example: $(LIB)/libmqttcodec.a
	@scripts/run-suite.sh readme-example scripts/check-readme-example.sh $(LIB)/libmqttcodec.a

# `make install` into a temporary prefix, then build and run a program through pkg-config.
check-install: $(LIB)/libmqttcodec.a $(LIB)/libmqttcodec.so $(BIN)/mqtt-codec
	@scripts/run-suite.sh install scripts/check-install.sh

bench-codec: $(BUILD)/bench/bench-codec
	@$(BUILD)/bench/bench-codec

$(BUILD)/bench/bench-codec: codec/bench/bench_codec.c $(CODEC_SRCS) $(CODEC_HEADERS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(INCLUDES) -O2 -march=native -o $@ codec/bench/bench_codec.c $(CODEC_SRCS)

BENCH_TARGETS += bench-codec

# Line coverage of codec/ by its tests (gcov through gcovr).
coverage: deps-check
	@scripts/ensure-deps.sh gcovr
	@rm -rf $(BUILD)/coverage && mkdir -p $(BUILD)/coverage
	$(CC) $(filter-out -Wpedantic -Wmissing-prototypes,$(STD) $(WARN)) $(INCLUDES) -O0 -g --coverage \
	    -o $(BUILD)/coverage/test-codec $(CODEC_TESTS) $(NET_SRCS) $(CODEC_SRCS) -lcriterion
	cd $(BUILD)/coverage && ./test-codec --jobs 1 >/dev/null
	gcovr --root . --filter 'codec/src/' --object-directory $(BUILD)/coverage --print-summary --txt

# The library, its headers and pkg-config file (the top Makefile's `install` adds the binaries).
install-codec: $(LIB)/libmqttcodec.a $(LIB)/libmqttcodec.so
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/mqtt
	install -m 644 $(LIB)/libmqttcodec.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB)/libmqttcodec.so $(DESTDIR)$(PREFIX)/lib/libmqttcodec.so.$(CODEC_VERSION)
	ln -sf libmqttcodec.so.$(CODEC_VERSION) $(DESTDIR)$(PREFIX)/lib/libmqttcodec.so.0
	ln -sf libmqttcodec.so.0 $(DESTDIR)$(PREFIX)/lib/libmqttcodec.so
	install -m 644 $(CODEC_HEADERS) $(DESTDIR)$(PREFIX)/include/mqtt/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(CODEC_VERSION)|' codec/libmqttcodec.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libmqttcodec.pc
