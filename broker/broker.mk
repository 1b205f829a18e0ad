# broker: the reference broker mqtt-broker (sans-I/O core + epoll loop),
# its Criterion tests, the integration test with mosquitto's clients and the
# benchmark against mosquitto.

# The core, usable in-process (tests, fuzz/fuzz_broker.c, pcap replay):
# everything in broker/src but the application around it (loop, main,
# configuration, password files with libcrypto, persistence files). The core
# links nothing but the codec (the ACL parser and the journal format are
# pure and part of it).
BROKER_APP_ONLY  := broker/src/main.c broker/src/event_loop.c broker/src/broker_config.c \
                    broker/src/broker_passwd.c broker/src/broker_store.c broker/src/broker_ws.c
BROKER_CORE_SRCS := $(filter-out $(BROKER_APP_ONLY) broker/src/broker_driver%,$(wildcard broker/src/*.c))
# The in-process driver (broker_driver.h): the core served over the caller's
# transports or socket pairs on the caller's clock (fuzz/fuzz_broker.c links
# broker_driver.c alone), and configured from mqtt-broker configuration text
# (mqtt-conform --inproc). Link it with libmqttbroker.a.
BROKER_DRIVER_SRCS := broker/src/broker_driver.c broker/src/broker_driver_config.c broker/src/broker_config.c
BROKER_APP_SRCS  := $(BROKER_APP_ONLY) $(NET_TLS_SRCS) $(NET_WS_SRCS)
# ws_frames.c and linger_client.c are programs of their own (main), not Criterion tests.
BROKER_TEST_SRCS := $(filter-out broker/tests/ws_frames.c broker/tests/linger_client.c,$(wildcard broker/tests/*.c))
BROKER_SSL_LIBS  := $(NET_WS_LIBS) $(NET_TLS_LIBS)
PASSWD_SRCS      := broker/passwd/mqtt_passwd.c broker/src/broker_passwd.c broker/src/broker_where.c

$(LIB)/libmqttbroker.a: $(call objs,release,$(BROKER_CORE_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(ALIB)/libmqttbroker.a: $(call objs,asan,$(BROKER_CORE_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN)/mqtt-broker: $(call objs,release,$(BROKER_APP_SRCS) $(NET_SRCS)) $(LIB)/libmqttbroker.a $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(BROKER_SSL_LIBS)

$(ABIN)/mqtt-broker: $(call objs,asan,$(BROKER_APP_SRCS) $(NET_SRCS)) $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(BROKER_SSL_LIBS)

# mqtt-passwd: mosquitto_passwd's options and file format.
$(BIN)/mqtt-passwd: $(call objs,release,$(PASSWD_SRCS))
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lcrypto

$(ABIN)/mqtt-passwd: $(call objs,asan,$(PASSWD_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcrypto

# The configuration, password file, store and WebSocket adapter are tested in-process too.
$(ATEST)/test-broker: $(call objs,test,$(BROKER_TEST_SRCS) scripts/decode_count.c) \
                      $(call objs,asan,broker/src/broker_config.c broker/src/broker_passwd.c broker/src/broker_store.c \
                                       broker/src/broker_ws.c broker/src/broker_driver.c broker/src/broker_driver_config.c \
                                       $(NET_SRCS) $(NET_TLS_SRCS) $(NET_WS_SRCS)) \
                      $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -Wl,--wrap=mqtt_decode,--wrap=strcmp,--wrap=fdatasync,--wrap=rename -o $@ $^ -lcriterion $(BROKER_SSL_LIBS)

$(BUILD)/bench/bench-broker: $(call objs,release,broker/bench/bench_broker.c $(NET_SRCS)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

ALL_TARGETS   += $(BIN)/mqtt-broker $(ABIN)/mqtt-broker $(BIN)/mqtt-passwd $(ABIN)/mqtt-passwd
DEPS_BUILD    += libssl-dev
DEPS_CHECK    += mosquitto mosquitto-clients openssl iproute2
BENCH_TARGETS += bench-broker
CHECK_SUITES  += check-broker check-broker-integration check-broker-security

.PHONY: check-broker check-broker-integration check-broker-security bench-broker

check-broker: $(ATEST)/test-broker
	@scripts/run-suite.sh broker $(ATEST)/test-broker --jobs 2

# A client that checks a DISCONNECT survives the 2 MB it is still sending (no reset).
$(ATEST)/broker-linger-client: $(call objs,asan,broker/tests/linger_client.c $(NET_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

check-broker-integration: $(ABIN)/mqtt-broker $(ATEST)/broker-linger-client
	@scripts/run-suite.sh broker-integration broker/tests/integration.sh $(ABIN)/mqtt-broker \
	    $(ATEST)/broker-linger-client

# Configuration, mqtt-passwd, ACLs, TLS and persistence against Debian's
# mosquitto and its clients (broker/tests/security.sh).
check-broker-security: $(ABIN)/mqtt-broker $(ABIN)/mqtt-passwd
	@scripts/run-suite.sh broker-security broker/tests/security.sh $(ABIN)/mqtt-broker $(ABIN)/mqtt-passwd

bench-broker: $(BIN)/mqtt-broker $(BUILD)/bench/bench-broker
	@scripts/ensure-deps.sh mosquitto
	@broker/bench/run-bench.sh $(BIN)/mqtt-broker $(BUILD)/bench/bench-broker

# libFuzzer harnesses of the parsers of this part (fuzz/fuzz_{config,passwd,acl,persist}.c),
# built by fuzz/fuzz.mk's pattern rule once their names are in FUZZ_HARNESSES;
# here only what each links beyond the codec.
$(BUILD)/fuzz/fuzz_config: $(call objs,fuzz,broker/src/broker_config.c $(BROKER_CORE_SRCS))
$(BUILD)/fuzz/fuzz_acl $(BUILD)/fuzz/fuzz_persist: $(call objs,fuzz,$(BROKER_CORE_SRCS))
$(BUILD)/fuzz/fuzz_passwd: $(call objs,fuzz,broker/src/broker_passwd.c broker/src/broker_where.c)
$(BUILD)/fuzz/fuzz_passwd: FUZZ_LDFLAGS += -lcrypto

# WebSocket listeners (`protocol websockets`, ws and wss): framing at the
# byte level (broker/tests/ws_frames.c, frames built by hand, not by
# net/ws*.c) and MQTT.js (npm `mqtt`, installed at test time into build/npm)
# with mqtt-pub / mqtt-sub (issue 18).
$(ATEST)/broker-ws-frames: $(call objs,asan,broker/tests/ws_frames.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

DEPS_CHECK   += nodejs iproute2 # npm comes with nodejs (nodesource) or as Debian's npm; ss for free ports
CHECK_SUITES += check-broker-ws
.PHONY: check-broker-ws
check-broker-ws: $(ABIN)/mqtt-broker $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub $(ATEST)/broker-ws-frames
	@scripts/run-suite.sh broker-ws broker/tests/check_ws.sh $(ABIN) $(ATEST)/broker-ws-frames
