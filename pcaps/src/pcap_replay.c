/*
 * mqtt-pcap replay: plays the client side of a capture against a live broker
 * and compares the broker's answers with the recorded ones.
 *
 * The capture is read first (events collected, raw bytes copied); then one
 * TCP connection per captured MQTT connection that starts with a CONNECT is
 * opened when its CONNECT is due, client packets are sent in capture order
 * (at the recorded pace, or back to back with --fast), and each recorded
 * broker packet is awaited on its connection: the oldest received packet of
 * the same type is taken (packets of different types may interleave, as in
 * the scenario language) and compared with the recorded one as formatted by
 * the codec. Fields the broker chooses differ between runs and are mapped,
 * not compared: packet ids of the broker's PUBLISH/PUBREL (the client's
 * acknowledgements are re-encoded with the id the broker used) and the
 * Assigned Client Identifier. A recorded close by the broker must happen;
 * packets the broker sent that the recording lacks are reported at the end.
 * Broker answers are framed first and decoded once complete, and what waits
 * unmatched is bounded (pcap_rxq.h, PCAP_REPLAY_MAX_UNMATCHED): a broker that
 * sends more stops the replay with a message naming the connection.
 * Exit 0 when everything matched, 1 on differences (the bound above
 * included), 2 when the broker cannot be reached.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "pcaps/src/pcap_cli.h"
#include "pcaps/src/pcap_collect.h"
#include "pcaps/src/pcap_inproc.h"
#include "pcaps/src/pcap_rxq.h"

typedef struct {
    bool include;
    int fd;                  /* -1: not open */
    mqtt_version version;
    bool peer_closed;
    bool closed;             /* we closed it */
    pcap_rxq q;              /* received, framed, not yet matched (pcap_rxq.h) */
    uint16_t idmap[65536];   /* recorded broker packet id -> live one (0: unknown) */
} rconn;

typedef struct {
    const pcap_cli *cli;
    rconn **c;
    size_t nc;
    char host[256];
    uint16_t port;
    pcap_inproc *ip;         /* --inproc: the broker in this process, virtual time; NULL: TCP */
    uint64_t sent, compared, diffs, extra;
    size_t held;             /* what every connection's queue holds (PCAP_REPLAY_MAX_UNMATCHED) */
    bool full;               /* the bound was hit: the replay stops */
    mqtt_user_property props[1024];
    uint32_t subids[256];
    mqtt_subscription subs[4096];
    char *fa, *fb;
    size_t ca, cb;
} replay;

/* Replay needs the packets and the closes, in order. */
static void on_event(void *ctx, const pcap_event *ev)
{
    if (ev->kind == PCAP_EV_PACKET || ev->kind == PCAP_EV_CLOSE || ev->kind == PCAP_EV_BAD)
        pcap_collect_event(ctx, ev);
}

static mqtt_status decode(replay *r, mqtt_version v, int dir, const uint8_t *p, size_t n,
                          mqtt_packet *pkt, mqtt_error *err)
{
    mqtt_codec codec = {.version = v, .from = (mqtt_side)dir,
                        .user_properties = r->props, .user_properties_cap = 1024,
                        .subscription_identifiers = r->subids, .subscription_identifiers_cap = 256,
                        .subscriptions = r->subs, .subscriptions_cap = 4096};
    return mqtt_decode(&codec, p, n, pkt, err);
}

static void report(replay *r, unsigned conn, const char *fmt, const char *a, const char *b)
{
    if (r->cli->quiet)
        return;
    printf("c%u: ", conn);
    printf(fmt, a, b);
    putchar('\n');
}

/* The replay's clock: the machine's, or with --inproc the broker's virtual one. */
static int64_t now_ms(const replay *r)
{
    return r->ip ? pcap_inproc_now(r->ip) : net_now_ms();
}

/* Frames and queues what c's buffer holds: each packet is decoded once,
 * when complete (pcap_rxq). */
static void frame(replay *r, rconn *c, unsigned id)
{
    mqtt_codec codec = {.version = c->version, .from = MQTT_FROM_SERVER,
                        .user_properties = r->props, .user_properties_cap = 1024,
                        .subscription_identifiers = r->subids, .subscription_identifiers_cap = 256,
                        .subscriptions = r->subs, .subscriptions_cap = 4096};
    for (;;) {
        mqtt_error err;
        pcap_rxq_status st = pcap_rxq_next(&c->q, &codec, &r->held, PCAP_REPLAY_MAX_UNMATCHED, &err);
        if (st == PCAP_RXQ_PACKET)
            continue;
        if (st == PCAP_RXQ_BAD || st == PCAP_RXQ_BROKEN) {
            char e[300];
            mqtt_format_error(&err, e, sizeof e);
            r->diffs++;
            report(r, id, "the broker sent bytes that do not decode: %s%s", e, "");
            if (st == PCAP_RXQ_BAD)
                continue;
        }
        if (st == PCAP_RXQ_FULL || st == PCAP_RXQ_NOMEM) {
            /* A broker sending what the capture does not await cannot make
             * the tool grow without bound: stop with what was exceeded. */
            fprintf(stderr, "mqtt-pcap replay: c%u: %s: the broker sent more packets than the capture awaits "
                            "(%zu bytes unmatched, over all connections; the bound is %zu MiB); stopping\n",
                    id, st == PCAP_RXQ_FULL ? "bound on unmatched broker packets reached" : "out of memory",
                    r->held, PCAP_REPLAY_MAX_UNMATCHED >> 20);
            r->diffs++;
            r->full = true;
        }
        return;
    }
}

/* Reads what the broker sent on c (waiting at most timeout_ms for the first
 * byte) and frames it into c's queue. */
static void pump(replay *r, rconn *c, unsigned id, int timeout_ms)
{
    if (c->fd < 0 || c->peer_closed || r->full)
        return;
    uint8_t tmp[65536];
    ssize_t n = r->ip ? pcap_inproc_recv(r->ip, c->fd, tmp, sizeof tmp, timeout_ms)
                      : net_recv_some(c->fd, tmp, sizeof tmp, timeout_ms);
    if (n == NET_TIMEOUT)
        return;
    if (n <= 0) {
        c->peer_closed = true;
        return;
    }
    if (!pcap_rxq_append(&c->q, tmp, (size_t)n)) {
        fprintf(stderr, "mqtt-pcap replay: c%u: out of memory buffering the broker's packets; stopping\n", id);
        r->diffs++;
        r->full = true;
        return;
    }
    frame(r, c, id);
}

/* Takes the oldest received packet of `type`; waits for it until the deadline. */
static bool take(replay *r, rconn *c, unsigned id, mqtt_packet_type type, int64_t deadline,
                 uint8_t **raw, size_t *len)
{
    for (;;) {
        pcap_rx rx;
        if (pcap_rxq_take(&c->q, type, &r->held, &rx)) {
            *raw = rx.raw;
            *len = rx.len;
            return true;
        }
        int64_t left = deadline - now_ms(r);
        if (left <= 0 || c->peer_closed || c->fd < 0 || r->full)
            return false;
        pump(r, c, id, (int)left);
    }
}

static const char *line(replay *r, mqtt_version v, const mqtt_packet *pkt, bool first)
{
    return first ? pcap_format_line(pkt, v, &r->fa, &r->ca)
                 : pcap_format_line(pkt, v, &r->fb, &r->cb);
}

/* Compares a recorded broker packet with the live one, mapping broker-chosen fields. */
static void compare(replay *r, rconn *c, unsigned id, const pcap_item *it, uint8_t *raw, size_t len)
{
    mqtt_packet want, got;
    r->compared++;
    if (decode(r, it->version, MQTT_FROM_SERVER, it->raw, it->len, &want, NULL) != MQTT_OK)
        return;
    /* The recorded packet's views must survive decoding the live one: decode
     * it last into separate storage by formatting it first. */
    const char *w = line(r, it->version, &want, true);
    uint16_t recorded_id = 0;
    if (want.type == MQTT_PUBLISH && want.publish.qos)
        recorded_id = want.publish.packet_id;
    if (want.type == MQTT_PUBREL)
        recorded_id = want.ack.packet_id;
    if (decode(r, c->version, MQTT_FROM_SERVER, raw, len, &got, NULL) != MQTT_OK)
        return;
    if (recorded_id) {
        uint16_t live = got.type == MQTT_PUBLISH ? got.publish.packet_id : got.ack.packet_id;
        if (got.type == MQTT_PUBLISH) {
            c->idmap[recorded_id] = live;
            got.publish.packet_id = recorded_id;
        } else if (c->idmap[recorded_id] == live) {
            got.ack.packet_id = recorded_id;
        }
    }
    if (got.type == MQTT_CONNACK && c->version == MQTT_V5) {
        mqtt_properties *p = &got.connack.properties;
        const mqtt_properties *q = &want.connack.properties;
        if (MQTT_HAS_PROP(p, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER) &&
            MQTT_HAS_PROP(q, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER))
            p->assigned_client_identifier = q->assigned_client_identifier;
    }
    const char *g = line(r, c->version, &got, false);
    if (strcmp(w, g) != 0) {
        r->diffs++;
        report(r, id, "S>C differs:\n    recorded: %s\n    live:     %s", w, g);
    } else if (!r->cli->quiet && r->cli->json) {
        /* nothing: JSON output is not offered for replay */
    }
}

static uint8_t *rewrite_ack(replay *r, rconn *c, const pcap_item *it, size_t *len)
{
    mqtt_packet pkt;
    if (decode(r, it->version, MQTT_FROM_CLIENT, it->raw, it->len, &pkt, NULL) != MQTT_OK)
        return NULL;
    bool answers_broker = pkt.type == MQTT_PUBACK || pkt.type == MQTT_PUBREC ||
                          pkt.type == MQTT_PUBCOMP;
    if (!answers_broker || !c->idmap[pkt.ack.packet_id] ||
        c->idmap[pkt.ack.packet_id] == pkt.ack.packet_id)
        return NULL;
    pkt.ack.packet_id = c->idmap[pkt.ack.packet_id];
    mqtt_codec codec = {.version = it->version, .from = MQTT_FROM_CLIENT};
    size_t need;
    if (mqtt_encoded_size(&codec, &pkt, &need, NULL) != MQTT_OK)
        return NULL;
    uint8_t *out = malloc(need);
    if (out && mqtt_encode(&codec, &pkt, out, need, len, NULL) != MQTT_OK) {
        free(out);
        return NULL;
    }
    return out;
}

static void pace(const replay *r, int64_t rec_ns, int64_t rec0, int64_t start_ms)
{
    if (r->cli->fast)
        return;
    int64_t due = start_ms + (rec_ns - rec0) / 1000000;
    if (r->ip) {
        pcap_inproc_sleep_until(r->ip, due); /* virtual time: no real wait */
        return;
    }
    int64_t now = net_now_ms();
    if (due > now) {
        struct timespec ts = {(time_t)((due - now) / 1000), (long)((due - now) % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Whatever the broker sent that the recording did not have. */
static void report_extra(replay *r)
{
    for (size_t k = 0; k < r->nc; k++) {
        rconn *c = r->c[k];
        if (!c)
            continue;
        if (c->fd >= 0)
            pump(r, c, (unsigned)k, 50);
        for (pcap_rx rx; pcap_rxq_take_oldest(&c->q, &r->held, &rx); free(rx.raw)) {
            mqtt_packet pkt;
            r->extra++;
            r->diffs++;
            if (decode(r, c->version, MQTT_FROM_SERVER, rx.raw, rx.len, &pkt, NULL) == MQTT_OK)
                report(r, (unsigned)k, "S>C extra: %s (not in the recording)%s",
                       line(r, c->version, &pkt, true), "");
        }
    }
}

/* The connection of a captured one, opened when its CONNECT is due (once:
 * one TCP connection per captured connection). 0, or 2 after a message. */
static int open_conn(replay *r, rconn *c)
{
    char err[300];
    if (r->ip && (c->fd = pcap_inproc_connect(r->ip, "replay")) < 0)
        snprintf(err, sizeof err, "in-process connect: %s", strerror(errno));
    if (!r->ip)
        c->fd = net_connect(r->host, r->port, r->cli->timeout_ms, err, sizeof err);
    if (c->fd < 0) {
        fprintf(stderr, "mqtt-pcap replay: %s\n", err);
        return 2;
    }
    c->closed = true;
    return 0;
}

static int run(replay *r, pcap_item *items, size_t n)
{
    /* Which connections have a CONNECT (only those can be replayed). */
    for (size_t i = 0; i < n; i++) {
        pcap_item *it = &items[i];
        if (it->kind == PCAP_EV_PACKET && it->dir == MQTT_FROM_CLIENT && it->len &&
            (it->raw[0] >> 4) == MQTT_CONNECT && !r->c[it->conn]) {
            r->c[it->conn] = calloc(1, sizeof(rconn));
            if (!r->c[it->conn])
                return 2;
            r->c[it->conn]->fd = -1;
            r->c[it->conn]->include = true;
            r->c[it->conn]->version = it->version;
        }
    }
    int64_t rec0 = n ? items[0].ns : 0, start = now_ms(r);
    for (size_t i = 0; i < n && !r->full; i++) {
        pcap_item *it = &items[i];
        rconn *c = r->c[it->conn];
        if (!c)
            continue;
        if (it->kind == PCAP_EV_CLOSE) {
            if (it->closer == MQTT_FROM_SERVER && c->fd >= 0) {
                int64_t deadline = now_ms(r) + r->cli->timeout_ms;
                while (!c->peer_closed && now_ms(r) < deadline)
                    pump(r, c, it->conn, (int)(deadline - now_ms(r)));
                if (!c->peer_closed) {
                    r->diffs++;
                    report(r, it->conn, "the broker closed the connection in the recording, "
                                        "but kept it open %s%s", "past the timeout", "");
                }
            } else if (it->closer == MQTT_FROM_CLIENT) {
                pace(r, it->ns, rec0, start);
            }
            /* Collect what came before closing our side, then close. */
            if (c->fd >= 0) {
                pump(r, c, it->conn, 50);
                close(c->fd);
                c->fd = -1;
            }
            continue;
        }
        if (it->dir == MQTT_FROM_CLIENT) {
            pace(r, it->ns, rec0, start);
            if (c->fd < 0 && c->closed)
                continue;
            if (c->fd < 0 && open_conn(r, c) != 0)
                return 2;
            size_t len = it->len;
            uint8_t *re = it->kind == PCAP_EV_PACKET ? rewrite_ack(r, c, it, &len) : NULL;
            ssize_t s = r->ip ? pcap_inproc_send(r->ip, c->fd, re ? re : it->raw, re ? len : it->len)
                              : net_send_all(c->fd, re ? re : it->raw, re ? len : it->len, r->cli->timeout_ms);
            free(re);
            if (s < 0) {
                r->diffs++;
                report(r, it->conn, "sending failed (%s): the broker closed the connection%s",
                       s == NET_TIMEOUT ? "timeout" : strerror(errno), "");
                close(c->fd);
                c->fd = -1;
                continue;
            }
            r->sent++;
            continue;
        }
        if (it->kind != PCAP_EV_PACKET)
            continue;
        uint8_t *raw;
        size_t len;
        mqtt_packet_type type = (mqtt_packet_type)(it->raw[0] >> 4);
        if (take(r, c, it->conn, type, now_ms(r) + r->cli->timeout_ms, &raw, &len)) {
            compare(r, c, it->conn, it, raw, len);
            free(raw);
        } else {
            mqtt_packet want;
            r->compared++;
            r->diffs++;
            if (decode(r, it->version, MQTT_FROM_SERVER, it->raw, it->len, &want, NULL) == MQTT_OK)
                report(r, it->conn, "S>C missing: recorded %s, got nothing within the timeout%s",
                       line(r, it->version, &want, true), "");
        }
    }
    if (!r->full)
        report_extra(r);
    return 0;
}

int pcap_cmd_replay(const pcap_cli *cli)
{
    replay r = {.cli = cli, .port = 1883};
    char err[512];
    if (cli->inproc && !(r.ip = pcap_inproc_new(err, sizeof err))) {
        fprintf(stderr, "mqtt-pcap replay: in-process broker: %s\n", err);
        return 2;
    }
    if (!cli->inproc && net_parse_hostport(cli->broker, r.host, sizeof r.host, &r.port) != 0) {
        fprintf(stderr, "mqtt-pcap replay: bad --broker '%s' (want HOST:PORT)\n", cli->broker);
        return 2;
    }
    pcap_collection cc = {.cli = cli};
    int rc = pcap_cli_run(cli, on_event, &cc, NULL);
    if (rc == 2)
        return 2;
    if (cc.over) {
        fprintf(stderr, "mqtt-pcap replay: %s: the capture holds more than %zu MiB of packets to replay "
                        "(PCAP_COLLECT_MAX_BYTES, what replay keeps in memory); split it (e.g. with --conn N)\n",
                cli->file, PCAP_COLLECT_MAX_BYTES >> 20);
        pcap_collection_free(&cc);
        pcap_inproc_free(r.ip);
        return 1;
    }
    unsigned maxid = 0;
    for (size_t i = 0; i < cc.n; i++)
        if (cc.items[i].conn > maxid)
            maxid = cc.items[i].conn;
    r.nc = (size_t)maxid + 1;
    r.c = calloc(r.nc, sizeof *r.c);
    int st = r.c ? run(&r, cc.items, cc.n) : 2;
    size_t conns = 0;
    for (size_t k = 0; k < r.nc; k++) {
        if (!r.c || !r.c[k])
            continue;
        conns++;
        if (r.c[k]->fd >= 0)
            close(r.c[k]->fd);
        pcap_rxq_free(&r.c[k]->q, &r.held);
        free(r.c[k]);
    }
    free(r.c);
    pcap_inproc_free(r.ip);
    pcap_collection_free(&cc);
    free(r.fa);
    free(r.fb);
    if (st == 2)
        return 2;
    if (conns == 0) {
        fprintf(stderr, "mqtt-pcap replay: %s: no connection starts with a CONNECT in this "
                        "capture: nothing to replay\n", cli->file);
        return 1;
    }
    printf("%s: replayed %zu connection%s against %s: %llu packets sent, %llu broker packets "
           "compared, %llu difference%s\n",
           cli->file, conns, conns == 1 ? "" : "s",
           cli->inproc ? "the reference broker in-process (virtual clock)" : cli->broker, (unsigned long long)r.sent,
           (unsigned long long)r.compared, (unsigned long long)r.diffs, r.diffs == 1 ? "" : "s");
    fflush(stdout);
    return (rc || r.diffs || cc.oom) ? 1 : 0;
}
