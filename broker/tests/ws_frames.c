/*
 * broker-ws-frames: wire-level checks of mqtt-broker's WebSocket listener
 * (MQTT 3.1.1 / 5.0 section 6, RFC 6455). Frames are built here byte by
 * byte, independently of net/ws*.c and libwslay, so a bug shared by our
 * framing code and the broker cannot hide itself.
 *
 *   broker-ws-frames PORT MAX_PACKET_SIZE
 *
 * MAX_PACKET_SIZE is the broker's max_packet_size: its WebSocket frame limit.
 *
 * Prints PASS/FAIL per check and a closing "N passed, N failed" line; exits
 * non-zero when a check failed. Every socket read has a 5 s deadline and
 * every read loop is bounded by it, so a silent broker fails, never hangs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 5000
#define OP_CONT 0
#define OP_TEXT 1
#define OP_BIN 2
#define OP_CLOSE 8
#define OP_PING 9
#define OP_PONG 10
#define OP_EOF (-1) /* the peer closed the TCP connection (FIN) */
#define OP_RST (-2) /* the connection was reset (ECONNRESET): not a clean close */
#define MAX_FRAMES 64

/* CONNECT, MQTT 3.1.1, clean session, keepalive 60, client id "ws" (16 bytes). */
static const uint8_t CONNECT[] = {0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 2, 'w', 's'};
static const uint8_t PINGREQ[] = {0xc0, 0};

static uint16_t port;
static uint64_t max_packet; /* the broker's max_packet_size */
static int passed, failed;

typedef struct { /* bytes being built; static (a frame of max_packet_size fits) */
    uint8_t b[1 << 21];
    size_t n;
} buf;

typedef struct {
    int op;
    uint8_t p[256]; /* payload, truncated to its first 256 bytes */
    size_t n;
} frame_t;

typedef struct {
    frame_t f[MAX_FRAMES];
    size_t count;
    uint8_t stream[512]; /* payloads of binary and continuation frames, joined */
    size_t stream_n;
} frames;

static void put(buf *o, const void *p, size_t n)
{
    if (o->n + n > sizeof o->b) {
        fprintf(stderr, "ws_frames: test buffer too small\n");
        exit(2);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

/* Appends one frame; declared is the length written in the header
 * (payload_n unless a lie is wanted, e.g. 2^63 with no payload). */
static void frame(buf *o, int op, const uint8_t *payload, size_t payload_n, bool fin, bool mask, uint64_t declared)
{
    uint8_t h[14];
    size_t hn = 0;
    uint8_t m = mask ? 0x80 : 0;
    h[hn++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (declared < 126) {
        h[hn++] = (uint8_t)(m | declared);
    } else if (declared <= 0xffff) {
        h[hn++] = m | 126;
        h[hn++] = (uint8_t)(declared >> 8);
        h[hn++] = (uint8_t)declared;
    } else {
        h[hn++] = m | 127;
        for (int i = 7; i >= 0; i--) h[hn++] = (uint8_t)(declared >> (8 * i));
    }
    uint8_t key[4] = {(uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand()};
    if (mask) memcpy(h + hn, key, 4), hn += 4;
    put(o, h, hn);
    for (size_t i = 0; i < payload_n; i++) {
        uint8_t c = mask ? (uint8_t)(payload[i] ^ key[i % 4]) : payload[i];
        put(o, &c, 1);
    }
}

static void bin(buf *o, const uint8_t *p, size_t n)
{
    frame(o, OP_BIN, p, n, true, true, n);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* recv with the deadline; 0 = EOF, -1 = error (errno) or time is up (errno 0). */
static ssize_t recv_until(int fd, void *p, size_t n, int64_t deadline)
{
    int64_t left = deadline - now_ms();
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    errno = 0;
    if (left <= 0 || poll(&pf, 1, (int)left) != 1) return -1;
    return recv(fd, p, n, 0);
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* Connects and sends the upgrade with Sec-WebSocket-Protocol protocols (none
 * when NULL); the answer's header (up to the blank line) goes to head. */
static int upgrade(const char *protocols, char *head, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    head[0] = 0;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        snprintf(head, cap, "connect: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     protocols ? "Sec-WebSocket-Protocol: " : "", protocols ? protocols : "", protocols ? "\r\n" : "");
    send_all(fd, (const uint8_t *)req, (size_t)n);
    /* One byte at a time, so no frame byte after the header is consumed. */
    size_t hn = 0;
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (hn + 1 < cap && !(hn >= 4 && !memcmp(head + hn - 4, "\r\n\r\n", 4))) {
        if (recv_until(fd, head + hn, 1, deadline) != 1) break;
        head[++hn] = 0;
    }
    return fd;
}

/* Splits the frames complete in in[0..*n) off into fs; keeps the rest. */
static void parse_frames(uint8_t *in, size_t *n, frames *fs)
{
    while (*n >= 2 && fs->count < MAX_FRAMES) {
        uint64_t len = in[1] & 0x7f;
        size_t off = 2;
        if (len == 126) {
            if (*n < 4) return;
            len = (uint64_t)in[2] << 8 | in[3], off = 4;
        } else if (len == 127) {
            if (*n < 10) return;
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | in[2 + i];
            off = 10;
        }
        if (len > *n - off) return;
        frame_t *f = &fs->f[fs->count++];
        f->op = in[0] & 0x0f;
        f->n = len < sizeof f->p ? (size_t)len : sizeof f->p;
        memcpy(f->p, in + off, f->n);
        if ((f->op == OP_BIN || f->op == OP_CONT) && fs->stream_n + f->n <= sizeof fs->stream)
            memcpy(fs->stream + fs->stream_n, f->p, f->n), fs->stream_n += f->n;
        size_t used = off + (size_t)len;
        memmove(in, in + used, *n - used);
        *n -= used;
    }
}

typedef bool (*want_fn)(const frames *);

/* Reads frames until want holds, the peer closes (an OP_EOF entry) or the deadline. */
static void read_frames(int fd, frames *fs, want_fn want)
{
    static uint8_t in[1 << 16];
    size_t n = 0;
    int64_t deadline = now_ms() + DEADLINE_MS;
    memset(fs, 0, sizeof *fs);
    while (!want(fs) && fs->count < MAX_FRAMES) {
        ssize_t r = recv_until(fd, in + n, sizeof in - n, deadline);
        if (r < 0 && errno == ECONNRESET) fs->f[fs->count++].op = OP_RST;
        if (r < 0) return;
        if (r == 0) {
            fs->f[fs->count++].op = OP_EOF;
            return;
        }
        n += (size_t)r;
        parse_frames(in, &n, fs);
    }
}

/* Upgrades, sends wire and reads frames until want. */
static void exchange(const buf *wire, frames *fs, want_fn want)
{
    char head[1024];
    int fd = upgrade("mqtt", head, sizeof head);
    memset(fs, 0, sizeof *fs);
    if (fd < 0) return;
    send_all(fd, wire->b, wire->n);
    read_frames(fd, fs, want);
    close(fd);
}

static void describe(const frames *fs, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < fs->count && o + 32 < cap; i++) {
        const frame_t *f = &fs->f[i];
        o += (size_t)snprintf(out + o, cap - o, "[op %d, %zu bytes:", f->op, f->n);
        for (size_t j = 0; j < f->n && j < 8 && o + 8 < cap; j++) o += (size_t)snprintf(out + o, cap - o, " %02x", f->p[j]);
        o += (size_t)snprintf(out + o, cap - o, "] ");
    }
    if (!fs->count) snprintf(out, cap, "nothing within %d ms", DEADLINE_MS);
}

static void check(const char *name, bool ok, const char *detail)
{
    ok ? passed++ : failed++;
    printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name, ok ? "" : ": ", ok ? "" : detail);
}

static void check_frames(const char *name, bool ok, const frames *fs)
{
    char d[1024];
    describe(fs, d, sizeof d);
    check(name, ok, d);
}

static bool has_frame(const frames *fs, int op, const void *p, size_t n)
{
    for (size_t i = 0; i < fs->count; i++)
        if (fs->f[i].op == op && (!p || (fs->f[i].n == n && !memcmp(fs->f[i].p, p, n)))) return true;
    return false;
}

/* The status code of the first close frame, -1 without one. */
static int close_code(const frames *fs)
{
    for (size_t i = 0; i < fs->count; i++)
        if (fs->f[i].op == OP_CLOSE && fs->f[i].n >= 2) return fs->f[i].p[0] << 8 | fs->f[i].p[1];
    return -1;
}

static bool eof_seen(const frames *fs)
{
    return fs->count > 0 && fs->f[fs->count - 1].op == OP_EOF;
}

static bool want_connack(const frames *fs) { return fs->stream_n >= 4; }
static bool want_connack_2pings(const frames *fs) { return fs->stream_n >= 8; }
static bool want_connack_pong(const frames *fs) { return fs->stream_n >= 4 && has_frame(fs, OP_PONG, NULL, 0); }
static bool want_eof(const frames *fs) { return eof_seen(fs); }

static void case_upgrade(void)
{
    char head[1024];
    int fd = upgrade("mqtt", head, sizeof head);
    check("MQTT-6.0.0-4: 101 selects mqtt",
          !strncmp(head, "HTTP/1.1 101", 12) && strstr(head, "Sec-WebSocket-Protocol: mqtt\r\n"), head);
    if (fd >= 0) close(fd);
    fd = upgrade(NULL, head, sizeof head);
    check("MQTT-6.0.0-3: no subprotocol is refused (400)", !strncmp(head, "HTTP/1.1 400", 12), head);
    if (fd >= 0) close(fd);
    fd = upgrade("mqttv3.1, chat", head, sizeof head);
    check("MQTT-6.0.0-4: no mqtt among the offers is refused", !strncmp(head, "HTTP/1.1 400", 12), head);
    if (fd >= 0) close(fd);
}

static void case_split_and_many(void)
{
    static const uint8_t connack_2pings[] = {0x20, 0x02, 0x00, 0x00, 0xd0, 0x00, 0xd0, 0x00};
    static buf w;
    w.n = 0;
    frames fs;
    for (size_t i = 0; i < sizeof CONNECT; i++) bin(&w, CONNECT + i, 1);
    exchange(&w, &fs, want_connack);
    check_frames("MQTT-6.0.0-2: CONNECT over 16 frames gets CONNACK",
                 fs.stream_n >= 2 && fs.stream[0] == 0x20 && fs.stream[1] == 0x02, &fs);

    w.n = 0;
    uint8_t three[sizeof CONNECT + 2 * sizeof PINGREQ];
    memcpy(three, CONNECT, sizeof CONNECT);
    memcpy(three + sizeof CONNECT, PINGREQ, sizeof PINGREQ);
    memcpy(three + sizeof CONNECT + sizeof PINGREQ, PINGREQ, sizeof PINGREQ);
    bin(&w, three, sizeof three);
    exchange(&w, &fs, want_connack_2pings);
    check_frames("MQTT-6.0.0-2: CONNECT + 2 PINGREQ in one frame",
                 fs.stream_n >= 8 && !memcmp(fs.stream, connack_2pings, 8), &fs);

    w.n = 0;
    frame(&w, OP_BIN, CONNECT, 5, false, true, 5);
    frame(&w, OP_PING, (const uint8_t *)"hi", 2, true, true, 2);
    frame(&w, OP_CONT, CONNECT + 5, sizeof CONNECT - 5, true, true, sizeof CONNECT - 5);
    exchange(&w, &fs, want_connack_pong);
    check_frames("ping inside a fragmented CONNECT: pong, then CONNACK",
                 has_frame(&fs, OP_PONG, "hi", 2) && fs.stream_n >= 2 && fs.stream[0] == 0x20 && fs.stream[1] == 0x02,
                 &fs);
}

static void case_closes(void)
{
    static buf w;
    w.n = 0;
    frames fs;
    bin(&w, CONNECT, sizeof CONNECT);
    frame(&w, OP_TEXT, (const uint8_t *)"{}", 2, true, true, 2);
    exchange(&w, &fs, want_eof);
    check_frames("MQTT-6.0.0-1: a text frame closes (1003)", close_code(&fs) == 1003 && eof_seen(&fs), &fs);

    w.n = 0;
    frame(&w, OP_BIN, NULL, 0, true, true, (uint64_t)1 << 63);
    exchange(&w, &fs, want_eof);
    check_frames("a 2^63 frame length is refused (1002)", close_code(&fs) == 1002, &fs);

    w.n = 0;
    frame(&w, OP_BIN, NULL, 0, true, true, (uint64_t)1 << 40);
    exchange(&w, &fs, want_eof);
    check_frames("a 2^40 frame length is refused before payload (1009)", close_code(&fs) == 1009, &fs);

    w.n = 0;
    frame(&w, OP_BIN, CONNECT, sizeof CONNECT, true, false, sizeof CONNECT);
    exchange(&w, &fs, want_eof);
    check_frames("an unmasked client frame is refused (1002)", close_code(&fs) == 1002, &fs);
}

/* Length of MQTT's variable byte integer for v. */
static size_t varint_len(size_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* A 3.1.1 QoS 1 PUBLISH (topic "t", packet id 1) of exactly total bytes into out. */
static size_t publish_of(uint8_t *out, size_t total)
{
    size_t k = 1;
    while (varint_len(total - 1 - k) != k) k++;
    size_t rem = total - 1 - k, o = 0;
    out[o++] = 0x32;
    for (size_t i = 0, v = rem; i < k; i++, v >>= 7) out[o++] = (uint8_t)((v & 0x7f) | (i + 1 < k ? 0x80 : 0));
    memcpy(out + o, "\0\1t\0\1", 5);
    memset(out + o + 5, 'x', rem - 5);
    return total;
}

static bool want_puback(const frames *fs) { return fs->stream_n >= 8; }

/* The frame limit is the broker's max_packet_size: a frame that can hold the
 * largest packet it accepts passes, one byte more is refused from the header. */
static void case_frame_limit(void)
{
    static const uint8_t puback[] = {0x40, 0x02, 0x00, 0x01};
    static uint8_t pkt[1 << 20];
    static buf w;
    frames fs;
    char name[160];
    w.n = 0;
    bin(&w, CONNECT, sizeof CONNECT);
    bin(&w, pkt, publish_of(pkt, (size_t)max_packet));
    exchange(&w, &fs, want_puback);
    snprintf(name, sizeof name, "a frame of max_packet_size (%llu) holding one PUBLISH gets PUBACK",
             (unsigned long long)max_packet);
    check_frames(name, fs.stream_n >= 8 && !memcmp(fs.stream + 4, puback, 4), &fs);

    w.n = 0;
    bin(&w, CONNECT, sizeof CONNECT);
    frame(&w, OP_BIN, NULL, 0, true, true, max_packet + 1);
    exchange(&w, &fs, want_eof);
    snprintf(name, sizeof name, "a frame of max_packet_size + 1 is refused from its header (1009)");
    check_frames(name, close_code(&fs) == 1009 && eof_seen(&fs), &fs);

    /* The same with its 1 MiB payload sent at once: bytes the broker never
     * reads must not turn its close into a reset that can destroy the close
     * frame before the client reads it. */
    w.n = 0;
    memset(pkt, 'x', sizeof pkt);
    bin(&w, CONNECT, sizeof CONNECT);
    bin(&w, pkt, sizeof pkt);
    exchange(&w, &fs, want_eof);
    check_frames("an oversize frame sent whole: close 1009, then FIN, no reset",
                 close_code(&fs) == 1009 && eof_seen(&fs), &fs);
}

/* The reason code of the first DISCONNECT in the MQTT stream, -1 without one. */
static int disconnect_reason(const frames *fs)
{
    size_t i = 0;
    while (i + 2 <= fs->stream_n) {
        size_t rem = 0, k = 1;
        for (unsigned shift = 0; i + k < fs->stream_n && k <= 4; shift += 7) {
            uint8_t b = fs->stream[i + k++];
            rem |= (size_t)(b & 0x7f) << shift;
            if (!(b & 0x80)) break;
        }
        if (fs->stream[i] == 0xe0 && i + k < fs->stream_n) return rem ? fs->stream[i + k] : 0;
        i += k + rem;
    }
    return -1;
}

static bool want_close(const frames *fs) { return has_frame(fs, OP_CLOSE, NULL, 0); }

/* Whether a reset arrives on fd within ms: the FIN was read already, so a
 * reset (bytes sent to a socket the broker closed) can only show as the
 * socket's pending error. Observed for a bounded time: absence is the check. */
static bool reset_within(int fd, int ms)
{
    for (int64_t end = now_ms() + ms; now_ms() < end;) {
        int err = 0;
        socklen_t el = sizeof err;
        /* a reset in CLOSE_WAIT (FIN read) sets EPIPE, before it ECONNRESET (Linux tcp_reset) */
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && (err == ECONNRESET || err == EPIPE)) return true;
        poll(NULL, 0, 10);
    }
    return false;
}

/* After the core's DISCONNECT, a close frame and the peer's reply to it,
 * late_ms after the close frame came (a slow client): the client must see
 * DISCONNECT (reason want), close 1000, then a FIN, never a reset (RFC 6455
 * section 7.1.1: the server closes the TCP connection after the closing
 * handshake, so a reply within the broker's linger time is read). */
static void expect_clean_end(int fd, const char *name, int want, int late_ms)
{
    frames fs, after;
    char d[1200];
    read_frames(fd, &fs, want_close);
    if (late_ms > 0) poll(NULL, 0, late_ms); /* the slow client of this case, not a wait for the broker */
    static buf reply;
    reply.n = 0;
    frame(&reply, OP_CLOSE, (const uint8_t *)"\x03\xe8", 2, true, true, 2);
    send_all(fd, reply.b, reply.n);
    read_frames(fd, &after, want_eof);
    if (late_ms > 0 && reset_within(fd, 200)) after.f[after.count++].op = OP_RST;
    describe(&fs, d, sizeof d);
    size_t o = strlen(d);
    snprintf(d + o, sizeof d - o, "then %s", after.count && after.f[after.count - 1].op == OP_RST ? "reset"
                                             : eof_seen(&after)                                ? "FIN" : "nothing");
    bool ok = disconnect_reason(&fs) == want && close_code(&fs) == 1000 &&
              fs.count && fs.f[fs.count - 1].op == OP_CLOSE && eof_seen(&after) &&
              after.f[after.count - 1].op != OP_RST;
    check(name, ok, d);
}

static void case_disconnect_then_close(void)
{
    /* CONNECT 5.0, clean start, keepalive 60, no properties, client id "wd". */
    static const uint8_t connect5[] = {0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 0, 0, 2, 'w', 'd'};
    char head[1024];
    static buf w;
    w.n = 0;
    bin(&w, connect5, sizeof connect5);
    bin(&w, connect5, sizeof connect5);
    int fd = upgrade("mqtt", head, sizeof head);
    if (fd >= 0) send_all(fd, w.b, w.n);
    expect_clean_end(fd, "second CONNECT: DISCONNECT 0x82 (MQTT-3.1.0-2), close 1000, FIN", 0x82, 0);
    if (fd >= 0) close(fd);

    fd = upgrade("mqtt", head, sizeof head);
    if (fd >= 0) send_all(fd, w.b, w.n);
    expect_clean_end(fd, "a close reply 300 ms late still meets the broker's socket: FIN, not a reset", 0x82, 300);
    if (fd >= 0) close(fd);

    frames fs;
    int a = upgrade("mqtt", head, sizeof head);
    w.n = 0;
    bin(&w, connect5, sizeof connect5);
    if (a >= 0) send_all(a, w.b, w.n);
    read_frames(a, &fs, want_connack);
    int b = upgrade("mqtt", head, sizeof head);
    if (b >= 0) send_all(b, w.b, w.n);
    expect_clean_end(a, "session taken over: DISCONNECT 0x8E, close 1000, FIN", 0x8e, 0);
    if (a >= 0) close(a);
    if (b >= 0) close(b);
}

int main(int argc, char **argv)
{
    char *end;
    long p = argc == 3 ? strtol(argv[1], &end, 10) : 0;
    long m = argc == 3 && !*end ? strtol(argv[2], &end, 10) : 0;
    if (argc != 3 || *end || p < 1 || p > 65535 || m < 64 || m > (1 << 20)) {
        fprintf(stderr, "usage: broker-ws-frames PORT MAX_PACKET_SIZE (a WebSocket listener on 127.0.0.1 of a\n"
                        "  broker with max_packet_size MAX_PACKET_SIZE, 64 .. 1048576)\n");
        return 2;
    }
    port = (uint16_t)p;
    max_packet = (uint64_t)m;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    case_upgrade();
    case_split_and_many();
    case_closes();
    case_frame_limit();
    case_disconnect_then_close();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
