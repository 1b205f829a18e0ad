# net: the shared TCP transport (net/net.h), linked into the runner, tools and bench.
NET_SRCS := net/net.c
