/*
 * mqtt-codec: decode MQTT bytes for people debugging a client, a broker or a
 * capture. Reads hex (arguments, or standard input when there are none) or raw
 * bytes (--binary), decodes packet after packet with libmqttcodec, prints each
 * one (offset and formatter line, or JSON), and stops at the first invalid or
 * incomplete packet, saying what and where.
 *
 * Exit status (the contract scripts rely on):
 *   0  the input is one or more whole, valid packets
 *   1  a packet is invalid (class, rule id, offset, reason code are printed)
 *   2  usage error: bad option, bad hex (with its position), no input
 *   3  the input ends inside a packet
 *
 * Invariants: every packet decoded before a failure is printed first; the
 * caller arrays given to the codec are sized from the input length, so a
 * valid packet never fails on the CLI's own capacity.
 */
#include <mqtt/mqtt.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_TRUNCATED = 3 };

static const char *prog = "mqtt-codec";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s decode [options] [HEX ...]\n"
            "\n"
            "Decodes MQTT packets and checks every rule of the specification.\n"
            "Hex comes from the arguments or, when there are none, from standard\n"
            "input; whitespace anywhere is ignored (\"30 05 00 03 61 2f 62\").\n"
            "\n"
            "options:\n"
            "  --protocol 3.1|3.1.1|5.0  version in force (default: none, so the\n"
            "                            stream must start with a CONNECT); after a\n"
            "                            CONNECT, its protocol level is used\n"
            "  --from client|server      who sent the bytes (default: client)\n"
            "  --binary                  read raw bytes from standard input\n"
            "  --json                    print one JSON object per line\n"
            "  --max-packet-size N       reject packets larger than N bytes\n"
            "  -h, --help                show this help\n"
            "\n"
            "exit status: 0 all packets valid, 1 invalid packet, 2 usage error,\n"
            "             3 input ends inside a packet\n"
            "\n"
            "example: %s decode --protocol 3.1.1 32 08 00 03 61 2f 62 00 0a 68 69\n",
            prog, prog);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(try '%s decode --help')\n", prog);
    return EXIT_USAGE;
}

/* A growing byte buffer. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} bytes;

static void bytes_push(bytes *b, uint8_t v)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            fprintf(stderr, "%s: out of memory\n", prog);
            exit(EXIT_USAGE);
        }
        b->data = p;
        b->cap = cap;
    }
    b->data[b->len++] = v;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex digits arrive one at a time with where they came from, so an error can
 * name the argument and column, or the line and column of standard input. */
typedef struct {
    bytes out;
    int high;            /* pending high nibble, or -1 */
    char where[96];      /* position of the pending digit */
} hex_parser;

static void describe(char *dst, size_t n, int arg, size_t line, size_t col)
{
    if (arg > 0)
        snprintf(dst, n, "argument %d, column %zu", arg, col);
    else
        snprintf(dst, n, "standard input line %zu, column %zu", line, col);
}

/* Feeds one character; returns 0, or EXIT_USAGE after printing the error. */
static int hex_feed(hex_parser *h, int c, int arg, size_t line, size_t col)
{
    int v;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
        return 0;
    v = hex_value(c);
    if (v < 0) {
        char where[96], what[160];
        describe(where, sizeof where, arg, line, col);
        if (c >= 0x21 && c < 0x7F)
            snprintf(what, sizeof what, "'%c' at %s is not a hex digit", c, where);
        else
            snprintf(what, sizeof what, "byte 0x%02x at %s is not a hex digit", (unsigned)c & 0xFF,
                     where);
        return usage_error("%s (use --binary for raw bytes)", what);
    }
    if (h->high < 0) {
        h->high = v;
        describe(h->where, sizeof h->where, arg, line, col);
    } else {
        bytes_push(&h->out, (uint8_t)(h->high << 4 | v));
        h->high = -1;
    }
    return 0;
}

static int hex_end(hex_parser *h)
{
    if (h->high >= 0) {
        char what[160];
        snprintf(what, sizeof what, "odd number of hex digits: the digit at %s has no pair",
                 h->where);
        return usage_error("%s", what);
    }
    return 0;
}

static int read_hex_args(char **args, int n, bytes *out)
{
    hex_parser h = {.high = -1};
    int rc = 0;
    for (int a = 0; a < n && !rc; a++)
        for (size_t i = 0; args[a][i] && !rc; i++)
            rc = hex_feed(&h, (unsigned char)args[a][i], a + 1, 0, i + 1);
    if (!rc)
        rc = hex_end(&h);
    *out = h.out;
    return rc;
}

static int read_hex_stdin(bytes *out)
{
    hex_parser h = {.high = -1};
    size_t line = 1, col = 0;
    int c, rc = 0;
    while (!rc && (c = getchar()) != EOF) {
        col++;
        rc = hex_feed(&h, c, 0, line, col);
        if (c == '\n') {
            line++;
            col = 0;
        }
    }
    if (!rc && ferror(stdin)) {
        fprintf(stderr, "%s: reading standard input: %s\n", prog, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (!rc)
        rc = hex_end(&h);
    *out = h.out;
    return rc;
}

static int read_binary_stdin(bytes *out)
{
    uint8_t chunk[65536];
    ssize_t n;
    bytes b = {0};
    for (;;) {
        n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: reading standard input: %s\n", prog, strerror(errno));
            *out = b;
            return EXIT_USAGE;
        }
        for (ssize_t i = 0; i < n; i++)
            bytes_push(&b, chunk[i]);
    }
    *out = b;
    return 0;
}

/* Prints what a formatter produces, growing the buffer when the line is long
 * (a 64 KiB topic is legal). */
typedef size_t (*formatter)(const mqtt_packet *, mqtt_version, char *, size_t);

static void print_formatted(formatter f, const mqtt_packet *pkt, mqtt_version v, const char *prefix)
{
    char small[4096];
    size_t n = f(pkt, v, small, sizeof small);
    if (n < sizeof small) {
        printf("%s%s\n", prefix, small);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(EXIT_USAGE);
    }
    f(pkt, v, big, n + 1);
    printf("%s%s\n", prefix, big);
    free(big);
}

/* A JSON string of a static ASCII message. */
static void print_json_ascii(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

typedef struct {
    mqtt_codec codec;
    bool json;
} options;

static int parse_version(const char *s, mqtt_version *v)
{
    if (!strcmp(s, "3.1") || !strcmp(s, "3"))
        *v = MQTT_V31;
    else if (!strcmp(s, "3.1.1") || !strcmp(s, "4"))
        *v = MQTT_V311;
    else if (!strcmp(s, "5.0") || !strcmp(s, "5"))
        *v = MQTT_V5;
    else
        return -1;
    return 0;
}

static int parse_size(const char *s, uint32_t *out)
{
    unsigned long long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > MQTT_MAX_PACKET_SIZE)
            return -1;
    }
    if (v < 2) /* the smallest packet (PINGREQ) has 2 bytes */
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int decode_all(options *o, const uint8_t *buf, size_t len)
{
    mqtt_codec *c = &o->codec;
    size_t pos = 0;
    char prefix[64];
    /* Each repeated item takes at least 2 (subscription id), 3 (subscription)
     * or 5 (user property) bytes on the wire: these never run out. */
    c->user_properties_cap = len / 5 + 1;
    c->subscription_identifiers_cap = len / 2 + 1;
    c->subscriptions_cap = len / 3 + 1;
    c->user_properties = calloc(c->user_properties_cap, sizeof *c->user_properties);
    c->subscription_identifiers = calloc(c->subscription_identifiers_cap, sizeof(uint32_t));
    c->subscriptions = calloc(c->subscriptions_cap, sizeof *c->subscriptions);
    if (!c->user_properties || !c->subscription_identifiers || !c->subscriptions) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_USAGE;
    }
    while (pos < len) {
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_packet_type type = (mqtt_packet_type)(buf[pos] >> 4);
        mqtt_status st = mqtt_decode(c, buf + pos, len - pos, &pkt, &err);
        if (st == MQTT_OK) {
            /* The version in force for this packet: CONNECT carries its own. */
            mqtt_version v = pkt.type == MQTT_CONNECT ? (mqtt_version)pkt.connect.protocol_level
                                                      : c->version;
            if (o->json) {
                snprintf(prefix, sizeof prefix, "{\"offset\":%zu,", pos);
                /* Splice the offset in as the first member of the object. */
                char small[4096];
                size_t n = mqtt_format_json(&pkt, v, small, sizeof small);
                if (n < sizeof small) {
                    printf("%s%s\n", prefix, small + 1);
                } else {
                    char *big = malloc(n + 1);
                    if (!big) {
                        fprintf(stderr, "%s: out of memory\n", prog);
                        return EXIT_USAGE;
                    }
                    mqtt_format_json(&pkt, v, big, n + 1);
                    printf("%s%s\n", prefix, big + 1);
                    free(big);
                }
            } else {
                snprintf(prefix, sizeof prefix, "%zu: ", pos);
                print_formatted(mqtt_format_line, &pkt, v, prefix);
            }
            if (pkt.type == MQTT_CONNECT)
                c->version = (mqtt_version)pkt.connect.protocol_level;
            pos += pkt.length;
            continue;
        }
        fflush(stdout);
        if (st == MQTT_NEED_MORE) {
            size_t have = len - pos;
            if (o->json) {
                printf("{\"offset\":%zu,\"error\":{\"class\":\"truncated\",\"have\":%zu", pos, have);
                if (pkt.length)
                    printf(",\"need\":%zu", pkt.length);
                printf("}}\n");
                fflush(stdout);
            }
            if (pkt.length)
                fprintf(stderr,
                        "%s: input ends inside a packet: %s at offset %zu is %zu bytes, "
                        "the input has %zu of them\n",
                        prog, mqtt_packet_type_name(type), pos, pkt.length, have);
            else
                fprintf(stderr,
                        "%s: input ends inside the fixed header of the packet at offset %zu "
                        "(%zu byte%s)\n",
                        prog, pos, have, have == 1 ? "" : "s");
            return EXIT_TRUNCATED;
        }
        err.offset += pos;
        if (o->json) {
            printf("{\"offset\":%zu,\"error\":{\"class\":", pos);
            print_json_ascii(mqtt_status_name(err.status));
            printf(",\"rule\":");
            print_json_ascii(err.rule ? err.rule : "");
            printf(",\"version\":");
            print_json_ascii(mqtt_version_name(err.version));
            printf(",\"at\":%zu,\"reason_code\":%u,\"message\":", err.offset,
                   (unsigned)err.reason_code);
            print_json_ascii(err.message ? err.message : "");
            printf("}}\n");
            fflush(stdout);
        }
        char line[512];
        mqtt_format_error(&err, line, sizeof line);
        fprintf(stderr, "%s: invalid %s at offset %zu (MQTT %s, from %s): %s\n", prog,
                mqtt_packet_type_name(type), pos, mqtt_version_name(c->version),
                c->from == MQTT_FROM_CLIENT ? "client" : "server", line);
        if (c->version == MQTT_VERSION_UNKNOWN && type != MQTT_CONNECT)
            fprintf(stderr,
                    "%s: hint: no protocol version is known before a CONNECT; "
                    "pass --protocol 3.1, 3.1.1 or 5.0\n",
                    prog);
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}

static int cmd_decode(int argc, char **argv)
{
    options o = {0};
    bool binary = false;
    int i;
    o.codec.from = MQTT_FROM_CLIENT;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *eq;
        if (a[0] != '-' || a[1] == '\0')
            break; /* hex starts */
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(EXIT_VALID);
        }
        if (!strcmp(a, "--json")) {
            o.json = true;
            continue;
        }
        if (!strcmp(a, "--binary")) {
            binary = true;
            continue;
        }
        /* Options with a value: "--name value" or "--name=value". */
        char name[32];
        eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name)
            return usage_error("unknown option '%s'", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "--protocol") && strcmp(name, "--from") &&
            strcmp(name, "--max-packet-size"))
            return usage_error("unknown option '%s'", a);
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return usage_error("option '%s' needs a value", a);
        }
        if (!strcmp(name, "--protocol")) {
            if (parse_version(val, &o.codec.version))
                return usage_error("--protocol must be 3.1, 3.1.1 or 5.0, not '%s'", val);
        } else if (!strcmp(name, "--from")) {
            if (!strcmp(val, "client"))
                o.codec.from = MQTT_FROM_CLIENT;
            else if (!strcmp(val, "server"))
                o.codec.from = MQTT_FROM_SERVER;
            else
                return usage_error("--from must be client or server, not '%s'", val);
        } else if (parse_size(val, &o.codec.max_packet_size)) {
            return usage_error("--max-packet-size must be a number of bytes from 2 to "
                               "268435460, not '%s'", val);
        }
    }
    bytes in = {0};
    int rc;
    if (binary) {
        if (i < argc)
            return usage_error("--binary reads standard input; unexpected argument '%s'", argv[i]);
        rc = read_binary_stdin(&in);
    } else if (i < argc) {
        rc = read_hex_args(argv + i, argc - i, &in);
    } else {
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "%s: reading hex from standard input (end with Ctrl-D)\n", prog);
        rc = read_hex_stdin(&in);
    }
    if (!rc && in.len == 0)
        rc = usage_error("%s", "no bytes to decode");
    if (!rc)
        rc = decode_all(&o, in.data, in.len);
    free(in.data);
    free(o.codec.user_properties);
    free(o.codec.subscription_identifiers);
    free(o.codec.subscriptions);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "missing command: decode");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_VALID;
    }
    if (!strcmp(argv[1], "decode"))
        return cmd_decode(argc - 2, argv + 2);
    return usage_error("unknown command '%s' (the command is: decode)", argv[1]);
}
