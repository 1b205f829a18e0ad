/*
 * fz_gen: valid sessions (see fz_gen.h). A small model of each client
 * (connected or not, the packet ids it has in flight, whether it set topic
 * aliases) keeps the orders plausible: CONNECT first, acknowledgements for
 * ids that exist, PUBREL after PUBREC. Topics and client ids all contain the
 * session's namespace. Packets the encoder refuses are skipped, so every
 * generated packet is valid for the session's version.
 */
#include "fuzz/live/src/fz_gen.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    fz_rng *r;
    fz_session *s;
    bool connected[FZ_MAX_CLIENTS];
    bool alias_set[FZ_MAX_CLIENTS];
    uint16_t next_id[FZ_MAX_CLIENTS];
    uint16_t last_id[FZ_MAX_CLIENTS];
    char id[FZ_MAX_CLIENTS][24];
    char text[8][96]; /* scratch strings of the packet being built */
    int ntext;
    mqtt_user_property up[2];
    mqtt_subscription subs[3];
    uint32_t subid;
} gen;

static mqtt_bytes str(const char *t)
{
    return (mqtt_bytes){(const uint8_t *)t, strlen(t)};
}

/* A scratch string formatted with the namespace: "<ns><suffix>". */
static mqtt_bytes ns_text(gen *g, const char *prefix, const char *suffix)
{
    char *t = g->text[g->ntext++ % 8];
    snprintf(t, 96, "%s%s%s", prefix, g->s->ns, suffix);
    return str(t);
}

static mqtt_bytes topic(gen *g)
{
    static const char *const sfx[] = {"/a", "/a/b", "/b", "/c/d/e", "/", "/a/b/c"};
    return ns_text(g, "", FZ_PICK(g->r, sfx));
}

static mqtt_bytes filter(gen *g)
{
    static const char *const sfx[] = {"/a", "/+", "/#", "/+/b", "/a/#", "/b", "/a/b", "/+/+"};
    if (fz_rng_chance(g->r, 1, 6)) return ns_text(g, "$share/g/", FZ_PICK(g->r, sfx));
    return ns_text(g, "", FZ_PICK(g->r, sfx));
}

static void user_props(gen *g, mqtt_properties *p)
{
    static const char *const names[] = {"k", "key", "", "x-y"};
    size_t n = fz_rng_below(g->r, 3);
    for (size_t i = 0; i < n; i++) {
        g->up[i].name = str(FZ_PICK(g->r, names));
        g->up[i].value = str(FZ_PICK(g->r, names));
    }
    p->user_properties = g->up;
    p->user_property_count = n;
}

static void set_u32(mqtt_properties *p, int id, uint32_t *field, uint32_t v)
{
    *field = v;
    p->present |= MQTT_PROP_BIT(id);
}

/* Encodes pkt as client `c` would send it and appends it. Returns 0, -1 if refused. */
static int emit(gen *g, uint8_t c, const mqtt_packet *pkt)
{
    mqtt_codec codec = {.version = g->s->version, .from = MQTT_FROM_CLIENT};
    uint8_t buf[FZ_MAX_STEP_BYTES];
    size_t n;
    g->ntext = 0;
    if (mqtt_encode(&codec, pkt, buf, sizeof buf, &n, NULL) != MQTT_OK) return -1;
    return fz_session_add(g->s, FZ_SEND, c, buf, n);
}

static void connect_props(gen *g, mqtt_properties *p)
{
    static const uint32_t sei[] = {0, 0, 10, 0xFFFFFFFFu};
    static const uint16_t rm[] = {1, 2, 10, 65535};
    static const uint32_t mps[] = {64, 256, 1024, 1048576};
    if (fz_rng_chance(g->r, 1, 2)) set_u32(p, MQTT_PROP_SESSION_EXPIRY_INTERVAL, &p->session_expiry_interval, FZ_PICK(g->r, sei));
    if (fz_rng_chance(g->r, 1, 3)) {
        p->receive_maximum = FZ_PICK(g->r, rm);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    }
    if (fz_rng_chance(g->r, 1, 4)) set_u32(p, MQTT_PROP_MAXIMUM_PACKET_SIZE, &p->maximum_packet_size, FZ_PICK(g->r, mps));
    if (fz_rng_chance(g->r, 1, 3)) {
        p->topic_alias_maximum = (uint16_t)fz_rng_below(g->r, 4);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
    }
    if (fz_rng_chance(g->r, 1, 4)) {
        p->request_problem_information = (uint8_t)fz_rng_below(g->r, 2);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_REQUEST_PROBLEM_INFORMATION);
    }
    if (fz_rng_chance(g->r, 1, 4)) {
        p->request_response_information = (uint8_t)fz_rng_below(g->r, 2);
        p->present |= MQTT_PROP_BIT(MQTT_PROP_REQUEST_RESPONSE_INFORMATION);
    }
    if (fz_rng_chance(g->r, 1, 4)) user_props(g, p);
}

static void will(gen *g, mqtt_connect *c)
{
    static const char *const payloads[] = {"", "gone", "\xc3\xa9t\xc3\xa9"};
    c->will = true;
    c->will_qos = (uint8_t)fz_rng_below(g->r, 3);
    c->will_retain = fz_rng_chance(g->r, 1, 3);
    c->will_topic = ns_text(g, "", "/w");
    c->will_payload = str(FZ_PICK(g->r, payloads));
    if (g->s->version != MQTT_V5) return;
    mqtt_properties *p = &c->will_properties;
    if (fz_rng_chance(g->r, 1, 3)) set_u32(p, MQTT_PROP_WILL_DELAY_INTERVAL, &p->will_delay_interval, fz_rng_below(g->r, 3));
    if (fz_rng_chance(g->r, 1, 4)) set_u32(p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &p->message_expiry_interval, 1 + fz_rng_below(g->r, 100));
    if (fz_rng_chance(g->r, 1, 4)) {
        p->payload_format_indicator = 1;
        p->present |= MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
        p->content_type = str("text/plain");
        p->present |= MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE);
    }
    if (fz_rng_chance(g->r, 1, 4)) {
        p->response_topic = ns_text(g, "", "/r");
        p->present |= MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC);
    }
}

static void gen_connect(gen *g, uint8_t c)
{
    static const uint16_t ka[] = {0, 5, 60, 65535};
    mqtt_packet p = {.type = MQTT_CONNECT};
    mqtt_connect *k = &p.connect;
    k->clean_start = fz_rng_chance(g->r, 2, 3);
    k->keep_alive = FZ_PICK(g->r, ka);
    k->client_id = str(g->id[c]);
    /* An empty client id: assigned by the broker (5.0, or 3.1.1 with clean session). */
    if (g->s->version != MQTT_V31 && k->clean_start && fz_rng_chance(g->r, 1, 12)) k->client_id = str("");
    if (fz_rng_chance(g->r, 1, 4)) will(g, k);
    if (fz_rng_chance(g->r, 1, 8)) {
        k->has_username = true;
        k->username = str("user");
        k->has_password = fz_rng_chance(g->r, 1, 2);
        k->password = str("secret");
    }
    if (g->s->version == MQTT_V5) connect_props(g, &k->properties);
    if (emit(g, c, &p) == 0) g->connected[c] = true;
    g->alias_set[c] = false;
}

static void gen_subscribe(gen *g, uint8_t c, bool unsub)
{
    mqtt_packet p = {.type = unsub ? MQTT_UNSUBSCRIBE : MQTT_SUBSCRIBE};
    size_t n = 1 + fz_rng_below(g->r, unsub ? 2 : 3);
    for (size_t i = 0; i < n; i++) {
        mqtt_subscription *sub = &g->subs[i];
        *sub = (mqtt_subscription){.topic_filter = filter(g), .qos = (uint8_t)fz_rng_below(g->r, 3)};
        if (g->s->version == MQTT_V5 && !unsub) {
            sub->no_local = fz_rng_chance(g->r, 1, 4);
            sub->retain_as_published = fz_rng_chance(g->r, 1, 3);
            sub->retain_handling = (uint8_t)fz_rng_below(g->r, 3);
        }
    }
    p.subscribe = (mqtt_subscribe){.packet_id = g->next_id[c]++, .subscriptions = g->subs, .count = n};
    if (g->next_id[c] == 0) g->next_id[c] = 1;
    if (g->s->version == MQTT_V5 && !unsub && fz_rng_chance(g->r, 1, 4)) {
        g->subid = 1 + fz_rng_below(g->r, 1000);
        p.subscribe.properties.subscription_identifiers = &g->subid;
        p.subscribe.properties.subscription_identifier_count = 1;
    }
    emit(g, c, &p);
}

static void publish_props(gen *g, uint8_t c, mqtt_publish *pub)
{
    mqtt_properties *p = &pub->properties;
    if (fz_rng_chance(g->r, 1, 5)) set_u32(p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &p->message_expiry_interval, fz_rng_below(g->r, 5));
    if (fz_rng_chance(g->r, 1, 5)) {
        p->response_topic = ns_text(g, "", "/r");
        p->present |= MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC);
        p->correlation_data = str("cd");
        p->present |= MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA);
    }
    if (fz_rng_chance(g->r, 1, 6)) user_props(g, p);
    if (fz_rng_chance(g->r, 1, 5)) {
        /* Topic aliases 1..2: set one with a topic, or use one with an empty topic. */
        p->topic_alias = (uint16_t)(1 + fz_rng_below(g->r, 2));
        p->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
        if (g->alias_set[c] && fz_rng_chance(g->r, 1, 2)) pub->topic = str("");
        g->alias_set[c] = true;
    }
}

static void gen_publish(gen *g, uint8_t c)
{
    static const char *const payloads[] = {"", "x", "hello", "\xe2\x82\xac uro"};
    mqtt_packet p = {.type = MQTT_PUBLISH};
    mqtt_publish *pub = &p.publish;
    pub->qos = (uint8_t)fz_rng_below(g->r, 3);
    pub->retain = fz_rng_chance(g->r, 1, 4);
    pub->dup = pub->qos > 0 && fz_rng_chance(g->r, 1, 8);
    pub->topic = topic(g);
    pub->payload = str(FZ_PICK(g->r, payloads));
    if (pub->qos > 0) {
        /* Mostly fresh ids, sometimes the last one again (a duplicate in flight). */
        pub->packet_id = fz_rng_chance(g->r, 1, 6) && g->last_id[c] ? g->last_id[c] : g->next_id[c]++;
        if (g->next_id[c] == 0) g->next_id[c] = 1;
        g->last_id[c] = pub->packet_id;
    }
    if (g->s->version == MQTT_V5) publish_props(g, c, pub);
    emit(g, c, &p);
}

static void gen_ack(gen *g, uint8_t c)
{
    static const mqtt_packet_type types[] = {MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP};
    mqtt_packet p = {.type = FZ_PICK(g->r, types)};
    /* The broker numbers its deliveries 1, 2, 3...: small ids ack them; PUBREL
     * mostly follows our own QoS 2 PUBLISH. */
    p.ack.packet_id = p.type == MQTT_PUBREL && g->last_id[c] ? g->last_id[c]
                                                             : (uint16_t)(1 + fz_rng_below(g->r, 4));
    if (g->s->version == MQTT_V5 && fz_rng_chance(g->r, 1, 6))
        p.ack.reason_code = p.type == MQTT_PUBREL || p.type == MQTT_PUBCOMP ? 0x92 : 0x80;
    emit(g, c, &p);
}

static void gen_end(gen *g, uint8_t c)
{
    if (fz_rng_chance(g->r, 1, 2)) {
        mqtt_packet p = {.type = MQTT_DISCONNECT};
        if (g->s->version == MQTT_V5 && fz_rng_chance(g->r, 1, 3)) p.disconnect.reason_code = 0x04;
        emit(g, c, &p);
    }
    fz_session_add(g->s, FZ_CLOSE, c, NULL, 0);
    g->connected[c] = false;
}

static void gen_action(gen *g, uint8_t c)
{
    uint32_t roll = fz_rng_below(g->r, 100);
    if (roll < 22) gen_subscribe(g, c, false);
    else if (roll < 27) gen_subscribe(g, c, true);
    else if (roll < 60) gen_publish(g, c);
    else if (roll < 80) gen_ack(g, c);
    else if (roll < 86) emit(g, c, &(mqtt_packet){.type = MQTT_PINGREQ});
    else if (roll < 88 && g->s->version == MQTT_V5)
        emit(g, c, &(mqtt_packet){.type = MQTT_AUTH, .disconnect = {.reason_code = 0x19}});
    else if (roll < 95) gen_end(g, c);
    else gen_connect(g, c); /* a second CONNECT: a protocol error */
}

void fz_gen_session(fz_rng *r, fz_session *s, size_t steps)
{
    gen g = {.r = r, .s = s};
    for (uint8_t c = 0; c < s->nclients; c++) {
        /* Clients c and d sometimes share a, b's client id: takeovers. */
        uint8_t owner = c >= 2 && fz_rng_chance(r, 1, 3) ? (uint8_t)(c - 2) : c;
        snprintf(g.id[c], sizeof g.id[c], "%s-%c", s->ns, fz_client_name(owner));
        g.next_id[c] = 1;
    }
    while (s->nsteps < steps && s->nsteps < FZ_MAX_STEPS - 4) {
        uint8_t c = (uint8_t)fz_rng_below(r, s->nclients);
        if (!g.connected[c]) gen_connect(&g, c);
        else gen_action(&g, c);
    }
}
