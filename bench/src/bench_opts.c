/*
 * bench_opts: parsing and checking mqtt-bench's options (bench_opts.h).
 * Long options are the documented interface; the short ones follow
 * emqtt-bench (-h host, -p port, -c count, -t topic, -q qos, -s size,
 * -V version, -u, -P, -k, -S, -L limit, -I message interval in ms).
 */
#include "bench/src/bench_opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/src/bench_payload.h"
#include "net/net.h"
#include "net/url.h"

static const char usage_text[] =
    "usage: mqtt-bench MODE --broker HOST:PORT [OPTIONS]\n"
    "       mqtt-bench merge FILE.hist... [--json FILE] [--csv FILE]\n"
    "modes: conn (connect and hold), pub, sub, pubsub (both: end-to-end latency)\n"
    "  --broker URL          HOST:PORT, mqtt://HOST:PORT, mqtts://HOST:PORT, or MQTT over\n"
    "                        WebSockets: ws://HOST:PORT/PATH, wss://HOST:PORT/PATH (-h, -p)\n"
    "  --mqtt 3.1.1|5        protocol version (-V 4|5; default 3.1.1)\n"
    "  --publishers N        publishing clients (pub, pubsub; default 1)\n"
    "  --subscribers N       subscribing clients (sub, pubsub; default 1)\n"
    "  --slow-subscribers N  pubsub: N more subscribers that never read after their\n"
    "                        SUBACK (a stuck consumer); owed nothing, they show what\n"
    "                        one does to the others (stall, loss, latency)\n"
    "  --publishers N (sub)  publishers elsewhere, each sending --count: the lost tail\n"
    "                        and missing publishers count as lost\n"
    "  --persistent          subscribers keep their session (3.1.1 clean session 0;\n"
    "                        5.0 also needs --session-expiry S)\n"
    "  --reconnect S         each subscriber (conn mode: each client) leaves (DISCONNECT)\n"
    "                        every S seconds and comes back --offline S later (default\n"
    "                        0.5); what was published meanwhile is owed at QoS 1/2\n"
    "                        (pub/sub modes: needs --persistent)\n"
    "  --clients N, -c N     clients of conn mode (or of the single role of pub / sub)\n"
    "  --conn-rate N         new connections per second (default 0: as fast as possible)\n"
    "  --topic T, -t T       publish topic and subscription filter; %i = client index,\n"
    "                        %c = client id, %n = message number (publish topic only)\n"
    "                        (default mqtt-bench/%i, filter mqtt-bench/+)\n"
    "  --pub-topic T, --sub-topic F   set them apart\n"
    "  --shared GROUP        subscribe as $share/GROUP/FILTER (5.0)\n"
    "  --qos N, -q N         publish QoS 0..2 (default 0); --sub-qos N (default: --qos)\n"
    "  --retain              publish retained\n"
    "  --size N|MIN-MAX, -s  payload bytes, at least 40 (default 64)\n"
    "  --rate N              messages per second per publisher, 0 = as fast as possible\n"
    "  --count N, -L N       messages per publisher (instead of --duration)\n"
    "  --duration S          seconds of publishing after warm-up (default 10)\n"
    "  --warmup S            seconds published but not measured (default 0)\n"
    "  --drain S             longest wait for the last messages (default 3)\n"
    "  --inflight N          QoS 1/2 messages in flight per publisher (default 20;\n"
    "                        5.0: at most the broker's Receive Maximum)\n"
    "  --qos0-window N       QoS 0: messages the publishers may together be ahead of\n"
    "                        what the broker has read, known from PINGREQ markers\n"
    "                        (default 4000; past a fan-out of 50, N x 50 / fan-out;\n"
    "                        at least 40 each; 0 = as far as the sockets take)\n"
    "  --username U, -u U    --password P, -P P\n"
    "  --keepalive S, -k S   (default 60)   --connect-timeout S (default 10)\n"
    "  --client-prefix P     client ids P-p0, P-s0, P-c0 ... (default mb-RUNID)\n"
    "  --tls, -S             TLS (as mqtts://); --cafile F --cert F --key F --insecure\n"
    "  --source-ip A,B,...   local addresses, used in turn; --local-ports LO-HI\n"
    "  --threads N           worker threads (default: one per core)\n"
    "  --broker-pid PID      conn mode: the broker's memory per connection (/proc/PID)\n"
    "  --json F, --csv F     results for machines ('-' = standard output)\n"
    "  --hist F              the latency histogram, for `mqtt-bench merge`\n"
    "  --rx-time kernel|app  receive time of a message: when the kernel got it\n"
    "                        (default, as a capture sees it) or when mqtt-bench read it\n"
    "  --quiet               no progress line\n"
    "  --help, --version\n"
    "exit status: 0 fine, 1 loss / duplicates / reordering that the QoS forbids,\n"
    "             2 usage or setup error, 3 errors during the run but no violation\n";

void bench_usage(FILE *f)
{
    fputs(usage_text, f);
}

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "mqtt-bench: %s %s: %s\n", opt, val ? val : "", why);
    return -1;
}

/* Strict number in [lo, hi]: the whole text, no trailing characters. */
static int num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || isnan(v)) return bad(opt, s, "not a number");
    if (v < lo || v > hi) {
        char why[96];
        snprintf(why, sizeof why, "out of range %g..%g", lo, hi);
        return bad(opt, s, why);
    }
    *out = v;
    return 0;
}

static int inum(const char *opt, const char *s, double lo, double hi, int *out)
{
    double v;
    if (num(opt, s, lo, hi, &v) != 0) return -1;
    if (v != floor(v)) return bad(opt, s, "not a whole number");
    *out = (int)v;
    return 0;
}

static int parse_range(const char *opt, const char *s, double lo, double hi, double *a, double *b)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *dash = strchr(buf, '-');
    if (!dash) {
        if (num(opt, buf, lo, hi, a) != 0) return -1;
        *b = *a;
        return 0;
    }
    *dash = 0;
    if (num(opt, buf, lo, hi, a) != 0 || num(opt, dash + 1, lo, hi, b) != 0) return -1;
    if (*b < *a) return bad(opt, s, "range ends before it starts");
    return 0;
}

static int parse_broker(bench_opts *o, const char *s)
{
    const char *rest = s;
    if (strncmp(s, "mqtt://", 7) == 0 || strncmp(s, "tcp://", 6) == 0) {
        rest = strstr(s, "//") + 2;
    } else if (strncmp(s, "mqtts://", 8) == 0 || strncmp(s, "ssl://", 6) == 0) {
        rest = strstr(s, "//") + 2;
        o->transport = BENCH_TLS;
        if (o->port == 1883) o->port = 8883;
    } else if (strncmp(s, "ws://", 5) == 0 || strncmp(s, "wss://", 6) == 0) {
        net_url u;
        char err[160];
        if (net_url_parse(s, &u, err, sizeof err) != 0) return bad("--broker", s, err);
        if (u.has_user) return bad("--broker", s, "give --username / --password, not user@ in the URL");
        o->ws = true;
        o->transport = u.tls ? BENCH_TLS : BENCH_TCP;
        snprintf(o->host, sizeof o->host, "%s", u.host);
        o->port = u.port;
        snprintf(o->ws_path, sizeof o->ws_path, "%s", u.path);
        return 0;
    } else if (strstr(s, "://")) {
        return bad("--broker", s, "scheme not supported (mqtt://, mqtts://, ws:// or wss://)");
    }
    if (net_parse_hostport(rest, o->host, sizeof o->host, &o->port) != 0 || !o->host[0])
        return bad("--broker", s, "expected HOST:PORT");
    return 0;
}

static int split_list(const char *s, char ***out, int *n)
{
    char *copy = strdup(s);
    if (!copy) return -1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **l = realloc(*out, (size_t)(*n + 1) * sizeof *l);
        if (!l || !(l[*n] = strdup(tok))) {
            free(l ? l : *out);
            free(copy);
            return -1;
        }
        *out = l;
        (*n)++;
    }
    free(copy);
    return 0;
}

static void defaults(bench_opts *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 1883;
    o->version = MQTT_V311;
    o->publishers = o->subscribers = -1;
    o->clients = -1;
    o->qos = 0;
    o->sub_qos = -1;
    o->payload_min = o->payload_max = 64;
    o->duration = 10;
    o->drain = 3;
    o->inflight = 20; /* mosquitto's max_inflight_messages */
    o->qos0_window = 4000;
    o->keepalive = 60;
    o->connect_timeout_ms = 10000;
    o->offline = 0.5;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = n > 0 ? (int)n : 1;
}

enum {
    O_BROKER = 256, O_MQTT, O_PUBS, O_SUBS, O_CONNRATE, O_PUBTOPIC, O_SUBTOPIC, O_SHARED,
    O_SUBQOS, O_RETAIN, O_RATE, O_DURATION, O_WARMUP, O_DRAIN, O_INFLIGHT, O_PREFIX,
    O_CTIMEOUT, O_JSON, O_CSV, O_HIST, O_THREADS, O_SRCIP, O_LPORTS, O_PID, O_QUIET,
    O_CAFILE, O_CERT, O_KEY, O_INSECURE, O_HELP, O_VERSION, O_RXTIME, O_WINDOW0, O_SLOW, O_PERSIST, O_EXPIRY, O_RECONNECT, O_OFFLINE
};

static const struct option longopts[] = {
    {"broker", 1, 0, O_BROKER}, {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'},
    {"mqtt", 1, 0, O_MQTT}, {"publishers", 1, 0, O_PUBS}, {"subscribers", 1, 0, O_SUBS},
    {"clients", 1, 0, 'c'}, {"conn-rate", 1, 0, O_CONNRATE}, {"topic", 1, 0, 't'},
    {"pub-topic", 1, 0, O_PUBTOPIC}, {"sub-topic", 1, 0, O_SUBTOPIC}, {"shared", 1, 0, O_SHARED},
    {"qos", 1, 0, 'q'}, {"sub-qos", 1, 0, O_SUBQOS}, {"retain", 0, 0, O_RETAIN},
    {"size", 1, 0, 's'}, {"rate", 1, 0, O_RATE}, {"count", 1, 0, 'L'},
    {"duration", 1, 0, O_DURATION}, {"warmup", 1, 0, O_WARMUP}, {"drain", 1, 0, O_DRAIN},
    {"inflight", 1, 0, O_INFLIGHT}, {"username", 1, 0, 'u'}, {"password", 1, 0, 'P'},
    {"keepalive", 1, 0, 'k'}, {"connect-timeout", 1, 0, O_CTIMEOUT},
    {"client-prefix", 1, 0, O_PREFIX}, {"tls", 0, 0, 'S'}, {"cafile", 1, 0, O_CAFILE},
    {"cert", 1, 0, O_CERT}, {"key", 1, 0, O_KEY}, {"insecure", 0, 0, O_INSECURE},
    {"source-ip", 1, 0, O_SRCIP}, {"local-ports", 1, 0, O_LPORTS}, {"threads", 1, 0, O_THREADS},
    {"broker-pid", 1, 0, O_PID}, {"json", 1, 0, O_JSON}, {"csv", 1, 0, O_CSV},
    {"hist", 1, 0, O_HIST}, {"quiet", 0, 0, O_QUIET}, {"help", 0, 0, O_HELP},
    {"version", 0, 0, O_VERSION}, {"rx-time", 1, 0, O_RXTIME}, {"qos0-window", 1, 0, O_WINDOW0},
    {"slow-subscribers", 1, 0, O_SLOW}, {"persistent", 0, 0, O_PERSIST}, {"session-expiry", 1, 0, O_EXPIRY},
    {"reconnect", 1, 0, O_RECONNECT}, {"offline", 1, 0, O_OFFLINE},
    {0, 0, 0, 0}};

/* One option; returns 0, 1 (printed help/version) or -1. */
static int apply(bench_opts *o, int c, const char *a, double *count_alias)
{
    double v, w;
    int i;
    switch (c) {
    case O_BROKER: return parse_broker(o, a);
    case 'h': snprintf(o->host, sizeof o->host, "%s", a); return 0;
    case 'p': if (inum("--port", a, 1, 65535, &i)) return -1; o->port = (uint16_t)i; return 0;
    case O_MQTT: case 'V':
        if (!strcmp(a, "3.1.1") || !strcmp(a, "4") || !strcmp(a, "311")) o->version = MQTT_V311;
        else if (!strcmp(a, "5") || !strcmp(a, "5.0")) o->version = MQTT_V5;
        else return bad("--mqtt", a, "expected 3.1.1 or 5");
        return 0;
    case O_PUBS: return inum("--publishers", a, 0, 1000000, &o->publishers);
    case O_SUBS: return inum("--subscribers", a, 0, 1000000, &o->subscribers);
    case O_SLOW: return inum("--slow-subscribers", a, 0, 1000000, &o->slow_subscribers);
    case O_PERSIST: o->persistent = true; return 0;
    case O_EXPIRY: if (num("--session-expiry", a, 1, 4294967295.0, &v)) return -1;
        o->session_expiry = (uint32_t)v; o->persistent = true; return 0;
    case O_RECONNECT: return num("--reconnect", a, 0.01, 1e7, &o->reconnect_every);
    case O_OFFLINE: return num("--offline", a, 0, 1e7, &o->offline);
    case 'c': if (num("--clients", a, 1, 1000000, count_alias)) return -1;
        return inum("--clients", a, 1, 1000000, &o->clients);
    case O_CONNRATE: return num("--conn-rate", a, 0, 1e7, &o->conn_rate);
    case 't': o->pub_topic = o->sub_topic = a; return 0;
    case O_PUBTOPIC: o->pub_topic = a; return 0;
    case O_SUBTOPIC: o->sub_topic = a; return 0;
    case O_SHARED: o->share_group = a; return 0;
    case 'q': return inum("--qos", a, 0, 2, &o->qos);
    case O_SUBQOS: return inum("--sub-qos", a, 0, 2, &o->sub_qos);
    case O_RETAIN: case 'r': o->retain = true; return 0;
    case 's':
        if (parse_range("--size", a, BENCH_PAYLOAD_HEADER, 1e8, &v, &w)) return -1;
        o->payload_min = (size_t)v; o->payload_max = (size_t)w; return 0;
    case O_RATE: return num("--rate", a, 0, 1e8, &o->rate);
    case 'I': if (num("-I", a, 0.001, 1e7, &v)) return -1; o->rate = 1000.0 / v; return 0;
    case 'L': if (num("--count", a, 1, 1e12, &v)) return -1; o->count = (uint64_t)v; return 0;
    case O_DURATION: return num("--duration", a, 0.001, 1e7, &o->duration);
    case O_WARMUP: return num("--warmup", a, 0, 1e7, &o->warmup);
    case O_DRAIN: return num("--drain", a, 0, 3600, &o->drain);
    case O_INFLIGHT: return inum("--inflight", a, 1, 65535, &o->inflight);
    case O_WINDOW0: return inum("--qos0-window", a, 0, 1e9, &o->qos0_window);
    case 'u': o->username = a; return 0;
    case 'P': o->password = a; return 0;
    case 'k': if (inum("--keepalive", a, 0, 65535, &i)) return -1; o->keepalive = (uint16_t)i; return 0;
    case O_CTIMEOUT: if (num("--connect-timeout", a, 0.001, 3600, &v)) return -1;
        o->connect_timeout_ms = (int)(v * 1000); return 0;
    case O_PREFIX: o->client_prefix = a; return 0;
    case 'S': o->transport = BENCH_TLS; return 0;
    case O_CAFILE: o->tls.cafile = a; return 0;
    case O_CERT: o->tls.certfile = a; return 0;
    case O_KEY: o->tls.keyfile = a; return 0;
    case O_INSECURE: o->tls.insecure = true; return 0;
    case O_SRCIP: return split_list(a, &o->source_ips, &o->n_source_ips) ? bad("--source-ip", a, "out of memory") : 0;
    case O_LPORTS:
        if (parse_range("--local-ports", a, 1, 65535, &v, &w)) return -1;
        o->lport_lo = (uint16_t)v; o->lport_hi = (uint16_t)w; return 0;
    case O_THREADS: return inum("--threads", a, 1, 1024, &o->threads);
    case O_PID: if (inum("--broker-pid", a, 1, 1e9, &i)) return -1; o->broker_pid = i; return 0;
    case O_JSON: o->json = a; return 0;
    case O_CSV: o->csv = a; return 0;
    case O_HIST: o->hist = a; return 0;
    case O_QUIET: o->quiet = true; return 0;
    case O_RXTIME:
        if (strcmp(a, "kernel") && strcmp(a, "app")) return bad("--rx-time", a, "expected kernel or app");
        o->app_rx_time = !strcmp(a, "app"); return 0;
    case O_HELP: bench_usage(stdout); return 1;
    case O_VERSION: printf("mqtt-bench %s\n", BENCH_VERSION); return 1;
    default: return -1;
    }
}

static int parse_mode(bench_opts *o, const char *m)
{
    static const char *const names[] = {"conn", "pub", "sub", "pubsub", "merge"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(m, names[i])) { o->mode = (bench_mode)i; return 0; }
    fprintf(stderr, "mqtt-bench: unknown mode \"%s\" (conn, pub, sub, pubsub or merge)\n", m);
    return -1;
}

/* Role counts and checks that need the whole command line. */
static int finish(bench_opts *o)
{
    int *single = o->mode == BENCH_PUB ? &o->publishers : o->mode == BENCH_SUB ? &o->subscribers : NULL;
    if (o->clients > 0 && single && *single < 0) *single = o->clients;
    if (o->mode == BENCH_PUBSUB && o->clients > 0)
        return bad("--clients", "", "pubsub mode takes --publishers and --subscribers");
    if (o->mode == BENCH_CONN && o->clients < 0) o->clients = 1;
    if (o->mode == BENCH_SUB && o->publishers > 0) o->expect_pubs = o->publishers;
    if (o->mode == BENCH_SUB && o->expect_pubs && !o->count)
        return bad("--publishers", "", "sub mode: give the --count each of them sends");
    if (o->reconnect_every && !o->persistent && o->mode != BENCH_CONN)
        return bad("--reconnect", "", "needs --persistent (or --session-expiry): a clean session is owed nothing while away");
    if (o->persistent && o->version == MQTT_V5 && !o->session_expiry)
        return bad("--persistent", "", "5.0 keeps a session only with --session-expiry S (MQTT-3.1.2-23)");
    if (o->mode != BENCH_PUBSUB && o->slow_subscribers)
        return bad("--slow-subscribers", "", "pubsub mode only");
    if (o->mode == BENCH_PUB || o->mode == BENCH_SUB || o->mode == BENCH_CONN) {
        if (o->mode != BENCH_PUB) o->publishers = 0;
        if (o->mode != BENCH_SUB) o->subscribers = 0;
    }
    if (o->publishers < 0) o->publishers = 1;
    if (o->subscribers < 0) o->subscribers = 1;
    if (o->mode != BENCH_CONN) o->clients = o->publishers + o->subscribers + o->slow_subscribers;
    if (o->clients == 0) return bad("--clients", "0", "nothing to connect");
    if (o->sub_qos < 0) o->sub_qos = o->qos;
    if (!o->pub_topic) o->pub_topic = "mqtt-bench/%i";
    if (!o->sub_topic) o->sub_topic = "mqtt-bench/+";
    if (o->share_group && o->version != MQTT_V5)
        return bad("--shared", o->share_group, "shared subscriptions need --mqtt 5");
    if (!!o->tls.certfile != !!o->tls.keyfile) return bad("--cert/--key", "", "give both or neither");
    return 0;
}

int bench_opts_parse(bench_opts *o, int argc, char **argv)
{
    defaults(o);
    if (argc < 2) {
        bench_usage(stderr);
        return -1;
    }
    if (!strcmp(argv[1], "--help")) { bench_usage(stdout); return 1; }
    if (!strcmp(argv[1], "--version")) { printf("mqtt-bench %s\n", BENCH_VERSION); return 1; }
    if (parse_mode(o, argv[1]) != 0) return -1;
    double count_alias = 0;
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h:p:V:c:t:q:rs:I:L:u:P:k:S", longopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *name = argv[optind - 1];
            fprintf(stderr, "mqtt-bench: %s: %s (try --help)\n", name,
                    c == '?' ? "unknown option" : "needs a value");
            return -1;
        }
        int r = apply(o, c, optarg, &count_alias);
        if (r) return r;
    }
    for (; optind < argc; optind++) {
        if (o->mode != BENCH_MERGE) return bad(argv[optind], "", "unexpected argument");
        if (split_list(argv[optind], &o->merge_files, &o->n_merge_files)) return -1;
    }
    if (o->mode == BENCH_MERGE)
        return o->n_merge_files ? 0 : bad("merge", "", "give the .hist files to merge");
    return finish(o);
}

void bench_opts_free(bench_opts *o)
{
    for (int i = 0; i < o->n_source_ips; i++) free(o->source_ips[i]);
    free(o->source_ips);
    for (int i = 0; i < o->n_merge_files; i++) free(o->merge_files[i]);
    free(o->merge_files);
}

char *bench_expand(const char *p, int index, const char *client_id)
{
    /* each pattern byte yields at most max(11, strlen(client_id)) bytes */
    size_t cap = strlen(p) * (12 + strlen(client_id)) + 1, n = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    for (; *p && n + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == 'i') {
            n += (size_t)snprintf(s + n, cap - n, "%d", index);
            p++;
        } else if (p[0] == '%' && p[1] == 'c') {
            n += (size_t)snprintf(s + n, cap - n, "%s", client_id);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            s[n++] = '%';
            p++;
        } else {
            s[n++] = *p;
        }
    }
    s[n < cap ? n : cap - 1] = 0;
    return s;
}
