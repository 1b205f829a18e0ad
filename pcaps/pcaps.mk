# pcaps: mqtt-pcap (decode, check, convert and replay captured MQTT traffic),
# the pcap writer the conformance runner links (PCAP_WRITER_SRCS), the
# regression corpus (pcaps/corpus) and its tests, and `make bench-pcap`.

PCAP_LIB_SRCS    := $(filter-out pcaps/src/pcap_main.c,$(wildcard pcaps/src/*.c))
PCAP_SRCS        := $(PCAP_LIB_SRCS) pcaps/src/pcap_main.c
# For other parts: the writer is self-contained (libc only).
PCAP_WRITER_SRCS := pcaps/src/pcap_writer.c
PCAP_TESTS       := $(wildcard pcaps/tests/test_*.c)
PCAP_LDLIBS      := -lpcap -lz

DEPS_BUILD += libpcap-dev zlib1g-dev
# tshark is installed by pcaps/scripts/ensure-tshark.sh (it needs a debconf answer first).
DEPS_CHECK += tcpdump mosquitto mosquitto-clients jq

# replay --inproc: the reference broker's core in-process (broker/broker.mk's driver).
PCAP_BROKER_SRCS := $(BROKER_DRIVER_SRCS)

$(BIN)/mqtt-pcap: $(call objs,release,$(PCAP_SRCS) $(NET_SRCS) $(PCAP_BROKER_SRCS)) $(LIB)/libmqttbroker.a $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(PCAP_LDLIBS)

$(ABIN)/mqtt-pcap: $(call objs,asan,$(PCAP_SRCS) $(NET_SRCS) $(PCAP_BROKER_SRCS)) $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PCAP_LDLIBS)

# The check tests validate rule ids against the conformance runner's embedded id lists.
PCAP_TEST_EXTRA  := conformance/src/spec_ids.c

# scripts/decode_count.c wraps mqtt_decode (bytes decoded, for the framing test).
$(ATEST)/test-pcap: $(call objs,test,$(PCAP_TESTS) scripts/decode_count.c) \
                    $(call objs,asan,$(PCAP_LIB_SRCS) $(NET_SRCS) $(PCAP_TEST_EXTRA) $(PCAP_BROKER_SRCS)) \
                    $(ALIB)/libmqttbroker.a $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -Wl,--wrap=mqtt_decode -o $@ $^ -lcriterion $(PCAP_LDLIBS)

ALL_TARGETS  += $(BIN)/mqtt-pcap $(ABIN)/mqtt-pcap
CHECK_SUITES += check-pcap check-pcap-cli

.PHONY: check-pcap check-pcap-cli bench-pcap pcap-deps
pcap-deps:
	@pcaps/scripts/ensure-tshark.sh tshark

check-pcap: $(ATEST)/test-pcap $(ABIN)/mqtt-pcap pcap-deps
	@scripts/run-suite.sh pcap $(ATEST)/test-pcap --jobs 2

check-pcap-cli: $(ABIN)/mqtt-pcap $(BIN)/mqtt-conform $(BIN)/mqtt-broker $(BUILD)/bench/pcap-gen pcap-deps
	@scripts/run-suite.sh pcap-cli pcaps/tests/check_cli.sh $(ABIN)/mqtt-pcap $(BIN)/mqtt-conform $(BIN)/mqtt-broker \
	    $(BUILD)/bench/pcap-gen

$(BUILD)/bench/pcap-gen: $(call objs,release,pcaps/bench/pcap_gen.c $(PCAP_WRITER_SRCS)) \
                         $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

bench-pcap: $(BIN)/mqtt-pcap $(BUILD)/bench/pcap-gen pcap-deps
	@pcaps/bench/bench_pcap.sh $(BIN)/mqtt-pcap $(BUILD)/bench/pcap-gen

BENCH_TARGETS += bench-pcap

# Fuzz harness `pcap` (fuzz/fuzz_pcap.c, built by fuzz/fuzz.mk's pattern rule): the reader,
# link layers, TCP reassembly and MQTT framing. Only the objects it reaches (the rest of
# PCAP_LIB_SRCS needs net/ and the CLI); seeds: every capture of the corpus, and a gzip copy
# of one (made by fuzz/add-seeds.sh, `gz:`).
PCAP_FUZZ_SRCS  := pcaps/src/pcap_reader.c pcaps/src/pcap_link.c pcaps/src/pcap_tcp.c pcaps/src/pcap_flow.c \
                   pcaps/src/pcap_ws.c
$(BUILD)/fuzz/fuzz_pcap: $(call objs,fuzz,$(PCAP_FUZZ_SRCS))
$(BUILD)/fuzz/fuzz_pcap: FUZZ_LDFLAGS += $(PCAP_LDLIBS)
$(BUILD)/fuzz/cov/fuzz_pcap: $(call objs,fuzzcov,$(PCAP_FUZZ_SRCS))
FUZZ_SEED_FILES += $(patsubst %,pcap:%,$(wildcard pcaps/corpus/*.pcap)) pcap:gz:pcaps/corpus/v5_qos2.pcap
# The codec harnesses (decode, roundtrip, stream) also get each connection's byte streams of
# the captures as seeds (fuzz/seeds_pcap.c), written by `make fuzz-corpus`.
$(BUILD)/fuzz/seeds-pcap: $(call objs,asan,fuzz/seeds_pcap.c fuzz/seed_out.c $(PCAP_FUZZ_SRCS)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PCAP_LDLIBS)
.PHONY: fuzz-seeds-pcap
fuzz-seeds-pcap: $(BUILD)/fuzz/seeds-pcap
	@$(BUILD)/fuzz/seeds-pcap fuzz/corpus $(wildcard pcaps/corpus/*.pcap)
fuzz-corpus: fuzz-seeds-pcap

# MQTT over WebSockets in captures (pcaps/src/pcap_ws.c, issue 18): a capture
# of a ws session made at test time (tcpdump on lo, mqtt-broker's websockets
# listener), decoded by mqtt-pcap and tshark alike, checked, converted, replayed.
CHECK_SUITES += check-pcap-ws
.PHONY: check-pcap-ws
check-pcap-ws: $(ABIN)/mqtt-pcap $(ABIN)/mqtt-broker $(ABIN)/mqtt-pub $(ABIN)/mqtt-sub pcap-deps
	@scripts/run-suite.sh pcap-ws pcaps/tests/check_ws.sh $(ABIN)
