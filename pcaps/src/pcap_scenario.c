/*
 * mqtt-pcap to-scenario: a capture becomes a conformance scenario (.mqs, the
 * language of conformance/SCENARIOS.md) that replays the client side and
 * expects what the broker answered.
 *
 * - One scenario client per captured MQTT connection (c1, c2, ...), steps in
 *   capture order; connections whose CONNECT the capture lacks are left out
 *   (with a comment).
 * - Client packets become `send` steps (CONNECT answered by CONNACK 0 with
 *   no session becomes the `connect` shortcut, DISCONNECT `disconnect`, a
 *   close without DISCONNECT `drop`, bytes the codec rejects `send raw`).
 * - Broker packets become `expect` steps; a close by the broker `expect close`.
 * - What differs between runs becomes a captured variable: packet ids the
 *   broker chose (`capture packet_id as c1_s7`, then `packet_id=${c1_s7}` in
 *   the client's acknowledgement) and assigned client identifiers.
 * - Every topic, filter and client id gets the run's namespace `${ns}`, as
 *   the language requires, so runs never see each other's traffic.
 * - Pauses of a second or more before a client step become `wait`.
 * Two passes: events are collected (raw bytes copied), then written, because
 * a CONNECT's step depends on the CONNACK that answered it.
 */
#include <stdlib.h>
#include <string.h>

#include "pcaps/src/pcap_cli.h"
#include "pcaps/src/pcap_collect.h"

typedef struct {
    bool include;            /* a CONNECT was seen */
    bool midstream;
    mqtt_version version;
    bool skip_connack;       /* the `connect` shortcut consumed the CONNACK */
    bool client_disconnected;
    bool server_disconnected;
    bool have_assigned;
} conn_state;

/* ---------- value writers ---------- */

static void put_escaped(FILE *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\')
            fprintf(o, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", o);
        else if (ch == '\t')
            fputs("\\t", o);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(o, "\\x%02x", ch);
        else
            putc(ch, o);
    }
}

static void put_str(FILE *o, const char *name, mqtt_bytes b)
{
    fprintf(o, " %s=\"", name);
    put_escaped(o, b.ptr, b.len);
    putc('"', o);
}

static void put_bin(FILE *o, const char *name, mqtt_bytes b)
{
    size_t same = 0;
    while (same < b.len && b.ptr[same] == 'x')
        same++;
    if (b.len > 64 && same == b.len) {
        fprintf(o, " %s=fill:%zu", name, b.len);
        return;
    }
    bool text = true;
    for (size_t i = 0; i < b.len && text; i++)
        text = (b.ptr[i] >= 0x20 && b.ptr[i] < 0x7f) || b.ptr[i] == '\n' || b.ptr[i] == '\t';
    if (text || b.len == 0) {
        put_str(o, name, b);
        return;
    }
    fprintf(o, " %s=hex:", name);
    for (size_t i = 0; i < b.len; i++)
        fprintf(o, "%02x", b.ptr[i]);
}

/* A topic or filter inside the run's namespace: "a/b" -> "${ns}/a/b",
 * "$share/g/a" -> "$share/g/${ns}/a". */
static void put_topic(FILE *o, const char *name, mqtt_bytes t)
{
    fprintf(o, " %s=\"", name);
    mqtt_bytes share, inner;
    if (mqtt_shared_split(t, &share, &inner)) {
        fputs("$share/", o);
        put_escaped(o, share.ptr, share.len);
        fputs("/${ns}/", o);
        put_escaped(o, inner.ptr, inner.len);
    } else {
        fputs("${ns}/", o);
        put_escaped(o, t.ptr, t.len);
    }
    putc('"', o);
}

static void put_user_props(FILE *o, const char *name, const mqtt_properties *p)
{
    for (size_t i = 0; i < p->user_property_count; i++) {
        fprintf(o, " %s=\"", name);
        put_escaped(o, p->user_properties[i].name.ptr, p->user_properties[i].name.len);
        putc('=', o);
        put_escaped(o, p->user_properties[i].value.ptr, p->user_properties[i].value.len);
        putc('"', o);
    }
}

/* ---------- generation ---------- */

typedef struct {
    FILE *o;
    pcap_item *items;
    size_t n;
    conn_state *cs;
    size_t ncs;
    /* client ids seen: recorded text -> expression */
    struct {
        char *recorded;
        char expr[48];
    } ids[256];
    size_t nids;
    mqtt_user_property props[1024];
    uint32_t subids[256];
    mqtt_subscription subs[4096];
    bool failed;
} gen;

static bool decode(gen *g, const pcap_item *it, mqtt_packet *pkt)
{
    mqtt_codec codec = {.version = it->version, .from = (mqtt_side)it->dir,
                        .user_properties = g->props, .user_properties_cap = 1024,
                        .subscription_identifiers = g->subids, .subscription_identifiers_cap = 256,
                        .subscriptions = g->subs, .subscriptions_cap = 4096};
    return mqtt_decode(&codec, it->raw, it->len, pkt, NULL) == MQTT_OK;
}

/* The CONNACK answering the CONNECT at index i, if any. */
static const pcap_item *find_connack(gen *g, size_t i, mqtt_packet *pkt)
{
    for (size_t j = i + 1; j < g->n; j++) {
        const pcap_item *it = &g->items[j];
        if (it->conn != g->items[i].conn)
            continue;
        if (it->kind == PCAP_EV_CLOSE)
            return NULL;
        if (it->kind == PCAP_EV_PACKET && it->dir == MQTT_FROM_SERVER) {
            if (decode(g, it, pkt) && pkt->type == MQTT_CONNACK)
                return it;
            return NULL;
        }
    }
    return NULL;
}

static void client_id_field(gen *g, unsigned conn, mqtt_bytes id)
{
    if (id.len == 0) {
        fputs(" client_id=\"\"", g->o);
        return;
    }
    for (size_t i = 0; i < g->nids; i++)
        if (strlen(g->ids[i].recorded) == id.len && memcmp(g->ids[i].recorded, id.ptr, id.len) == 0) {
            fprintf(g->o, " client_id=\"%s\"", g->ids[i].expr);
            return;
        }
    if (g->nids < 256) {
        char *r = malloc(id.len + 1);
        if (r) {
            memcpy(r, id.ptr, id.len);
            r[id.len] = '\0';
            g->ids[g->nids].recorded = r;
            snprintf(g->ids[g->nids].expr, sizeof g->ids[g->nids].expr, "${ns}-c%u", conn);
            g->nids++;
        }
    }
    fprintf(g->o, " client_id=\"${ns}-c%u\"", conn);
}

static void connect_fields(gen *g, unsigned conn, const mqtt_connect *c, bool v5)
{
    FILE *o = g->o;
    client_id_field(g, conn, c->client_id);
    fprintf(o, " clean=%d keep_alive=%u", c->clean_start ? 1 : 0, c->keep_alive);
    if (c->will) {
        put_topic(o, "will_topic", c->will_topic);
        put_bin(o, "will_payload", c->will_payload);
        fprintf(o, " will_qos=%u will_retain=%d", c->will_qos, c->will_retain ? 1 : 0);
    }
    if (!v5)
        return;
    const mqtt_properties *p = &c->properties;
    if (MQTT_HAS_PROP(p, MQTT_PROP_SESSION_EXPIRY_INTERVAL))
        fprintf(o, " session_expiry_interval=%u", p->session_expiry_interval);
    if (MQTT_HAS_PROP(p, MQTT_PROP_RECEIVE_MAXIMUM))
        fprintf(o, " receive_maximum=%u", p->receive_maximum);
    if (MQTT_HAS_PROP(p, MQTT_PROP_MAXIMUM_PACKET_SIZE))
        fprintf(o, " maximum_packet_size=%u", p->maximum_packet_size);
    if (MQTT_HAS_PROP(p, MQTT_PROP_TOPIC_ALIAS_MAXIMUM))
        fprintf(o, " topic_alias_maximum=%u", p->topic_alias_maximum);
    if (MQTT_HAS_PROP(p, MQTT_PROP_REQUEST_RESPONSE_INFORMATION))
        fprintf(o, " request_response_information=%u", p->request_response_information);
    if (MQTT_HAS_PROP(p, MQTT_PROP_REQUEST_PROBLEM_INFORMATION))
        fprintf(o, " request_problem_information=%u", p->request_problem_information);
    put_user_props(o, "user_property", p);
    if (c->will) {
        const mqtt_properties *w = &c->will_properties;
        if (MQTT_HAS_PROP(w, MQTT_PROP_WILL_DELAY_INTERVAL))
            fprintf(o, " will_delay_interval=%u", w->will_delay_interval);
        if (MQTT_HAS_PROP(w, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL))
            fprintf(o, " will_message_expiry_interval=%u", w->message_expiry_interval);
        if (MQTT_HAS_PROP(w, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR))
            fprintf(o, " will_payload_format_indicator=%u", w->payload_format_indicator);
        if (MQTT_HAS_PROP(w, MQTT_PROP_CONTENT_TYPE))
            put_str(o, "will_content_type", w->content_type);
        if (MQTT_HAS_PROP(w, MQTT_PROP_RESPONSE_TOPIC))
            put_topic(o, "will_response_topic", w->response_topic);
        if (MQTT_HAS_PROP(w, MQTT_PROP_CORRELATION_DATA))
            put_bin(o, "will_correlation_data", w->correlation_data);
        put_user_props(o, "will_user_property", w);
    }
}

static void publish_fields(FILE *o, const mqtt_publish *p, bool v5, bool expect)
{
    if (p->topic.len)
        put_topic(o, "topic", p->topic);
    put_bin(o, "payload", p->payload);
    fprintf(o, " qos=%u retain=%d", p->qos, p->retain ? 1 : 0);
    if (!expect) {
        if (p->dup)
            fputs(" dup=1", o);
        if (p->qos)
            fprintf(o, " packet_id=%u", p->packet_id);
    }
    if (!v5)
        return;
    const mqtt_properties *pr = &p->properties;
    if (MQTT_HAS_PROP(pr, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR))
        fprintf(o, " payload_format_indicator=%u", pr->payload_format_indicator);
    if (MQTT_HAS_PROP(pr, MQTT_PROP_CONTENT_TYPE))
        put_str(o, "content_type", pr->content_type);
    if (MQTT_HAS_PROP(pr, MQTT_PROP_RESPONSE_TOPIC))
        put_topic(o, "response_topic", pr->response_topic);
    if (MQTT_HAS_PROP(pr, MQTT_PROP_CORRELATION_DATA))
        put_bin(o, "correlation_data", pr->correlation_data);
    if (!expect) {
        if (MQTT_HAS_PROP(pr, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL))
            fprintf(o, " message_expiry_interval=%u", pr->message_expiry_interval);
        if (MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS))
            fprintf(o, " topic_alias=%u", pr->topic_alias);
    } else {
        for (size_t i = 0; i < pr->subscription_identifier_count; i++)
            fprintf(o, " subscription_identifier=%u", pr->subscription_identifiers[i]);
    }
    put_user_props(o, "user_property", pr);
}

static void client_step(gen *g, size_t i, const mqtt_packet *pkt)
{
    FILE *o = g->o;
    const pcap_item *it = &g->items[i];
    conn_state *cs = &g->cs[it->conn];
    bool v5 = it->version == MQTT_V5;
    unsigned c = it->conn;
    switch (pkt->type) {
    case MQTT_CONNECT: {
        mqtt_packet ack;
        const pcap_item *a = find_connack(g, i, &ack);
        bool shortcut = a && ack.connack.reason_code == 0 && !ack.connack.session_present;
        fprintf(o, shortcut ? "c%u connect" : "c%u send CONNECT", c);
        connect_fields(g, c, &pkt->connect, v5);
        putc('\n', o);
        if (shortcut) {
            cs->skip_connack = true;
            if (v5 && MQTT_HAS_PROP(&ack.connack.properties, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER)) {
                fprintf(o, "c%u capture assigned_client_identifier as c%u_id\n", c, c);
                cs->have_assigned = true;
            }
        }
        break;
    }
    case MQTT_PUBLISH:
        fprintf(o, "c%u send PUBLISH", c);
        publish_fields(o, &pkt->publish, v5, false);
        putc('\n', o);
        break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP:
        /* PUBREL carries the client's own id; the others answer the broker's. */
        if (pkt->type == MQTT_PUBREL)
            fprintf(o, "c%u send PUBREL packet_id=%u", c, pkt->ack.packet_id);
        else
            fprintf(o, "c%u send %s packet_id=${c%u_s%u}", c, mqtt_packet_type_name(pkt->type), c,
                    pkt->ack.packet_id);
        if (v5 && pkt->ack.reason_code)
            fprintf(o, " reason_code=0x%02x", pkt->ack.reason_code);
        if (v5)
            put_user_props(o, "user_property", &pkt->ack.properties);
        putc('\n', o);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        bool sub = pkt->type == MQTT_SUBSCRIBE;
        fprintf(o, "c%u send %s packet_id=%u", c, sub ? "SUBSCRIBE" : "UNSUBSCRIBE",
                pkt->subscribe.packet_id);
        for (size_t k = 0; k < pkt->subscribe.count; k++) {
            const mqtt_subscription *s = &pkt->subscribe.subscriptions[k];
            put_topic(o, "filter", s->topic_filter);
            if (!sub)
                continue;
            fprintf(o, " qos=%u", s->qos);
            if (v5 && s->no_local)
                fputs(" no_local=1", o);
            if (v5 && s->retain_as_published)
                fputs(" retain_as_published=1", o);
            if (v5 && s->retain_handling)
                fprintf(o, " retain_handling=%u", s->retain_handling);
        }
        if (v5) {
            const mqtt_properties *pr = &pkt->subscribe.properties;
            for (size_t k = 0; k < pr->subscription_identifier_count; k++)
                fprintf(o, " subscription_identifier=%u", pr->subscription_identifiers[k]);
            put_user_props(o, "user_property", pr);
        }
        putc('\n', o);
        break;
    }
    case MQTT_PINGREQ:
        fprintf(o, "c%u send PINGREQ\n", c);
        break;
    case MQTT_DISCONNECT:
        fprintf(o, "c%u disconnect", c);
        if (v5 && pkt->disconnect.reason_code)
            fprintf(o, " reason_code=0x%02x", pkt->disconnect.reason_code);
        if (v5 && MQTT_HAS_PROP(&pkt->disconnect.properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL))
            fprintf(o, " session_expiry_interval=%u",
                    pkt->disconnect.properties.session_expiry_interval);
        putc('\n', o);
        cs->client_disconnected = true;
        break;
    case MQTT_AUTH:
        fprintf(o, "c%u send AUTH reason_code=0x%02x", c, pkt->disconnect.reason_code);
        if (MQTT_HAS_PROP(&pkt->disconnect.properties, MQTT_PROP_AUTHENTICATION_METHOD))
            put_str(o, "authentication_method", pkt->disconnect.properties.authentication_method);
        if (MQTT_HAS_PROP(&pkt->disconnect.properties, MQTT_PROP_AUTHENTICATION_DATA))
            put_bin(o, "authentication_data", pkt->disconnect.properties.authentication_data);
        putc('\n', o);
        break;
    default:
        fprintf(o, "# c%u sent %s (not expressible as a step)\n", c,
                mqtt_packet_type_name(pkt->type));
        break;
    }
}

static void server_step(gen *g, size_t i, const mqtt_packet *pkt)
{
    FILE *o = g->o;
    const pcap_item *it = &g->items[i];
    conn_state *cs = &g->cs[it->conn];
    bool v5 = it->version == MQTT_V5;
    unsigned c = it->conn;
    switch (pkt->type) {
    case MQTT_CONNACK:
        if (cs->skip_connack) {
            cs->skip_connack = false;
            break;
        }
        fprintf(o, "c%u expect CONNACK reason_code=0x%02x session_present=%d\n", c,
                pkt->connack.reason_code, pkt->connack.session_present ? 1 : 0);
        if (v5 && MQTT_HAS_PROP(&pkt->connack.properties, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER)) {
            fprintf(o, "c%u capture assigned_client_identifier as c%u_id\n", c, c);
            cs->have_assigned = true;
        }
        break;
    case MQTT_PUBLISH:
        fprintf(o, "c%u expect PUBLISH", c);
        publish_fields(o, &pkt->publish, v5, true);
        putc('\n', o);
        if (pkt->publish.qos)
            fprintf(o, "c%u capture packet_id as c%u_s%u\n", c, c, pkt->publish.packet_id);
        break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBCOMP:
        fprintf(o, "c%u expect %s packet_id=%u", c, mqtt_packet_type_name(pkt->type),
                pkt->ack.packet_id);
        if (v5)
            fprintf(o, " reason_code=0x%02x", pkt->ack.reason_code);
        putc('\n', o);
        break;
    case MQTT_PUBREL:
        fprintf(o, "c%u expect PUBREL packet_id=${c%u_s%u}", c, c, pkt->ack.packet_id);
        if (v5)
            fprintf(o, " reason_code=0x%02x", pkt->ack.reason_code);
        putc('\n', o);
        break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: {
        bool sub = pkt->type == MQTT_SUBACK;
        fprintf(o, "c%u expect %s packet_id=%u", c, sub ? "SUBACK" : "UNSUBACK",
                pkt->suback.packet_id);
        if (sub || v5) {
            fputs(" reason_codes=", o);
            for (size_t k = 0; k < pkt->suback.reason_codes.len; k++)
                fprintf(o, k ? ",%u" : "%u", pkt->suback.reason_codes.ptr[k]);
        }
        putc('\n', o);
        break;
    }
    case MQTT_PINGRESP:
        fprintf(o, "c%u expect PINGRESP\n", c);
        break;
    case MQTT_DISCONNECT:
        fprintf(o, "c%u expect close reason_code=0x%02x\n", c, pkt->disconnect.reason_code);
        cs->server_disconnected = true;
        break;
    case MQTT_AUTH:
        fprintf(o, "c%u expect AUTH reason_code=0x%02x\n", c, pkt->disconnect.reason_code);
        break;
    default:
        fprintf(o, "# the broker sent %s to c%u (not expressible as a step)\n",
                mqtt_packet_type_name(pkt->type), c);
        break;
    }
}

/* What pass 1 learns of the capture: its connections, versions and the
 * capabilities the scenario needs. */
typedef struct {
    unsigned vmask;
    bool sub, unsub, q1, q2, retain, will, session, wild, assigned, shared;
    size_t nclients;
    int64_t first, last;
} survey;

static void survey_connect(gen *g, const pcap_item *it, const mqtt_packet *pkt, survey *sv)
{
    conn_state *cs = &g->cs[it->conn];
    if (it->dir != MQTT_FROM_CLIENT || cs->include)
        return;
    cs->include = true;
    cs->version = it->version;
    sv->vmask |= 1u << (it->version == MQTT_V31 ? 0 : it->version == MQTT_V5 ? 2 : 1);
    sv->nclients++;
    sv->will |= pkt->connect.will;
    sv->session |= !pkt->connect.clean_start ||
                   (MQTT_HAS_PROP(&pkt->connect.properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL) &&
                    pkt->connect.properties.session_expiry_interval > 0);
    sv->assigned |= pkt->connect.client_id.len == 0;
}

static void survey_subscribe(const mqtt_packet *pkt, survey *sv)
{
    sv->sub = true;
    for (size_t k = 0; k < pkt->subscribe.count; k++) {
        mqtt_bytes f = pkt->subscribe.subscriptions[k].topic_filter, a, b;
        sv->q1 |= pkt->subscribe.subscriptions[k].qos == 1;
        sv->q2 |= pkt->subscribe.subscriptions[k].qos == 2;
        sv->shared |= mqtt_shared_split(f, &a, &b);
        for (size_t j = 0; j < f.len; j++)
            sv->wild |= f.ptr[j] == '+' || f.ptr[j] == '#';
    }
}

/* Pass 1: which connections, versions and capabilities. */
static void survey_capture(gen *g, survey *sv)
{
    *sv = (survey){.first = -1};
    for (size_t i = 0; i < g->n; i++) {
        pcap_item *it = &g->items[i];
        if (it->kind == PCAP_EV_OPEN)
            g->cs[it->conn].midstream = it->closer == 1;
        if (it->kind != PCAP_EV_PACKET)
            continue;
        mqtt_packet pkt;
        if (!decode(g, it, &pkt))
            continue;
        if (sv->first < 0)
            sv->first = it->ns;
        sv->last = it->ns;
        if (pkt.type == MQTT_CONNECT)
            survey_connect(g, it, &pkt, sv);
        if (pkt.type == MQTT_PUBLISH) {
            sv->q1 |= pkt.publish.qos == 1;
            sv->q2 |= pkt.publish.qos == 2;
            sv->retain |= pkt.publish.retain;
        }
        if (pkt.type == MQTT_SUBSCRIBE)
            survey_subscribe(&pkt, sv);
        sv->unsub |= pkt.type == MQTT_UNSUBSCRIBE;
    }
}

/* The scenario's header: title, versions, rules, needs, deadline, clients. */
static void write_header(gen *g, const pcap_cli *cli, const survey *sv)
{
    FILE *o = g->o;
    fprintf(o, "# Generated by mqtt-pcap to-scenario from %s.\n", cli->file);
    fputs("# Client packets are sent as recorded; the broker's packets are expected as recorded.\n"
          "# Topics, filters and client ids are moved under the run's namespace ${ns}.\n", o);
    if (cli->title)
        fputs("title    ", o), put_escaped(o, (const uint8_t *)cli->title, strlen(cli->title)),
            putc('\n', o);
    else
        fprintf(o, "title    Replay of the capture %s\n",
                strrchr(cli->file, '/') ? strrchr(cli->file, '/') + 1 : cli->file);
    fputs("versions", o);
    static const char *vn[3] = {"3.1", "3.1.1", "5.0"};
    for (int v = 0; v < 3; v++)
        if (sv->vmask & (1u << v))
            fprintf(o, " %s", vn[v]);
    if (!sv->vmask)
        fputs(" 3.1.1", o);
    putc('\n', o);
    fprintf(o, "rules    MQTT-3.2.0-1%s%s\n", sv->sub ? " MQTT-3.8.4-1" : "",
            sv->unsub ? " MQTT-3.10.4-4" : "");
    if (sv->q1 || sv->q2 || sv->retain || sv->will || sv->session || sv->wild || sv->assigned || sv->shared)
        fprintf(o, "needs   %s%s%s%s%s%s%s%s\n", sv->q1 ? " qos1" : "", sv->q2 ? " qos2" : "",
                sv->retain ? " retain" : "", sv->will ? " will" : "", sv->session ? " session" : "",
                sv->wild ? " wildcards" : "", sv->assigned ? " assigned_client_id" : "",
                sv->shared ? " shared_subscriptions" : "");
    fputs("tags     pcap\n", o);
    int64_t dur = sv->first >= 0 ? (sv->last - sv->first) / 1000000000 : 0;
    fprintf(o, "deadline %llds\n", (long long)(dur + 10));
    fputs("clients ", o);
    for (size_t c = 0; c < g->ncs; c++)
        if (g->cs[c].include)
            fprintf(o, " c%zu", c);
    fputs("\n\n", o);
    for (size_t c = 0; c < g->ncs; c++)
        if (!g->cs[c].include && c > 0)
            fprintf(o, "# connection c%zu is left out: the capture has no CONNECT for it%s\n", c,
                    g->cs[c].midstream ? " (it starts mid-connection)" : "");
}

/* One capture event of an included connection as scenario steps. */
static void write_event(gen *g, size_t i)
{
    FILE *o = g->o;
    const pcap_item *it = &g->items[i];
    conn_state *cs = &g->cs[it->conn];
    switch (it->kind) {
    case PCAP_EV_PACKET: {
        mqtt_packet pkt;
        if (!decode(g, it, &pkt))
            break;
        if (it->dir == MQTT_FROM_CLIENT)
            client_step(g, i, &pkt);
        else
            server_step(g, i, &pkt);
        break;
    }
    case PCAP_EV_BAD:
        if (it->dir == MQTT_FROM_CLIENT) {
            fprintf(o, "c%u send raw", it->conn);
            for (size_t k = 0; k < it->len; k++)
                fprintf(o, k % 16 ? "%02x" : " %02x", it->raw[k]);
            putc('\n', o);
        } else {
            fprintf(o, "# the broker sent %zu bytes to c%u that do not decode\n", it->len,
                    it->conn);
        }
        break;
    case PCAP_EV_GAP:
    case PCAP_EV_RESYNC:
    case PCAP_EV_NOTE:
        fprintf(o, "# c%u %s: %s\n", it->conn, pcap_dir_name((mqtt_side)it->dir),
                it->note ? it->note : "");
        break;
    case PCAP_EV_CLOSE:
        if (it->closer == MQTT_FROM_CLIENT && !cs->client_disconnected)
            fprintf(o, "c%u drop\n", it->conn);
        else if (it->closer == MQTT_FROM_SERVER && !cs->server_disconnected &&
                 !cs->client_disconnected)
            fprintf(o, "c%u expect close\n", it->conn);
        break;
    case PCAP_EV_OPEN:
        break;
    }
}

static void generate(gen *g, const pcap_cli *cli)
{
    survey sv;
    survey_capture(g, &sv);
    if (!sv.nclients) {
        fprintf(stderr, "mqtt-pcap to-scenario: %s: no connection starts with a CONNECT in this "
                        "capture: nothing to replay\n", cli->file);
        g->failed = true;
        return;
    }
    write_header(g, cli, &sv);
    /* Pass 2: the steps, with the client's pauses of a second or more as waits. */
    int64_t prev = sv.first;
    for (size_t i = 0; i < g->n; i++) {
        const pcap_item *it = &g->items[i];
        if (!g->cs[it->conn].include)
            continue;
        bool client_action = (it->kind == PCAP_EV_PACKET || it->kind == PCAP_EV_BAD) &&
                             it->dir == MQTT_FROM_CLIENT;
        client_action |= it->kind == PCAP_EV_CLOSE && it->closer == MQTT_FROM_CLIENT;
        if (client_action && prev >= 0 && it->ns - prev >= 1000000000) {
            int64_t ds = (it->ns - prev) / 100000000;
            fprintf(g->o, "wait %lld.%llds\n", (long long)(ds / 10), (long long)(ds % 10));
        }
        if (it->kind == PCAP_EV_PACKET || it->kind == PCAP_EV_BAD || it->kind == PCAP_EV_CLOSE)
            prev = it->ns;
        write_event(g, i);
    }
}

int pcap_cmd_to_scenario(const pcap_cli *cli)
{
    pcap_collection c = {.cli = cli};
    int rc = pcap_cli_run(cli, pcap_collect_event, &c, NULL);
    if (rc == 2)
        return rc;
    if (c.over) {
        fprintf(stderr, "mqtt-pcap to-scenario: %s: the capture holds more than %zu MiB of packets "
                        "(PCAP_COLLECT_MAX_BYTES, what to-scenario keeps in memory); split it (e.g. with --conn N)\n",
                cli->file, PCAP_COLLECT_MAX_BYTES >> 20);
        pcap_collection_free(&c);
        return 1;
    }
    if (c.oom) {
        fprintf(stderr, "mqtt-pcap to-scenario: out of memory\n");
        rc = 1;
    }
    unsigned maxid = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.items[i].conn > maxid)
            maxid = c.items[i].conn;
    gen *g = calloc(1, sizeof *g);
    FILE *o = stdout;
    if (cli->output && !(o = fopen(cli->output, "w"))) {
        perror(cli->output);
        rc = 2;
    }
    if (g && rc != 2) {
        g->o = o;
        g->items = c.items;
        g->n = c.n;
        g->ncs = (size_t)maxid + 1;
        g->cs = calloc(g->ncs, sizeof *g->cs);
        if (g->cs)
            generate(g, cli);
        if (g->failed)
            rc = 1;
        free(g->cs);
        for (size_t i = 0; i < g->nids; i++)
            free(g->ids[i].recorded);
    }
    if (o != stdout && o && fclose(o) != 0) {
        perror(cli->output);
        rc = 1;
    }
    if (rc && cli->output && o)
        remove(cli->output); /* no half-written scenario left behind */
    free(g);
    pcap_collection_free(&c);
    return rc;
}
