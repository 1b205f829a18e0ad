/*
 * Fuzz harness `encode`: arbitrary mqtt_packet values into the encoder, the
 * formatters and the topic functions.
 *
 * Input: selector byte (see fz_decoder_init), then the fields of one packet
 * read in order from the bytes (type, flags, ids, strings as views into the
 * input, up to 4 User Properties, 2 Subscription Identifiers and 4
 * subscriptions, any property bits with values). Strings need not be valid
 * UTF-8; a length byte of 255 makes a 65530..65785-byte string, to reach the
 * 65535-byte limits.
 *
 * Invariants:
 *   - mqtt_encoded_size and mqtt_encode agree (status, rule, size); a
 *     refusal names its rule and writes nothing, even into a big buffer;
 *   - the encoder never produces what the decoder rejects (encode.c's
 *     promise): accepted packets decode, with the same codec settings, to the
 *     same bytes' length, re-encode to the same bytes, and are canonical;
 *   - mqtt_format_line / _json accept any packet (any type value, strings
 *     that are not UTF-8) and give clean text and valid JSON; every name
 *     function answers a non-empty string for any value;
 *   - mqtt_topic_matches agrees with the reference matcher whenever both
 *     strings are valid (topic name, non-shared filter).
 */
#include "fuzz/fuzz_text.h"
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *p;
    size_t n;
    bool big; /* a 65530+ byte string was made: the formatters are skipped (slow, and not the point) */
} cursor;

static uint8_t u8(cursor *c)
{
    if (!c->n) return 0;
    c->n--;
    return *c->p++;
}

static uint16_t u16(cursor *c)
{
    uint16_t hi = u8(c);
    return (uint16_t)(hi << 8 | u8(c));
}

static uint32_t u32(cursor *c)
{
    uint32_t hi = u16(c);
    return hi << 16 | u16(c);
}

static uint8_t big[65535 + 256];

/* A view: a length byte, then that many input bytes (fewer at the end); 255: a big string. */
static mqtt_bytes view(cursor *c)
{
    uint8_t n = u8(c);
    if (n == 255) {
        c->big = true;
        return (mqtt_bytes){big, 65530u + u8(c)};
    }
    if (n > c->n) n = (uint8_t)c->n;
    mqtt_bytes b = {c->p, n};
    c->p += n;
    c->n -= n;
    return b;
}

typedef struct {
    mqtt_user_property user[4];
    uint32_t subid[2];
    mqtt_subscription subs[4];
} storage;

static void build_props(cursor *c, mqtt_properties *p, storage *st, int which)
{
    memset(p, 0, sizeof *p);
    unsigned k = u8(c) & 7;
    for (unsigned i = 0; i < k; i++) {
        unsigned id = u8(c) % 0x2C; /* 0x2B: one past the last identifier */
        p->present |= MQTT_PROP_BIT(id);
        switch (id) {
        case 0x01: p->payload_format_indicator = u8(c); break;
        case 0x02: p->message_expiry_interval = u32(c); break;
        case 0x03: p->content_type = view(c); break;
        case 0x08: p->response_topic = view(c); break;
        case 0x09: p->correlation_data = view(c); break;
        case 0x11: p->session_expiry_interval = u32(c); break;
        case 0x12: p->assigned_client_identifier = view(c); break;
        case 0x13: p->server_keep_alive = u16(c); break;
        case 0x15: p->authentication_method = view(c); break;
        case 0x16: p->authentication_data = view(c); break;
        case 0x17: p->request_problem_information = u8(c); break;
        case 0x18: p->will_delay_interval = u32(c); break;
        case 0x19: p->request_response_information = u8(c); break;
        case 0x1A: p->response_information = view(c); break;
        case 0x1C: p->server_reference = view(c); break;
        case 0x1F: p->reason_string = view(c); break;
        case 0x21: p->receive_maximum = u16(c); break;
        case 0x22: p->topic_alias_maximum = u16(c); break;
        case 0x23: p->topic_alias = u16(c); break;
        case 0x24: p->maximum_qos = u8(c); break;
        case 0x25: p->retain_available = u8(c); break;
        case 0x27: p->maximum_packet_size = u32(c); break;
        case 0x28: p->wildcard_subscription_available = u8(c); break;
        case 0x29: p->subscription_identifier_available = u8(c); break;
        case 0x2A: p->shared_subscription_available = u8(c); break;
        case 0x26: {
            size_t n = (u8(c) & 3) + 1;
            mqtt_user_property *u = which ? st->user + 2 : st->user;
            if (n > 2) n = 2;
            for (size_t j = 0; j < n; j++) {
                u[j].name = view(c);
                u[j].value = view(c);
            }
            p->user_properties = u;
            p->user_property_count = n;
            break;
        }
        case 0x0B: {
            size_t n = (u8(c) & 1) + 1;
            for (size_t j = 0; j < n; j++) st->subid[j] = u32(c) >> (u8(c) & 31);
            p->subscription_identifiers = st->subid;
            p->subscription_identifier_count = n;
            break;
        }
        default: break; /* an identifier that does not exist, or bit 0 */
        }
    }
}

static void build(cursor *c, mqtt_packet *pkt, storage *st)
{
    memset(pkt, 0, sizeof *pkt);
    uint8_t t = u8(c);
    pkt->type = (mqtt_packet_type)(t & 0x1F); /* 16..31 do not exist */
    switch (pkt->type) {
    case MQTT_CONNECT: {
        mqtt_connect *k = &pkt->connect;
        uint8_t f = u8(c);
        if (f & 1) k->protocol_name = view(c);
        k->protocol_level = (f & 2) ? u8(c) : 0;
        k->clean_start = f & 4;
        k->will = f & 8;
        k->will_retain = f & 16;
        k->has_username = f & 32;
        k->has_password = f & 64;
        k->will_qos = u8(c) & 3;
        k->keep_alive = u16(c);
        build_props(c, &k->properties, st, 0);
        k->client_id = view(c);
        if (k->will) {
            build_props(c, &k->will_properties, st, 1);
            k->will_topic = view(c);
            k->will_payload = view(c);
        }
        if (k->has_username) k->username = view(c);
        if (k->has_password) k->password = view(c);
        break;
    }
    case MQTT_CONNACK:
        pkt->connack.session_present = u8(c) & 1;
        pkt->connack.reason_code = u8(c);
        build_props(c, &pkt->connack.properties, st, 0);
        break;
    case MQTT_PUBLISH: {
        uint8_t f = u8(c);
        pkt->publish.qos = f & 3;
        pkt->publish.dup = f & 4;
        pkt->publish.retain = f & 8;
        pkt->publish.topic = view(c);
        pkt->publish.packet_id = u16(c);
        build_props(c, &pkt->publish.properties, st, 0);
        pkt->publish.payload = view(c);
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        pkt->ack.packet_id = u16(c);
        pkt->ack.reason_code = u8(c);
        build_props(c, &pkt->ack.properties, st, 0);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        pkt->subscribe.packet_id = u16(c);
        build_props(c, &pkt->subscribe.properties, st, 0);
        size_t n = u8(c) % 5;
        for (size_t i = 0; i < n; i++) {
            uint8_t o = u8(c);
            st->subs[i].topic_filter = view(c);
            st->subs[i].qos = o & 3;
            st->subs[i].no_local = o & 4;
            st->subs[i].retain_as_published = o & 8;
            st->subs[i].retain_handling = (o >> 4) & 3;
        }
        pkt->subscribe.subscriptions = st->subs;
        pkt->subscribe.count = n;
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        pkt->suback.packet_id = u16(c);
        build_props(c, &pkt->suback.properties, st, 0);
        pkt->suback.reason_codes = view(c);
        break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        pkt->disconnect.reason_code = u8(c);
        build_props(c, &pkt->disconnect.properties, st, 0);
        break;
    default: break;
    }
}

static void check_text(const mqtt_packet *pkt, mqtt_version v)
{
    static char line[1 << 16], json[1 << 18];
    size_t n = mqtt_format_line(pkt, v, line, sizeof line);
    if (n < sizeof line) {
        const char *why = fz_line_problem(line, n);
        FZ_ASSERT(why == NULL, "line of type %d: %s: %s", (int)pkt->type, why, line);
    }
    n = mqtt_format_json(pkt, v, json, sizeof json);
    if (n < sizeof json) {
        const char *why = fz_json_problem(json, n);
        FZ_ASSERT(why == NULL, "JSON of type %d: %s: %s", (int)pkt->type, why, json);
    }
}

static void check_names(cursor *c)
{
    const char *s[7];
    uint8_t a = u8(c), b = u8(c);
    s[0] = mqtt_packet_type_name((mqtt_packet_type)a);
    s[1] = mqtt_status_name((mqtt_status)a);
    s[2] = mqtt_version_name((mqtt_version)a);
    s[3] = mqtt_property_name((mqtt_property_id)a);
    s[4] = mqtt_reason_name((mqtt_packet_type)(a & 15), b);
    s[5] = mqtt_connack_return_name(b);
    mqtt_error err = {(mqtt_status)(a & 7), "MQTT-1.2.3-4", (mqtt_version)(b & 7), b, b, "message"};
    char buf[256];
    size_t n = mqtt_format_error(&err, buf, sizeof buf);
    s[6] = buf;
    FZ_ASSERT(n < sizeof buf && fz_line_problem(buf, n) == NULL, "error text: %s", buf);
    for (int i = 0; i < 7; i++) FZ_ASSERT(s[i] && s[i][0], "name function %d answers an empty string for %u/%u", i, a, b);
}

static void check_topics(cursor *c, mqtt_version v)
{
    mqtt_bytes topic = view(c), filter = view(c), share, inner;
    const char *tn = mqtt_topic_name_check(v, topic);
    const char *fc = mqtt_topic_filter_check(v, filter);
    (void)mqtt_utf8_check(v, topic, NULL);
    if (fc == NULL && mqtt_shared_split(filter, &share, &inner)) {
        filter = inner;
        fc = mqtt_topic_filter_check(MQTT_V311, filter);
    }
    if (tn == NULL && fc == NULL) {
        bool got = mqtt_topic_matches(filter, topic), want = fz_topic_matches(filter, topic);
        FZ_ASSERT(got == want, "filter \"%.*s\" vs topic \"%.*s\": codec %d, reference %d", (int)filter.len,
                  (const char *)filter.ptr, (int)topic.len, (const char *)topic.ptr, got, want);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (big[0] != 'a') memset(big, 'a', sizeof big);
    fz_decoder d;
    fz_decoder_init(&d, data[0]);
    cursor c = {data + 1, size - 1, false};
    storage st;
    memset(&st, 0, sizeof st);
    mqtt_packet pkt;
    build(&c, &pkt, &st);
    mqtt_version v = pkt.type == MQTT_CONNECT && pkt.connect.protocol_level ? (mqtt_version)pkt.connect.protocol_level
                                                                           : d.codec.version;
    if (!c.big) check_text(&pkt, v);

    mqtt_error e1 = {0}, e2 = {0};
    size_t sz = 0, written = 0;
    mqtt_status s1 = mqtt_encoded_size(&d.codec, &pkt, &sz, &e1);
    /* Accepted: room for the packet and a canary. Refused: a buffer of 4096 bytes, which a
     * refusal must leave untouched whatever the size (validity is checked before room). */
    size_t cap = s1 == MQTT_OK ? sz + 16 : 4096;
    uint8_t *out = malloc(cap);
    FZ_ASSERT(out != NULL, "out of memory");
    memset(out, 0xA5, cap);
    mqtt_status s2 = mqtt_encode(&d.codec, &pkt, out, cap, &written, &e2);
    FZ_ASSERT(s1 == s2, "encoded_size says %s, encode says %s", mqtt_status_name(s1), mqtt_status_name(s2));
    if (s1 != MQTT_OK) {
        fz_check_error(s1, &e1, 0);
        FZ_ASSERT(strcmp(e1.rule, e2.rule) == 0, "encoded_size cites %s, encode %s", e1.rule, e2.rule);
        for (size_t i = 0; i < cap; i++) FZ_ASSERT(out[i] == 0xA5, "a refused encode wrote byte %zu", i);
        free(out);
        check_names(&c);
        check_topics(&c, d.codec.version);
        return 0;
    }
    FZ_ASSERT(written == sz, "encoded_size %zu, encode wrote %zu", sz, written);
    for (size_t i = sz; i < cap; i++) FZ_ASSERT(out[i] == 0xA5, "encode wrote past the size it announced");

    /* What the encoder accepts, the decoder accepts: same settings, other arrays. */
    fz_decoder r;
    fz_decoder_init(&r, (uint8_t)(data[0] & ~0x18)); /* full caller arrays: their size is the decoder's limit */
    if (pkt.type == MQTT_CONNECT) r.codec.version = MQTT_VERSION_UNKNOWN;
    mqtt_packet back;
    mqtt_error err = {0};
    mqtt_status st2 = mqtt_decode(&r.codec, out, written, &back, &err);
    FZ_ASSERT(st2 == MQTT_OK, "the encoder wrote a %s (%zu bytes) its decoder rejects: %s %s at %zu (%s)",
              mqtt_packet_type_name(pkt.type), written, mqtt_status_name(st2),
              st2 >= MQTT_ERR_MALFORMED ? err.rule : "-", err.offset, st2 >= MQTT_ERR_MALFORMED ? err.message : "");
    FZ_ASSERT(back.length == written, "decoded %zu of the %zu bytes written", back.length, written);
    fz_check_packet(&r, &back, out, written);
    mqtt_version bv = fz_packet_version(&r, &back);
    FZ_ASSERT(fz_is_canonical(bv, &back, out), "encoder output is not canonical");
    FZ_ASSERT(back.type == pkt.type, "type %d came back as %d", (int)pkt.type, (int)back.type);
    if (pkt.type == MQTT_PUBLISH) {
        FZ_ASSERT(back.publish.qos == pkt.publish.qos && back.publish.retain == pkt.publish.retain &&
                      back.publish.dup == pkt.publish.dup && fz_bytes_eq(back.publish.topic, pkt.publish.topic) &&
                      fz_bytes_eq(back.publish.payload, pkt.publish.payload),
                  "PUBLISH fields changed on the way through");
    }
    if (pkt.type == MQTT_SUBSCRIBE || pkt.type == MQTT_UNSUBSCRIBE)
        FZ_ASSERT(back.subscribe.count == pkt.subscribe.count, "%zu topic filters came back as %zu",
                  pkt.subscribe.count, back.subscribe.count);

    uint8_t *again = malloc(written);
    FZ_ASSERT(again != NULL, "out of memory");
    size_t w2 = 0;
    mqtt_status s3 = mqtt_encode(&r.codec, &back, again, written, &w2, &err);
    FZ_ASSERT(s3 == MQTT_OK && w2 == written && memcmp(again, out, written) == 0,
              "decode(encode(x)) does not re-encode to the same bytes");
    free(again);
    free(out);
    check_names(&c);
    check_topics(&c, d.codec.version);
    return 0;
}
