/*
 * client-relay: a mutating relay between a correct MQTT client and the
 * broker seat of mqtt-conform, for the test that the client suite catches
 * client faults (run-relay.sh). No hook inside the client: the relay starts
 * the client itself with its own listening port in place of @PORT@, forwards
 * every packet both ways (framed with the codec's fixed-header reader), and
 * breaks exactly one rule:
 *   none          nothing (the baseline: the same scenarios must pass)
 *   clear-dup     a redelivered PUBLISH goes out with DUP 0 (MQTT-3.3.1-1)
 *   reuse-pid     a QoS 1 PUBLISH sent while another is unacknowledged gets
 *                 that one's packet id (3.1.1 MQTT-2.3.1-2, 5.0 MQTT-2.2.1-3)
 *   drop-pubrel   PUBREL never reaches the server (MQTT-4.3.3-1)
 *   exceed-rm     the server's Receive Maximum is taken out of the CONNACK the
 *                 client sees, so it sends more than allowed (5.0 MQTT-3.3.4-7)
 *   connect-twice the CONNECT is sent twice (MQTT-3.1.0-2)
 * When the server closes the connection the relay reconnects for the client
 * (which never reconnects by itself): it sends the client's CONNECT again,
 * keeps the new CONNACK to itself, and resends every unacknowledged QoS 1
 * PUBLISH with DUP 1 and its packet id, as MQTT-4.4.0-1 asks of a client.
 *   client-relay MUTATION HOST PORT CMD ARGS...
 * `--relay-lines N` among ARGS is the relay's own: it is taken out (with a
 * `-m MESSAGE`), and the client's stdin gets N lines, so that mqtt-pub -l
 * has N messages to send, as many at a time as its window allows.
 * Exit status: the client's; 2 on a usage or setup error. Every wait is
 * bounded (RELAY_MAX_MS in all), and the client is killed when the relay ends.
 */
#include <mqtt/mqtt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RELAY_MAX_MS 60000
#define MAX_HELD 64

typedef struct { uint8_t *b; size_t n; } buf;
typedef struct { uint16_t pid; buf pkt; } held;

typedef struct {
    const char *mut;
    struct sockaddr_in up_addr;
    int cfd, ufd;
    buf cin, uin;              /* bytes read, not yet framed */
    buf connect;               /* the client's CONNECT, for reconnecting */
    held unacked[MAX_HELD];    /* QoS 1 PUBLISHes the server has not acknowledged */
    size_t nunacked;
    bool swallow_connack;      /* after a reconnect: the client already has its CONNACK */
    int reconnects;
    pid_t child;
} relay;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(buf *b, const uint8_t *p, size_t n)
{
    uint8_t *nb = realloc(b->b, b->n + n + 1);
    if (!nb) { fprintf(stderr, "client-relay: out of memory\n"); exit(2); }
    memcpy(nb + b->n, p, n);
    b->b = nb;
    b->n += n;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (fd >= 0 && n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return;
        p += k;
        n -= (size_t)k;
    }
}

/* Length of the whole packet at the start of b, 0 while incomplete, -1 broken. */
static long frame(const buf *b)
{
    mqtt_header h;
    mqtt_status s = mqtt_peek_header(MQTT_VERSION_UNKNOWN, b->b, b->n, &h, NULL);
    if (s == MQTT_NEED_MORE) return 0;
    if (s != MQTT_OK) return -1;
    return h.length <= b->n ? (long)h.length : 0;
}

/* The packet id of a PUBLISH (QoS > 0): its offset, or 0. */
static size_t publish_pid_at(const uint8_t *p, size_t n)
{
    mqtt_header h;
    if (mqtt_peek_header(MQTT_VERSION_UNKNOWN, p, n, &h, NULL) != MQTT_OK || !(p[0] & 0x06)) return 0;
    size_t at = h.header_length;
    if (at + 2 > n) return 0;
    at += 2 + (((size_t)p[at] << 8) | p[at + 1]);
    return at + 2 <= n ? at : 0;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static void hold(relay *r, const uint8_t *p, size_t n, size_t at)
{
    if (r->nunacked >= MAX_HELD) return;
    held *h = &r->unacked[r->nunacked++];
    h->pid = get16(p + at);
    h->pkt = (buf){malloc(n), n};
    if (h->pkt.b) memcpy(h->pkt.b, p, n);
}

static void release(relay *r, uint16_t pid)
{
    for (size_t i = 0; i < r->nunacked; i++)
        if (r->unacked[i].pid == pid) {
            free(r->unacked[i].pkt.b);
            r->unacked[i] = r->unacked[--r->nunacked];
            return;
        }
}

/* One packet from the client to the server, mutated as asked. */
static void from_client(relay *r, uint8_t *p, size_t n)
{
    int type = p[0] >> 4;
    if (type == MQTT_CONNECT) {
        free(r->connect.b);
        r->connect = (buf){NULL, 0};
        append(&r->connect, p, n);
        if (!strcmp(r->mut, "connect-twice")) send_all(r->ufd, p, n);
    }
    if (type == MQTT_PUBREL && !strcmp(r->mut, "drop-pubrel")) return;
    size_t at = type == MQTT_PUBLISH ? publish_pid_at(p, n) : 0;
    if (at && (p[0] & 0x06) == 0x02) {
        if (!strcmp(r->mut, "reuse-pid") && r->nunacked > 0) {
            p[at] = (uint8_t)(r->unacked[0].pid >> 8);
            p[at + 1] = (uint8_t)r->unacked[0].pid;
        } else {
            hold(r, p, n, at);
        }
    }
    send_all(r->ufd, p, n);
}

/* A 5.0 CONNACK without its Receive Maximum (exceed-rm). */
static bool strip_receive_max(uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *outn)
{
    mqtt_user_property up[32];
    mqtt_codec dc = {.version = MQTT_V5, .from = MQTT_FROM_SERVER, .user_properties = up, .user_properties_cap = 32};
    mqtt_codec ec = {.version = MQTT_V5, .from = MQTT_FROM_SERVER};
    mqtt_packet pk;
    if (mqtt_decode(&dc, p, n, &pk, NULL) != MQTT_OK) return false;
    pk.connack.properties.present &= ~MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    return mqtt_encode(&ec, &pk, out, cap, outn, NULL) == MQTT_OK;
}

/* One packet from the server to the client. */
static void from_server(relay *r, uint8_t *p, size_t n)
{
    int type = p[0] >> 4;
    if (type == MQTT_CONNACK && r->swallow_connack) { r->swallow_connack = false; return; }
    if (type == MQTT_PUBACK && n >= 4) release(r, get16(p + 2));
    uint8_t out[4096];
    size_t on;
    if (type == MQTT_CONNACK && !strcmp(r->mut, "exceed-rm") && n < sizeof out &&
        strip_receive_max(p, n, out, sizeof out, &on)) {
        send_all(r->cfd, out, on);
        return;
    }
    send_all(r->cfd, p, n);
}

static int dial(relay *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&r->up_addr, sizeof r->up_addr) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

/* The server closed: reconnect once for the client, as a correct client does. */
static bool reconnect(relay *r)
{
    close(r->ufd);
    r->ufd = -1;
    r->uin.n = 0;
    if (r->reconnects++ >= 1 || !r->connect.n || (r->ufd = dial(r)) < 0) return false;
    send_all(r->ufd, r->connect.b, r->connect.n);
    r->swallow_connack = true;
    for (size_t i = 0; i < r->nunacked; i++) {
        buf *b = &r->unacked[i].pkt;
        if (strcmp(r->mut, "clear-dup")) b->b[0] |= 0x08; /* MQTT-3.3.1-1: DUP 1 on redelivery */
        else b->b[0] &= (uint8_t)~0x08;
        send_all(r->ufd, b->b, b->n);
    }
    return true;
}

/* Reads what fd has into b and hands every whole packet to fn. False at EOF. */
static bool pump(relay *r, int fd, buf *b, void (*fn)(relay *, uint8_t *, size_t))
{
    uint8_t tmp[16384];
    ssize_t k = recv(fd, tmp, sizeof tmp, 0);
    if (k < 0 && errno == EINTR) return true;
    if (k <= 0) return false;
    append(b, tmp, (size_t)k);
    long len;
    while ((len = frame(b)) > 0) {
        fn(r, b->b, (size_t)len);
        memmove(b->b, b->b + len, b->n - (size_t)len);
        b->n -= (size_t)len;
    }
    if (len < 0) { send_all(fd == r->cfd ? r->ufd : r->cfd, b->b, b->n); b->n = 0; }
    return true;
}

static int child_status(pid_t pid, bool wait_for_it)
{
    int st;
    pid_t w;
    while ((w = waitpid(pid, &st, wait_for_it ? 0 : WNOHANG)) < 0 && errno == EINTR) {}
    if (w != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void loop(relay *r)
{
    int64_t end = now_ms() + RELAY_MAX_MS;
    while (now_ms() < end && r->cfd >= 0) {
        struct pollfd pf[2] = {{r->cfd, POLLIN, 0}, {r->ufd, POLLIN, 0}};
        if (poll(pf, r->ufd >= 0 ? 2 : 1, 200) < 0 && errno != EINTR) break;
        if (pf[0].revents && !pump(r, r->cfd, &r->cin, from_client)) break;
        if (r->ufd >= 0 && pf[1].revents && !pump(r, r->ufd, &r->uin, from_server) && !reconnect(r)) break;
    }
}

/* The client's argv: @PORT@ replaced, --relay-lines N (and -m M) taken out. */
static char **client_argv(char **cmd, int ncmd, const char *port, int *lines)
{
    char **argv = calloc((size_t)ncmd + 1, sizeof *argv);
    int n = 0;
    *lines = 0;
    for (int i = 0; argv && i < ncmd; i++) {
        if (!strcmp(cmd[i], "--relay-lines") && i + 1 < ncmd) { *lines = atoi(cmd[++i]); continue; }
        argv[n++] = strcmp(cmd[i], "@PORT@") ? cmd[i] : (char *)port;
    }
    for (int i = 0; *lines > 0 && i + 1 < n; i++)
        if (!strcmp(argv[i], "-m")) { memmove(argv + i, argv + i + 2, (size_t)(n - i - 1) * sizeof *argv); n -= 2; break; }
    return argv;
}

/* Starts the client, its stdin a pipe holding `lines` lines (none: empty). */
static int spawn_client(relay *r, char **argv, int lines)
{
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
    posix_spawn_file_actions_addclose(&fa, pfd[1]);
    int rc = posix_spawnp(&r->child, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[0]);
    for (int i = 1; rc == 0 && i <= lines && i <= 1000; i++) {
        char line[32];
        int k = snprintf(line, sizeof line, "line-%d\n", i);
        if (write(pfd[1], line, (size_t)k) != k) break;
    }
    close(pfd[1]);
    return rc == 0 ? 0 : -1;
}

/* Listens on 127.0.0.1:0, starts the client with @PORT@ replaced, accepts it. */
static int start(relay *r, char **cmd, int ncmd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4) ||
        getsockname(lfd, (struct sockaddr *)&a, &al)) return -1;
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)ntohs(a.sin_port));
    int lines;
    char **argv = client_argv(cmd, ncmd, port, &lines);
    if (!argv || spawn_client(r, argv, lines) != 0) {
        fprintf(stderr, "client-relay: cannot start %s\n", cmd[0]);
        return -1;
    }
    free(argv);
    struct pollfd pf = {lfd, POLLIN, 0};
    if (poll(&pf, 1, 30000) != 1 || (r->cfd = accept(lfd, NULL, NULL)) < 0) {
        fprintf(stderr, "client-relay: the client did not connect\n");
        return -1;
    }
    close(lfd);
    if ((r->ufd = dial(r)) < 0) {
        fprintf(stderr, "client-relay: cannot connect to the server\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const muts[] = {"none", "clear-dup", "reuse-pid", "drop-pubrel", "exceed-rm", "connect-twice"};
    bool ok = argc >= 5;
    for (size_t i = 0; ok && i < sizeof muts / sizeof muts[0]; i++) ok = strcmp(argv[1], muts[i]) != 0;
    if (argc < 5 || ok) {
        fprintf(stderr, "usage: client-relay none|clear-dup|reuse-pid|drop-pubrel|exceed-rm|connect-twice "
                "HOST PORT CMD ARGS... (@PORT@ in ARGS: the relay's port)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    relay r = {.mut = argv[1], .cfd = -1, .ufd = -1, .child = -1};
    r.up_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &r.up_addr.sin_addr) != 1 || start(&r, argv + 4, argc - 4) < 0) {
        if (r.child > 0) kill(r.child, SIGKILL);
        return 2;
    }
    loop(&r);
    if (r.ufd >= 0) close(r.ufd);
    close(r.cfd);
    /* the client ends once its connection is gone; bounded anyway */
    int st = -1;
    for (int i = 0; i < 50 && (st = child_status(r.child, false)) < 0; i++) poll(NULL, 0, 100);
    if (st < 0) { kill(r.child, SIGKILL); st = child_status(r.child, true); }
    free(r.cin.b);
    free(r.uin.b);
    free(r.connect.b);
    for (size_t i = 0; i < r.nunacked; i++) free(r.unacked[i].pkt.b);
    return st;
}
