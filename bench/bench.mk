# bench: mqtt-bench, the MQTT load generator (issue 17), its tests and the
# project's broker figures (`make bench-mqtt`, part of `make bench`).

BENCH_SRCS := $(filter-out bench/src/mqtt_bench.c,$(wildcard bench/src/*.c))
BENCH_NET  := $(NET_SRCS) $(NET_TLS_SRCS)

$(BIN)/mqtt-bench: $(call objs,release,bench/src/mqtt_bench.c $(BENCH_SRCS) $(BENCH_NET)) $(LIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(NET_TLS_LIBS) -lpthread -lm

$(ABIN)/mqtt-bench: $(call objs,asan,bench/src/mqtt_bench.c $(BENCH_SRCS) $(BENCH_NET)) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(NET_TLS_LIBS) -lpthread -lm

ALL_TARGETS += $(BIN)/mqtt-bench $(ABIN)/mqtt-bench

.PHONY: mqtt-bench
mqtt-bench: $(BIN)/mqtt-bench $(ABIN)/mqtt-bench
