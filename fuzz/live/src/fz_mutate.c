/*
 * fz_mutate: packet-level and session-level mutations (see fz_mutate.h).
 * Packet mutations that change the body keep the Remaining Length right
 * (re-encoded) unless the mutation is about the length itself, so the broker
 * parses into the broken field instead of failing at the frame.
 */
#include "fuzz/live/src/fz_mutate.h"

#include <string.h>

/* Interesting byte values: limits, high bits, UTF-8 lead and surrogate bytes. */
static const uint8_t interesting8[] = {0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xc0, 0xed, 0xff, 0x2b, 0x23};
static const uint16_t interesting16[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0xffff, 0x0100, 0x00ff};

typedef struct {
    size_t rl_len;  /* bytes of the Remaining Length field */
    size_t body;    /* offset of the variable header */
} frame;

/* The fixed header of b; false if the bytes do not start a frame. */
static bool parse_frame(const uint8_t *b, size_t len, frame *f)
{
    for (size_t i = 1; i < len && i <= 4; i++) {
        if (!(b[i] & 0x80)) {
            f->rl_len = i;
            f->body = i + 1;
            return true;
        }
    }
    return false;
}

/* Rewrites the Remaining Length of buf (in place, capacity cap) to `body` bytes. */
static size_t set_rl(uint8_t *buf, size_t len, size_t cap, size_t rl)
{
    frame f;
    if (!parse_frame(buf, len, &f)) return len;
    uint8_t enc[4];
    size_t n = 0;
    do {
        enc[n] = (uint8_t)(rl & 0x7f);
        rl >>= 7;
        if (rl) enc[n] |= 0x80;
        n++;
    } while (rl && n < 4);
    size_t rest = len - f.body;
    if (1 + n + rest > cap) return len;
    memmove(buf + 1 + n, buf + f.body, rest);
    memcpy(buf + 1, enc, n);
    return 1 + n + rest;
}

static size_t fix_rl(uint8_t *buf, size_t len, size_t cap)
{
    frame f;
    return parse_frame(buf, len, &f) ? set_rl(buf, len, cap, len - f.body) : len;
}

static size_t insert_bytes(uint8_t *buf, size_t len, size_t cap, size_t at, const uint8_t *b, size_t n)
{
    if (len + n > cap || at > len) return len;
    memmove(buf + at + n, buf + at, len - at);
    memcpy(buf + at, b, n);
    return len + n;
}


/* Offset of the 5.0 Property Length of the packet in buf, or 0 if it has none. */
static size_t props_at(const uint8_t *b, size_t len)
{
    frame f;
    if (!parse_frame(b, len, &f) || f.body + 2 > len) return 0;
    size_t o = f.body;
    switch (b[0] >> 4) {
    case MQTT_CONNECT: o += 2 + (size_t)(b[o] << 8 | b[o + 1]) + 4; break;
    case MQTT_PUBLISH: o += 2 + (size_t)(b[o] << 8 | b[o + 1]) + (((b[0] >> 1) & 3) ? 2 : 0); break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP: o += 3; break;
    case MQTT_SUBSCRIBE: case MQTT_UNSUBSCRIBE: o += 2; break;
    case MQTT_DISCONNECT: case MQTT_AUTH: o += 1; break;
    default: return 0;
    }
    return o < len ? o : 0;
}

typedef struct {
    fz_rng *r;
    uint8_t buf[FZ_MAX_STEP_BYTES + 64];
    size_t len;
    const char *ns;
} pkt;

static size_t body_off(pkt *p)
{
    frame f;
    size_t start = parse_frame(p->buf, p->len, &f) ? f.body : 1;
    return start >= p->len ? 0 : start + fz_rng_below(p->r, (uint32_t)(p->len - start));
}

static void op_flags(pkt *p) { p->buf[0] = (uint8_t)((p->buf[0] & 0xf0) | fz_rng_below(p->r, 16)); }
static void op_type(pkt *p) { p->buf[0] = (uint8_t)((fz_rng_below(p->r, 16) << 4) | (p->buf[0] & 0x0f)); }

static void op_length(pkt *p)
{
    frame f;
    if (!parse_frame(p->buf, p->len, &f)) return;
    size_t rl = p->len - f.body;
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f}, nonmin[] = {0x80, 0x80, 0x00};
    switch (fz_rng_below(p->r, 4)) {
    case 0: p->len = set_rl(p->buf, p->len, sizeof p->buf, rl + 1 + fz_rng_below(p->r, 4)); break;
    case 1: p->len = set_rl(p->buf, p->len, sizeof p->buf, rl ? rl - 1 - fz_rng_below(p->r, (uint32_t)rl) : 0); break;
    case 2: /* 268435455: far beyond any broker's limit */
        memmove(p->buf + 5, p->buf + f.body, rl);
        memcpy(p->buf + 1, huge, 4);
        p->len = 5 + rl;
        break;
    default: /* a non-minimal (5-byte) or invalid encoding */
        p->len = insert_bytes(p->buf, p->len, sizeof p->buf, 1, nonmin, fz_rng_below(p->r, 3) + 1);
    }
}

static void op_byte(pkt *p)
{
    size_t o = body_off(p);
    if (o) p->buf[o] = FZ_PICK(p->r, interesting8);
}

static void op_word(pkt *p)
{
    size_t o = body_off(p);
    if (!o || o + 1 >= p->len) return;
    uint16_t v = FZ_PICK(p->r, interesting16);
    p->buf[o] = (uint8_t)(v >> 8);
    p->buf[o + 1] = (uint8_t)v;
}

static void op_bitflip(pkt *p)
{
    size_t o = fz_rng_below(p->r, (uint32_t)p->len);
    p->buf[o] ^= (uint8_t)(1u << fz_rng_below(p->r, 8));
}

static void op_truncate(pkt *p) { p->len = 1 + fz_rng_below(p->r, (uint32_t)p->len); }

static void op_insert(pkt *p)
{
    uint8_t b[4];
    size_t n = 1 + fz_rng_below(p->r, 4), o = body_off(p);
    for (size_t i = 0; i < n; i++) b[i] = fz_rng_chance(p->r, 1, 2) ? FZ_PICK(p->r, interesting8) : (uint8_t)fz_rng_next(p->r);
    if (!o) o = p->len;
    p->len = fix_rl(p->buf, insert_bytes(p->buf, p->len, sizeof p->buf, o, b, n), sizeof p->buf);
}

static void op_delete(pkt *p)
{
    size_t o = body_off(p);
    if (!o) return;
    size_t n = 1 + fz_rng_below(p->r, (uint32_t)(p->len - o < 8 ? p->len - o : 8));
    memmove(p->buf + o, p->buf + o + n, p->len - o - n);
    p->len = fix_rl(p->buf, p->len - n, sizeof p->buf);
}

/* Inserts one property (any identifier, valid or not, with a 1, 2, 4-byte or string value). */
static void op_property(pkt *p)
{
    static const uint8_t ids[] = {0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x11, 0x12, 0x13, 0x15, 0x16,
                                  0x17, 0x18, 0x19, 0x1a, 0x1c, 0x1f, 0x21, 0x22, 0x23, 0x24, 0x25,
                                  0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x7f, 0x80};
    size_t o = props_at(p->buf, p->len);
    if (!o || p->buf[o] > 0x70) return;
    uint8_t prop[8] = {FZ_PICK(p->r, ids)};
    size_t n = 1 + (size_t[]){1, 2, 4, 4}[fz_rng_below(p->r, 4)];
    for (size_t i = 1; i < n; i++) prop[i] = fz_rng_chance(p->r, 1, 2) ? FZ_PICK(p->r, interesting8) : 0;
    p->len = insert_bytes(p->buf, p->len, sizeof p->buf, o + 1, prop, n);
    p->buf[o] = (uint8_t)(p->buf[o] + n);
    p->len = fix_rl(p->buf, p->len, sizeof p->buf);
}

/* The whole property block once more: every property twice (most MUST NOT repeat). */
static void op_dup_properties(pkt *p)
{
    size_t o = props_at(p->buf, p->len);
    if (!o || p->buf[o] == 0 || p->buf[o] > 0x3f || o + 1 + p->buf[o] > p->len) return;
    uint8_t copy[0x40];
    size_t n = p->buf[o];
    memcpy(copy, p->buf + o + 1, n);
    p->len = insert_bytes(p->buf, p->len, sizeof p->buf, o + 1, copy, n);
    p->buf[o] = (uint8_t)(2 * n);
    p->len = fix_rl(p->buf, p->len, sizeof p->buf);
}

/* Breaks UTF-8 inside a string: the namespace is in every client id and topic. */
static void op_utf8(pkt *p)
{
    static const uint8_t bad[][2] = {{0x00, 'x'}, {0xc0, 0x80}, {0xed, 0xa0}, {0xff, 'x'}, {0x80, 'x'},
                                     {0xf4, 0x90}, {'+', '#'}, {'#', '/'}};
    size_t nl = strlen(p->ns);
    for (size_t i = 0; i + nl <= p->len; i++) {
        if (memcmp(p->buf + i, p->ns, nl) != 0) continue;
        const uint8_t *b = bad[fz_rng_below(p->r, sizeof bad / sizeof bad[0])];
        size_t at = i + fz_rng_below(p->r, (uint32_t)nl - 1);
        p->buf[at] = b[0];
        p->buf[at + 1] = b[1];
        return;
    }
    op_byte(p);
}

/* SUBSCRIBE options byte (last byte): QoS 3, reserved bits, Retain Handling 3. */
static void op_suboptions(pkt *p)
{
    static const uint8_t opts[] = {0x03, 0xc0, 0x3f, 0x30, 0x04, 0x08, 0xff};
    if ((p->buf[0] >> 4) == MQTT_SUBSCRIBE) p->buf[p->len - 1] = FZ_PICK(p->r, opts);
    else op_flags(p);
}

/* A packet only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP), from the
 * client, with small random fields: a broker must treat it as a protocol error. */
static void op_server_packet(pkt *p)
{
    static const uint8_t codes[] = {0x00, 0x01, 0x02, 0x05, 0x80, 0x84, 0x87, 0x97};
    static const uint8_t types[] = {0x20, 0x20, 0x90, 0xb0, 0xd0};
    p->buf[0] = FZ_PICK(p->r, types);
    p->len = 2 + fz_rng_below(p->r, 3);
    p->buf[1] = (uint8_t)(p->len - 2);
    for (size_t i = 2; i < p->len; i++) p->buf[i] = fz_rng_chance(p->r, 1, 2) ? FZ_PICK(p->r, codes) : (uint8_t)fz_rng_below(p->r, 2);
}

/* The length of a string: every client id and topic starts with the namespace,
 * so its 2-byte length is just before it. Set to 0, one off, or 0xffff. */
static void op_strlen(pkt *p)
{
    size_t nl = strlen(p->ns), hits[8], n = 0;
    for (size_t i = 2; i + nl <= p->len && n < 8; i++)
        if (memcmp(p->buf + i, p->ns, nl) == 0) hits[n++] = i - 2;
    if (!n) {
        op_word(p);
        return;
    }
    size_t at = hits[fz_rng_below(p->r, (uint32_t)n)];
    uint16_t len = (uint16_t)(p->buf[at] << 8 | p->buf[at + 1]);
    uint16_t v = (uint16_t[]){0, (uint16_t)(len - 1), (uint16_t)(len + 1), 0xffff, 1}[fz_rng_below(p->r, 5)];
    p->buf[at] = (uint8_t)(v >> 8);
    p->buf[at + 1] = (uint8_t)v;
}

typedef void (*pkt_op)(pkt *);
static const pkt_op pkt_ops[] = {op_flags, op_type, op_length, op_byte, op_word, op_bitflip,
                                 op_truncate, op_insert, op_delete, op_property,
                                 op_dup_properties, op_utf8, op_suboptions, op_server_packet, op_strlen};
#define N_PKT_OPS (sizeof pkt_ops / sizeof pkt_ops[0])

const char *const fz_mutation_names[] = {
    "flags", "type", "length", "byte", "word", "bitflip", "truncate", "insert", "delete",
    "property", "dup-properties", "utf8", "sub-options", "server-packet", "string-length",
    "split", "repeat-in-write", "swap", "repeat", "drop", "early-close", "other-client"};
const unsigned fz_mutation_count = sizeof fz_mutation_names / sizeof fz_mutation_names[0];

/* A random step that sends, or -1. */
static long pick_send(fz_rng *r, const fz_session *s)
{
    if (!s->nsteps) return -1;
    size_t start = fz_rng_below(r, (uint32_t)s->nsteps);
    for (size_t k = 0; k < s->nsteps; k++) {
        size_t i = (start + k) % s->nsteps;
        if (s->steps[i].kind == FZ_SEND && s->steps[i].len) return (long)i;
    }
    return -1;
}

static void mutate_packet(fz_rng *r, fz_session *s, unsigned op)
{
    long i = pick_send(r, s);
    if (i < 0) return;
    fz_step *st = &s->steps[i];
    pkt p = {.r = r, .len = st->len, .ns = s->ns};
    memcpy(p.buf, st->bytes, st->len);
    pkt_ops[op](&p);
    if (p.len > FZ_MAX_STEP_BYTES) p.len = FZ_MAX_STEP_BYTES;
    fz_step_set(st, p.buf, p.len);
}

/* One packet over two TCP writes; or two packets in one write. */
static void split_or_join(fz_rng *r, fz_session *s, bool split)
{
    long i = pick_send(r, s);
    if (i < 0) return;
    fz_step *st = &s->steps[i];
    if (split && st->len >= 2) {
        size_t cut = 1 + fz_rng_below(r, st->len - 1u);
        if (fz_session_insert(s, (size_t)i + 1, FZ_SEND, st->client, st->bytes + cut, st->len - cut) == 0)
            fz_step_set(&s->steps[i], s->steps[i].bytes, cut);
    } else if (!split && 2u * st->len <= FZ_MAX_STEP_BYTES) {
        uint8_t twice[FZ_MAX_STEP_BYTES];
        memcpy(twice, st->bytes, st->len);
        memcpy(twice + st->len, st->bytes, st->len);
        fz_step_set(st, twice, 2u * st->len);
    }
}

static void mutate_steps(fz_rng *r, fz_session *s, unsigned op)
{
    if (!s->nsteps) return;
    size_t i = fz_rng_below(r, (uint32_t)s->nsteps), j = fz_rng_below(r, (uint32_t)s->nsteps);
    fz_step t;
    switch (op) {
    case 0: t = s->steps[i]; s->steps[i] = s->steps[j]; s->steps[j] = t; break;
    case 1: fz_session_insert(s, j, s->steps[i].kind, s->steps[i].client, s->steps[i].bytes, s->steps[i].len); break;
    case 2: fz_session_remove(s, i); break;
    case 3: fz_session_insert(s, i, FZ_CLOSE, (uint8_t)fz_rng_below(r, s->nclients), NULL, 0); break;
    default: s->steps[i].client = (uint8_t)fz_rng_below(r, s->nclients);
    }
}

void fz_mutate_session(fz_rng *r, fz_session *s, unsigned max_ops)
{
    unsigned n = 1 + fz_rng_below(r, max_ops ? max_ops : 1);
    for (unsigned k = 0; k < n; k++) {
        unsigned op = fz_rng_below(r, fz_mutation_count);
        /* 5.0-only operators fall back to a byte change in 3.x. */
        if ((op == 9 || op == 10) && s->version != MQTT_V5) op = 3;
        if (op < N_PKT_OPS) mutate_packet(r, s, op);
        else if (op < N_PKT_OPS + 2) split_or_join(r, s, op == N_PKT_OPS);
        else mutate_steps(r, s, op - N_PKT_OPS - 2);
    }
}
