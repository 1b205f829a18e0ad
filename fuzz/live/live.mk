# fuzz/live: mqtt-fuzz, the stateful network fuzzer of live brokers (issue 16).
#
#   make check-fuzz-live   (in make check) a short deterministic campaign against the
#                          reference broker with 0 findings, the minimiser on a planted
#                          fault (a test-only relay) whose .mqs reproduces it with
#                          mqtt-conform, same seed -> same sessions, the differential
#                          oracle on deliveries, ws://, and client fuzzing (--client)
#   make fuzz-live         (not in make check) an old mosquitto release with known
#                          crash bugs, built from a git mirror: mqtt-fuzz must find them
#   make fuzz-live-campaigns  longer campaigns against the reference broker and
#                          Debian's mosquitto (FUZZ_LIVE_SECONDS, default 600)

FZ_SRCS      := $(wildcard fuzz/live/src/fz_*.c)
FZ_LIB_SRCS  := $(filter-out fuzz/live/src/fz_main.c,$(FZ_SRCS))
# Links: the codec, net/ (with WebSockets, whose I/O layer also speaks TLS), the pcap
# writer and the runner's table of normative ids (read-only).
FZ_EXTRA     := $(NET_SRCS) $(NET_WS_SRCS) $(NET_TLS_SRCS) pcaps/src/pcap_writer.c conformance/src/spec_ids.c
FZ_LIBS      := $(NET_WS_LIBS) $(NET_TLS_LIBS)
FUZZ_LIVE_SECONDS ?= 600
# The scripts read JSON summaries with jq and pick free ports with ss (iproute2);
# building an old mosquitto needs cmake and git.
DEPS_CHECK     += jq iproute2
DEPS_FUZZ_LIVE := cmake git jq iproute2 mosquitto

$(BIN)/mqtt-fuzz: $(call objs,release,$(FZ_SRCS) $(FZ_EXTRA)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(FZ_LIBS)

$(ABIN)/mqtt-fuzz: $(call objs,asan,$(FZ_SRCS) $(FZ_EXTRA)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(FZ_LIBS)

# The planted fault of the tests: a relay in front of a broker that dies on one byte pattern.
$(ATEST)/fz-fault-relay: $(call objs,asan,fuzz/live/tests/fault_relay.c $(NET_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

# The hang oracle's "broker": accepts every connection and never answers.
$(ATEST)/fz-mute-peer: $(call objs,asan,fuzz/live/tests/mute_peer.c $(NET_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

# The planted fault of client fuzzing: a tiny subscriber that trusts a PUBLISH's topic length.
$(ATEST)/fz-fragile-client: $(call objs,asan,fuzz/live/tests/fragile_client.c $(NET_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

ALL_TARGETS  += $(BIN)/mqtt-fuzz $(ABIN)/mqtt-fuzz
CHECK_SUITES += check-fuzz-live

.PHONY: check-fuzz-live fuzz-live fuzz-live-campaigns deps-fuzz-live
deps-fuzz-live:
	@scripts/ensure-deps.sh $(DEPS_FUZZ_LIVE)

check-fuzz-live: $(ABIN)/mqtt-fuzz $(ABIN)/mqtt-broker $(ABIN)/mqtt-conform $(ATEST)/fz-fault-relay \
                 $(ATEST)/fz-mute-peer $(ABIN)/mqtt-pcap $(ABIN)/mqtt-sub $(ABIN)/mqtt-pub $(ATEST)/fz-fragile-client
	@scripts/run-suite.sh fuzz-live fuzz/live/tests/check_fuzz_live.sh $(ABIN)/mqtt-fuzz \
	    $(ABIN)/mqtt-broker $(ABIN)/mqtt-conform $(ATEST)/fz-fault-relay $(ATEST)/fz-mute-peer $(ABIN)/mqtt-pcap \
	    $(ABIN)/mqtt-sub $(ABIN)/mqtt-pub $(ATEST)/fz-fragile-client

fuzz-live: deps-fuzz-live $(BIN)/mqtt-fuzz $(BIN)/mqtt-conform
	@fuzz/live/fuzz-live.sh $(BIN)/mqtt-fuzz $(BIN)/mqtt-conform

fuzz-live-campaigns: deps-fuzz-live $(BIN)/mqtt-fuzz $(ABIN)/mqtt-broker
	@fuzz/live/campaigns.sh $(BIN)/mqtt-fuzz $(ABIN)/mqtt-broker $(FUZZ_LIVE_SECONDS)
