# net: the shared TCP transport (net/net.h), linked into the runner, tools and bench.
NET_SRCS := net/net.c
# TLS on top of it (net/tls.h, OpenSSL): link with -lssl -lcrypto.
NET_TLS_SRCS := net/tls.c
NET_TLS_LIBS := -lssl -lcrypto
DEPS_BUILD += libssl-dev
