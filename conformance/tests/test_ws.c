/*
 * The engine over WebSockets (conf_engine_cfg.ws_path) against a fake
 * WebSocket broker (a thread on 127.0.0.1): what the runner accepts and
 * refuses from the server's side of MQTT 3.1.1 / 5.0 section 6. The fake
 * answers the upgrade from a script (the right answer with the subprotocol
 * line replaced), reads our frames with net/ws.c as a server (so a frame the
 * runner sends wrongly, e.g. unmasked, fails the test) and answers each
 * MQTT packet with scripted frames built by hand.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conformance/src/engine.h"
#include "conformance/tests/fake_broker.h"
#include "net/net.h"
#include "net/ws.h"

typedef struct {
    const char *proto_line;   /* replaces "Sec-WebSocket-Protocol: mqtt\r\n" in the answer */
    const uint8_t *reply[2];  /* frames sent after the 1st and 2nd MQTT packet */
    size_t reply_len[2];
    int lfd;
    uint16_t port;
    size_t packets;           /* MQTT packets read */
    bool bad_frame;           /* a frame of the runner's that net_ws refused */
    pthread_t th;
} wsfake;

/* The 101 answer to req with the subprotocol line replaced. */
static size_t answer(const wsfake *f, const uint8_t *req, size_t n, char *out, size_t cap, ssize_t *end)
{
    char resp[1024], err[200];
    size_t rl = 0;
    *end = net_ws_parse_request(req, n, resp, sizeof resp, &rl, err, sizeof err);
    if (*end < 0 && rl) { /* refused (no mqtt offered ...): the 400 goes out, then the close */
        memcpy(out, resp, rl < cap ? rl : cap);
        return rl < cap ? rl : cap;
    }
    if (*end <= 0) return 0;
    resp[rl] = '\0';
    char *p = strstr(resp, "Sec-WebSocket-Protocol: mqtt\r\n");
    if (!p) return 0;
    *p = '\0';
    return (size_t)snprintf(out, cap, "%s%s%s", resp, f->proto_line, p + 30);
}

/* MQTT packets whole in the stream so far (fixed header + remaining length). */
static size_t count_packets(const uint8_t *s, size_t n)
{
    size_t i = 0, k = 0;
    while (i + 2 <= n) {
        size_t rem = 0, h = 1;
        for (unsigned sh = 0; i + h < n && h <= 4; sh += 7) {
            uint8_t b = s[i + h++];
            rem |= (size_t)(b & 0x7f) << sh;
            if (!(b & 0x80)) break;
        }
        if (i + h + rem > n) break;
        i += h + rem;
        k++;
    }
    return k;
}

static void serve(wsfake *f, int c)
{
    uint8_t in[4096], stream[4096];
    size_t n = 0, sn = 0;
    ssize_t end = 0;
    char out[1200], err[200];
    net_ws *w = net_ws_new(NET_WS_SERVER, 0, err, sizeof err);
    while (w && end == 0 && n < sizeof in) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        ssize_t k = poll(&p, 1, 3000) == 1 ? recv(c, in + n, sizeof in - n, 0) : -1;
        if (k <= 0) goto done;
        n += (size_t)k;
        size_t al = answer(f, in, n, out, sizeof out, &end);
        if (end != 0 && al) (void)!write(c, out, al);
        if (end < 0) goto done;
    }
    if (end > 0 && (size_t)end < n && net_ws_feed(w, in + end, n - (size_t)end, err, sizeof err) < 0) f->bad_frame = true;
    for (int rounds = 0; rounds < 50 && w && !f->bad_frame; rounds++) {
        sn += net_ws_read(w, stream + sn, sizeof stream - sn);
        size_t got = count_packets(stream, sn);
        for (; f->packets < got && f->packets < 2; f->packets++)
            (void)!write(c, f->reply[f->packets], f->reply_len[f->packets]);
        struct pollfd p = {.fd = c, .events = POLLIN};
        ssize_t k = poll(&p, 1, 100) == 1 ? recv(c, in, sizeof in, 0) : 0;
        if (k < 0 || (k == 0 && p.revents)) break;
        if (k > 0 && net_ws_feed(w, in, (size_t)k, err, sizeof err) < 0) f->bad_frame = true;
    }
done:
    net_ws_free(w);
    close(c);
}

static void *fake_main(void *arg)
{
    wsfake *f = arg;
    struct pollfd p = {.fd = f->lfd, .events = POLLIN};
    if (poll(&p, 1, 5000) == 1) {
        int c = accept(f->lfd, NULL, NULL);
        if (c >= 0) serve(f, c);
    }
    return NULL;
}

static void wsfake_start(wsfake *f)
{
    char err[128];
    f->lfd = net_listen("127.0.0.1", 0, 4, err, sizeof err);
    cr_assert(f->lfd >= 0, "%s", err);
    f->port = net_local_port(f->lfd);
    pthread_create(&f->th, NULL, fake_main, f);
}

static void wsfake_stop(wsfake *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static void free_run(conf_run *r)
{
    conf_scenario *s = (conf_scenario *)r->sc;
    conf_run_free(r);
    conf_scenario_free(s);
}

#define PING_SCENARIO "title T\nversions 3.1.1\nrules MQTT-6.0.0-2\nclients a\n" \
                      "a connect\na send PINGREQ\na expect PINGRESP\na disconnect\n"

static conf_run run_ws(wsfake *f, const char *text)
{
    conf_scenario *s = scenario(text);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f->port, .time_scale = 0.5, .jobs = 1, .no_probe = true,
                           .ws_path = "/mqtt"};
    conf_engine_result res;
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    return r;
}

/* A CONNACK split over two binary frames with a ping between, a PINGRESP in
 * one frame: the runner reads across frames (MQTT-6.0.0-2) and passes. */
Test(conform_ws, packets_across_frames_and_a_ping_pass)
{
    static const uint8_t connack[] = {0x82, 2, 0x20, 2, 0x89, 1, 'p', 0x82, 2, 0, 0};
    static const uint8_t pingresp[] = {0x82, 2, 0xd0, 0};
    wsfake f = {.proto_line = "Sec-WebSocket-Protocol: mqtt\r\n", .reply = {connack, pingresp},
                .reply_len = {sizeof connack, sizeof pingresp}};
    wsfake_start(&f);
    conf_run r = run_ws(&f, PING_SCENARIO);
    wsfake_stop(&f);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(!f.bad_frame, "the runner sent a frame a server must refuse");
    cr_assert_eq(f.packets, 2);
    free_run(&r);
}

/* A CONNACK in a text frame: the runner stops reading (MQTT-6.0.0-1) and
 * says why; the run does not pass. */
Test(conform_ws, text_frame_from_broker_ends_the_stream)
{
    static const uint8_t connack[] = {0x81, 4, 0x20, 2, 0, 0};
    wsfake f = {.proto_line = "Sec-WebSocket-Protocol: mqtt\r\n", .reply = {connack}, .reply_len = {sizeof connack}};
    wsfake_start(&f);
    conf_run r = run_ws(&f, PING_SCENARIO);
    wsfake_stop(&f);
    cr_assert_neq(r.verdict, V_PASS);
    cr_assert(r.message && strstr(r.message, "MQTT-6.0.0-1"), "%s", r.message ? r.message : "");
    free_run(&r);
}

/* An upgrade answer without the subprotocol, or with another one: refused
 * (MQTT-6.0.0-4), the reason in the run's message. */
Test(conform_ws, answer_without_mqtt_is_refused)
{
    const char *lines[] = {"", "Sec-WebSocket-Protocol: mqttv3.1\r\n"};
    for (int i = 0; i < 2; i++) {
        wsfake f = {.proto_line = lines[i]};
        wsfake_start(&f);
        conf_run r = run_ws(&f, PING_SCENARIO);
        wsfake_stop(&f);
        cr_assert_neq(r.verdict, V_PASS);
        cr_assert(r.message && strstr(r.message, "MQTT-6.0.0-4"), "%s", r.message ? r.message : "");
        cr_assert_eq(f.packets, 0, "no MQTT byte after a refused upgrade");
        free_run(&r);
    }
}

/* A scenario that needs WebSockets is skipped over TCP, saying so. */
Test(conform_ws, websocket_scenario_skips_over_tcp)
{
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-6.0.0-2\nclients a\n"
                                "a connect\na send frame binary c0 00\na expect PINGRESP\n");
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = 1, .time_scale = 1, .jobs = 1, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(r.verdict, V_SKIP);
    cr_assert(strstr(r.message, "needs MQTT over WebSockets"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
}

/* `open protocols=none`: the request offers no subprotocol; a server that
 * refuses it (400, then close) passes `expect close` (MQTT-6.0.0-4). */
Test(conform_ws, refused_upgrade_without_mqtt_passes_expect_close)
{
    wsfake f = {.proto_line = "Sec-WebSocket-Protocol: mqtt\r\n"};
    wsfake_start(&f);
    conf_run r = run_ws(&f, "title T\nversions 3.1.1\nrules MQTT-6.0.0-4\nclients a\n"
                            "a open protocols=none\na expect close\n");
    wsfake_stop(&f);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    bool said = false;
    for (size_t i = 0; i < r.nev; i++) said |= strstr(r.ev[i].text, "400 Bad Request") != NULL;
    cr_assert(said, "the transcript names the refusal");
    free_run(&r);
}
