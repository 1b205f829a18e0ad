/*
 * Persistence (broker_persist.c): the journal and the snapshot bring back
 * retained messages and persistent sessions (subscriptions, queued
 * messages, in-flight QoS 1/2 deliveries, incoming QoS 2 awaiting PUBREL)
 * in a new core; clean sessions and QoS 0 are not kept; damaged input
 * (truncated anywhere, a flipped byte) stops at the right offset, keeps
 * what came before, and never crashes.
 */
#include "broker/tests/tc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *data;
    size_t len;
} bytes;

static void append(bytes *b, const void *p, size_t n)
{
    b->data = realloc(b->data, b->len + n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Moves the core's pending journal into j. */
static void take_journal(tc_broker *b, bytes *j)
{
    const uint8_t *d;
    size_t n = broker_core_journal(b->core, &d);
    if (n) append(j, d, n);
    broker_core_journal_done(b->core);
}

static tc_broker *persistent_broker(void)
{
    broker_options o;
    tc_options(&o);
    o.persistence = true;
    return tc_new(&o);
}

static tc_client *connect_persistent(tc_broker *b, const char *id, bool *present)
{
    tc_client *c = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, id, false);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    if (present) *present = ack->connack.session_present;
    return c;
}

/* Builds the state every test restores: see the comments. */
static void build_state(tc_broker *b, bytes *journal)
{
    uint8_t h[17];
    append(journal, h, broker_core_journal_header(1, h, sizeof h));
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "ret/a", "retained-a", 1, true);
    tc_publish_done(pub, "ret/b", "retained-b", 0, true);
    tc_publish_done(pub, "ret/b", "", 0, true); /* deleted */
    /* A persistent subscriber, then offline: two messages queued. */
    tc_client *sub = connect_persistent(b, "sub", NULL);
    tc_subscribe(sub, "q/#", 2);
    tc_subscribe(sub, "gone/#", 1);
    mqtt_packet un;
    memset(&un, 0, sizeof un);
    un.type = MQTT_UNSUBSCRIBE;
    mqtt_subscription us = {.topic_filter = tc_str("gone/#")};
    un.subscribe.packet_id = 77;
    un.subscribe.subscriptions = &us;
    un.subscribe.count = 1;
    tc_send(sub, &un);
    tc_expect(sub, MQTT_UNSUBACK);
    /* Online: a QoS 1 in flight (not acked), a QoS 2 at PUBREL (PUBREC sent). */
    tc_publish_done(pub, "q/inflight1", "m1", 1, false);
    mqtt_publish *m1 = tc_expect_publish(sub, "q/inflight1", "m1");
    (void)m1;
    tc_publish_done(pub, "q/inflight2", "m2", 2, false);
    mqtt_publish *m2 = tc_expect_publish(sub, "q/inflight2", "m2");
    tc_ack(sub, MQTT_PUBREC, m2->packet_id);
    tc_expect(sub, MQTT_PUBREL);
    /* A message completely acknowledged: must not come back. */
    tc_publish_done(pub, "q/done", "m3", 1, false);
    mqtt_publish *m3 = tc_expect_publish(sub, "q/done", "m3");
    tc_ack(sub, MQTT_PUBACK, m3->packet_id);
    tc_drop(sub);
    tc_publish_done(pub, "q/queued1", "m4", 1, false);
    tc_publish_done(pub, "q/queued2", "m5", 2, false);
    tc_publish_done(pub, "q/qos0", "not kept", 0, false);
    /* A persistent publisher with an incoming QoS 2 awaiting PUBREL. */
    tc_client *p2 = connect_persistent(b, "pub2", NULL);
    uint16_t id = tc_publish(p2, "q/rx", "m6", 2, false);
    mqtt_packet *rec = tc_expect(p2, MQTT_PUBREC);
    cr_assert_eq(rec->ack.packet_id, id);
    tc_drop(p2);
    /* A clean session: nothing of it may be kept. */
    tc_client *clean = tc_connect(b, MQTT_V311, "clean", true);
    tc_subscribe(clean, "q/#", 1);
    take_journal(b, journal);
}

/* What a restored broker must deliver. */
static void check_state(tc_broker *b)
{
    tc_client *r = tc_connect(b, MQTT_V311, "reader", true);
    tc_subscribe(r, "ret/#", 1);
    tc_expect_publish(r, "ret/a", "retained-a");
    tc_expect_none(r);

    bool present = false;
    tc_client *sub = connect_persistent(b, "sub", &present);
    cr_assert(present, "session restored");
    mqtt_publish *p = tc_expect_publish(sub, "q/inflight1", "m1");
    cr_assert(p->dup, "in flight before the restart: re-sent with DUP (MQTT-4.4.0-1)");
    mqtt_packet *rel = tc_expect(sub, MQTT_PUBREL);
    tc_ack(sub, MQTT_PUBCOMP, rel->ack.packet_id);
    tc_ack(sub, MQTT_PUBACK, p->packet_id);
    p = tc_expect_publish(sub, "q/queued1", "m4");
    cr_assert_not(p->dup);
    tc_ack(sub, MQTT_PUBACK, p->packet_id);
    p = tc_expect_publish(sub, "q/queued2", "m5");
    cr_assert_eq(p->qos, 2);
    tc_expect_none(sub);
    /* Subscriptions: q/# kept, gone/# removed. */
    tc_client *pub = tc_connect(b, MQTT_V311, "pub-after", true);
    tc_publish_done(pub, "gone/x", "no", 1, false);
    tc_publish_done(pub, "q/live", "yes", 1, false);
    p = tc_expect_publish(sub, "q/live", "yes");
    cr_assert_eq(p->qos, 1);

    /* The incoming QoS 2 completes: PUBREL after the restart delivers it once. */
    tc_client *p2 = connect_persistent(b, "pub2", &present);
    cr_assert(present);
    mqtt_packet rel2;
    memset(&rel2, 0, sizeof rel2);
    rel2.type = MQTT_PUBREL;
    rel2.ack.packet_id = 1;
    tc_send(p2, &rel2);
    tc_expect(p2, MQTT_PUBCOMP);
    tc_expect_publish(sub, "q/rx", "m6");

    tc_client *clean = connect_persistent(b, "clean", &present);
    cr_assert_not(present, "clean sessions are not kept");
    (void)clean;
}

static tc_broker *restore(const bytes *snapshot, const bytes *journal, int *rc_snap, int *rc_journal,
                          broker_restore_info *info)
{
    tc_broker *b = persistent_broker();
    broker_restore_info tmp;
    if (!info) info = &tmp;
    if (snapshot) *rc_snap = broker_core_restore(b->core, snapshot->data, snapshot->len, b->now, info);
    if (journal) *rc_journal = broker_core_restore(b->core, journal->data, journal->len, b->now, info);
    broker_core_restore_done(b->core);
    return b;
}

Test(broker_persist, journal_alone_restores_everything)
{
    tc_broker *b = persistent_broker();
    bytes j = {0};
    build_state(b, &j);
    tc_free(b);
    int rs = 0, rj = -1;
    broker_restore_info info;
    tc_broker *r = restore(NULL, &j, &rs, &rj, &info);
    cr_assert_eq(rj, 0, "stopped at %zu: %s", info.bad_offset, info.why);
    cr_assert_eq(info.kind, 2);
    cr_assert_gt(info.records, 10);
    check_state(r);
    tc_free(r);
    free(j.data);
}

Test(broker_persist, snapshot_then_journal_restores_everything)
{
    tc_broker *b = persistent_broker();
    bytes j = {0};
    build_state(b, &j);
    bytes s = {0};
    broker_core_snapshot(b->core, 2, &s.data, &s.len);
    /* More after the snapshot, in the journal of its generation. */
    bytes j2 = {0};
    uint8_t h[17];
    append(&j2, h, broker_core_journal_header(2, h, sizeof h));
    tc_client *pub = tc_connect(b, MQTT_V311, "late-pub", true);
    tc_publish_done(pub, "late/c", "retained-c", 1, true);
    take_journal(b, &j2);
    tc_free(b);
    int rs = -1, rj = -1;
    broker_restore_info info;
    tc_broker *r = restore(&s, &j2, &rs, &rj, &info);
    cr_assert_eq(rs, 0);
    cr_assert_eq(rj, 0, "stopped at %zu: %s", info.bad_offset, info.why);
    tc_client *c = tc_connect(r, MQTT_V311, "c", true);
    tc_subscribe(c, "late/c", 0);
    tc_expect_publish(c, "late/c", "retained-c");
    check_state(r);
    tc_free(r);
    free(j.data);
    free(j2.data);
    free(s.data);
}

Test(broker_persist, snapshot_of_a_restored_core_is_stable)
{
    tc_broker *b = persistent_broker();
    bytes j = {0};
    build_state(b, &j);
    bytes s1 = {0};
    broker_core_snapshot(b->core, 5, &s1.data, &s1.len);
    tc_free(b);
    int rs = -1;
    tc_broker *r = restore(&s1, NULL, &rs, NULL, NULL);
    cr_assert_eq(rs, 0);
    bytes s2 = {0};
    broker_core_snapshot(r->core, 6, &s2.data, &s2.len);
    cr_assert_eq(s1.len, s2.len, "same state, same size (%zu, %zu)", s1.len, s2.len);
    check_state(r);
    tc_free(r);
    free(j.data);
    free(s1.data);
    free(s2.data);
}

/* Every truncation point: the restore stops where the damage is, keeps the
 * records before it, and never crashes or leaks (ASan). */
Test(broker_persist, truncated_anywhere_reports_offset_and_keeps_prefix)
{
    tc_broker *b = persistent_broker();
    bytes j = {0};
    build_state(b, &j);
    tc_free(b);
    size_t prev_records = 0;
    for (size_t cut = 0; cut < j.len; cut += (cut < 64 ? 1 : 7)) {
        tc_broker *r = persistent_broker();
        broker_restore_info info;
        int rc = broker_core_restore(r->core, j.data, cut, r->now, &info);
        broker_core_restore_done(r->core);
        if (cut < 17) {
            cr_assert_eq(rc, -1);
            cr_assert_eq(info.bad_offset, 0);
        } else if (rc != 0) {
            cr_assert_leq(info.bad_offset, cut);
            cr_assert(strstr(info.why, "truncated"), "%s", info.why);
        }
        cr_assert_geq(info.records, prev_records, "a longer prefix never reads fewer records");
        prev_records = info.records;
        tc_free(r);
    }
    free(j.data);
}

Test(broker_persist, flipped_byte_fails_the_checksum_of_its_record)
{
    tc_broker *b = persistent_broker();
    bytes j = {0};
    build_state(b, &j);
    tc_free(b);
    size_t at = j.len / 2;
    j.data[at] ^= 0x40;
    tc_broker *r = persistent_broker();
    broker_restore_info info;
    int rc = broker_core_restore(r->core, j.data, j.len, r->now, &info);
    broker_core_restore_done(r->core);
    cr_assert_eq(rc, -1);
    cr_assert_leq(info.bad_offset, at);
    cr_assert_gt(info.bad_offset, 16);
    cr_assert(strstr(info.why, "checksum") || strstr(info.why, "truncated"), "%s", info.why);
    tc_free(r);
    free(j.data);
}

Test(broker_persist, garbage_and_wrong_magic_refused)
{
    static const uint8_t junk[] = "MQBPERS1\x07\0\0\0\0\0\0\0\x01garbage";
    tc_broker *r = persistent_broker();
    broker_restore_info info;
    cr_assert_eq(broker_core_restore(r->core, junk, sizeof junk - 1, r->now, &info), -1);
    cr_assert_eq(info.bad_offset, 0);
    cr_assert(strstr(info.why, "bad magic"));
    static const uint8_t rec[] = "MQBPERS1\x02\0\0\0\0\0\0\0\x01"
                                 "\0\0\0\0\x63\0\0\0\0"; /* record type 99 with a wrong CRC */
    cr_assert_eq(broker_core_restore(r->core, rec, sizeof rec - 1, r->now, &info), -1);
    cr_assert_eq(info.bad_offset, 17);
    broker_core_restore_done(r->core);
    tc_free(r);
}

Test(broker_persist, nothing_journaled_without_persistence)
{
    tc_broker *b = tc_new(NULL);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "r", "x", 1, true);
    const uint8_t *d;
    cr_assert_eq(broker_core_journal(b->core, &d), 0);
    tc_free(b);
}

/* A clean session's QoS 2 message is owned by the broker once PUBREC is
 * sent: a crash before PUBREL must not lose it (delivered at restore), and
 * one released or dropped with its session is not delivered again. */
Test(broker_persist, clean_session_qos2_acknowledged_survives)
{
    tc_broker *b = persistent_broker();
    bytes j = {0};
    uint8_t h[17];
    append(&j, h, broker_core_journal_header(1, h, sizeof h));
    tc_client *sub = connect_persistent(b, "sub", NULL);
    tc_subscribe(sub, "x/#", 2);
    tc_drop(sub);
    tc_client *pub = tc_connect(b, MQTT_V5, "clean-pub", true);
    tc_publish(pub, "x/pending", "owned by the broker", 2, false);
    tc_expect(pub, MQTT_PUBREC);
    tc_publish_done(pub, "x/released", "once", 2, false);
    tc_client *gone = tc_connect(b, MQTT_V311, "gone", true);
    tc_publish(gone, "x/dropped", "left with its session", 2, false);
    tc_expect(gone, MQTT_PUBREC);
    tc_drop(gone);
    take_journal(b, &j);
    tc_free(b); /* the crash */
    int rs = 0, rj = -1;
    broker_restore_info info;
    tc_broker *r = restore(NULL, &j, &rs, &rj, &info);
    cr_assert_eq(rj, 0, "%s", info.why);
    cr_assert(tc_log_has(r, "1 QoS 2 message of clean sessions"));
    tc_client *s2 = connect_persistent(r, "sub", NULL);
    tc_expect_publish(s2, "x/released", "once");
    mqtt_publish *p = tc_expect_publish(s2, "x/pending", "owned by the broker");
    cr_assert_eq(p->qos, 2);
    tc_expect_none(s2);
    tc_free(r);
    free(j.data);
}
