# bench: mqtt-bench, the MQTT load generator (issue 17), its tests and the
# project's broker figures (`make bench-mqtt`, part of `make bench`).

BENCH_SRCS := $(filter-out bench/src/mqtt_bench.c,$(wildcard bench/src/*.c))
BENCH_NET  := $(NET_SRCS) $(NET_TLS_SRCS) $(NET_WS_SRCS)

$(BIN)/mqtt-bench: $(call objs,release,bench/src/mqtt_bench.c $(BENCH_SRCS) $(BENCH_NET)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(NET_WS_LIBS) $(NET_TLS_LIBS) -lpthread -lm

$(ABIN)/mqtt-bench: $(call objs,asan,bench/src/mqtt_bench.c $(BENCH_SRCS) $(BENCH_NET)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(NET_WS_LIBS) $(NET_TLS_LIBS) -lpthread -lm

ALL_TARGETS += $(BIN)/mqtt-bench $(ABIN)/mqtt-bench

.PHONY: mqtt-bench
mqtt-bench: $(BIN)/mqtt-bench $(ABIN)/mqtt-bench

# Test helpers: a relay that drops / duplicates / reorders / stalls on purpose
# with exact counts, and the capture-based latency the bench is checked against.
$(ATEST)/bench-relay: $(call objs,asan,bench/tests/bench_relay.c $(NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

$(ATEST)/bench-capture-latency: $(call objs,asan,bench/tests/capture_latency.c bench/src/bench_hist.c bench/src/bench_payload.c \
                                 $(PCAP_LIB_SRCS) $(NET_SRCS) $(PCAP_BROKER_SRCS)) $(ALIB)/libmqttbroker.a \
                                 $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PCAP_LDLIBS)

BENCH_TEST_SRCS := $(wildcard bench/tests/test_*.c)
$(ATEST)/test-bench: $(call objs,test,$(BENCH_TEST_SRCS)) $(call objs,asan,$(BENCH_SRCS) $(BENCH_NET)) \
                     $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion $(NET_WS_LIBS) $(NET_TLS_LIBS) -lpthread -lm

CHECK_SUITES += check-bench check-bench-cli
DEPS_CHECK   += mosquitto tcpdump openssl

.PHONY: check-bench check-bench-cli

# Unit: histogram accuracy and merge exactness, pair tracking, payload, options.
check-bench: $(ATEST)/test-bench
	@scripts/run-suite.sh bench $(ATEST)/test-bench --jobs 2

# Against the reference broker, Debian's mosquitto and the misbehaving relay.
check-bench-cli: $(ABIN)/mqtt-bench $(BIN)/mqtt-broker $(ATEST)/bench-relay $(ATEST)/bench-capture-latency
	@scripts/run-suite.sh bench-cli bench/tests/check_bench.sh $(ABIN)/mqtt-bench $(BIN)/mqtt-broker \
	    $(ATEST)/bench-relay $(ATEST)/bench-capture-latency

# `make bench`: every broker figure comes from mqtt-bench (ours and Debian's
# mosquitto side by side, with ratios). broker/bench's own driver made the
# same kind of figures without loss or latency checks; it leaves `make bench`.
BENCH_TARGETS := $(filter-out bench-broker,$(BENCH_TARGETS)) bench-mqtt

.PHONY: bench-mqtt
bench-mqtt: $(BIN)/mqtt-bench $(BIN)/mqtt-broker
	@scripts/ensure-deps.sh mosquitto
	@bench/run-bench.sh $(BIN)/mqtt-bench $(BIN)/mqtt-broker
