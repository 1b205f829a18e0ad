/* Tests of bench_track (loss / duplicates / order per pair), the payload
 * stamp and the option parser's refusals. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "bench/src/bench_opts.h"
#include "bench/src/bench_payload.h"
#include "bench/src/bench_track.h"

Test(bench_track, in_order_sequence_has_no_dups_or_reordering)
{
    bench_track t;
    bench_track_init(&t);
    for (uint64_t s = 0; s < 10000; s++) cr_assert_eq(bench_track_add(&t, 7, 0, s), TRACK_NEW);
    const bench_pair *p = bench_track_get(&t, 7, 0);
    cr_assert_eq(p->distinct, 10000);
    cr_assert_eq(p->dups, 0);
    cr_assert_eq(p->ooo, 0);
    cr_assert_eq(p->next, 10000);
    cr_assert_null(bench_track_get(&t, 8, 0), "another run is another pair");
    bench_track_free(&t);
}

Test(bench_track, counts_duplicates_reordering_and_gaps)
{
    bench_track t;
    bench_track_init(&t);
    const uint64_t seqs[] = {0, 1, 3, 2, 2, 5, 4, 4, 6, 9};
    const track_result want[] = {TRACK_NEW, TRACK_NEW, TRACK_NEW, TRACK_OOO, TRACK_DUP,
                                 TRACK_NEW, TRACK_OOO, TRACK_DUP, TRACK_NEW, TRACK_NEW};
    for (size_t i = 0; i < sizeof seqs / sizeof *seqs; i++)
        cr_assert_eq(bench_track_add(&t, 1, 3, seqs[i]), want[i], "step %zu", i);
    const bench_pair *p = bench_track_get(&t, 1, 3);
    cr_assert_eq(p->distinct, 8);
    cr_assert_eq(p->dups, 2);
    cr_assert_eq(p->ooo, 2);
    cr_assert_eq(p->next - p->distinct, 2, "7 and 8 are missing");
    cr_assert(!bench_pair_has(p, 7) && bench_pair_has(p, 9));
    bench_track_free(&t);
}

Test(bench_track, many_publishers_and_absurd_sequence_numbers)
{
    bench_track t;
    bench_track_init(&t);
    for (uint32_t pub = 0; pub < 1000; pub++) bench_track_add(&t, 5, pub, pub);
    for (uint32_t pub = 0; pub < 1000; pub++) cr_assert_eq(bench_track_get(&t, 5, pub)->distinct, 1);
    cr_assert_eq(bench_track_add(&t, 5, 1, BENCH_TRACK_MAX_SEQ), TRACK_REJECT, "no 512 MiB bit set");
    bench_track_free(&t);
}

Test(bench_payload, stamp_round_trip_and_refusals)
{
    uint8_t buf[64];
    bench_stamp s = {.run_id = 0xdeadbeef, .pub = 42, .flags = BENCH_PF_WARMUP, .seq = 1ull << 40,
                     .due = 123456789012345, .sent = 123456789012999}, back;
    bench_stamp_write(buf, &s);
    cr_assert(bench_stamp_read(buf, sizeof buf, &back));
    cr_assert_eq(back.run_id, s.run_id);
    cr_assert_eq(back.pub, 42);
    cr_assert_eq(back.seq, s.seq);
    cr_assert_eq(back.due, s.due);
    cr_assert_eq(back.sent, s.sent);
    cr_assert_eq(back.flags, BENCH_PF_WARMUP);
    cr_assert(!bench_stamp_read(buf, BENCH_PAYLOAD_HEADER - 1, &back), "too short");
    buf[0] = 'X';
    cr_assert(!bench_stamp_read(buf, sizeof buf, &back), "wrong magic");
}

static int parse(bench_opts *o, const char *line)
{
    static char copy[512]; /* the options point into argv */
    char *argv[32];
    int argc = 0;
    snprintf(copy, sizeof copy, "mqtt-bench %s", line);
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    int rc = bench_opts_parse(o, argc, argv);
    return rc;
}

Test(bench_opts, the_issue_command_line_parses)
{
    bench_opts o;
    cr_assert_eq(parse(&o, "pubsub --broker 127.0.0.1:1999 --publishers 2 --subscribers 3 --qos 1 "
                           "--rate 2000 --duration 10 --json out.json"), 0);
    cr_assert_eq(o.mode, BENCH_PUBSUB);
    cr_assert_str_eq(o.host, "127.0.0.1");
    cr_assert_eq(o.port, 1999);
    cr_assert_eq(o.publishers, 2);
    cr_assert_eq(o.subscribers, 3);
    cr_assert_eq(o.clients, 5);
    cr_assert_eq(o.qos, 1);
    cr_assert_eq(o.sub_qos, 1);
    cr_assert_eq(o.rate, 2000);
    cr_assert_str_eq(o.json, "out.json");
    bench_opts_free(&o);
    cr_assert_eq(parse(&o, "pub -h localhost -p 1884 -c 7 -q 2 -s 100-200 -V 5 -L 50"), 0);
    cr_assert_eq(o.publishers, 7);
    cr_assert_eq(o.subscribers, 0);
    cr_assert_eq(o.payload_min, 100);
    cr_assert_eq(o.payload_max, 200);
    cr_assert_eq(o.version, MQTT_V5);
    cr_assert_eq(o.count, 50);
    bench_opts_free(&o);
}

Test(bench_opts, bad_values_are_refused, .init = cr_redirect_stderr)
{
    bench_opts o;
    const char *bad[] = {"pubsub --qos 3", "pubsub --size 10", "pubsub --rate fast", "pubsub --size 90-50",
                         "pubsub --broker http://h:1", "pubsub --broker :", "pubsub --mqtt 4.0",
                         "pubsub --shared g", "pubsub --clients 3", "fly", "pubsub --nope",
                         "conn --clients 0", "pubsub --cert a", "merge", "pubsub --rx-time never",
                         "pubsub --broker ws://u@h:1/mqtt", "sub --publishers 2", "pub --slow-subscribers 1",
                         "pubsub --qos0-window -1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(parse(&o, bad[i]), -1, "accepted: %s", bad[i]);
        bench_opts_free(&o);
    }
}

Test(bench_track, unordered_retained_is_not_out_of_order)
{
    bench_track t;
    bench_track_init(&t);
    cr_assert_eq(bench_track_add(&t, 7, 0, 5), TRACK_NEW);
    cr_assert_eq(bench_track_add(&t, 7, 0, 2), TRACK_OOO);
    bench_track_unorder(&t, 7, 0);
    cr_assert_eq(bench_track_add(&t, 7, 0, 1), TRACK_OOO); /* still judged when not retained */
    const bench_pair *p = bench_track_get(&t, 7, 0);
    cr_assert_eq(p->ooo, 1);
    cr_assert_eq(p->distinct, 3);
    bench_track_free(&t);
}

Test(bench_opts, websocket_urls)
{
    bench_opts o;
    cr_assert_eq(parse(&o, "pubsub --broker wss://example.org/mqtt?x=1"), 0);
    cr_assert(o.ws);
    cr_assert_eq(o.transport, BENCH_TLS);
    cr_assert_eq(o.port, 443);
    cr_assert_str_eq(o.host, "example.org");
    cr_assert_str_eq(o.ws_path, "/mqtt?x=1");
    bench_opts_free(&o);
    cr_assert_eq(parse(&o, "pubsub --broker ws://127.0.0.1:8080"), 0);
    cr_assert(o.ws);
    cr_assert_eq(o.transport, BENCH_TCP);
    cr_assert_eq(o.port, 8080);
    cr_assert_str_eq(o.ws_path, "/");
    bench_opts_free(&o);
}

Test(bench_opts, sub_told_what_comes)
{
    bench_opts o;
    cr_assert_eq(parse(&o, "sub --publishers 3 --count 100 -c 2"), 0);
    cr_assert_eq(o.expect_pubs, 3);
    cr_assert_eq(o.publishers, 0);
    cr_assert_eq(o.subscribers, 2);
    cr_assert_eq(o.clients, 2);
    bench_opts_free(&o);
    cr_assert_eq(parse(&o, "pubsub --subscribers 2 --slow-subscribers 3"), 0);
    cr_assert_eq(o.clients, 6);
    bench_opts_free(&o);
}

Test(bench_opts, topic_patterns_expand)
{
    char *s = bench_expand("a/%i/%c/%%/%i%i", 12, "cid");
    cr_assert_str_eq(s, "a/12/cid/%/1212");
    free(s);
}
