/*
 * The persistence files under faults (broker_store.c, issue 14:
 * "acknowledged means stored"). Faults are injected in the test binary
 * only (tc_count.c wraps fdatasync and rename): a failed journal sync keeps
 * the journal bytes so the loop holds the acknowledgements; a failed
 * rotation never leaves records in a journal restart would ignore; a
 * snapshot cut at a record boundary or a damaged file is a start-up error,
 * never silent loss; the autosave interval does not wrap.
 */
#include "broker/src/broker_store.h"
#include "broker/tests/tc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/mqtt-store-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static tc_broker *persistent_broker(void)
{
    broker_options o;
    tc_options(&o);
    o.persistence = true;
    return tc_new(&o);
}

static broker_store *open_store(tc_broker *b, uint32_t autosave)
{
    char err[600] = "";
    broker_store *st = broker_store_open(b->core, dir, "t.db", autosave, NULL, NULL, b->now, err, sizeof err);
    cr_assert_not_null(st, "%s", err);
    return st;
}

static tc_client *connect_persistent(tc_broker *b, const char *id, bool expect_present)
{
    tc_client *c = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, id, false);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    cr_assert_eq(ack->connack.session_present, expect_present);
    return c;
}

/* A restart: a new core reads the files; the session gets `n` messages. */
static void expect_restored(int n)
{
    tc_broker *b = persistent_broker();
    broker_store *st = open_store(b, 0);
    tc_client *c = connect_persistent(b, "keeper", true);
    for (int i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof want, "m%d", i);
        mqtt_publish *p = tc_expect_publish(c, "q", want);
        tc_ack(c, MQTT_PUBACK, p->packet_id);
    }
    tc_expect_none(c);
    broker_store_close(st, NULL);
    tc_free(b);
}

/* keeper subscribes and goes offline; pub sends m<from>..m<to-1> at QoS 1. */
static void publish_range(tc_client *pub, int from, int to)
{
    for (int i = from; i < to; i++) {
        char payload[16];
        snprintf(payload, sizeof payload, "m%d", i);
        tc_publish(pub, "q", payload, 1, false);
    }
}

static tc_client *setup(tc_broker *b)
{
    tc_client *keeper = connect_persistent(b, "keeper", false);
    tc_subscribe(keeper, "q", 1);
    tc_drop(keeper);
    return tc_connect(b, MQTT_V311, "pub", true);
}

Test(broker_store, a_failed_sync_keeps_the_journal_until_one_succeeds)
{
    make_dir();
    tc_broker *b = persistent_broker();
    broker_store *st = open_store(b, 0);
    tc_client *pub = setup(b);
    cr_assert(broker_store_sync(st, b->core));
    publish_range(pub, 0, 10);
    const uint8_t *d;
    size_t pending = broker_core_journal(b->core, &d);
    cr_assert_gt(pending, 0);
    tc_fail_fdatasync = EIO;
    cr_assert_not(broker_store_sync(st, b->core), "a failed sync must say so: the loop holds the acks");
    cr_assert_eq(broker_core_journal(b->core, &d), pending, "the journal bytes are kept for the retry");
    cr_assert_not(broker_store_sync(st, b->core));
    tc_fail_fdatasync = 0;
    cr_assert(broker_store_sync(st, b->core));
    cr_assert_eq(broker_core_journal(b->core, &d), 0);
    broker_store_close(st, NULL); /* a crash: no final snapshot */
    tc_free(b);
    expect_restored(10);
    remove_dir();
}

Test(broker_store, a_failed_rotation_loses_nothing)
{
    make_dir();
    tc_broker *b = persistent_broker();
    broker_store *st = open_store(b, 1);
    tc_client *pub = setup(b);
    publish_range(pub, 0, 5);
    cr_assert(broker_store_sync(st, b->core));
    /* The snapshot is renamed into place, the new journal is not. */
    tc_fail_rename_suffix = ".journal";
    b->now += 2000;
    broker_store_tick(st, b->core, b->now);
    publish_range(pub, 5, 10);
    bool synced = broker_store_sync(st, b->core);
    tc_fail_rename_suffix = NULL;
    if (!synced) cr_assert(broker_store_sync(st, b->core), "the retry succeeds once the fault is gone");
    broker_store_close(st, NULL); /* a crash */
    tc_free(b);
    expect_restored(10);
    remove_dir();
}

Test(broker_store, a_snapshot_cut_at_a_record_boundary_is_a_start_up_error)
{
    make_dir();
    tc_broker *b = persistent_broker();
    broker_store *st = open_store(b, 0);
    tc_client *pub = setup(b);
    publish_range(pub, 0, 10);
    broker_store_close(st, b->core); /* clean: final snapshot, empty journal */
    tc_free(b);
    char path[128];
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    /* Cut before the last record (a QoS 1 message queued for keeper): the
     * records are whole, so only a length or an end record tells. */
    size_t len;
    FILE *f = fopen(path, "rb");
    uint8_t *data = malloc((size_t)sb.st_size);
    len = fread(data, 1, (size_t)sb.st_size, f);
    fclose(f);
    size_t cuts[2] = {17, 0};
    /* the start of the last record: walk the records */
    for (size_t off = 17; off + 4 <= len;) {
        uint32_t n = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 | (uint32_t)data[off + 2] << 8 | data[off + 3];
        size_t next = off + 4 + 1 + n + 4;
        if (next >= len) {
            cuts[1] = off;
            break;
        }
        off = next;
    }
    cr_assert_gt(cuts[1], 17);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(truncate(path, (off_t)cuts[i]), 0);
        tc_broker *r = persistent_broker();
        char err[600] = "";
        broker_store *rs = broker_store_open(r->core, dir, "t.db", 0, NULL, NULL, r->now, err, sizeof err);
        cr_assert_null(rs, "a snapshot cut at byte %zu loaded as valid", cuts[i]);
        cr_assert(strstr(err, "t.db") && strstr(err, "offset"), "%s", err);
        tc_free(r);
        f = fopen(path, "wb");
        fwrite(data, 1, len, f);
        fclose(f);
    }
    free(data);
    remove_dir();
}

Test(broker_store, autosave_interval_does_not_wrap)
{
    make_dir();
    tc_broker *b = persistent_broker();
    broker_store *st = open_store(b, 4294968); /* x 1000 wraps 32 bits to 704 ms */
    int64_t next = broker_store_tick(st, b->core, b->now + 1);
    cr_assert_eq(next, b->now + (int64_t)4294968 * 1000);
    broker_store_close(st, NULL);
    tc_free(b);
    remove_dir();
}
