# net: the shared TCP transport (net/net.h), linked into the runner, tools and bench.
NET_SRCS := net/net.c
# TLS on top of it (net/tls.h, OpenSSL): link with -lssl -lcrypto.
NET_TLS_SRCS := net/tls.c
NET_TLS_LIBS := -lssl -lcrypto
DEPS_BUILD += libssl-dev
# WebSockets over either (net/ws.h; framing by libwslay, the key's SHA-1 by
# libcrypto) and broker URLs (net/url.h): link with $(NET_WS_LIBS).
NET_WS_SRCS := net/ws.c net/ws_http.c net/ws_io.c net/url.c
NET_WS_LIBS := -lwslay -lcrypto
DEPS_BUILD += libwslay-dev

NET_TEST_SRCS := $(wildcard net/tests/test_*.c)

$(ATEST)/test-net: $(call objs,test,$(NET_TEST_SRCS)) $(call objs,asan,$(NET_SRCS) $(NET_TLS_SRCS) $(NET_WS_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^ -lcriterion $(NET_WS_LIBS) $(NET_TLS_LIBS)

CHECK_SUITES += check-net
.PHONY: check-net

# The WebSocket layer: upgrade both sides, framing (split packets, many
# packets per frame, text frame, ping inside a packet, oversize lengths),
# URLs; Criterion under ASan + UBSan.
check-net: $(ATEST)/test-net
	@scripts/run-suite.sh net $(ATEST)/test-net --jobs 2

# Fuzz harness `ws` (fuzz/fuzz_ws.c, built by fuzz/fuzz.mk's pattern rule):
# the upgrade parsers and the framing; seeds in fuzz/seeds/ws/.
$(BUILD)/fuzz/fuzz_ws: $(call objs,fuzz,net/ws.c net/ws_http.c)
$(BUILD)/fuzz/fuzz_ws: FUZZ_LDFLAGS += $(NET_WS_LIBS)
