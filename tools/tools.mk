# tools: mqtt-pub and mqtt-sub, mosquitto_pub / mosquitto_sub compatible
# clients (issue 7). Shared client logic lives once in tools/src/client_*.c;
# the two mains are thin.

TOOLS_CLIENT_SRCS := $(filter tools/src/client_%.c,$(wildcard tools/src/*.c))
TOOLS_TEST_SRCS   := $(wildcard tools/tests/test_*.c)

$(BIN)/mqtt-pub: $(call objs,release,tools/src/mqtt_pub.c $(TOOLS_CLIENT_SRCS) $(NET_SRCS)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

$(BIN)/mqtt-sub: $(call objs,release,tools/src/mqtt_sub.c $(TOOLS_CLIENT_SRCS) $(NET_SRCS)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

$(ABIN)/mqtt-pub: $(call objs,asan,tools/src/mqtt_pub.c $(TOOLS_CLIENT_SRCS) $(NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

$(ABIN)/mqtt-sub: $(call objs,asan,tools/src/mqtt_sub.c $(TOOLS_CLIENT_SRCS) $(NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

# Unit tests of the shared client modules (options, -D, output formats, JSON, input).
$(ATEST)/test-tools: $(call objs,test,$(TOOLS_TEST_SRCS)) $(call objs,asan,$(TOOLS_CLIENT_SRCS) $(NET_SRCS)) \
                     $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion

# A scriptable fake broker for the bad-peer cases (closes mid-publish, refuses, stays silent...).
$(ATEST)/tools-fake-broker: $(call objs,asan,tools/tests/fake_broker.c $(NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

TOOLS_BINS := $(BIN)/mqtt-pub $(BIN)/mqtt-sub $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub

ALL_TARGETS  += $(TOOLS_BINS)
CHECK_SUITES += check-tools check-tools-cli
DEPS_CHECK   += mosquitto mosquitto-clients

.PHONY: check-tools check-tools-cli tools

tools: $(TOOLS_BINS)

check-tools: $(ATEST)/test-tools
	@scripts/run-suite.sh tools $(ATEST)/test-tools --jobs 2

# The same command lines through mosquitto_pub/mosquitto_sub and mqtt-pub/mqtt-sub,
# against Debian's mosquitto and against mqtt-broker, compared byte for byte;
# bad input and bad peers.
check-tools-cli: $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub $(ATEST)/tools-fake-broker
	@scripts/run-suite.sh tools-cli tools/tests/check_cli.sh $(ABIN) $(ATEST)/tools-fake-broker
