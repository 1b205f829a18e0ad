# conformance: mqtt-conform, the scenario runner (issue 4).
#   make build/bin/mqtt-conform     the runner (release); build/asan/bin/mqtt-conform for tests
#   make conform-run                every scenario against the reference broker, reports in reports/
#   make bench-conform              scenarios per second against the reference broker
# Check suites: parser tests, engine tests against a misbehaving fake broker
# (with the pcap of each run read back), the captures of failing runs checked
# with mqtt-pcap and tshark,
# the whole suite against Debian's mosquitto (with its profile) and against
# the reference broker's core in-process (--inproc, virtual clock), and the
# in-process run proven equal to the socket run against the broker process.

# The runner writes failing runs' traffic as pcap with the pcaps/ writer
# (libc only). This is $(PCAP_WRITER_SRCS) of pcaps/pcaps.mk, named here
# because that fragment is included after this one.
CONF_LIB_SRCS := $(filter-out conformance/src/main.c,$(wildcard conformance/src/*.c)) pcaps/src/pcap_writer.c
# pcap_read.c: an independent reader of the captures the runner writes, for the tests.
CONF_TEST_SRCS := $(wildcard conformance/tests/test_*.c) conformance/tests/pcap_read.c conformance/tests/fake_broker.c \
                  conformance/tests/parse_text.c

# --cafile, --cert, --key, --insecure: every connection over TLS (net/tls.c, OpenSSL).
# --inproc: the reference broker's core in-process (broker/broker.mk's driver).
# --broker ws://, wss://: MQTT over WebSockets (net/ws.h, libwslay).
CONF_NET_SRCS := $(NET_SRCS) $(NET_TLS_SRCS) $(NET_WS_SRCS) $(BROKER_DRIVER_SRCS)

$(BIN)/mqtt-conform: $(call objs,release,conformance/src/main.c $(CONF_LIB_SRCS) $(CONF_NET_SRCS)) $(LIB)/libmqttbroker.a $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(NET_WS_LIBS) $(NET_TLS_LIBS)

$(ABIN)/mqtt-conform: $(call objs,asan,conformance/src/main.c $(CONF_LIB_SRCS) $(CONF_NET_SRCS)) $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(NET_WS_LIBS) $(NET_TLS_LIBS)

$(ATEST)/test-conform: $(call objs,test,$(CONF_TEST_SRCS)) $(call objs,asan,$(CONF_LIB_SRCS) $(CONF_NET_SRCS)) $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion -lpthread $(NET_WS_LIBS) $(NET_TLS_LIBS)

ALL_TARGETS  += $(BIN)/mqtt-conform $(ABIN)/mqtt-conform
CHECK_SUITES += check-conform check-conform-cli check-conform-mosquitto check-conform-reference check-conform-pcap \
                check-conform-tls check-conform-guard check-conform-inproc \
                check-conform-peer-mosquitto check-conform-peer-aedes check-conform-peer-rabbitmq \
                check-conform-ws check-conform-peer-aedes-ws check-conform-peer-rabbitmq-ws \
                check-conform-clients check-conform-client-relay
# nodejs: aedes (npm, installed at test time into build/npm; npm itself comes
# with nodejs from nodesource, or Debian's `npm` package)
DEPS_CHECK   += mosquitto mosquitto-clients openssl rabbitmq-server nodejs
BENCH_TARGETS += bench-conform

.PHONY: conform-run check-conform check-conform-cli check-conform-mosquitto check-conform-reference check-conform-pcap \
        check-conform-tls check-conform-guard check-conform-inproc bench-conform \
        check-conform-peer-mosquitto check-conform-peer-aedes check-conform-peer-rabbitmq \
        check-conform-ws check-conform-peer-aedes-ws check-conform-peer-rabbitmq-ws \
        check-conform-clients check-conform-client-relay

# The main job: every scenario against the reference broker (started and
# stopped by the runner), reports in reports/.
conform-run: $(BIN)/mqtt-conform $(BIN)/mqtt-broker
	$(BIN)/mqtt-conform --out reports $(CONFORM_FLAGS)

# Parser (with its error messages), planner, reports and the engine against
# a fake broker that sends garbage, stalls or closes early.
check-conform: $(ATEST)/test-conform $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform $(ATEST)/test-conform --jobs 2

# Exit status 2 and clear messages: usage errors, broken scenarios (all
# errors listed), unreachable broker, missing reference broker.
check-conform-cli: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-cli conformance/tests/check-cli.sh $(ABIN)/mqtt-conform

check-conform-mosquitto: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-mosquitto conformance/tests/run-mosquitto.sh $(ABIN)/mqtt-conform

check-conform-reference: $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker
	@scripts/run-suite.sh conform-reference conformance/tests/run-reference.sh $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker

# --inproc against the socket run: the same verdict for every run of the whole
# suite, the same virtual times on a second in-process run, and a timer
# scenario that takes less real time than the virtual time it measures.
check-conform-inproc: $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker
	@scripts/run-suite.sh conform-inproc conformance/tests/check-inproc.sh $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker

# The reference broker the runner starts is watched: a crash or a sanitizer
# report in its log fails the run (exit 1, named in every report); SIGTERM,
# SIGINT or SIGKILL to the runner never leaves it running.
check-conform-guard: $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker
	@scripts/run-suite.sh conform-guard conformance/tests/check-guard.sh $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker

# Third-party brokers, raw (no profile), twice each: every verdict as
# reviewed in conformance/tests/expect-NAME.txt (with the spec's words for
# each non-pass), identical across the two runs. Each broker is started by
# the test on 127.0.0.1 on a free port with its own state
# (conformance/tests/peers/peers.sh): Debian's mosquitto with the package's
# default configuration, aedes 1.x from npm, RabbitMQ 3.10's MQTT plugin.
check-conform-peer-mosquitto: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-peer-mosquitto conformance/tests/run-peer.sh mosquitto-default $(ABIN)/mqtt-conform
check-conform-peer-aedes: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-peer-aedes conformance/tests/run-peer.sh aedes $(ABIN)/mqtt-conform
check-conform-peer-rabbitmq: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-peer-rabbitmq conformance/tests/run-peer.sh rabbitmq $(ABIN)/mqtt-conform

# Over WebSockets (--broker ws://, wss://; engine_ws.c): the suite against
# the reference broker's `protocol websockets` listeners (ws://, and wss://
# for the connect, QoS and websocket areas), and, once each, against aedes
# behind npm's `ws` server and RabbitMQ's rabbitmq_web_mqtt plugin (ws://,
# and wss:// for the connect, QoS and websocket areas), judged
# against the TCP expectations (expect-NAME.txt) with the ws-only
# differences in expect-NAME-ws.txt.
check-conform-ws: $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker $(ABIN)/mqtt-pcap
	@scripts/run-suite.sh conform-ws conformance/tests/run-reference-ws.sh $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker \
	    $(ABIN)/mqtt-pcap
check-conform-peer-aedes-ws: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-peer-aedes-ws conformance/tests/run-peer.sh aedes-ws $(ABIN)/mqtt-conform
check-conform-peer-rabbitmq-ws: $(ABIN)/mqtt-conform
	@scripts/run-suite.sh conform-peer-rabbitmq-ws conformance/tests/run-peer.sh rabbitmq-ws $(ABIN)/mqtt-conform

# Captures of failing runs (--pcap): written, linked from every report,
# decoded by mqtt-pcap and by tshark (installed by pcap-deps, pcaps/pcaps.mk)
# without warnings.
check-conform-pcap: $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker $(ABIN)/mqtt-pcap pcap-deps
	@scripts/run-suite.sh conform-pcap conformance/tests/check-pcap.sh $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker \
	    $(ABIN)/mqtt-pcap

# Over TLS (CA and certificates made at test time with the openssl CLI): the
# QoS area and the first connect scenarios against the reference broker's TLS
# listener (--cafile, and from a profile with a client certificate) and
# against Debian's mosquitto with TLS and its profile; the pcap of a failing
# TLS run holds the decrypted MQTT; bad CA, wrong host name, missing client
# certificate or file: exit 2 saying why.
check-conform-tls: $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker $(ABIN)/mqtt-pcap
	@scripts/run-suite.sh conform-tls conformance/tests/run-tls.sh $(ABIN)/mqtt-conform $(ABIN)/mqtt-broker \
	    $(ABIN)/mqtt-pcap

bench-conform: $(BIN)/mqtt-conform
	@conformance/tests/bench.sh $(BIN)/mqtt-conform $(BIN)/mqtt-broker

# Fuzz harness `scenario` (fuzz/fuzz_scenario.c, built by fuzz/fuzz.mk's pattern rule): the
# scenario parser with its field table and rule ids; seeds: every scenario file.
CONF_FUZZ_SRCS := conformance/src/parse.c conformance/src/fields.c conformance/src/spec_ids.c conformance/src/levels.c
$(BUILD)/fuzz/fuzz_scenario: $(call objs,fuzz,$(CONF_FUZZ_SRCS))
$(BUILD)/fuzz/cov/fuzz_scenario: $(call objs,fuzzcov,$(CONF_FUZZ_SRCS))
FUZZ_SEED_FILES += $(patsubst %,scenario:%,$(shell find conformance/scenarios -name '*.mqs' 2>/dev/null | sort))
# The codec harnesses (decode, roundtrip, stream) also get the bytes of every `send raw` step
# as seeds (fuzz/seeds_scenario.c), written by `make fuzz-corpus`.
$(BUILD)/fuzz/seeds-scenario: $(call objs,asan,fuzz/seeds_scenario.c fuzz/seed_out.c $(CONF_FUZZ_SRCS)) \
                              $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^
.PHONY: fuzz-seeds-scenario
fuzz-seeds-scenario: $(BUILD)/fuzz/seeds-scenario
	@$(BUILD)/fuzz/seeds-scenario fuzz/corpus $(shell find conformance/scenarios -name '*.mqs' 2>/dev/null | sort)
fuzz-corpus: fuzz-seeds-scenario

# The client suite (conformance/client-scenarios: the runner plays the server)
# against this project's mqtt-pub/mqtt-sub (ASan builds), Debian's
# mosquitto_pub/mosquitto_sub and MQTT.js (npm `mqtt`, installed at test time
# into build/npm), twice each, against reviewed expectation files; and a
# mutating relay between mqtt-pub and the runner whose every mutation must fail.
check-conform-clients: $(ABIN)/mqtt-conform $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub
	@scripts/run-suite.sh conform-clients conformance/tests/run-clients.sh $(ABIN)/mqtt-conform

# Client faults are caught: each mutation of the relay fails its scenarios
# with the rule it breaks, and the same scenarios pass without it.
check-conform-client-relay: $(ABIN)/mqtt-conform $(ABIN)/mqtt-pub $(ATEST)/client-relay
	@scripts/run-suite.sh conform-client-relay conformance/tests/run-relay.sh $(ABIN)/mqtt-conform $(ATEST)/client-relay

# The mutating relay of check-conform-clients (conformance/tests/client_relay.c).
$(ATEST)/client-relay: $(call objs,asan,conformance/tests/client_relay.c) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^
