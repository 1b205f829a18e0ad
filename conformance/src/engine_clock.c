/*
 * The engine's clock and wait: the machine's (net_now_ms, poll(2)), or the
 * transport's when the caller gave one (conf_engine_cfg.transport; the
 * in-process broker of inproc.c runs on a virtual clock). Every time the
 * engine's loop reads and every wait it makes goes through here.
 */
#include "conformance/src/engine_int.h"

#include "net/net.h"

#include <poll.h>

int64_t eng_now(const engine *e)
{
    const conf_transport *t = e->cfg->transport;
    return t ? t->now(t->ctx) : net_now_ms();
}

int eng_poll(const engine *e, struct pollfd *fds, size_t n, int timeout_ms)
{
    const conf_transport *t = e->cfg->transport;
    return t ? t->poll(t->ctx, fds, n, timeout_ms) : poll(fds, (nfds_t)n, timeout_ms);
}
