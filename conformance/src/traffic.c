/*
 * Traffic recording and its pcap (traffic.h).
 *
 * Invariants:
 * - Events are kept in the order they happened, across every connection of
 *   the run, each stamped with the wall clock (CLOCK_REALTIME, microseconds)
 *   when the engine saw it; the pcap lists them in that order.
 * - Payload bytes are stored exactly as send(2) accepted them and recv(2)
 *   returned them, one event per call; the TCP segmentation in the file is
 *   the writer's (at most 1460 bytes a segment), the byte stream is the real one.
 * - Once CONF_TRAFFIC_LIMIT payload bytes are stored nothing more is recorded
 *   (no later event at all, so the file never shows a stream with a hole in
 *   it): the capture simply ends early.
 */
#include "conformance/src/traffic.h"

#include "pcaps/src/pcap_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { TE_ESTABLISHED, TE_REFUSED, TE_DATA, TE_CLOSE } tev_kind;

typedef struct {
    uint8_t kind;       /* tev_kind */
    uint8_t side;       /* CONF_TR_CLIENT / CONF_TR_SERVER */
    bool rst;           /* TE_CLOSE */
    int stream;
    int64_t t_us;
    size_t off, len;    /* TE_DATA: bytes[off .. off+len) */
} tev;

typedef struct {
    int client;
    struct sockaddr_storage local, remote;
    int64_t syn_us;     /* when connect(2) was called */
    bool ended;         /* refused or closed: later events are ignored */
} tstream;

struct conf_traffic {
    tstream *st;
    size_t nst, stcap;
    tev *ev;
    size_t nev, evcap;
    uint8_t *bytes;
    size_t nbytes, bcap;
    size_t limit;
    bool truncated;
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int conf_pcap_mode_parse(const char *s, conf_pcap_mode *out)
{
    if (strcmp(s, "none") == 0) *out = CONF_PCAP_NONE;
    else if (strcmp(s, "failures") == 0) *out = CONF_PCAP_FAILURES;
    else if (strcmp(s, "all") == 0) *out = CONF_PCAP_ALL;
    else return -1;
    return 0;
}

conf_traffic *conf_traffic_new(size_t limit)
{
    conf_traffic *t = calloc(1, sizeof *t);
    if (t) t->limit = limit;
    return t;
}

void conf_traffic_free(conf_traffic *t)
{
    if (!t) return;
    free(t->st);
    free(t->ev);
    free(t->bytes);
    free(t);
}

bool conf_traffic_truncated(const conf_traffic *t)
{
    return t && t->truncated;
}

/* Appends an event; false (and nothing recorded from now on) if out of memory. */
static bool add_event(conf_traffic *t, tev e)
{
    if (t->truncated) return false;
    if (t->nev == t->evcap) {
        size_t nc = t->evcap ? t->evcap * 2 : 64;
        tev *ne = realloc(t->ev, nc * sizeof *ne);
        if (!ne) { t->truncated = true; return false; }
        t->ev = ne;
        t->evcap = nc;
    }
    e.t_us = wall_us();
    t->ev[t->nev++] = e;
    return true;
}

static tstream *live(conf_traffic *t, int stream)
{
    if (!t || stream < 0 || (size_t)stream >= t->nst || t->truncated) return NULL;
    tstream *s = &t->st[stream];
    return s->ended ? NULL : s;
}

int conf_traffic_open(conf_traffic *t, int client, int fd, const struct sockaddr *remote, socklen_t len)
{
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &ll) != 0) return -1;
    return conf_traffic_open_from(t, client, (struct sockaddr *)&local, remote, len);
}

int conf_traffic_open_from(conf_traffic *t, int client, const struct sockaddr *local, const struct sockaddr *remote,
                           socklen_t len)
{
    if (!t || t->truncated || len > sizeof(struct sockaddr_storage) || local->sa_family != remote->sa_family)
        return -1;
    if (t->nst == t->stcap) {
        size_t nc = t->stcap ? t->stcap * 2 : 8;
        tstream *ns = realloc(t->st, nc * sizeof *ns);
        if (!ns) return -1;
        t->st = ns;
        t->stcap = nc;
    }
    tstream *s = &t->st[t->nst];
    memset(s, 0, sizeof *s);
    s->client = client;
    memcpy(&s->remote, remote, len);
    memcpy(&s->local, local, len);
    s->syn_us = wall_us();
    return (int)t->nst++;
}

int conf_traffic_open_accepted(conf_traffic *t, int client, int fd)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0) return -1;
    int k = conf_traffic_open(t, client, fd, (const struct sockaddr *)&peer, pl);
    if (k < 0) return -1;
    /* the peer (the client under test) is the client side of the stream */
    struct sockaddr_storage tmp = t->st[k].local;
    t->st[k].local = t->st[k].remote;
    t->st[k].remote = tmp;
    return k;
}

void conf_traffic_established(conf_traffic *t, int stream)
{
    if (live(t, stream)) add_event(t, (tev){.kind = TE_ESTABLISHED, .stream = stream});
}

void conf_traffic_refused(conf_traffic *t, int stream)
{
    tstream *s = live(t, stream);
    if (!s) return;
    if (add_event(t, (tev){.kind = TE_REFUSED, .side = CONF_TR_SERVER, .stream = stream})) s->ended = true;
}

void conf_traffic_data(conf_traffic *t, int stream, int side, const void *data, size_t len)
{
    if (!live(t, stream) || len == 0) return;
    if (len > t->limit - t->nbytes || t->nbytes > t->limit) {
        t->truncated = true;
        return;
    }
    if (t->nbytes + len > t->bcap) {
        size_t nc = t->bcap ? t->bcap : 4096;
        while (nc < t->nbytes + len) nc *= 2;
        uint8_t *nb = realloc(t->bytes, nc);
        if (!nb) { t->truncated = true; return; }
        t->bytes = nb;
        t->bcap = nc;
    }
    if (!add_event(t, (tev){.kind = TE_DATA, .side = (uint8_t)side, .stream = stream, .off = t->nbytes, .len = len}))
        return;
    memcpy(t->bytes + t->nbytes, data, len);
    t->nbytes += len;
}

void conf_traffic_close(conf_traffic *t, int stream, int side, bool rst)
{
    tstream *s = live(t, stream);
    if (!s) return;
    if (add_event(t, (tev){.kind = TE_CLOSE, .side = (uint8_t)side, .rst = rst, .stream = stream})) s->ended = true;
}

void conf_traffic_filename(const char *id, const char *version, int rep, char *out, size_t cap)
{
    char raw[512];
    if (rep > 0) snprintf(raw, sizeof raw, "%s@%s-r%d", id, version, rep + 1);
    else snprintf(raw, sizeof raw, "%s@%s", id, version);
    size_t o = 0;
    for (const char *p = raw; *p && o + 6 < cap; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == '_' || c == '@';
        out[o++] = ok ? c : '_';
    }
    /* never a hidden file or a name of dots */
    if (o > 0 && out[0] == '.') out[0] = '_';
    snprintf(out + o, cap - o, ".pcap");
}

/* The SYN of a connection that never completed, answered by RST/ACK. */
static int write_refused(pcap_writer *w, const pcap_writer_conn *c, int64_t syn_us, int64_t t_us)
{
    int rc = pcap_writer_segment(w, c, PCAP_WRITER_CLIENT, 0x02 /* SYN */, c->seq[0], 0, NULL, 0, syn_us);
    rc |= pcap_writer_segment(w, c, PCAP_WRITER_SERVER, 0x14 /* RST|ACK */, 0, c->seq[0] + 1, NULL, 0, t_us);
    return rc;
}

int conf_traffic_write(const conf_traffic *t, const char *path, char *err, size_t errlen)
{
    pcap_writer_conn *conn = calloc(t->nst ? t->nst : 1, sizeof *conn);
    bool *ok = calloc(t->nst ? t->nst : 1, sizeof *ok);
    if (!conn || !ok) {
        free(conn);
        free(ok);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t i = 0; i < t->nst; i++)
        ok[i] = pcap_writer_conn_init(&conn[i], (const struct sockaddr *)&t->st[i].local,
                                      (const struct sockaddr *)&t->st[i].remote) == 0;
    pcap_writer *w = pcap_writer_open(path, PCAP_WRITER_ETHERNET, err, errlen);
    if (!w) {
        free(conn);
        free(ok);
        return -1;
    }
    int rc = 0;
    errno = 0;
    for (size_t i = 0; i < t->nev; i++) {
        const tev *e = &t->ev[i];
        if (!ok[e->stream]) continue;
        pcap_writer_conn *c = &conn[e->stream];
        switch ((tev_kind)e->kind) {
        case TE_ESTABLISHED:
            rc |= pcap_writer_handshake(w, c, e->t_us);
            break;
        case TE_REFUSED:
            rc |= write_refused(w, c, t->st[e->stream].syn_us, e->t_us);
            break;
        case TE_DATA:
            rc |= pcap_writer_send(w, c, e->side, t->bytes + e->off, e->len, e->t_us);
            break;
        case TE_CLOSE:
            if (!c->open) {
                /* closed while connecting: only the SYN went out (the kernel
                 * drops a connection in SYN-SENT without a word) */
                rc |= pcap_writer_segment(w, c, PCAP_WRITER_CLIENT, 0x02, c->seq[0], 0, NULL, 0,
                                          t->st[e->stream].syn_us);
                break;
            }
            rc |= e->rst ? pcap_writer_rst(w, c, e->side, e->t_us) : pcap_writer_fin(w, c, e->side, e->t_us);
            break;
        }
    }
    free(conn);
    free(ok);
    int cr = pcap_writer_close(w);
    if (rc || cr) {
        snprintf(err, errlen, "%s: write failed: %s", path, errno ? strerror(errno) : "I/O error");
        return -1;
    }
    return 0;
}
