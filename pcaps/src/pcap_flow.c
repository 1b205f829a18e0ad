/*
 * pcap_flow: connections, directions, MQTT framing and resynchronisation.
 *
 * Invariants:
 * - A connection's client side is the SYN sender, else the side talking to
 *   an MQTT port, else the side whose first bytes are a CONNECT. Without one
 *   of those the connection is ignored.
 * - Per direction, h->pos is the stream offset of the first byte not yet
 *   consumed; every stream byte is consumed exactly once: as part of a
 *   packet, of rejected bytes, of a resynchronisation skip, or of a gap.
 * - Packets are decoded only by libmqttcodec (mqtt_decode). When the codec
 *   rejects a packet whose fixed header is intact we skip that frame and
 *   stay in sync; otherwise (or after a gap, or at a mid-stream start) we
 *   resynchronise: the next packet boundary is the first offset where a
 *   packet decodes and is followed by another that decodes (or, for the
 *   first bytes of a segment-aligned buffer, where packets decode exactly up
 *   to its end). Every skip is reported with its size.
 * - Framing first: once the fixed header of an incomplete packet is known
 *   (h->need), it is not decoded again before all its bytes are buffered,
 *   so a packet spread over k segments costs O(size), not O(size * k).
 * - Connections stay in the table after they close (so the last ACKs do not
 *   open a phantom connection); a new SYN on the same ports starts afresh.
 */
#include "pcaps/src/pcap_flow.h"
#include "pcaps/src/pcap_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcaps/src/pcap_link.h"
#include "pcaps/src/pcap_tcp.h"

#define MAX_PACKET_BUFFER (64u << 20) /* larger claimed packets are not buffered */
#define PROBE_LIMIT (1u << 20)        /* a CONNECT longer than this is not looked for */
#define RESYNC_MAX_CANDIDATE (64u << 10) /* longest packet resynchronised on */
#define MAX_TOTAL_BUFFER (256u << 20) /* all connections' unfinished packets together */

enum { ST_PROBE, ST_MQTT, ST_IGNORED, ST_CLOSED };

typedef struct {
    pcap_tcp_half tcp;
    pcap_ws *ws;             /* WebSocket unwrapping, once an upgrade was seen (pcap_ws.h) */
    uint8_t *buf;
    size_t len, cap;
    uint64_t pos;            /* stream offset of the first unconsumed byte */
    uint64_t skip;           /* bytes still to drop: the rest of a rejected frame */
    size_t need;             /* size of the incomplete packet at buf[0], once its fixed header
                                is known (0: not known): not decoded again until it is whole */
    bool resync;
    const char *resync_why;
    uint64_t resync_skipped; /* bytes skipped so far in this resynchronisation */
    uint64_t resync_from;    /* stream offset where it started */
    bool fin;
} half;

typedef struct conn {
    pcap_conn_info info;
    int state;
    int fin_first;           /* side whose FIN came first, -1 if none */
    half h[2];
    struct conn *next;       /* hash chain */
    size_t order;            /* index in flow.all */
    uint8_t key[36];         /* (addr, port) of both ends, lower end first */
} conn;

typedef struct {
    const pcap_flow_options *opt;
    pcap_event_fn fn;
    void *ctx;
    conn **buckets;
    size_t nbuckets;
    conn **all;
    size_t nall, capall;
    conn *last;              /* the connection of the previous segment */
    size_t buffered;         /* bytes allocated for all halves' buffers (max_buffered) */
    unsigned next_id;
    int64_t ts_sec;
    uint32_t ts_nsec;
    pcap_flow_summary sum;
    mqtt_user_property props[1024];
    uint32_t subids[256];
    mqtt_subscription subs[4096];
} flow;

typedef struct {
    flow *f;
    conn *c;
    int dir;
} sink_ctx;

const char *pcap_dir_name(mqtt_side from)
{
    return from == MQTT_FROM_CLIENT ? "C>S" : "S>C";
}

/* ---------- events ---------- */

static void emit(flow *f, conn *c, pcap_ev_kind kind, int dir, pcap_event *ev)
{
    ev->kind = kind;
    ev->conn = &c->info;
    ev->from = (mqtt_side)dir;
    ev->ts_sec = f->ts_sec;
    ev->ts_nsec = f->ts_nsec;
    ev->origin_sec = f->sum.first_sec;
    ev->origin_nsec = f->sum.first_nsec;
    f->fn(f->ctx, ev);
}

static void emit_note(flow *f, conn *c, int dir, const char *note, uint64_t bytes)
{
    pcap_event ev = {.note = note, .bytes = bytes, .stream_offset = c->h[dir].pos};
    emit(f, c, PCAP_EV_NOTE, dir, &ev);
}

/* ---------- decoding ---------- */

static mqtt_status decode_v(flow *f, int dir, mqtt_version v, const uint8_t *p, size_t n,
                            mqtt_packet *pkt, mqtt_error *err)
{
    mqtt_codec codec = {.version = v, .from = (mqtt_side)dir,
                        .user_properties = f->props, .user_properties_cap = 1024,
                        .subscription_identifiers = f->subids, .subscription_identifiers_cap = 256,
                        .subscriptions = f->subs, .subscriptions_cap = 4096};
    return mqtt_decode(&codec, p, n, pkt, err);
}

/* How many packets in a row decode from p under version v (at most 16);
 * *need_more is set when the first one is incomplete. */
static int run_length(flow *f, int dir, mqtt_version v, const uint8_t *p, size_t n,
                      bool *need_more, size_t *end)
{
    mqtt_packet pkt;
    size_t off = 0;
    int count = 0;
    *need_more = false;
    while (count < 16 && off < n) {
        mqtt_status st = decode_v(f, dir, v, p + off, n - off, &pkt, NULL);
        if (st == MQTT_NEED_MORE) {
            if (count == 0)
                *need_more = true;
            break;
        }
        if (st != MQTT_OK || pkt.type == MQTT_CONNECT)
            break;
        off += pkt.length;
        count++;
    }
    if (end)
        *end = off;
    return count;
}

/* A version for a connection whose CONNECT we did not see: the one under
 * which more of the following packets decode; 5.0 on a tie, since a 3.1.1
 * PUBLISH rarely fits 5.0 by chance while the converse is common.
 * Returns the version, MQTT_VERSION_UNKNOWN if none fits, or -1 if the
 * bytes are too few to tell. */
static int guess_version(flow *f, int dir, const uint8_t *p, size_t n)
{
    bool more5, more4;
    int n5 = run_length(f, dir, MQTT_V5, p, n, &more5, NULL);
    int n4 = run_length(f, dir, MQTT_V311, p, n, &more4, NULL);
    if (n5 == 0 && n4 == 0)
        return (more5 || more4) ? -1 : MQTT_VERSION_UNKNOWN;
    return n5 >= n4 ? MQTT_V5 : MQTT_V311;
}

static void set_guess(flow *f, conn *c, int dir, mqtt_version v, const char *why)
{
    char note[160];
    c->info.version = v;
    c->info.version_guessed = true;
    snprintf(note, sizeof note, "%s: decoding as MQTT %s", why, mqtt_version_name(v));
    emit_note(f, c, dir, note, 0);
}

/* Decodes the packet at p with the connection's version, learning or
 * guessing the version when it is not known yet. */
static mqtt_status decode_one(flow *f, conn *c, int dir, const uint8_t *p, size_t n,
                              mqtt_packet *pkt, mqtt_error *err, mqtt_version *used)
{
    mqtt_version v = c->info.version;
    *used = v;
    mqtt_status st = decode_v(f, dir, v, p, n, pkt, err);
    if (st == MQTT_OK || st == MQTT_NEED_MORE)
        return st;
    if (v == MQTT_VERSION_UNKNOWN) {
        /* Not a CONNECT and no version yet. A fresh connection's client must
         * start with CONNECT: say so (the codec's error) before guessing. */
        if (dir == MQTT_FROM_CLIENT && !c->info.midstream && c->h[dir].pos == 0)
            return st;
        int g = guess_version(f, dir, p, n);
        if (g < 0) {
            pkt->length = 0; /* no packet size known yet: decode again on every byte */
            return MQTT_NEED_MORE;
        }
        if (g == MQTT_VERSION_UNKNOWN)
            return st;
        set_guess(f, c, dir, (mqtt_version)g, "no CONNECT seen");
        *used = (mqtt_version)g;
        return decode_v(f, dir, (mqtt_version)g, p, n, pkt, err);
    }
    if (c->info.version_guessed) {
        /* The guess may have been wrong: try the other version. */
        mqtt_version other = v == MQTT_V5 ? MQTT_V311 : MQTT_V5;
        mqtt_error e2;
        mqtt_status st2 = decode_v(f, dir, other, p, n, pkt, &e2);
        if (st2 == MQTT_OK) {
            set_guess(f, c, dir, other, "packets do not fit the guessed version");
            *used = other;
            return st2;
        }
        st = decode_v(f, dir, v, p, n, pkt, err); /* restore the first error */
    }
    return st;
}

/* Size of the frame starting at p (fixed header + remaining length), or 0
 * if the fixed header itself is broken or incomplete: the codec's peek at
 * the fixed header, whatever the rest of the packet breaks. Framing only, so
 * without a version: a longer-than-needed length still tells the size. */
static size_t frame_length(const uint8_t *p, size_t n)
{
    mqtt_header h;
    if (mqtt_peek_header(MQTT_VERSION_UNKNOWN, p, n, &h, NULL) != MQTT_OK)
        return 0;
    return h.length;
}

/* Finds a plausible packet boundary in p[0..n). Returns true and *at, or
 * false and *resume: no offset before *resume can ever be a boundary (its
 * decode failed for good), so the caller drops those bytes and scans only
 * from there when more come; that keeps resynchronisation linear. */
static bool find_boundary(flow *f, conn *c, int dir, const uint8_t *p, size_t n, bool at_end,
                          bool aligned, size_t *at, size_t *resume)
{
    mqtt_version vs[2] = {c->info.version, MQTT_VERSION_UNKNOWN};
    int nv = 1;
    if (c->info.version == MQTT_VERSION_UNKNOWN || c->info.version_guessed) {
        vs[0] = c->info.version == MQTT_V311 ? MQTT_V311 : MQTT_V5;
        vs[1] = vs[0] == MQTT_V5 ? MQTT_V311 : MQTT_V5;
        nv = 2;
    }
    mqtt_packet pkt;
    *resume = n;
    for (size_t i = 0; i < n; i++) {
        bool undecided = false;
        for (int k = 0; k < nv; k++) {
            mqtt_status st = decode_v(f, dir, vs[k], p + i, n - i, &pkt, NULL);
            if (st == MQTT_NEED_MORE) {
                /* Could become a boundary when more bytes come, if not absurdly long. */
                if (pkt.length <= RESYNC_MAX_CANDIDATE)
                    undecided = true;
                continue;
            }
            if (st != MQTT_OK || pkt.length > RESYNC_MAX_CANDIDATE)
                continue;
            size_t next = i + pkt.length;
            bool confirmed = false;
            if (next < n) {
                mqtt_packet p2;
                mqtt_status s2 = decode_v(f, dir, vs[k], p + next, n - next, &p2, NULL);
                confirmed = s2 == MQTT_OK || (s2 == MQTT_NEED_MORE && p2.length > 0 &&
                                              p2.length <= RESYNC_MAX_CANDIDATE);
                undecided |= !confirmed && s2 == MQTT_NEED_MORE;
            } else {
                confirmed = at_end || (aligned && i == 0);
                undecided |= !confirmed;
            }
            if (confirmed) {
                if (vs[k] != c->info.version)
                    set_guess(f, c, dir, vs[k], c->info.version == MQTT_VERSION_UNKNOWN
                                                    ? "no CONNECT seen"
                                                    : "packets do not fit the guessed version");
                *at = i;
                return true;
            }
        }
        if (undecided && *resume == n)
            *resume = i;
    }
    return false;
}

/* ---------- the MQTT layer of one direction ---------- */

/* A client's CONNECT sets the stream's version: an accepted one, and a
 * rejected one whose level the codec read (it breaks a rule later on, the
 * client still speaks that version: its next packets decode under it). An
 * unsupported level (MQTT-3.1.2-2) or a CONNECT cut before its level teaches
 * nothing. */
static void learn_version(conn *c, int dir, const mqtt_packet *pkt, mqtt_status st)
{
    if (dir != MQTT_FROM_CLIENT || pkt->type != MQTT_CONNECT)
        return;
    mqtt_version v = (mqtt_version)pkt->connect.protocol_level;
    if (st != MQTT_OK && (st == MQTT_ERR_UNSUPPORTED_VERSION ||
                          (v != MQTT_V31 && v != MQTT_V311 && v != MQTT_V5)))
        return;
    c->info.version = v;
    c->info.version_guessed = false;
}

/* Consumes what it can of p[0..n) (the stream at h->pos). at_end: no more
 * bytes will come. aligned: p starts at a segment boundary with nothing
 * buffered before it. Returns the bytes consumed. */
static size_t consume(flow *f, conn *c, int dir, const uint8_t *p, size_t n, bool at_end,
                      bool aligned)
{
    half *h = &c->h[dir];
    size_t off = 0;
    h->need = 0;
    while (off < n) {
        if (h->skip) {
            size_t k = h->skip < n - off ? (size_t)h->skip : n - off;
            h->skip -= k;
            off += k;
            h->pos += k;
            continue;
        }
        if (h->resync) {
            size_t at = 0, resume = 0;
            if (find_boundary(f, c, dir, p + off, n - off, at_end, aligned && off == 0, &at,
                              &resume)) {
                h->resync_skipped += at;
                pcap_event ev = {.bytes = h->resync_skipped, .note = h->resync_why,
                                 .stream_offset = h->resync_from};
                emit(f, c, PCAP_EV_RESYNC, dir, &ev);
                h->resync = false;
                h->resync_skipped = 0;
                off += at;
                h->pos += at;
                continue;
            }
            if (at_end) {
                h->resync_skipped += n - off;
                pcap_event ev = {.bytes = h->resync_skipped, .stream_offset = h->resync_from,
                                 .note = "no packet boundary found before the stream ended"};
                emit(f, c, PCAP_EV_RESYNC, dir, &ev);
                h->pos += n - off;
                h->resync = false;
                h->resync_skipped = 0;
                return n;
            }
            /* Bytes before `resume` can never start a packet: drop them now. */
            h->resync_skipped += resume;
            off += resume;
            h->pos += resume;
            return off;
        }
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_version used;
        mqtt_status st = decode_one(f, c, dir, p + off, n - off, &pkt, &err, &used);
        if (st == MQTT_OK) {
            learn_version(c, dir, &pkt, st);
            if (pkt.type == MQTT_CONNECT)
                used = (mqtt_version)pkt.connect.protocol_level;
            c->info.packets[dir]++;
            pcap_event ev = {.pkt = &pkt, .version = used, .raw = p + off,
                             .raw_len = pkt.length, .stream_offset = h->pos};
            emit(f, c, PCAP_EV_PACKET, dir, &ev);
            off += pkt.length;
            h->pos += pkt.length;
            continue;
        }
        if (st == MQTT_NEED_MORE) {
            if (pkt.length > MAX_PACKET_BUFFER) {
                mqtt_error e = {.status = MQTT_ERR_LIMIT, .rule = "LIMIT-pcap-packet-size",
                                .version = used, .reason_code = 0x95,
                                .message = "packet larger than mqtt-pcap buffers (64 MiB): skipped"};
                pcap_event ev = {.raw = p + off, .raw_len = n - off, .err = &e,
                                 .version = used, .stream_offset = h->pos};
                emit(f, c, PCAP_EV_BAD, dir, &ev);
                h->skip = pkt.length;
                continue;
            }
            if (at_end) {
                char note[160];
                if (pkt.length)
                    snprintf(note, sizeof note,
                             "stream ended %zu bytes into a packet of %zu bytes", n - off,
                             pkt.length);
                else
                    snprintf(note, sizeof note, "stream ended inside a fixed header (%zu bytes)",
                             n - off);
                emit_note(f, c, dir, note, n - off);
                h->pos += n - off;
                return n;
            }
            h->need = pkt.length; /* what is left starts the buffer */
            return off;
        }
        /* Rejected by the codec. */
        learn_version(c, dir, &pkt, st);
        size_t flen = frame_length(p + off, n - off);
        size_t shown = flen && flen < n - off ? flen : n - off;
        pcap_event ev = {.raw = p + off, .raw_len = shown, .err = &err, .version = used,
                         .stream_offset = h->pos};
        emit(f, c, PCAP_EV_BAD, dir, &ev);
        if (flen) {
            size_t k = flen < n - off ? flen : n - off;
            h->skip = flen - k;
            off += k;
            h->pos += k;
        } else {
            h->resync = true;
            h->resync_why = "after bytes that do not frame as MQTT";
            h->resync_from = h->pos;
            h->resync_skipped = 1;
            off += 1;
            h->pos += 1;
        }
    }
    return off;
}

/* Buffers n more bytes of one direction. The buffers of all connections
 * together stay under max_buffered: bytes that would pass it are dropped
 * (the stream resynchronises) with a note saying why, as for lack of memory. */
static void append(flow *f, conn *c, int dir, const uint8_t *p, size_t n)
{
    half *h = &c->h[dir];
    if (h->len + n > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->len + n)
            cap *= 2;
        size_t limit = f->opt->max_buffered ? f->opt->max_buffered : MAX_TOTAL_BUFFER;
        uint8_t *nb = f->buffered - h->cap + cap <= limit ? realloc(h->buf, cap) : NULL;
        if (!nb) {
            emit_note(f, c, dir, f->buffered - h->cap + cap > limit
                                     ? "bytes dropped: unfinished packets of all connections would exceed the "
                                       "buffer bound (max_buffered)"
                                     : "bytes dropped for lack of memory", h->len + n);
            h->pos += h->len + n;
            h->len = 0;
            h->need = 0;
            h->resync = true;
            h->resync_why = "after bytes dropped (buffer bound or memory)";
            return;
        }
        f->buffered = f->buffered - h->cap + cap;
        h->buf = nb;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, p, n);
    h->len += n;
}

static void run_buffer(flow *f, conn *c, int dir, bool at_end, bool aligned)
{
    half *h = &c->h[dir];
    if (h->len == 0 && !h->resync)
        return;
    if (!at_end && h->need && h->len < h->need && !h->resync && !h->skip)
        return; /* framed: the packet is still incomplete */
    size_t used = consume(f, c, dir, h->buf, h->len, at_end, aligned);
    if (used && used < h->len)
        memmove(h->buf, h->buf + used, h->len - used);
    h->len -= used;
    if (h->len == 0 && h->cap > (1u << 20)) {
        f->buffered -= h->cap;
        free(h->buf);
        h->buf = NULL;
        h->cap = 0;
    }
}

static void free_halves(flow *f, conn *c)
{
    for (int d = 0; d < 2; d++) {
        pcap_tcp_reset(&c->h[d].tcp);
        f->buffered -= c->h[d].cap;
        pcap_ws_free(c->h[d].ws);
        c->h[d].ws = NULL;
        free(c->h[d].buf);
        c->h[d].buf = NULL;
        c->h[d].len = c->h[d].cap = c->h[d].need = 0;
    }
}

static void open_conn(flow *f, conn *c)
{
    c->state = ST_MQTT;
    c->info.id = ++f->next_id;
    f->sum.connections++;
    pcap_event ev = {.note = c->info.midstream ? "capture starts inside this connection" : NULL};
    emit(f, c, PCAP_EV_OPEN, MQTT_FROM_CLIENT, &ev);
}

/* Probing a connection on another port: its client's first bytes must be a CONNECT. */
static void probe(flow *f, conn *c, int dir)
{
    half *h = &c->h[dir];
    if (dir != MQTT_FROM_CLIENT || f->opt->no_detect) {
        c->state = ST_IGNORED;
        free_halves(f, c);
        return;
    }
    if (h->need && h->len < h->need)
        return; /* framed: the CONNECT (or the probe's first PROBE_LIMIT bytes) still incomplete */
    mqtt_packet pkt;
    mqtt_status st = decode_v(f, dir, MQTT_VERSION_UNKNOWN, h->buf, h->len, &pkt, NULL);
    if (st == MQTT_NEED_MORE && h->len < PROBE_LIMIT && h->buf[0] == 0x10) {
        h->need = pkt.length < PROBE_LIMIT ? pkt.length : PROBE_LIMIT;
        return;
    }
    if (st == MQTT_OK && pkt.type == MQTT_CONNECT) {
        open_conn(f, c);
        run_buffer(f, c, dir, false, true);
        return;
    }
    c->state = ST_IGNORED;
    free_halves(f, c);
}

/* MQTT bytes of one direction (the TCP payload, or unwrapped WebSocket payload). */
static void mqtt_bytes_in(void *vctx, const uint8_t *p, size_t n)
{
    sink_ctx *s = vctx;
    flow *f = s->f;
    conn *c = s->c;
    int dir = s->dir;
    half *h = &c->h[dir];
    if (c->state == ST_IGNORED || c->state == ST_CLOSED)
        return;
    if (c->state == ST_PROBE) {
        append(f, c, dir, p, n);
        probe(f, c, dir);
        return;
    }
    if (h->len == 0) {
        size_t used = consume(f, c, dir, p, n, false, true);
        if (used < n)
            append(f, c, dir, p + used, n - used);
        return;
    }
    append(f, c, dir, p, n);
    run_buffer(f, c, dir, false, false);
}

static void ws_note(void *vctx, const char *note)
{
    sink_ctx *s = vctx;
    if (s->c->state == ST_MQTT)
        emit_note(s->f, s->c, s->dir, note, 0);
}

/* TCP payload in order: a WebSocket stream is unwrapped first (any port:
 * pcap_ws.h says how it is recognised), else it is MQTT as it stands. */
static void bytes_in(void *vctx, const uint8_t *p, size_t n)
{
    sink_ctx *s = vctx;
    conn *c = s->c;
    bool at_start = c->info.syn_seen && c->info.bytes[s->dir] == 0;
    c->info.bytes[s->dir] += n;
    if (c->state == ST_IGNORED || c->state == ST_CLOSED)
        return;
    pcap_ws_sink ws = {mqtt_bytes_in, ws_note, s};
    if (!pcap_ws_feed(&c->h[s->dir].ws, at_start, p, n, &ws))
        mqtt_bytes_in(vctx, p, n);
}

static void gap_in(void *vctx, uint64_t missing)
{
    sink_ctx *s = vctx;
    flow *f = s->f;
    conn *c = s->c;
    int dir = s->dir;
    half *h = &c->h[dir];
    if (c->state == ST_PROBE) {
        c->state = ST_IGNORED; /* cannot tell whether it starts with CONNECT */
        free_halves(f, c);
        return;
    }
    if (c->state != ST_MQTT)
        return;
    if (pcap_ws_active(h->ws)) {
        pcap_ws_sink ws = {mqtt_bytes_in, ws_note, s};
        pcap_ws_gap(h->ws, &ws);
        return;
    }
    pcap_event ev = {.bytes = missing, .stream_offset = h->pos + h->len};
    if (h->skip >= missing) {
        h->skip -= missing;
        h->pos += missing;
        ev.note = "inside a packet already skipped: still in sync";
        emit(f, c, PCAP_EV_GAP, dir, &ev);
        return;
    }
    if (h->skip) {
        missing -= h->skip;
        h->pos += h->skip;
        h->skip = 0;
    }
    if (h->len > 0 && !h->resync) {
        /* A packet was being buffered: if its size is known and the gap ends
         * inside it, the rest of it is skipped and framing holds. */
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_version used;
        mqtt_status st = decode_one(f, c, dir, h->buf, h->len, &pkt, &err, &used);
        if (st == MQTT_NEED_MORE && pkt.length > 0 && h->len + missing <= pkt.length) {
            static char note[160];
            snprintf(note, sizeof note,
                     "a packet of %zu bytes is incomplete and skipped: still in sync",
                     pkt.length);
            h->skip = pkt.length - h->len - missing;
            h->pos += h->len + missing;
            h->len = 0;
            h->need = 0;
            ev.note = note;
            emit(f, c, PCAP_EV_GAP, dir, &ev);
            return;
        }
    }
    ev.note = "resynchronising";
    emit(f, c, PCAP_EV_GAP, dir, &ev);
    if (h->resync) {
        /* Already looking for a boundary: what was buffered was being skipped. */
        h->resync_skipped += h->len;
    } else {
        h->resync = true;
        h->resync_why = "after a gap";
        h->resync_from = h->pos + h->len + missing;
        h->resync_skipped = 0;
        /* Bytes buffered before the gap belong to a packet that is lost. */
        if (h->len)
            emit_note(f, c, dir, "bytes of a packet cut by the gap discarded", h->len);
    }
    h->pos += h->len + missing;
    h->len = 0;
    h->need = 0;
}

/* The stream of this direction is over: flush reassembly, then framing. */
static void finish_half(flow *f, conn *c, int dir)
{
    sink_ctx s = {f, c, dir};
    pcap_tcp_sink sink = {bytes_in, gap_in};
    pcap_tcp_flush(&c->h[dir].tcp, &sink, &s);
    if (c->state == ST_MQTT && (c->h[dir].len > 0 || c->h[dir].resync))
        run_buffer(f, c, dir, true, false);
}

static void close_conn(flow *f, conn *c, const char *why, int closer)
{
    if (c->state == ST_MQTT) {
        finish_half(f, c, MQTT_FROM_CLIENT);
        finish_half(f, c, MQTT_FROM_SERVER);
        pcap_event ev = {.note = why, .closer = closer};
        emit(f, c, PCAP_EV_CLOSE, MQTT_FROM_CLIENT, &ev);
    }
    c->state = ST_CLOSED;
    free_halves(f, c);
}

/* ---------- the connection table ---------- */

static void make_key(const pcap_segment *s, uint8_t key[36], bool *src_low)
{
    uint8_t a[18], b[18];
    memcpy(a, s->src, 16);
    a[16] = (uint8_t)(s->sport >> 8);
    a[17] = (uint8_t)s->sport;
    memcpy(b, s->dst, 16);
    b[16] = (uint8_t)(s->dport >> 8);
    b[17] = (uint8_t)s->dport;
    *src_low = memcmp(a, b, 18) <= 0;
    memcpy(key, *src_low ? a : b, 18);
    memcpy(key + 18, *src_low ? b : a, 18);
}

static size_t hash_key(const uint8_t key[36])
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 36; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static conn *lookup(flow *f, const uint8_t key[36])
{
    /* Consecutive segments usually belong to one connection. */
    if (f->last && memcmp(f->last->key, key, 36) == 0)
        return f->last;
    for (conn *c = f->buckets[hash_key(key) & (f->nbuckets - 1)]; c; c = c->next)
        if (memcmp(c->key, key, 36) == 0)
            return f->last = c;
    return NULL;
}

static void grow_table(flow *f)
{
    size_t nb = f->nbuckets * 2;
    conn **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* keep the old table: only slower */
    for (size_t i = 0; i < f->nall; i++) {
        conn *c = f->all[i];
        size_t k = hash_key(c->key) & (nb - 1);
        c->next = b[k];
        b[k] = c;
    }
    free(f->buckets);
    f->buckets = b;
    f->nbuckets = nb;
}

static conn *insert(flow *f, const uint8_t key[36])
{
    if (f->nall == f->capall) {
        size_t cap = f->capall ? f->capall * 2 : 64;
        conn **a = realloc(f->all, cap * sizeof *a);
        if (!a)
            return NULL;
        f->all = a;
        f->capall = cap;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c->key, key, 36);
    c->order = f->nall;
    f->all[f->nall++] = c;
    size_t k = hash_key(key) & (f->nbuckets - 1);
    c->next = f->buckets[k];
    f->buckets[k] = c;
    if (f->nall > f->nbuckets)
        grow_table(f);
    return c;
}

static bool is_mqtt_port(const flow *f, uint16_t port)
{
    for (size_t i = 0; i < f->opt->nports; i++)
        if (f->opt->ports[i] == port)
            return true;
    return false;
}

/* (Re)initialises c for the segment that opens it. */
static void start_conn(flow *f, conn *c, const pcap_segment *s)
{
    free_halves(f, c);
    memset(&c->info, 0, sizeof c->info);
    memset(c->h, 0, sizeof c->h);
    c->fin_first = -1;
    bool syn = (s->flags & PCAP_TCP_SYN) != 0, ack = (s->flags & PCAP_TCP_ACK) != 0;
    bool src_is_client;
    if (syn)
        src_is_client = !ack;
    else if (is_mqtt_port(f, s->dport))
        src_is_client = true;
    else if (is_mqtt_port(f, s->sport))
        src_is_client = false;
    else {
        c->state = ST_IGNORED; /* mid-stream on an unknown port: no start to look at */
        return;
    }
    pcap_conn_info *i = &c->info;
    i->family = s->family;
    memcpy(i->client_addr, src_is_client ? s->src : s->dst, 16);
    memcpy(i->server_addr, src_is_client ? s->dst : s->src, 16);
    i->client_port = src_is_client ? s->sport : s->dport;
    i->server_port = src_is_client ? s->dport : s->sport;
    pcap_addr_format(i->family, i->client_addr, i->client_port, i->client, sizeof i->client);
    pcap_addr_format(i->family, i->server_addr, i->server_port, i->server, sizeof i->server);
    i->syn_seen = syn;
    i->midstream = !syn;
    i->first_sec = f->ts_sec;
    i->first_nsec = f->ts_nsec;
    if (!syn) {
        for (int d = 0; d < 2; d++) {
            c->h[d].resync = true;
            c->h[d].resync_why = "capture starts inside the connection";
        }
    }
    if (is_mqtt_port(f, i->server_port))
        open_conn(f, c);
    else if (syn && !f->opt->no_detect)
        c->state = ST_PROBE;
    else
        c->state = ST_IGNORED;
}

static void on_segment(flow *f, const pcap_segment *s)
{
    uint8_t key[36];
    bool src_low;
    make_key(s, key, &src_low);
    conn *c = lookup(f, key);
    bool syn_only = (s->flags & (PCAP_TCP_SYN | PCAP_TCP_ACK)) == PCAP_TCP_SYN;
    if (!c) {
        if (!(s->flags & PCAP_TCP_SYN) && s->len == 0)
            return; /* a bare ACK/FIN/RST of a connection we never saw */
        c = insert(f, key);
        if (!c)
            return;
        start_conn(f, c, s);
    } else if (syn_only && c->state != ST_IGNORED) {
        /* A new connection on the same ports, unless it is the SYN again. */
        half *ch = &c->h[MQTT_FROM_CLIENT];
        bool same = c->state != ST_CLOSED && ch->tcp.syn && ch->tcp.isn == s->seq + 1;
        if (!same) {
            if (c->state != ST_CLOSED)
                close_conn(f, c, "replaced by a new connection on the same ports", -1);
            start_conn(f, c, s);
        }
    } else if (syn_only && c->state == ST_IGNORED) {
        start_conn(f, c, s);
    }
    if (c->state == ST_IGNORED || c->state == ST_CLOSED)
        return;
    f->sum.tcp_segments++;
    bool from_client = memcmp(s->src, c->info.client_addr, 16) == 0 &&
                       s->sport == c->info.client_port;
    int dir = from_client ? MQTT_FROM_CLIENT : MQTT_FROM_SERVER;
    pcap_tcp_sink sink = {bytes_in, gap_in};
    if (s->flags & PCAP_TCP_ACK) {
        sink_ctx o = {f, c, !dir};
        pcap_tcp_acked(&c->h[!dir].tcp, s->ack, &sink, &o);
        if (c->state == ST_IGNORED || c->state == ST_CLOSED)
            return;
    }
    sink_ctx sc = {f, c, dir};
    pcap_tcp_segment(&c->h[dir].tcp, s->seq, s->flags, s->payload, s->caplen, s->len, &sink,
                     &sc);
    if (c->state == ST_IGNORED || c->state == ST_CLOSED)
        return;
    if (s->flags & PCAP_TCP_RST) {
        close_conn(f, c, dir == MQTT_FROM_CLIENT ? "RST from client" : "RST from server", dir);
        return;
    }
    if (s->flags & PCAP_TCP_FIN) {
        if (!c->h[dir].fin) {
            c->h[dir].fin = true;
            if (c->fin_first < 0)
                c->fin_first = dir;
        }
        if (c->h[0].fin && c->h[1].fin)
            close_conn(f, c, c->fin_first == MQTT_FROM_CLIENT ? "FIN from client, then server"
                                                              : "FIN from server, then client",
                       c->fin_first);
    }
}

int pcap_flow_run(pcap_reader *r, const pcap_flow_options *opt, pcap_event_fn fn, void *ctx,
                  pcap_flow_summary *sum, char *err, size_t errlen)
{
    flow *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->opt = opt;
    f->fn = fn;
    f->ctx = ctx;
    f->nbuckets = 1024;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    if (!f->buckets) {
        free(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int dlt = pcap_reader_linktype(r);
    f->sum.linktype = dlt;
    int rc = 0;
    if (!pcap_link_supported(dlt)) {
        snprintf(err, errlen, "link type %d (%s) is not supported: use Ethernet, Linux cooked, "
                 "raw IP or BSD loopback captures", dlt, pcap_link_name(dlt));
        rc = -1;
    }
    pcap_record rec;
    while (rc == 0) {
        int got = pcap_reader_next(r, &rec);
        if (got == 0)
            break;
        if (got < 0) {
            snprintf(err, errlen, "%s", pcap_reader_error(r));
            rc = -1;
            break;
        }
        if (f->sum.records == 0) {
            f->sum.first_sec = rec.ts_sec;
            f->sum.first_nsec = rec.ts_nsec;
        }
        f->sum.records++;
        f->ts_sec = f->sum.last_sec = rec.ts_sec;
        f->ts_nsec = f->sum.last_nsec = rec.ts_nsec;
        pcap_segment seg;
        const char *why;
        pcap_link_status st = pcap_link_decode(dlt, rec.data, rec.caplen, &seg, &why);
        if (st == PCAP_LINK_BAD) {
            if (f->sum.bad_frames++ == 0)
                snprintf(f->sum.first_bad, sizeof f->sum.first_bad,
                         "record %llu at offset %llu: %s", (unsigned long long)rec.index,
                         (unsigned long long)rec.offset, why);
            continue;
        }
        if (st == PCAP_LINK_TCP)
            on_segment(f, &seg);
    }
    /* Whatever is still open ends with the capture. */
    for (size_t i = 0; i < f->nall; i++) {
        conn *c = f->all[i];
        if (c->state == ST_MQTT || c->state == ST_PROBE)
            close_conn(f, c, rc == 0 ? "end of capture (still open)"
                                     : "capture unreadable from here",
                       -1);
    }
    for (size_t i = 0; i < f->nall; i++) {
        free_halves(f, f->all[i]);
        free(f->all[i]);
    }
    free(f->all);
    free(f->buckets);
    if (sum)
        *sum = f->sum;
    free(f);
    return rc;
}
