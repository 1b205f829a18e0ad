# broker: the reference broker mqtt-broker (sans-I/O core + epoll loop),
# its Criterion tests, the integration test with mosquitto's clients and the
# benchmark against mosquitto.

# The core, usable in-process (tests, fuzz/fuzz_broker.c, pcap replay):
# everything in broker/src but the loop and main.
BROKER_CORE_SRCS := $(filter-out broker/src/main.c broker/src/event_loop.c broker/src/broker_config.c,\
                      $(wildcard broker/src/*.c))
BROKER_APP_SRCS  := broker/src/main.c broker/src/event_loop.c broker/src/broker_config.c
BROKER_TEST_SRCS := $(wildcard broker/tests/*.c)

$(LIB)/libmqttbroker.a: $(call objs,release,$(BROKER_CORE_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(ALIB)/libmqttbroker.a: $(call objs,asan,$(BROKER_CORE_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN)/mqtt-broker: $(call objs,release,$(BROKER_APP_SRCS) $(NET_SRCS)) $(LIB)/libmqttbroker.a $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

$(ABIN)/mqtt-broker: $(call objs,asan,$(BROKER_APP_SRCS) $(NET_SRCS)) $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

# The config parser is tested in-process too.
$(ATEST)/test-broker: $(call objs,test,$(BROKER_TEST_SRCS)) $(call objs,asan,broker/src/broker_config.c) \
                      $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion

$(BUILD)/bench/bench-broker: $(call objs,release,broker/bench/bench_broker.c $(NET_SRCS)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

ALL_TARGETS   += $(BIN)/mqtt-broker $(ABIN)/mqtt-broker
DEPS_CHECK    += mosquitto mosquitto-clients
BENCH_TARGETS += bench-broker
CHECK_SUITES  += check-broker check-broker-integration

.PHONY: check-broker check-broker-integration bench-broker

check-broker: $(ATEST)/test-broker
	@scripts/run-suite.sh broker $(ATEST)/test-broker --jobs 2

check-broker-integration: $(ABIN)/mqtt-broker
	@scripts/run-suite.sh broker-integration broker/tests/integration.sh $(ABIN)/mqtt-broker

bench-broker: $(BIN)/mqtt-broker $(BUILD)/bench/bench-broker
	@scripts/ensure-deps.sh mosquitto
	@broker/bench/run-bench.sh $(BIN)/mqtt-broker $(BUILD)/bench/bench-broker
