/*
 * gen-corpus: writes the seed corpora of the fuzz harnesses.
 *
 *   gen-corpus OUTDIR [codec/tests/test_NAME.c ...]
 *
 * Seeds come from two places:
 *   1. Representative packets of every type, for 3.1, 3.1.1 and 5.0 and both
 *      senders, built as mqtt_packet values and encoded with mqtt_encode (so
 *      they follow the codec), with 5.0 properties of every kind; whole
 *      client and server sessions (CONNECT first, version learnt from it);
 *      and malformed variants of each (cut short, flags flipped, a byte
 *      forced to 0xFF, a Remaining Length off by one or not minimal).
 *   2. The byte vectors of the codec's Criterion tests: every TV_DECODE_OK,
 *      TV_DECODE_CANON and TV_REJECT call in the sources given, with the
 *      version and sender its codec argument names (all six when it names
 *      none, e.g. "&c").
 *   3. Broker scripts (OUTDIR/broker, the format of fuzz_broker.c): QoS 0/1/2
 *      flows between clients, retained messages and Wills, persistent
 *      sessions and takeover, congestion, keep alive, shutdown, 5.0 topic
 *      aliases, shared subscriptions, Maximum Packet Size, AUTH, and bad
 *      first packets, under several broker options.
 *   4. For the encode harness (OUTDIR/encode): a few field-byte inputs per packet
 *      type and selector.
 * Packet seeds are written in the input format of each codec harness
 * (fuzz_util.h, fuzz_stream.c): OUTDIR/decode, OUTDIR/roundtrip,
 * OUTDIR/stream. Names say what a seed is; the same inputs always give the
 * same files.
 *
 * Exits non-zero if the codec refuses to encode one of the packets (a codec
 * or generator bug) or a file cannot be written.
 */
#include <mqtt/mqtt.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAXPKT 2048
#define MAXSTREAM 8192

static const char *outdir;
static unsigned n_written;

/* ---------------------------------------------------------------- output */

static void write_file(const char *harness, const char *name, const uint8_t *a, size_t na, const uint8_t *b,
                       size_t nb)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", outdir, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || (na && fwrite(a, 1, na, f) != na) || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f) != 0) {
        fprintf(stderr, "gen-corpus: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    n_written++;
}

/*
 * One seed: the selector byte (fz_decoder_init) and the bytes of a stream.
 * decode and roundtrip take [sel][bytes]; stream takes [sel][k][k sizes][bytes]
 * and gets two splits: one byte at a time (short inputs) and a mix of sizes.
 */
static void seed(const char *name, uint8_t sel, const uint8_t *bytes, size_t n)
{
    uint8_t head[8];
    head[0] = sel;
    write_file("decode", name, head, 1, bytes, n);
    write_file("roundtrip", name, head, 1, bytes, n);
    char sname[512];
    if (n <= 64) {
        head[1] = 0; /* k = 0: one byte at a time */
        snprintf(sname, sizeof sname, "%s.bytewise", name);
        write_file("stream", sname, head, 2, bytes, n);
    }
    head[1] = 3;
    head[2] = 0;  /* 1 byte */
    head[3] = 6;  /* 7 bytes */
    head[4] = 2;  /* 3 bytes */
    snprintf(sname, sizeof sname, "%s.split", name);
    write_file("stream", sname, head, 5, bytes, n);
}

/* Selector bits (fuzz_util.h). */
static uint8_t selector(mqtt_version v, mqtt_side from)
{
    unsigned bits = v == MQTT_V31 ? 1 : v == MQTT_V311 ? 2 : v == MQTT_V5 ? 3 : 0;
    return (uint8_t)(bits | (from == MQTT_FROM_SERVER ? 4 : 0));
}

static const char *vname(mqtt_version v)
{
    return v == MQTT_V31 ? "v31" : v == MQTT_V311 ? "v311" : v == MQTT_V5 ? "v5" : "vunknown";
}

/* ---------------------------------------------------------------- packets */

static mqtt_bytes S(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, strlen(s)};
}

static const mqtt_user_property USER_PROPS[2] = {{{(const uint8_t *)"k", 1}, {(const uint8_t *)"v", 1}},
                                                 {{(const uint8_t *)"region", 6}, {(const uint8_t *)"eu-west", 7}}};
static const uint32_t SUB_IDS[2] = {1, 268435455};

static void user_props(mqtt_properties *p)
{
    p->user_properties = USER_PROPS;
    p->user_property_count = 2;
}

#define SET(p, id) ((p)->present |= MQTT_PROP_BIT(id))

/* Encodes *pkt for (v, from); exits on refusal. Returns the size. */
static size_t encode(mqtt_version v, mqtt_side from, const mqtt_packet *pkt, uint8_t *out, const char *what)
{
    mqtt_codec c = {0};
    c.version = v;
    c.from = from;
    size_t n = 0;
    mqtt_error err = {0};
    mqtt_status st = mqtt_encode(&c, pkt, out, MAXPKT, &n, &err);
    if (st != MQTT_OK) {
        fprintf(stderr, "gen-corpus: %s %s: mqtt_encode refuses: %s %s (%s)\n", vname(v), what, mqtt_status_name(st),
                err.rule, err.message);
        exit(1);
    }
    return n;
}

/* The malformed variants of one valid packet. */
static void variants(const char *name, uint8_t sel, const uint8_t *b, size_t n)
{
    uint8_t m[MAXPKT + 8];
    char vn[512];
    if (n > 2) {
        snprintf(vn, sizeof vn, "%s.cut", name);
        seed(vn, sel, b, n - 1); /* NEED_MORE */
    }
    memcpy(m, b, n);
    m[0] ^= 0x0F;
    snprintf(vn, sizeof vn, "%s.flags", name);
    seed(vn, sel, m, n);
    if (b[1] < 0x7F) {
        memcpy(m, b, n);
        m[1]++;
        m[n] = 0;
        snprintf(vn, sizeof vn, "%s.longer", name);
        seed(vn, sel, m, n + 1); /* one byte after the last field */
        if (b[1] > 0) {
            memcpy(m, b, n);
            m[1]--;
            snprintf(vn, sizeof vn, "%s.shorter", name);
            seed(vn, sel, m, n - 1);
        }
        /* Remaining Length in two bytes: allowed in 3.x, malformed in 5.0 (MQTT-1.5.5-1). */
        m[0] = b[0];
        m[1] = (uint8_t)(b[1] | 0x80);
        m[2] = 0;
        memcpy(m + 3, b + 2, n - 2);
        snprintf(vn, sizeof vn, "%s.rl2", name);
        seed(vn, sel, m, n + 1);
    }
    for (size_t at = 2; at < n && at < 14; at += 3) {
        memcpy(m, b, n);
        m[at] = 0xFF;
        snprintf(vn, sizeof vn, "%s.ff%zu", name, at);
        seed(vn, sel, m, n);
    }
}

typedef struct {
    mqtt_version v;
    mqtt_side from;
    uint8_t stream[MAXSTREAM];
    size_t len;
} session;

/* Encodes one packet: a seed of its own, its variants, and a part of the session stream. */
static void emit(session *s, const char *what, const mqtt_packet *pkt)
{
    uint8_t b[MAXPKT];
    size_t n = encode(s->v, s->from, pkt, b, what);
    char name[256];
    snprintf(name, sizeof name, "%s-%s-%s", vname(s->v), s->from == MQTT_FROM_CLIENT ? "client" : "server", what);
    uint8_t sel = selector(s->v, s->from);
    seed(name, sel, b, n);
    variants(name, sel, b, n);
    if (s->len + n <= sizeof s->stream) {
        memcpy(s->stream + s->len, b, n);
        s->len += n;
    }
}

static void client_packets(session *s)
{
    mqtt_version v = s->v;
    bool v5 = v == MQTT_V5;
    mqtt_packet p;

    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT;
    p.connect.clean_start = true;
    p.connect.keep_alive = 60;
    p.connect.client_id = S("fuzz-client");
    emit(s, "connect", &p);

    p.connect.client_id = S("");
    emit(s, "connect-empty-id", &p);

    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT;
    p.connect.keep_alive = 10;
    p.connect.client_id = S("c\xc3\xa9");
    p.connect.will = true;
    p.connect.will_qos = 1;
    p.connect.will_retain = true;
    p.connect.will_topic = S("will/topic");
    p.connect.will_payload = S("gone");
    p.connect.has_username = true;
    p.connect.username = S("user");
    p.connect.has_password = true;
    p.connect.password = S("secret");
    if (v5) {
        mqtt_properties *q = &p.connect.properties;
        SET(q, MQTT_PROP_SESSION_EXPIRY_INTERVAL), q->session_expiry_interval = 3600;
        SET(q, MQTT_PROP_RECEIVE_MAXIMUM), q->receive_maximum = 20;
        SET(q, MQTT_PROP_MAXIMUM_PACKET_SIZE), q->maximum_packet_size = 65536;
        SET(q, MQTT_PROP_TOPIC_ALIAS_MAXIMUM), q->topic_alias_maximum = 10;
        SET(q, MQTT_PROP_REQUEST_RESPONSE_INFORMATION), q->request_response_information = 1;
        SET(q, MQTT_PROP_REQUEST_PROBLEM_INFORMATION), q->request_problem_information = 0;
        SET(q, MQTT_PROP_AUTHENTICATION_METHOD), q->authentication_method = S("SCRAM-SHA-1");
        SET(q, MQTT_PROP_AUTHENTICATION_DATA), q->authentication_data = S("\x01\x02\x03");
        user_props(q);
        mqtt_properties *w = &p.connect.will_properties;
        SET(w, MQTT_PROP_WILL_DELAY_INTERVAL), w->will_delay_interval = 5;
        SET(w, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR), w->payload_format_indicator = 1;
        SET(w, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL), w->message_expiry_interval = 120;
        SET(w, MQTT_PROP_CONTENT_TYPE), w->content_type = S("text/plain");
        SET(w, MQTT_PROP_RESPONSE_TOPIC), w->response_topic = S("reply/here");
        SET(w, MQTT_PROP_CORRELATION_DATA), w->correlation_data = (mqtt_bytes){(const uint8_t *)"\x00\x01", 2};
        user_props(w);
    }
    emit(s, "connect-will-auth", &p);

    /* Subscriptions before publications, as a real client would. */
    static mqtt_subscription subs[4];
    memset(subs, 0, sizeof subs);
    subs[0] = (mqtt_subscription){S("sensors/+/temp"), 1, false, false, 0};
    subs[1] = (mqtt_subscription){S("alerts/#"), 2, false, false, 0};
    subs[2] = (mqtt_subscription){S("$SYS/broker/#"), 0, false, false, 0};
    size_t nsubs = 3;
    if (v5) {
        subs[0].no_local = true;
        subs[1].retain_as_published = true;
        subs[1].retain_handling = 2;
        subs[3] = (mqtt_subscription){S("$share/group/jobs/+"), 1, false, false, 1};
        nsubs = 4;
    }
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBSCRIBE;
    p.subscribe.packet_id = 7;
    p.subscribe.subscriptions = subs;
    p.subscribe.count = nsubs;
    if (v5) {
        p.subscribe.properties.subscription_identifiers = SUB_IDS;
        p.subscribe.properties.subscription_identifier_count = 1;
        user_props(&p.subscribe.properties);
    }
    emit(s, "subscribe", &p);

    memset(&p, 0, sizeof p);
    p.type = MQTT_UNSUBSCRIBE;
    p.subscribe.packet_id = 8;
    p.subscribe.subscriptions = subs;
    p.subscribe.count = 2;
    if (v5) user_props(&p.subscribe.properties);
    emit(s, "unsubscribe", &p);

    for (uint8_t qos = 0; qos <= 2; qos++) {
        memset(&p, 0, sizeof p);
        p.type = MQTT_PUBLISH;
        p.publish.qos = qos;
        p.publish.retain = qos == 1;
        p.publish.dup = qos == 2;
        p.publish.topic = S("sensors/kitchen/temp");
        p.publish.packet_id = qos ? (uint16_t)(100 + qos) : 0;
        p.publish.payload = S("21.5");
        char what[32];
        snprintf(what, sizeof what, "publish-qos%u", qos);
        emit(s, what, &p);
    }
    if (v5) {
        memset(&p, 0, sizeof p);
        p.type = MQTT_PUBLISH;
        p.publish.qos = 1;
        p.publish.packet_id = 200;
        p.publish.topic = S("req/t");
        p.publish.payload = S("{\"a\":1}");
        mqtt_properties *q = &p.publish.properties;
        SET(q, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR), q->payload_format_indicator = 1;
        SET(q, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL), q->message_expiry_interval = 30;
        SET(q, MQTT_PROP_CONTENT_TYPE), q->content_type = S("application/json");
        SET(q, MQTT_PROP_RESPONSE_TOPIC), q->response_topic = S("resp/t");
        SET(q, MQTT_PROP_CORRELATION_DATA), q->correlation_data = S("\xde\xad");
        SET(q, MQTT_PROP_TOPIC_ALIAS), q->topic_alias = 3;
        user_props(q);
        emit(s, "publish-props-alias", &p);
        p.publish.topic = S("");
        memset(q, 0, sizeof *q);
        SET(q, MQTT_PROP_TOPIC_ALIAS), q->topic_alias = 3;
        emit(s, "publish-alias-only", &p);
    }
    static const uint8_t bin[] = {0x00, 0xff, 0x80, 0x7f, 0xc3, 0x28, 0x0a, 0x1b};
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.topic = S("a/b");
    p.publish.payload = (mqtt_bytes){bin, sizeof bin};
    emit(s, "publish-binary", &p);

    static const mqtt_packet_type acks[4] = {MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP};
    static const char *ack_names[4] = {"puback", "pubrec", "pubrel", "pubcomp"};
    static const uint8_t ack_reasons[4] = {0x10, 0x80, 0x92, 0x92};
    for (int i = 0; i < 4; i++) {
        memset(&p, 0, sizeof p);
        p.type = acks[i];
        p.ack.packet_id = (uint16_t)(300 + i);
        emit(s, ack_names[i], &p);
        if (!v5) continue;
        char what[48];
        p.ack.reason_code = ack_reasons[i];
        snprintf(what, sizeof what, "%s-reason", ack_names[i]);
        emit(s, what, &p);
        SET(&p.ack.properties, MQTT_PROP_REASON_STRING), p.ack.properties.reason_string = S("why not");
        user_props(&p.ack.properties);
        snprintf(what, sizeof what, "%s-props", ack_names[i]);
        emit(s, what, &p);
    }

    memset(&p, 0, sizeof p);
    p.type = MQTT_PINGREQ;
    emit(s, "pingreq", &p);

    if (v5) {
        memset(&p, 0, sizeof p);
        p.type = MQTT_AUTH;
        p.disconnect.reason_code = 0x18;
        mqtt_properties *q = &p.disconnect.properties;
        SET(q, MQTT_PROP_AUTHENTICATION_METHOD), q->authentication_method = S("SCRAM-SHA-1");
        SET(q, MQTT_PROP_AUTHENTICATION_DATA), q->authentication_data = S("client-final");
        SET(q, MQTT_PROP_REASON_STRING), q->reason_string = S("continue");
        user_props(q);
        emit(s, "auth", &p);
    }

    memset(&p, 0, sizeof p);
    p.type = MQTT_DISCONNECT;
    if (v5) {
        p.disconnect.reason_code = 0x04; /* with Will */
        mqtt_properties *q = &p.disconnect.properties;
        SET(q, MQTT_PROP_SESSION_EXPIRY_INTERVAL), q->session_expiry_interval = 0;
        SET(q, MQTT_PROP_REASON_STRING), q->reason_string = S("bye");
        user_props(q);
        emit(s, "disconnect-props", &p);
        memset(&p.disconnect, 0, sizeof p.disconnect);
    }
    emit(s, "disconnect", &p);
}

static void server_packets(session *s)
{
    mqtt_version v = s->v;
    bool v5 = v == MQTT_V5;
    mqtt_packet p;

    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNACK;
    p.connack.session_present = v != MQTT_V31;
    if (v5) {
        mqtt_properties *q = &p.connack.properties;
        SET(q, MQTT_PROP_SESSION_EXPIRY_INTERVAL), q->session_expiry_interval = 60;
        SET(q, MQTT_PROP_RECEIVE_MAXIMUM), q->receive_maximum = 100;
        SET(q, MQTT_PROP_MAXIMUM_QOS), q->maximum_qos = 1;
        SET(q, MQTT_PROP_RETAIN_AVAILABLE), q->retain_available = 1;
        SET(q, MQTT_PROP_MAXIMUM_PACKET_SIZE), q->maximum_packet_size = 1048576;
        SET(q, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER), q->assigned_client_identifier = S("auto-1234");
        SET(q, MQTT_PROP_TOPIC_ALIAS_MAXIMUM), q->topic_alias_maximum = 10;
        SET(q, MQTT_PROP_REASON_STRING), q->reason_string = S("welcome");
        SET(q, MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE), q->wildcard_subscription_available = 1;
        SET(q, MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE), q->subscription_identifier_available = 1;
        SET(q, MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE), q->shared_subscription_available = 0;
        SET(q, MQTT_PROP_SERVER_KEEP_ALIVE), q->server_keep_alive = 30;
        SET(q, MQTT_PROP_RESPONSE_INFORMATION), q->response_information = S("resp/");
        SET(q, MQTT_PROP_SERVER_REFERENCE), q->server_reference = S("other:1883");
        SET(q, MQTT_PROP_AUTHENTICATION_METHOD), q->authentication_method = S("SCRAM-SHA-1");
        SET(q, MQTT_PROP_AUTHENTICATION_DATA), q->authentication_data = S("server-final");
        user_props(q);
    }
    emit(s, "connack", &p);
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNACK;
    emit(s, "connack-plain", &p);
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNACK;
    p.connack.reason_code = v5 ? 0x87 : 5;
    emit(s, "connack-refused", &p);

    static const uint8_t granted311[3] = {0x00, 0x01, 0x80};
    static const uint8_t granted31[3] = {0x00, 0x01, 0x02};
    static const uint8_t granted5[4] = {0x01, 0x02, 0x87, 0xA2};
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBACK;
    p.suback.packet_id = 7;
    p.suback.reason_codes = v5 ? (mqtt_bytes){granted5, 4}
                               : (mqtt_bytes){v == MQTT_V31 ? granted31 : granted311, 3};
    if (v5) {
        SET(&p.suback.properties, MQTT_PROP_REASON_STRING), p.suback.properties.reason_string = S("partly");
        user_props(&p.suback.properties);
    }
    emit(s, "suback", &p);

    static const uint8_t unsub5[2] = {0x00, 0x11};
    memset(&p, 0, sizeof p);
    p.type = MQTT_UNSUBACK;
    p.suback.packet_id = 8;
    if (v5) p.suback.reason_codes = (mqtt_bytes){unsub5, 2};
    emit(s, "unsuback", &p);

    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.qos = 2;
    p.publish.packet_id = 9;
    p.publish.topic = S("sensors/hall/temp");
    p.publish.payload = S("19.0");
    if (v5) {
        p.publish.properties.subscription_identifiers = SUB_IDS;
        p.publish.properties.subscription_identifier_count = 2;
        SET(&p.publish.properties, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL), p.publish.properties.message_expiry_interval = 9;
    }
    emit(s, "publish-qos2", &p);

    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBACK;
    p.ack.packet_id = 1;
    emit(s, "puback", &p);
    p.type = MQTT_PUBREL;
    emit(s, "pubrel", &p);

    memset(&p, 0, sizeof p);
    p.type = MQTT_PINGRESP;
    emit(s, "pingresp", &p);

    if (v5) {
        memset(&p, 0, sizeof p);
        p.type = MQTT_DISCONNECT;
        p.disconnect.reason_code = 0x9C;
        SET(&p.disconnect.properties, MQTT_PROP_SERVER_REFERENCE), p.disconnect.properties.server_reference = S("b:1883");
        SET(&p.disconnect.properties, MQTT_PROP_REASON_STRING), p.disconnect.properties.reason_string = S("moved");
        emit(s, "disconnect-server", &p);
    }
}

static void packets(void)
{
    static const mqtt_version versions[3] = {MQTT_V31, MQTT_V311, MQTT_V5};
    for (int i = 0; i < 3; i++) {
        session c = {.v = versions[i], .from = MQTT_FROM_CLIENT};
        client_packets(&c);
        char name[128];
        /* The client session as a server meets it: version unknown until CONNECT. */
        snprintf(name, sizeof name, "%s-client-session", vname(c.v));
        seed(name, selector(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT), c.stream, c.len);
        seed(name, selector(c.v, MQTT_FROM_CLIENT), c.stream, c.len);
        /* The same with tiny caller arrays and a 128-byte maximum packet size: LIMIT errors. */
        snprintf(name, sizeof name, "%s-client-session-tiny", vname(c.v));
        seed(name, (uint8_t)(selector(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT) | 1 << 3 | 2 << 5), c.stream, c.len);
        snprintf(name, sizeof name, "%s-client-session-noarrays", vname(c.v));
        seed(name, (uint8_t)(selector(c.v, MQTT_FROM_CLIENT) | 2 << 3), c.stream, c.len);
        /* Sent to the wrong side: every packet only a client sends is a protocol error. */
        snprintf(name, sizeof name, "%s-client-session-as-server", vname(c.v));
        seed(name, selector(c.v, MQTT_FROM_SERVER), c.stream, c.len);

        session s = {.v = versions[i], .from = MQTT_FROM_SERVER};
        server_packets(&s);
        snprintf(name, sizeof name, "%s-server-session", vname(s.v));
        seed(name, selector(s.v, MQTT_FROM_SERVER), s.stream, s.len);
        snprintf(name, sizeof name, "%s-server-session-tiny", vname(s.v));
        seed(name, (uint8_t)(selector(s.v, MQTT_FROM_SERVER) | 1 << 3 | 3 << 5), s.stream, s.len);
    }
}


/* ---------------------------------------------------------------- broker scripts */

/*
 * Seeds of the broker harness (fuzz_broker.c): an options byte, then
 * operations. Each script is a protocol exchange of up to four clients, with
 * packets encoded by the codec; packet identifiers the broker assigns are
 * guessed (1, 2, ...), which is what the broker does for a fresh session.
 */
typedef struct {
    uint8_t b[MAXSTREAM];
    size_t n;
    mqtt_version v[4];
} script;

static void put(script *s, uint8_t byte)
{
    if (s->n < sizeof s->b) s->b[s->n++] = byte;
}

static void op_bytes(script *s, int slot, const uint8_t *p, size_t n)
{
    do {
        size_t chunk = n > 255 ? 255 : n;
        put(s, (uint8_t)(0 | slot << 3));
        put(s, (uint8_t)chunk);
        for (size_t i = 0; i < chunk; i++) put(s, p[i]);
        p += chunk;
        n -= chunk;
    } while (n);
}
static void op_stall(script *s, int slot) { put(s, (uint8_t)(2 | slot << 3)); }
static void op_drop(script *s, int slot) { put(s, (uint8_t)(3 | slot << 3)); }
static void op_time(script *s, uint8_t b) { put(s, 4); put(s, b); }
static void op_read(script *s, int slot, uint8_t n) { put(s, (uint8_t)(5 | slot << 3)); put(s, n); }
static void op_shutdown(script *s) { put(s, 6); }

static void op_pkt(script *s, int slot, const mqtt_packet *pkt)
{
    uint8_t b[MAXPKT];
    mqtt_version v = pkt->type == MQTT_CONNECT ? (mqtt_version)pkt->connect.protocol_level : s->v[slot];
    op_bytes(s, slot, b, encode(v, MQTT_FROM_CLIENT, pkt, b, mqtt_packet_type_name(pkt->type)));
}

static void op_connect(script *s, int slot, mqtt_version v, const char *id, bool clean, uint16_t keepalive)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT;
    p.connect.protocol_level = (uint8_t)v;
    p.connect.clean_start = clean;
    p.connect.keep_alive = keepalive;
    p.connect.client_id = S(id);
    if (v == MQTT_V5 && !clean) {
        SET(&p.connect.properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL);
        p.connect.properties.session_expiry_interval = 300;
    }
    s->v[slot] = v;
    op_pkt(s, slot, &p);
}

static void op_subscribe(script *s, int slot, const char *filter, uint8_t qos, uint16_t id)
{
    mqtt_subscription sub = {S(filter), qos, false, false, 0};
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBSCRIBE;
    p.subscribe.packet_id = id;
    p.subscribe.subscriptions = &sub;
    p.subscribe.count = 1;
    if (s->v[slot] == MQTT_V5) {
        static const uint32_t subid = 42;
        p.subscribe.properties.subscription_identifiers = &subid;
        p.subscribe.properties.subscription_identifier_count = 1;
    }
    op_pkt(s, slot, &p);
}

static void op_publish(script *s, int slot, const char *topic, const char *payload, uint8_t qos, bool retain,
                       uint16_t id)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.topic = S(topic);
    p.publish.payload = S(payload);
    p.publish.qos = qos;
    p.publish.retain = retain;
    p.publish.packet_id = qos ? id : 0;
    op_pkt(s, slot, &p);
}

static void op_ack(script *s, int slot, mqtt_packet_type type, uint16_t id)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.ack.packet_id = id;
    op_pkt(s, slot, &p);
}

static void op_simple(script *s, int slot, mqtt_packet_type type)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = type;
    op_pkt(s, slot, &p);
}

static void broker_seed(const char *name, uint8_t options, const script *s)
{
    char full[256];
    snprintf(full, sizeof full, "%s.opt%02x", name, options);
    uint8_t head = options;
    write_file("broker", full, &head, 1, s->b, s->n);
}

static void broker_scripts(void)
{
    static const mqtt_version versions[3] = {MQTT_V31, MQTT_V311, MQTT_V5};
    static const uint8_t options[] = {0x02, 0x0A, 0x12, 0x22, 0x05, 0xC2, 0x42, 0x82};
    for (int vi = 0; vi < 3; vi++) {
        mqtt_version v = versions[vi];
        char name[128];
        script s;

        /* QoS 0, 1 and 2 from a publisher to a subscriber, every ack, ping, unsubscribe, disconnect. */
        memset(&s, 0, sizeof s);
        op_connect(&s, 0, v, "sub", true, 60);
        op_subscribe(&s, 0, "t/#", 2, 1);
        op_connect(&s, 1, v, "pub", true, 60);
        op_publish(&s, 1, "t/a", "zero", 0, false, 0);
        op_publish(&s, 1, "t/a", "one", 1, false, 1);
        op_publish(&s, 1, "t/b", "two", 2, false, 2);
        op_ack(&s, 1, MQTT_PUBREL, 2);
        op_ack(&s, 0, MQTT_PUBACK, 1);
        op_ack(&s, 0, MQTT_PUBREC, 2);
        op_ack(&s, 0, MQTT_PUBCOMP, 2);
        op_simple(&s, 0, MQTT_PINGREQ);
        mqtt_packet p;
        mqtt_subscription uns = {S("t/#"), 0, false, false, 0};
        memset(&p, 0, sizeof p);
        p.type = MQTT_UNSUBSCRIBE;
        p.subscribe.packet_id = 3;
        p.subscribe.subscriptions = &uns;
        p.subscribe.count = 1;
        op_pkt(&s, 0, &p);
        op_simple(&s, 0, MQTT_DISCONNECT);
        op_simple(&s, 1, MQTT_DISCONNECT);
        snprintf(name, sizeof name, "%s-qos-flows", vname(v));
        for (size_t o = 0; o < sizeof options; o++) broker_seed(name, options[o], &s);

        /* Retained messages and a Will published on an abrupt drop. */
        memset(&s, 0, sizeof s);
        memset(&p, 0, sizeof p);
        p.type = MQTT_CONNECT;
        p.connect.protocol_level = (uint8_t)v;
        p.connect.clean_start = true;
        p.connect.keep_alive = 5;
        p.connect.client_id = S("dev");
        p.connect.will = true;
        p.connect.will_qos = 1;
        p.connect.will_retain = true;
        p.connect.will_topic = S("status/dev");
        p.connect.will_payload = S("offline");
        if (v == MQTT_V5) {
            SET(&p.connect.will_properties, MQTT_PROP_WILL_DELAY_INTERVAL);
            p.connect.will_properties.will_delay_interval = 2;
        }
        s.v[1] = v;
        op_pkt(&s, 1, &p);
        op_publish(&s, 1, "status/dev", "online", 1, true, 1);
        op_connect(&s, 0, v, "watcher", true, 0);
        op_subscribe(&s, 0, "status/+", 1, 1);
        op_drop(&s, 1);
        op_time(&s, 60);
        op_time(&s, 130);
        op_publish(&s, 0, "status/dev", "", 0, true, 0);
        snprintf(name, sizeof name, "%s-retain-will", vname(v));
        broker_seed(name, 0x02, &s);
        broker_seed(name, 0x06, &s);
        broker_seed(name, 0x42, &s);
        broker_seed(name, 0x82, &s);

        /* A persistent session gets what was published while it was away; then a takeover. */
        memset(&s, 0, sizeof s);
        op_connect(&s, 0, v, "keep", false, 0);
        op_subscribe(&s, 0, "q/+", 1, 1);
        op_drop(&s, 0);
        op_connect(&s, 1, v, "pub", true, 0);
        op_publish(&s, 1, "q/1", "while away", 1, false, 1);
        op_publish(&s, 1, "q/2", "and this", 2, false, 2);
        op_ack(&s, 1, MQTT_PUBREL, 2);
        op_connect(&s, 2, v, "keep", false, 0);
        op_ack(&s, 2, MQTT_PUBACK, 1);
        op_connect(&s, 3, v, "keep", true, 0); /* takeover */
        op_time(&s, 200);
        snprintf(name, sizeof name, "%s-session-takeover", vname(v));
        broker_seed(name, 0x02, &s);
        broker_seed(name, 0x42, &s);

        /* Congestion: a subscriber that stops reading, a publisher that keeps going. */
        memset(&s, 0, sizeof s);
        op_connect(&s, 0, v, "slow", true, 0);
        op_subscribe(&s, 0, "#", 1, 1);
        op_stall(&s, 0);
        op_connect(&s, 1, v, "fast", true, 0);
        for (uint16_t k = 1; k <= 12; k++)
            op_publish(&s, 1, "flood/x", "0123456789abcdef0123456789abcdef", (uint8_t)(k % 3 ? 1 : 0), false, k);
        op_read(&s, 0, 7);
        op_time(&s, 40);
        op_stall(&s, 0);
        op_time(&s, 129);
        snprintf(name, sizeof name, "%s-congestion", vname(v));
        broker_seed(name, 0x0A, &s);
        broker_seed(name, 0x02, &s);

        /* Keep alive expiry and a clean shutdown. */
        memset(&s, 0, sizeof s);
        op_connect(&s, 0, v, "ka", true, 1);
        op_connect(&s, 1, v, "other", true, 0);
        op_time(&s, 40);
        op_shutdown(&s);
        snprintf(name, sizeof name, "%s-keepalive-shutdown", vname(v));
        broker_seed(name, 0x02, &s);
    }

    /* 5.0: topic aliases, shared subscriptions with No Local, a small Maximum Packet Size, AUTH. */
    script s;
    memset(&s, 0, sizeof s);
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_CONNECT;
    p.connect.protocol_level = MQTT_V5;
    p.connect.clean_start = true;
    p.connect.client_id = S("");
    SET(&p.connect.properties, MQTT_PROP_MAXIMUM_PACKET_SIZE);
    p.connect.properties.maximum_packet_size = 40;
    SET(&p.connect.properties, MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
    p.connect.properties.topic_alias_maximum = 4;
    SET(&p.connect.properties, MQTT_PROP_REQUEST_PROBLEM_INFORMATION);
    p.connect.properties.request_problem_information = 0;
    SET(&p.connect.properties, MQTT_PROP_RECEIVE_MAXIMUM);
    p.connect.properties.receive_maximum = 1;
    s.v[0] = MQTT_V5;
    op_pkt(&s, 0, &p);
    static mqtt_subscription subs[2];
    subs[0] = (mqtt_subscription){S("$share/g/job/+"), 1, false, false, 0};
    subs[1] = (mqtt_subscription){S("job/#"), 2, true, true, 1};
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBSCRIBE;
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = subs;
    p.subscribe.count = 2;
    op_pkt(&s, 0, &p);
    op_connect(&s, 1, MQTT_V5, "w2", true, 0);
    op_subscribe(&s, 1, "$share/g/job/+", 1, 1);
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.qos = 1;
    p.publish.packet_id = 5;
    p.publish.topic = S("job/1");
    p.publish.payload = S("a payload longer than forty bytes, so never delivered to client 0");
    SET(&p.publish.properties, MQTT_PROP_TOPIC_ALIAS);
    p.publish.properties.topic_alias = 1;
    SET(&p.publish.properties, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.publish.properties.message_expiry_interval = 1;
    op_pkt(&s, 0, &p);
    p.publish.topic = S("");
    p.publish.packet_id = 6;
    p.publish.payload = S("short");
    op_pkt(&s, 0, &p);
    memset(&p, 0, sizeof p);
    p.type = MQTT_AUTH;
    p.disconnect.reason_code = 0x19;
    SET(&p.disconnect.properties, MQTT_PROP_AUTHENTICATION_METHOD);
    p.disconnect.properties.authentication_method = S("PLAIN");
    op_pkt(&s, 1, &p);
    memset(&p, 0, sizeof p);
    p.type = MQTT_DISCONNECT;
    p.disconnect.reason_code = 0x04;
    op_pkt(&s, 0, &p);
    broker_seed("v5-alias-shared-maxpacket-auth", 0x02, &s);
    broker_seed("v5-alias-shared-maxpacket-auth", 0x0A, &s);

    /* Policy mode (options 0x82): a user with the right password, one with a wrong one, and an
     * anonymous client under the ACL. */
    memset(&s, 0, sizeof s);
    for (int k = 0; k < 3; k++) {
        memset(&p, 0, sizeof p);
        p.type = MQTT_CONNECT;
        p.connect.protocol_level = k == 1 ? MQTT_V5 : MQTT_V311;
        p.connect.clean_start = true;
        p.connect.client_id = S(k == 0 ? "cu" : k == 1 ? "cw" : "ca");
        p.connect.has_username = k < 2;
        p.connect.username = S("u");
        p.connect.has_password = k < 2;
        p.connect.password = S(k == 0 ? "p" : "wrong");
        s.v[k] = (mqtt_version)p.connect.protocol_level;
        op_pkt(&s, k, &p);
    }
    op_subscribe(&s, 0, "#", 1, 1);
    op_subscribe(&s, 2, "c/ca/#", 1, 1);
    op_publish(&s, 2, "pub/x", "allowed", 1, false, 1);
    op_publish(&s, 2, "secret", "dropped", 1, false, 2);
    op_publish(&s, 0, "c/ca/in", "to ca", 1, true, 2);
    op_publish(&s, 0, "u/u/x", "mine", 0, false, 0);
    broker_seed("policy-acl-passwords", 0x82, &s);

    /* Bad first packets: garbage, PUBLISH before CONNECT, an unknown level, a second CONNECT. */
    static const uint8_t garbage[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t early_publish[] = {0x30, 0x05, 0x00, 0x01, 'a', 'h', 'i'};
    static const uint8_t level6[] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3c, 0x00, 0x00};
    memset(&s, 0, sizeof s);
    op_bytes(&s, 0, garbage, sizeof garbage);
    op_bytes(&s, 1, early_publish, sizeof early_publish);
    op_bytes(&s, 2, level6, sizeof level6);
    op_connect(&s, 3, MQTT_V311, "twice", true, 0);
    op_connect(&s, 3, MQTT_V311, "twice", true, 0);
    broker_seed("bad-first-packets", 0x02, &s);
    broker_seed("bad-first-packets", 0xC2, &s);
}

/* Seeds of the encode harness (fuzz_encode.c): a selector, a type byte, then field bytes. */
static void encode_seeds(void)
{
    static const uint8_t sels[] = {0x01, 0x02, 0x03, 0x06, 0x07, 0x00, 0x4B};
    uint8_t body[48];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (uint8_t)(i * 37 + 1);
    for (size_t s = 0; s < sizeof sels; s++) {
        for (unsigned t = 0; t <= 16; t++) {
            uint8_t head[2] = {sels[s], (uint8_t)t};
            char name[64];
            snprintf(name, sizeof name, "sel%02x-type%u", sels[s], t);
            write_file("encode", name, head, 2, body, sizeof body);
        }
    }
}

/* ---------------------------------------------------------------- test vectors */

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "gen-corpus: cannot read %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (size_t r; buf && (r = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += r;
        if (len == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "gen-corpus: out of memory\n");
        exit(1);
    }
    buf[len] = '\0';
    *n = len;
    return buf;
}

/* Concatenated C string literals starting at *p (after spaces); false if none. */
static bool c_string(const char **p, char *out, size_t cap, size_t *n)
{
    const char *s = *p;
    *n = 0;
    bool any = false;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
        if (*s != '"') break;
        any = true;
        for (s++; *s && *s != '"'; s++) {
            char c = *s;
            if (c == '\\' && s[1]) {
                s++;
                c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
            }
            if (*n + 1 < cap) out[(*n)++] = c;
        }
        if (*s == '"') s++;
    }
    out[*n] = '\0';
    *p = s;
    return any;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Vector text (vectors.h: hex pairs, 'ASCII', spaces) to bytes; false if it is not one. */
static bool vector_bytes(const char *t, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    while (*t) {
        if (*t == ' ' || *t == '\n' || *t == '\t') {
            t++;
        } else if (*t == '\'') {
            const char *q = strchr(t + 1, '\'');
            if (!q) return false;
            for (t++; t < q; t++) {
                if (*n >= cap) return false;
                out[(*n)++] = (uint8_t)*t;
            }
            t++;
        } else {
            int hi = hexval(t[0]), lo = hi < 0 ? -1 : hexval(t[1]);
            if (lo < 0 || *n >= cap) return false;
            out[(*n)++] = (uint8_t)(hi << 4 | lo);
            t += 2;
        }
    }
    return *n > 0;
}

static void vectors(const char *path)
{
    static const struct {
        const char *token;
        mqtt_version v;
        mqtt_side from;
    } codecs[] = {
        {"C311", MQTT_V311, MQTT_FROM_CLIENT}, {"S311", MQTT_V311, MQTT_FROM_SERVER},
        {"C31", MQTT_V31, MQTT_FROM_CLIENT},   {"S31", MQTT_V31, MQTT_FROM_SERVER},
        {"C5", MQTT_V5, MQTT_FROM_CLIENT},     {"S5", MQTT_V5, MQTT_FROM_SERVER},
    };
    static const char *const macros[] = {"TV_DECODE_OK(", "TV_DECODE_CANON(", "TV_REJECT("};
    size_t len;
    char *src = slurp(path, &len);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    unsigned count = 0;
    for (size_t m = 0; m < sizeof macros / sizeof macros[0]; m++) {
        for (const char *p = src; (p = strstr(p, macros[m])) != NULL;) {
            p += strlen(macros[m]);
            /* First argument: the codec, up to the top-level comma. */
            const char *arg = p;
            int depth = 0;
            while (*p && !(depth == 0 && *p == ',') && !(depth == 0 && *p == ')')) {
                depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
                p++;
            }
            if (*p != ',') continue;
            size_t arglen = (size_t)(p - arg);
            p++;
            static char text[16384];
            static uint8_t bytes[8192];
            size_t tn, bn;
            if (!c_string(&p, text, sizeof text, &tn) || !vector_bytes(text, bytes, sizeof bytes, &bn)) continue;
            /* The codec's version and side from the argument text, else all six. */
            int which = -1;
            for (int i = 0; i < 6 && which < 0; i++) {
                const char *hit = arg;
                size_t tl = strlen(codecs[i].token);
                for (; (hit = strstr(hit, codecs[i].token)) != NULL && hit < arg + arglen; hit++) {
                    char after = hit[tl];
                    if (!(after >= '0' && after <= '9')) {
                        which = i;
                        break;
                    }
                }
            }
            for (int i = 0; i < 6; i++) {
                if (which >= 0 && i != which) continue;
                char name[256];
                snprintf(name, sizeof name, "tv-%.*s-%u-%s", (int)(strlen(base) - 2), base, count, codecs[i].token);
                seed(name, selector(codecs[i].v, codecs[i].from), bytes, bn);
                if (codecs[i].from == MQTT_FROM_CLIENT && bytes[0] >> 4 == MQTT_CONNECT) {
                    snprintf(name, sizeof name, "tv-%.*s-%u-unknown", (int)(strlen(base) - 2), base, count);
                    seed(name, selector(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT), bytes, bn);
                }
            }
            count++;
        }
    }
    free(src);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen-corpus OUTDIR [codec/tests/*.c ...]\n");
        return 2;
    }
    outdir = argv[1];
    static const char *const harnesses[] = {"decode", "roundtrip", "stream", "broker", "encode"};
    for (size_t i = 0; i < 5; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", outdir, harnesses[i]);
        if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "gen-corpus: cannot create %s: %s\n", outdir, strerror(errno));
            return 1;
        }
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "gen-corpus: cannot create %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    packets();
    broker_scripts();
    encode_seeds();
    for (int i = 2; i < argc; i++) vectors(argv[i]);
    printf("gen-corpus: %u seed files in %s/{decode,roundtrip,stream,broker,encode}\n", n_written, outdir);
    return 0;
}
