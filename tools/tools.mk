# tools: mqtt-pub and mqtt-sub, mosquitto_pub / mosquitto_sub compatible
# clients (issue 7). Shared client logic lives once in tools/src/client_*.c;
# the two mains are thin.

TOOLS_CLIENT_SRCS := $(filter tools/src/client_%.c,$(wildcard tools/src/*.c))
TOOLS_TEST_SRCS   := $(wildcard tools/tests/test_*.c)

# TLS (--cafile, --cert, --key, --insecure ...) through net/tls.c and OpenSSL;
# WebSockets (-L ws:// wss://) through net/ws*.c and libwslay.
TOOLS_NET_SRCS := $(NET_SRCS) $(NET_TLS_SRCS) $(NET_WS_SRCS)
TOOLS_NET_LIBS := $(NET_WS_LIBS) $(NET_TLS_LIBS)

$(BIN)/mqtt-pub: $(call objs,release,tools/src/mqtt_pub.c $(TOOLS_CLIENT_SRCS) $(TOOLS_NET_SRCS)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(TOOLS_NET_LIBS)

$(BIN)/mqtt-sub: $(call objs,release,tools/src/mqtt_sub.c $(TOOLS_CLIENT_SRCS) $(TOOLS_NET_SRCS)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(TOOLS_NET_LIBS)

$(ABIN)/mqtt-pub: $(call objs,asan,tools/src/mqtt_pub.c $(TOOLS_CLIENT_SRCS) $(TOOLS_NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(TOOLS_NET_LIBS)

$(ABIN)/mqtt-sub: $(call objs,asan,tools/src/mqtt_sub.c $(TOOLS_CLIENT_SRCS) $(TOOLS_NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(TOOLS_NET_LIBS)

# Unit tests of the shared client modules (options, -D, output formats, JSON, input, TLS options).
$(ATEST)/test-tools: $(call objs,test,$(TOOLS_TEST_SRCS)) $(call objs,asan,$(TOOLS_CLIENT_SRCS) $(TOOLS_NET_SRCS)) \
                     $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion $(TOOLS_NET_LIBS)

# A scriptable fake broker for the bad-peer cases (closes mid-publish, refuses, stays silent...).
$(ATEST)/tools-fake-broker: $(call objs,asan,tools/tests/fake_broker.c $(NET_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

TOOLS_BINS := $(BIN)/mqtt-pub $(BIN)/mqtt-sub $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub

ALL_TARGETS  += $(TOOLS_BINS)
CHECK_SUITES += check-tools check-tools-cli check-tools-tls check-tools-ws
DEPS_CHECK   += mosquitto mosquitto-clients openssl rabbitmq-server

.PHONY: check-tools check-tools-cli check-tools-tls check-tools-ws tools

tools: $(TOOLS_BINS)

check-tools: $(ATEST)/test-tools
	@scripts/run-suite.sh tools $(ATEST)/test-tools --jobs 2

# The same command lines through mosquitto_pub/mosquitto_sub and mqtt-pub/mqtt-sub,
# against Debian's mosquitto and against mqtt-broker, compared byte for byte;
# bad input and bad peers.
check-tools-cli: $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub $(ABIN)/mqtt-broker $(ATEST)/tools-fake-broker
	@scripts/run-suite.sh tools-cli tools/tests/check_cli.sh $(ABIN) $(ATEST)/tools-fake-broker

# Over TLS, with a CA and certificates made at test time (openssl CLI): the
# same command lines through mosquitto_pub/sub and mqtt-pub/sub against
# mosquitto and mqtt-broker with TLS listeners, compared; bad CA, wrong host
# name, missing files give mosquitto's messages and exit codes.
check-tools-tls: $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub $(ABIN)/mqtt-broker $(ATEST)/tools-fake-broker
	@scripts/run-suite.sh tools-tls tools/tests/check_tls.sh $(ABIN) $(ATEST)/tools-fake-broker

# Over WebSockets (-L ws://): publish and subscribe through RabbitMQ's
# rabbitmq_web_mqtt endpoint (a private node started by the test), mixed
# with plain MQTT, a 200 KB message, a refused upgrade.
check-tools-ws: $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub
	@scripts/run-suite.sh tools-ws tools/tests/check_ws.sh $(ABIN)
