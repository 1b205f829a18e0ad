/*
 * pcap_check: each exchange rule on a capture that breaks exactly it, the
 * rule id it reports (keyed by version), silence on correct traffic, and
 * every id it can report being a real normative statement of its version.
 */
#include "helpers.h"

#include "conformance/src/spec_ids.h"
#include "pcaps/src/pcap_check.h"

#define CLI PCAP_WRITER_CLIENT
#define SRV PCAP_WRITER_SERVER

typedef struct {
    pcap_checker *k;
    char rules[1024];
    char whats[256];  /* the packet each violation names, space-separated */
    size_t n;
} vlog;

static void on_violation(void *ctx, const pcap_violation *v)
{
    vlog *l = ctx;
    l->n++;
    size_t len = strlen(l->rules);
    snprintf(l->rules + len, sizeof l->rules - len, "%s%s@%s", len ? " " : "", v->rule,
             mqtt_version_name(v->version));
    len = strlen(l->whats);
    snprintf(l->whats + len, sizeof l->whats - len, "%s%s", len ? " " : "", v->what);
}

static void on_event(void *ctx, const pcap_event *ev)
{
    pcap_checker_event(((vlog *)ctx)->k, ev);
}

static const char *check(mem_cap *m, vlog *l)
{
    memset(l, 0, sizeof *l);
    l->k = pcap_checker_new(on_violation, l);
    flow_each(m, on_event, l);
    pcap_checker_free(l->k);
    return l->rules;
}

/* Writes packets, each (side, bytes) as its own send. */
typedef struct {
    mem_cap m;
    pcap_writer_conn c;
    mqtt_version v;
    uint8_t b[2048];
} session;

static void open_session(session *s, mqtt_version v, bool connack)
{
    cap_open(&s->m, PCAP_WRITER_ETHERNET);
    s->v = v;
    cr_assert_eq(pcap_writer_conn_init_text(&s->c, "127.0.0.1", 45000, "127.0.0.1", 1883), 0);
    pcap_writer_handshake(s->m.w, &s->c, s->m.t++);
    size_t n = enc_connect(v, "chk", s->b, sizeof s->b);
    pcap_writer_send(s->m.w, &s->c, CLI, s->b, n, s->m.t++);
    if (connack) {
        n = enc_connack(v, 0, s->b, sizeof s->b);
        pcap_writer_send(s->m.w, &s->c, SRV, s->b, n, s->m.t++);
    }
}

static void put(session *s, int side, size_t n)
{
    pcap_writer_send(s->m.w, &s->c, side, s->b, n, s->m.t++);
}

static const char *finish(session *s, vlog *l)
{
    pcap_writer_fin(s->m.w, &s->c, CLI, s->m.t++);
    cap_close(&s->m);
    const char *r = check(&s->m, l);
    cap_free(&s->m);
    return r;
}

Test(check, clean_qos2_exchange_has_no_violation)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V5, true);
    put(&s, CLI, enc_publish(s.v, MQTT_FROM_CLIENT, 2, 7, "a", "b", 1, s.b, sizeof s.b));
    put(&s, SRV, enc_ack(s.v, MQTT_FROM_SERVER, MQTT_PUBREC, 7, s.b, sizeof s.b));
    put(&s, CLI, enc_ack(s.v, MQTT_FROM_CLIENT, MQTT_PUBREL, 7, s.b, sizeof s.b));
    put(&s, SRV, enc_ack(s.v, MQTT_FROM_SERVER, MQTT_PUBCOMP, 7, s.b, sizeof s.b));
    put(&s, CLI, enc_simple(s.v, MQTT_FROM_CLIENT, MQTT_DISCONNECT, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "");
}

Test(check, publish_before_connack)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V311, false);
    put(&s, SRV, enc_publish(s.v, MQTT_FROM_SERVER, 0, 0, "a", "b", 1, s.b, sizeof s.b));
    put(&s, SRV, enc_connack(s.v, 0, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.2.0-1@3.1.1");
}

Test(check, pubrel_with_unknown_id)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V5, true);
    put(&s, CLI, enc_ack(s.v, MQTT_FROM_CLIENT, MQTT_PUBREL, 99, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-2.2.1-5@5.0");
}

Test(check, qos3_is_reported_with_the_codec_rule)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V311, true);
    size_t n = enc_publish(s.v, MQTT_FROM_CLIENT, 1, 3, "a", "b", 1, s.b, sizeof s.b);
    s.b[0] |= 0x06;
    put(&s, CLI, n);
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.3.1-4@3.1.1");
}

Test(check, packet_id_reused_while_in_flight)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V311, true);
    put(&s, CLI, enc_publish(s.v, MQTT_FROM_CLIENT, 1, 4, "a", "1", 1, s.b, sizeof s.b));
    put(&s, CLI, enc_publish(s.v, MQTT_FROM_CLIENT, 1, 4, "a", "2", 1, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-2.3.1-2@3.1.1");
}

Test(check, suback_count_mismatch)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V5, true);
    mqtt_subscription subs[2] = {{.topic_filter = {(const uint8_t *)"a/+", 3}, .qos = 1},
                                 {.topic_filter = {(const uint8_t *)"b/#", 3}, .qos = 0}};
    mqtt_packet p = {.type = MQTT_SUBSCRIBE};
    p.subscribe.packet_id = 2;
    p.subscribe.subscriptions = subs;
    p.subscribe.count = 2;
    put(&s, CLI, enc(s.v, MQTT_FROM_CLIENT, &p, s.b, sizeof s.b));
    uint8_t rc = 1;
    mqtt_packet a = {.type = MQTT_SUBACK};
    a.suback.packet_id = 2;
    a.suback.reason_codes = (mqtt_bytes){&rc, 1};
    put(&s, SRV, enc(s.v, MQTT_FROM_SERVER, &a, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.8.4-6@5.0");
}

Test(check, delivery_above_granted_qos)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V311, true);
    mqtt_subscription sub = {.topic_filter = {(const uint8_t *)"s/+", 3}, .qos = 0};
    mqtt_packet p = {.type = MQTT_SUBSCRIBE};
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = &sub;
    p.subscribe.count = 1;
    put(&s, CLI, enc(s.v, MQTT_FROM_CLIENT, &p, s.b, sizeof s.b));
    uint8_t rc = 0;
    mqtt_packet a = {.type = MQTT_SUBACK};
    a.suback.packet_id = 1;
    a.suback.reason_codes = (mqtt_bytes){&rc, 1};
    put(&s, SRV, enc(s.v, MQTT_FROM_SERVER, &a, s.b, sizeof s.b));
    put(&s, SRV, enc_publish(s.v, MQTT_FROM_SERVER, 1, 1, "s/x", "v", 1, s.b, sizeof s.b));
    put(&s, CLI, enc_ack(s.v, MQTT_FROM_CLIENT, MQTT_PUBACK, 1, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.8.4-6@3.1.1");
}

Test(check, packet_after_disconnect_and_second_connect)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V5, true);
    put(&s, CLI, enc_connect(s.v, "again", s.b, sizeof s.b));
    put(&s, CLI, enc_simple(s.v, MQTT_FROM_CLIENT, MQTT_DISCONNECT, s.b, sizeof s.b));
    put(&s, CLI, enc_simple(s.v, MQTT_FROM_CLIENT, MQTT_PINGREQ, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.1.0-2@5.0 MQTT-3.14.4-1@5.0");
}

Test(check, v5_limits_from_connack)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V5, false);
    mqtt_packet a = {.type = MQTT_CONNACK};
    a.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS) |
                                   MQTT_PROP_BIT(MQTT_PROP_RETAIN_AVAILABLE);
    a.connack.properties.maximum_qos = 1;
    a.connack.properties.retain_available = 0;
    put(&s, SRV, enc(s.v, MQTT_FROM_SERVER, &a, s.b, sizeof s.b));
    mqtt_packet p = {.type = MQTT_PUBLISH};
    p.publish.qos = 2;
    p.publish.packet_id = 1;
    p.publish.retain = true;
    p.publish.topic = (mqtt_bytes){(const uint8_t *)"t", 1};
    put(&s, CLI, enc(s.v, MQTT_FROM_CLIENT, &p, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.2.2-11@5.0 MQTT-3.2.2-14@5.0");
}

Test(check, keep_alive_not_enforced_by_server)
{
    session s;
    vlog l;
    open_session(&s, MQTT_V311, true); /* keep alive 60 s */
    s.m.t += 95 * 1000000LL;            /* silent for 95 s > 1.5 x 60 s */
    put(&s, CLI, enc_simple(s.v, MQTT_FROM_CLIENT, MQTT_PINGREQ, s.b, sizeof s.b));
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.1.2-24@3.1.1");
}

static bool listed(const char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

Test(check, every_reported_rule_is_a_normative_statement)
{
    for (size_t i = 0; pcap_check_rules[i]; i += 2) {
        bool v5 = pcap_check_rules[i][0] == '5';
        cr_expect(v5 ? listed(conf_ids_5, conf_ids_5_count, pcap_check_rules[i + 1])
                     : listed(conf_ids_311, conf_ids_311_count, pcap_check_rules[i + 1]),
                  "%s is not an id of %s", pcap_check_rules[i + 1], v5 ? "5.0" : "3.1.1");
    }
}

/* A rejected packet names its type (the text output prints it): a broken
 * CONNECT reads "CONNECT", a broken PUBLISH "PUBLISH". */
Test(check, rejected_packets_name_their_type)
{
    session s;
    vlog l;
    cap_open(&s.m, PCAP_WRITER_ETHERNET);
    s.v = MQTT_V311;
    cr_assert_eq(pcap_writer_conn_init_text(&s.c, "127.0.0.1", 45000, "127.0.0.1", 1883), 0);
    pcap_writer_handshake(s.m.w, &s.c, s.m.t++);
    size_t n = enc_connect(s.v, "chk", s.b, sizeof s.b);
    s.b[9] |= 0x01; /* the CONNECT's reserved flag (MQTT-3.1.2-3) */
    put(&s, CLI, n);
    n = enc_connack(s.v, 0, s.b, sizeof s.b);
    put(&s, SRV, n);
    n = enc_publish(s.v, MQTT_FROM_CLIENT, 1, 3, "a", "b", 1, s.b, sizeof s.b);
    s.b[0] |= 0x06;
    put(&s, CLI, n);
    cr_assert_str_eq(finish(&s, &l), "MQTT-3.1.2-3@3.1.1 MQTT-3.3.1-4@3.1.1");
    cr_assert_str_eq(l.whats, "CONNECT PUBLISH");
}
