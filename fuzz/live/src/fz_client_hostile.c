/*
 * fz_client_hostile: the hostile broker's moves (see fz_client.h). Every
 * packet is built valid with the codec first, then one time in four mutated
 * by fz_mutate's operators on a one-step session (the same operators the
 * broker fuzzing uses: a dropped step is an answer never sent, a close step
 * closes the connection). The deliberately invalid injections (topics with
 * wildcards, sizes over the client's Maximum Packet Size, garbage, a packet
 * cut in the middle) are written by hand, since the encoder refuses them.
 */
#include "fuzz/live/src/fz_client.h"
#include "fuzz/live/src/fz_mutate.h"

#include <stdio.h>
#include <string.h>

static uint8_t scratch[FZ_CMAX_WRITE];

/* Writes b, one time in four mutated. Returns the writes added. */
static int put(fz_rng *r, const fz_cpeer *peer, const uint8_t *b, size_t n, uint32_t anchor, fz_cscript *s)
{
    if (n > FZ_MAX_STEP_BYTES || !fz_rng_chance(r, 1, 4)) return fz_cscript_add(s, anchor, false, b, n) == 0;
    fz_session one;
    fz_session_init(&one, peer->version, "zzzzzzz", 1);
    fz_session_add(&one, FZ_SEND, 0, b, n);
    fz_mutate_session(r, &one, 1);
    int added = 0;
    for (size_t i = 0; i < one.nsteps; i++)
        added += fz_cscript_add(s, anchor, one.steps[i].kind == FZ_CLOSE, one.steps[i].bytes, one.steps[i].len) == 0;
    fz_session_free(&one);
    return added;
}

static int emit(fz_rng *r, const fz_cpeer *peer, const mqtt_packet *p, uint32_t anchor, fz_cscript *s)
{
    mqtt_codec codec = {.version = peer->version, .from = MQTT_FROM_SERVER};
    size_t n;
    if (mqtt_encode(&codec, p, scratch, sizeof scratch, &n, NULL) != MQTT_OK) return 0;
    return put(r, peer, scratch, n, anchor, s);
}

/* A topic the filter matches: '+' and '#' levels become "x". */
static void note_topic(fz_cpeer *peer, mqtt_bytes t)
{
    if (peer->ntopics == 4 || !t.len) return;
    mqtt_bytes share, flt = t;
    if (t.len > 7 && !memcmp(t.ptr, "$share/", 7)) {
        const uint8_t *sl = memchr(t.ptr + 7, '/', t.len - 7);
        if (!sl) return;
        share = (mqtt_bytes){t.ptr, (size_t)(sl - t.ptr)};
        flt = (mqtt_bytes){sl + 1, t.len - (size_t)(sl + 1 - t.ptr)};
        (void)share;
    }
    char *o = peer->topics[peer->ntopics];
    size_t k = 0;
    for (size_t i = 0; i < flt.len && k + 2 < sizeof peer->topics[0]; i++)
        o[k++] = flt.ptr[i] == '+' || flt.ptr[i] == '#' ? 'x' : (char)flt.ptr[i];
    o[k] = 0;
    peer->ntopics++;
}

static void connack(fz_rng *r, fz_cpeer *peer, const mqtt_connect *c, mqtt_packet *a)
{
    peer->version = (mqtt_version)c->protocol_level;
    if (MQTT_HAS_PROP(&c->properties, MQTT_PROP_MAXIMUM_PACKET_SIZE)) peer->max_packet_size = c->properties.maximum_packet_size;
    a->type = MQTT_CONNACK;
    if (peer->version != MQTT_V5) return;
    mqtt_properties *p = &a->connack.properties;
    if (fz_rng_chance(r, 1, 3)) {
        p->topic_alias_maximum = (uint16_t)fz_rng_below(r, 4);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
    }
    if (fz_rng_chance(r, 1, 3)) {
        p->maximum_qos = (uint8_t)fz_rng_below(r, 2);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS);
    }
    if (fz_rng_chance(r, 1, 4)) {
        p->server_keep_alive = (uint16_t)fz_rng_below(r, 3);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_SERVER_KEEP_ALIVE);
    }
    if (!c->client_id.len) {
        p->assigned_client_identifier = (mqtt_bytes){(const uint8_t *)"fz-assigned", 11};
        p->present |= MQTT_PROP_BIT(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    }
}

static void suback(fz_rng *r, fz_cpeer *peer, const mqtt_subscribe *sub, bool unsub, mqtt_packet *a)
{
    static uint8_t codes[64];
    size_t n = sub->count < 64 ? sub->count : 64;
    for (size_t i = 0; i < n; i++) {
        if (!unsub) note_topic(peer, sub->subscriptions[i].topic_filter);
        codes[i] = unsub ? 0 : fz_rng_chance(r, 1, 8) ? 0x80 : (uint8_t)fz_rng_below(r, sub->subscriptions[i].qos + 1u);
    }
    a->type = unsub ? MQTT_UNSUBACK : MQTT_SUBACK;
    a->suback.packet_id = sub->packet_id;
    a->suback.reason_codes = (mqtt_bytes){codes, unsub && peer->version != MQTT_V5 ? 0 : n};
}

int fz_hostile_answer(fz_rng *r, fz_cpeer *peer, const mqtt_packet *p, uint32_t anchor, fz_cscript *s)
{
    mqtt_packet a;
    memset(&a, 0, sizeof a);
    switch (p->type) {
    case MQTT_CONNECT: connack(r, peer, &p->connect, &a); break;
    case MQTT_SUBSCRIBE: suback(r, peer, &p->subscribe, false, &a); break;
    case MQTT_UNSUBSCRIBE: suback(r, peer, &p->subscribe, true, &a); break;
    case MQTT_PUBLISH:
        note_topic(peer, p->publish.topic);
        if (!p->publish.qos) return 0;
        a.type = p->publish.qos == 1 ? MQTT_PUBACK : MQTT_PUBREC;
        a.ack.packet_id = p->publish.packet_id;
        break;
    case MQTT_PUBREC: a.type = MQTT_PUBREL, a.ack.packet_id = p->ack.packet_id; break;
    case MQTT_PUBREL: a.type = MQTT_PUBCOMP, a.ack.packet_id = p->ack.packet_id; break;
    case MQTT_PINGREQ: a.type = MQTT_PINGRESP; break;
    default: return 0;
    }
    int added = emit(r, peer, &a, anchor, s);
    if (p->type == MQTT_CONNECT) peer->connected = true;
    return added;
}

/* A PUBLISH written by hand: any topic bytes, a payload of n bytes. */
static int raw_publish(const fz_cpeer *peer, const char *topic, size_t tlen, size_t n, uint32_t anchor, fz_cscript *s)
{
    size_t rl = 2 + tlen + (peer->version == MQTT_V5) + n, h = 1;
    if (rl + 8 > sizeof scratch) return 0;
    scratch[0] = 0x30;
    for (size_t v = rl; h == 1 || v; v >>= 7) scratch[h++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
    scratch[h++] = (uint8_t)(tlen >> 8);
    scratch[h++] = (uint8_t)tlen;
    memcpy(scratch + h, topic, tlen);
    h += tlen;
    if (peer->version == MQTT_V5) scratch[h++] = 0;
    memset(scratch + h, 'p', n);
    return fz_cscript_add(s, anchor, false, scratch, h + n) == 0;
}

static int inject_publish(fz_rng *r, fz_cpeer *peer, uint32_t anchor, fz_cscript *s, bool cut)
{
    static const char *const payloads[] = {"", "x", "hello", "\xff\xfe"};
    mqtt_packet a = {.type = MQTT_PUBLISH};
    const char *t = peer->ntopics ? peer->topics[fz_rng_below(r, (uint32_t)peer->ntopics)] : "fz/t";
    a.publish.topic = (mqtt_bytes){(const uint8_t *)t, strlen(t)};
    a.publish.qos = (uint8_t)fz_rng_below(r, 3);
    a.publish.retain = fz_rng_chance(r, 1, 4);
    if (a.publish.qos) a.publish.packet_id = peer->next_id = (uint16_t)(peer->next_id % 65535 + 1);
    const char *pl = FZ_PICK(r, payloads);
    a.publish.payload = (mqtt_bytes){(const uint8_t *)pl, strlen(pl)};
    if (!cut) return emit(r, peer, &a, anchor, s);
    /* A stall in the middle of a packet: its first half, and nothing after it. */
    mqtt_codec codec = {.version = peer->version, .from = MQTT_FROM_SERVER};
    size_t n;
    if (mqtt_encode(&codec, &a, scratch, sizeof scratch, &n, NULL) != MQTT_OK) return 0;
    return fz_cscript_add(s, anchor, false, scratch, n / 2 ? n / 2 : 1) == 0;
}

static int inject_bad(fz_rng *r, fz_cpeer *peer, uint32_t anchor, fz_cscript *s, uint32_t kind)
{
    /* Wildcards (MQTT-3.3.2-2), U+0000 (MQTT-1.5.4-2), empty without an alias, overlong UTF-8. */
    static const struct { const char *t; size_t len; } topics[] = {
        {"fz/+/t", 6}, {"#", 1}, {"fz/\x00/t", 6}, {"", 0}, {"fz/\xc0\xaf", 5}};
    if (kind == 0) { /* over the client's Maximum Packet Size (or just big) */
        size_t n = peer->max_packet_size && peer->max_packet_size < 60000 ? peer->max_packet_size : 60000;
        return raw_publish(peer, "fz/big", 6, n, anchor, s);
    }
    if (kind == 1) {
        size_t i = fz_rng_below(r, sizeof topics / sizeof topics[0]);
        return raw_publish(peer, topics[i].t, topics[i].len, 3, anchor, s);
    }
    uint8_t junk[8];
    size_t n = 1 + fz_rng_below(r, sizeof junk);
    for (size_t i = 0; i < n; i++) junk[i] = (uint8_t)fz_rng_below(r, 256);
    return fz_cscript_add(s, anchor, false, junk, n) == 0;
}

int fz_hostile_inject(fz_rng *r, fz_cpeer *peer, uint32_t anchor, fz_cscript *s)
{
    mqtt_packet a;
    memset(&a, 0, sizeof a);
    uint32_t roll = fz_rng_below(r, 100);
    if (roll < 45) return inject_publish(r, peer, anchor, s, false);
    if (roll < 50) return inject_publish(r, peer, anchor, s, true);
    if (roll < 62) {
        static const mqtt_packet_type acks[] = {MQTT_PUBREL, MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBCOMP};
        a.type = FZ_PICK(r, acks);
        a.ack.packet_id = (uint16_t)(1 + fz_rng_below(r, 3)); /* often an id the client never used */
        return emit(r, peer, &a, anchor, s);
    }
    if (roll < 82) return inject_bad(r, peer, anchor, s, fz_rng_below(r, 3));
    if (roll < 90 && peer->version == MQTT_V5) {
        a.type = MQTT_DISCONNECT;
        a.disconnect.reason_code = fz_rng_chance(r, 1, 2) ? 0x8b : 0x98;
        return emit(r, peer, &a, anchor, s);
    }
    a.type = fz_rng_chance(r, 1, 2) ? MQTT_PINGRESP : MQTT_CONNACK; /* unsolicited; a second CONNACK */
    return emit(r, peer, &a, anchor, s);
}
