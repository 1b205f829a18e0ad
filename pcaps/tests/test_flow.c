/*
 * pcap_flow and pcap_tcp through whole captures: TCP reassembly cases (out
 * of order, retransmission, overlap, many packets per segment, one packet
 * over many segments, gaps, mid-connection start), MQTT detection by port
 * and by CONNECT, version learning and guessing, and rejected packets with
 * their rule ids. Captures are written in memory by pcap_writer.
 */
#include "helpers.h"
#include "scripts/decode_count.h"

#define CLI PCAP_WRITER_CLIENT
#define SRV PCAP_WRITER_SERVER

/* A connection with its handshake written; seq numbers are in c.seq[]. */
static void start_conn(mem_cap *m, pcap_writer_conn *c, uint16_t sport)
{
    cr_assert_eq(pcap_writer_conn_init_text(c, "192.168.1.10", 50000, "192.168.1.1", sport), 0);
    cr_assert_eq(pcap_writer_handshake(m->w, c, m->t++), 0);
}

static void send_bytes(mem_cap *m, pcap_writer_conn *c, int side, const uint8_t *p, size_t n)
{
    cr_assert_eq(pcap_writer_send(m->w, c, side, p, n, m->t++), 0);
}

/* Writes one segment at an explicit offset from the side's current seq. */
static void seg_at(mem_cap *m, pcap_writer_conn *c, int side, uint32_t off, const uint8_t *p,
                   size_t n)
{
    cr_assert_eq(pcap_writer_segment(m->w, c, side, 0x18, c->seq[side] + off, c->seq[!side], p, n,
                                     m->t++),
                 0);
}

static const char *flow_of(mem_cap *m, ev_log *l)
{
    char err[512] = "";
    int rc = run_flow(m->buf, m->len, NULL, 0, l, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    return l->text;
}

Test(flow, several_packets_in_one_segment_and_close)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V311, "a", b, sizeof b);
    n += enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 0, 0, "t", "xyz", 3, b + n, sizeof b - n);
    n += enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_PINGREQ, b + n, sizeof b - n);
    send_bytes(&m, &c, CLI, b, n);
    n = enc_connack(MQTT_V311, 0, b, sizeof b);
    n += enc_simple(MQTT_V311, MQTT_FROM_SERVER, MQTT_PINGRESP, b + n, sizeof b - n);
    send_bytes(&m, &c, SRV, b, n);
    pcap_writer_fin(m.w, &c, CLI, m.t++);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l),
                     "OPEN|C>S CONNECT|C>S PUBLISH 3|C>S PINGREQ|S>C CONNACK|S>C PINGRESP|CLOSE");
    cap_free(&m);
}

Test(flow, one_packet_over_many_segments)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_RAW);
    pcap_writer_set_mss(m.w, 7);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[4096], payload[3000];
    memset(payload, 'p', sizeof payload);
    size_t n = enc_connect(MQTT_V5, "big", b, sizeof b);
    n += enc_publish(MQTT_V5, MQTT_FROM_CLIENT, 1, 9, "t/big", payload, sizeof payload, b + n,
                     sizeof b - n);
    send_bytes(&m, &c, CLI, b, n);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|C>S PUBLISH 3000|CLOSE");
    cap_free(&m);
}

Test(flow, out_of_order_retransmission_and_overlap)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V311, "ooo", b, sizeof b);
    n += enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 0, 0, "a/b", "0123456789", 10, b + n,
                     sizeof b - n);
    cr_assert(n > 30);
    /* Third piece first, then the first, a retransmission of the first, then
     * the middle overlapping both neighbours. */
    seg_at(&m, &c, CLI, 20, b + 20, n - 20);
    seg_at(&m, &c, CLI, 0, b, 12);
    seg_at(&m, &c, CLI, 0, b, 12);
    seg_at(&m, &c, CLI, 8, b + 8, 16);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|C>S PUBLISH 10|CLOSE");
    cap_free(&m);
}

Test(flow, gap_inside_a_known_packet_keeps_framing)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[8192], payload[4000];
    memset(payload, 'q', sizeof payload);
    size_t n1 = enc_connect(MQTT_V311, "gap", b, sizeof b);
    size_t n2 = enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 0, 0, "t", payload, sizeof payload,
                            b + n1, sizeof b - n1);
    size_t n3 = enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_PINGREQ, b + n1 + n2, 64);
    /* CONNECT and the PUBLISH's first 100 bytes, then (lost: 1000 bytes), then the rest. */
    seg_at(&m, &c, CLI, 0, b, n1 + 100);
    uint32_t rest = (uint32_t)(n1 + 1100);
    seg_at(&m, &c, CLI, rest, b + rest, n1 + n2 + n3 - rest);
    /* The server acknowledges everything: the hole is a capture loss. */
    pcap_writer_segment(m.w, &c, SRV, 0x10, c.seq[SRV], c.seq[CLI] + (uint32_t)(n1 + n2 + n3),
                        NULL, 0, m.t++);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|C>S GAP 1000|C>S PINGREQ|CLOSE");
    cap_free(&m);
}

Test(flow, gap_between_packets_resynchronises)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[1024];
    size_t n = enc_connect(MQTT_V311, "rs", b, sizeof b);
    size_t start_lost = n;
    for (int i = 0; i < 6; i++)
        n += enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 1, (uint16_t)(i + 1), "x/y", "data", 4,
                         b + n, sizeof b - n);
    /* Lose the first publish and half of the second: the stream resumes mid-packet. */
    size_t one = (n - start_lost) / 6;
    size_t resume = start_lost + one + one / 2;
    seg_at(&m, &c, CLI, 0, b, start_lost);
    seg_at(&m, &c, CLI, (uint32_t)resume, b + resume, n - resume);
    pcap_writer_segment(m.w, &c, SRV, 0x10, c.seq[SRV], c.seq[CLI] + (uint32_t)n, NULL, 0,
                        m.t++);
    cap_close(&m);
    ev_log l;
    const char *got = flow_of(&m, &l);
    char want[256];
    snprintf(want, sizeof want,
             "OPEN|C>S CONNECT|C>S GAP %zu|C>S RESYNC %zu|C>S PUBLISH 4|C>S PUBLISH 4|C>S "
             "PUBLISH 4|C>S PUBLISH 4|CLOSE",
             resume - start_lost, one - one / 2);
    cr_assert_str_eq(got, want);
    cap_free(&m);
}

Test(flow, midstream_start_resynchronises_and_guesses_version)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    cr_assert_eq(pcap_writer_conn_init_text(&c, "10.1.1.1", 41000, "10.1.1.2", 1883), 0);
    uint8_t b[1024];
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        n += enc_publish(MQTT_V5, MQTT_FROM_SERVER, 1, (uint16_t)(i + 1), "m/s", "hello", 5,
                         b + n, sizeof b - n);
    /* No handshake: the capture starts 3 bytes into the first packet. */
    seg_at(&m, &c, SRV, 0, b + 3, n - 3);
    uint8_t a[16];
    size_t an = enc_ack(MQTT_V5, MQTT_FROM_CLIENT, MQTT_PUBACK, 2, a, sizeof a);
    seg_at(&m, &c, CLI, 0, a, an);
    cap_close(&m);
    ev_log l;
    char want[256];
    size_t one = n / 4;
    snprintf(want, sizeof want,
             "OPEN midstream|S>C RESYNC %zu|S>C PUBLISH 5|S>C PUBLISH 5|S>C PUBLISH 5|C>S RESYNC "
             "0|C>S PUBACK|CLOSE",
             one - 3);
    cr_assert_str_eq(flow_of(&m, &l), want);
    cap_free(&m);
}

Test(flow, connect_detected_on_another_port_and_other_traffic_ignored)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c, h;
    start_conn(&m, &c, 8883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V5, "det", b, sizeof b);
    send_bytes(&m, &c, CLI, b, n);
    n = enc_connack(MQTT_V5, 0, b, sizeof b);
    send_bytes(&m, &c, SRV, b, n);
    /* An HTTP connection on port 8080: not MQTT, not reported. */
    cr_assert_eq(pcap_writer_conn_init_text(&h, "192.168.1.10", 50001, "192.168.1.1", 8080), 0);
    pcap_writer_handshake(m.w, &h, m.t++);
    send_bytes(&m, &h, CLI, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|S>C CONNACK|CLOSE");
    cr_assert_eq(l.conns, 1);
    cap_free(&m);
}

Test(flow, port_option_makes_midstream_traffic_mqtt)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    cr_assert_eq(pcap_writer_conn_init_text(&c, "10.0.0.1", 40000, "10.0.0.2", 9999), 0);
    uint8_t b[64];
    size_t n = enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_PINGREQ, b, sizeof b);
    seg_at(&m, &c, CLI, 0, b, n);
    cap_close(&m);
    ev_log l;
    char err[256];
    cr_assert_eq(run_flow(m.buf, m.len, NULL, 0, &l, err, sizeof err), 0);
    cr_assert_str_eq(l.text, "", "without --port the connection is not MQTT");
    uint16_t ports[] = {1883, 9999};
    cr_assert_eq(run_flow(m.buf, m.len, ports, 2, &l, err, sizeof err), 0);
    cr_assert_str_eq(l.text, "OPEN midstream|C>S RESYNC 0|C>S PINGREQ|CLOSE");
    cap_free(&m);
}

Test(flow, qos3_publish_reported_with_rule_and_framing_kept)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V311, "q3", b, sizeof b);
    size_t p = n;
    n += enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 1, 5, "t", "x", 1, b + n, sizeof b - n);
    b[p] |= 0x06; /* QoS bits 11 */
    n += enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_PINGREQ, b + n, sizeof b - n);
    send_bytes(&m, &c, CLI, b, n);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|C>S BAD MQTT-3.3.1-4|C>S PINGREQ|CLOSE");
    cap_free(&m);
}

Test(flow, version_learned_from_connect_decodes_v5_properties)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V5, "v5", b, sizeof b);
    send_bytes(&m, &c, CLI, b, n);
    mqtt_packet a = {.type = MQTT_CONNACK};
    a.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    a.connack.properties.receive_maximum = 10;
    n = enc(MQTT_V5, MQTT_FROM_SERVER, &a, b, sizeof b);
    send_bytes(&m, &c, SRV, b, n);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|S>C CONNACK|CLOSE");
    cap_free(&m);
}

/* A CONNECT that breaks a rule after its level still sets the stream's
 * version: the 3.1.1 PUBLISH after it has a payload starting with a zero
 * byte, which 5.0 (the guess without a version) would read as an empty
 * property block and a 3-byte payload. */
Test(flow, version_learned_from_a_rejected_connect)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V311, "bad", b, sizeof b);
    b[9] |= 0x01; /* reserved flag: MQTT-3.1.2-3, after the level byte */
    n += enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 0, 0, "t", "\0xyz", 4, b + n, sizeof b - n);
    send_bytes(&m, &c, CLI, b, n);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S BAD MQTT-3.1.2-3|C>S PUBLISH 4|CLOSE");
    cap_free(&m);
}

Test(flow, rst_closes_and_new_syn_on_same_ports_is_a_new_connection)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    uint8_t b[512];
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(pcap_writer_conn_init_text(&c, "192.168.1.10", 50000, "192.168.1.1", 1883), 0);
        c.seq[0] += (uint32_t)i * 100000; /* a new ISN */
        cr_assert_eq(pcap_writer_handshake(m.w, &c, m.t++), 0);
        size_t n = enc_connect(MQTT_V311, "again", b, sizeof b);
        send_bytes(&m, &c, CLI, b, n);
        pcap_writer_rst(m.w, &c, SRV, m.t++);
    }
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|C>S CONNECT|CLOSE|OPEN|C>S CONNECT|CLOSE");
    cap_free(&m);
}

Test(flow, stream_ending_inside_a_packet_is_noted_not_crashed)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V311, "cut", b, sizeof b);
    send_bytes(&m, &c, CLI, b, n - 4);
    cap_close(&m);
    ev_log l;
    cr_assert_str_eq(flow_of(&m, &l), "OPEN|CLOSE");
    cap_free(&m);
}

typedef struct {
    int last[3];         /* kinds of the last three events, oldest first */
    mqtt_packet_type last_type;
    unsigned resyncs, events;
} tail_log;

static void tail_collect(void *ctx, const pcap_event *ev)
{
    tail_log *t = ctx;
    t->events++;
    t->last[0] = t->last[1];
    t->last[1] = t->last[2];
    t->last[2] = ev->kind;
    if (ev->kind == PCAP_EV_PACKET)
        t->last_type = ev->pkt->type;
    if (ev->kind == PCAP_EV_RESYNC)
        t->resyncs++;
}

Test(flow, resynchronising_through_megabytes_of_garbage_stays_fast)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_RAW);
    pcap_writer_conn c;
    cr_assert_eq(pcap_writer_conn_init_text(&c, "10.9.9.9", 40001, "10.9.9.1", 1883), 0);
    static uint8_t junk[2 << 20];
    uint64_t x = 0x1234567;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        junk[i] = (uint8_t)x;
    }
    uint32_t off = 0;
    for (size_t i = 0; i < sizeof junk; i += 1400, off += 1400)
        cr_assert_eq(pcap_writer_segment(m.w, &c, CLI, 0x18, c.seq[CLI] + off, 0, junk + i,
                                         sizeof junk - i < 1400 ? sizeof junk - i : 1400, m.t++),
                     0);
    uint8_t b[64];
    size_t n = enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_PINGREQ, b, sizeof b);
    n += enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_PINGREQ, b + n, sizeof b - n);
    seg_at(&m, &c, CLI, off, b, n);
    cap_close(&m);
    char err[256];
    pcap_reader *r = pcap_reader_open_memory(m.buf, m.len, "junk", err, sizeof err);
    cr_assert(r, "%s", err);
    static const uint16_t ports[] = {1883};
    pcap_flow_options o = {.ports = ports, .nports = 1};
    tail_log t = {{0}};
    cr_assert_eq(pcap_flow_run(r, &o, tail_collect, &t, NULL, err, sizeof err), 0);
    pcap_reader_close(r);
    /* Random bytes may frame packets by chance; the stream must end in sync. */
    cr_assert_eq(t.last[1], PCAP_EV_PACKET);
    cr_assert_eq(t.last_type, MQTT_PINGREQ);
    cr_assert_eq(t.last[2], PCAP_EV_CLOSE);
    cr_assert_geq(t.resyncs, 1);
    cap_free(&m);
}

static void bound_note(void *ctx, const pcap_event *ev)
{
    if (ev->kind == PCAP_EV_NOTE && strstr(ev->note, "max_buffered")) ++*(int *)ctx;
}

/* All connections' unfinished packets together are bounded (issue 14: a
 * 1.6 MB .gz capture of many connections each announcing a huge packet took
 * 1.04 GB): past max_buffered the bytes are dropped with a NOTE naming the
 * bound, and the other connections still decode. */
Test(flow, total_buffered_across_connections_is_bounded)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    uint8_t b[512];
    static uint8_t chunk[1000];
    /* A PUBLISH announcing 100,000 bytes, never finished, on 8 connections. */
    static const uint8_t head[] = {0x30, 0xa0, 0x8d, 0x06, 0x00, 0x01, 't'};
    memset(chunk, 'x', sizeof chunk);
    pcap_writer_conn c[8];
    for (int k = 0; k < 8; k++) {
        cr_assert_eq(pcap_writer_conn_init_text(&c[k], "192.168.1.10", (uint16_t)(50000 + k), "192.168.1.1", 1883), 0);
        cr_assert_eq(pcap_writer_handshake(m.w, &c[k], m.t++), 0);
        size_t n = enc_connect(MQTT_V311, "big", b, sizeof b);
        send_bytes(&m, &c[k], CLI, b, n);
        send_bytes(&m, &c[k], CLI, head, sizeof head);
        for (int i = 0; i < 40; i++) send_bytes(&m, &c[k], CLI, chunk, sizeof chunk);
    }
    cap_close(&m);
    int notes = 0;
    char err[512];
    pcap_reader *r = pcap_reader_open_memory(m.buf, m.len, "mem.pcap", err, sizeof err);
    cr_assert(r, "%s", err);
    static const uint16_t p1883[] = {1883};
    pcap_flow_options o = {.ports = p1883, .nports = 1, .max_buffered = 200000};
    cr_assert_eq(pcap_flow_run(r, &o, bound_note, &notes, NULL, err, sizeof err), 0, "%s", err);
    pcap_reader_close(r);
    cr_assert_gt(notes, 0, "no connection hit the 200,000-byte bound");
    /* Without the bound every connection buffers its 40 KB: no note. */
    notes = 0;
    r = pcap_reader_open_memory(m.buf, m.len, "mem.pcap", err, sizeof err);
    o.max_buffered = 0;
    cr_assert_eq(pcap_flow_run(r, &o, bound_note, &notes, NULL, err, sizeof err), 0, "%s", err);
    pcap_reader_close(r);
    cr_assert_eq(notes, 0);
    cap_free(&m);
}

/* Framing first (issue 14: a 32 MB SUBSCRIBE took 27.8 s): a packet spread
 * over many segments is decoded once its fixed header says how long it is
 * and once whole, not from its first byte on every segment. Counted in
 * bytes handed to the codec, not timed. */
Test(flow, a_packet_over_many_segments_is_decoded_once)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 1883);
    uint8_t b[512];
    size_t n = enc_connect(MQTT_V311, "big", b, sizeof b);
    send_bytes(&m, &c, CLI, b, n);
    /* PUBLISH QoS 0, topic "t", 1,000,000 bytes of payload: Remaining Length 1,000,003. */
    size_t total = 1000003;
    static const uint8_t head[] = {0x30, 0xC3, 0x84, 0x3D, 0x00, 0x01, 't'};
    send_bytes(&m, &c, CLI, head, sizeof head);
    static uint8_t chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 1000; i++) send_bytes(&m, &c, CLI, chunk, sizeof chunk);
    cap_close(&m);
    ev_log l = {0};
    test_decoded_bytes = 0;
    const char *text = flow_of(&m, &l);
    size_t work = test_decoded_bytes;
    cr_assert(strstr(text, "PUBLISH"), "the packet decodes: %s", text);
    cr_assert_lt(work, 4 * (total + 4), "decoded %zu bytes for one %zu-byte packet", work, total + 4);
    cap_free(&m);
}

/* The same on a port that is not MQTT's, while the connection is probed for
 * a CONNECT: a 120 KB CONNECT over 121 segments is decoded once whole. */
Test(flow, a_probed_connect_over_many_segments_is_decoded_once)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    start_conn(&m, &c, 7777);
    static uint8_t id[60000];
    memset(id, 'i', 60000);
    /* 3.1.1 CONNECT: client id of 60,000 bytes, Will topic "w", Will payload of 60,000 bytes. */
    static uint8_t b[210000];
    size_t n = 0;
    size_t rl = 10 + 2 + 60000 + 2 + 1 + 2 + 60000;
    b[n++] = 0x10;
    for (size_t v = rl;; ) {
        uint8_t d = v % 128;
        v /= 128;
        b[n++] = (uint8_t)(d | (v ? 0x80 : 0));
        if (!v) break;
    }
    static const uint8_t vh[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x06, 0, 60};
    memcpy(b + n, vh, sizeof vh);
    n += sizeof vh;
    b[n++] = 60000 >> 8;
    b[n++] = 60000 & 0xFF;
    memcpy(b + n, id, 60000);
    n += 60000;
    b[n++] = 0;
    b[n++] = 1;
    b[n++] = 'w';
    b[n++] = 60000 >> 8;
    b[n++] = 60000 & 0xFF;
    memset(b + n, 'p', 60000);
    n += 60000;
    for (size_t off = 0; off < n; off += 1000) send_bytes(&m, &c, CLI, b + off, n - off < 1000 ? n - off : 1000);
    cap_close(&m);
    ev_log l = {0};
    test_decoded_bytes = 0;
    char err[512] = "";
    static const uint16_t none[] = {1};
    cr_assert_eq(run_flow(m.buf, m.len, none, 1, &l, err, sizeof err), 0, "%s", err);
    size_t work = test_decoded_bytes;
    cr_assert(strstr(l.text, "CONNECT"), "the CONNECT is found on port 7777: %s", l.text);
    cr_assert_lt(work, 4 * n, "decoded %zu bytes for one %zu-byte CONNECT", work, n);
    cap_free(&m);
}
