/*
 * pcap_cli: option parsing and the helpers every mqtt-pcap command uses.
 * Times print relative to the first record of the capture, so the output of
 * a capture does not depend on when it was recorded (and the regression
 * corpus compares equal across rewrites).
 */
#include "pcaps/src/pcap_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "mqtt-pcap %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(try 'mqtt-pcap --help')\n");
    return 2;
}

static bool parse_port(const char *s, uint16_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

int pcap_cli_parse(int argc, char **argv, pcap_cli *cli)
{
    cli->ports[0] = 1883;
    cli->nports = 1;
    cli->timeout_ms = 2000;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--port") == 0 || strcmp(a, "-p") == 0) {
            uint16_t p;
            if (!val || !parse_port(val, &p))
                return usage_error(cli->cmd, "--port needs a port number 1..65535, got '%s'",
                                   val ? val : "");
            if (cli->nports < PCAP_CLI_MAX_PORTS)
                cli->ports[cli->nports++] = p;
            i++;
        } else if (strcmp(a, "--no-detect") == 0) {
            cli->no_detect = true;
        } else if (strcmp(a, "--json") == 0) {
            cli->json = true;
        } else if (strcmp(a, "--abs-time") == 0) {
            cli->abs_time = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            cli->quiet = true;
        } else if (strcmp(a, "--fast") == 0) {
            cli->fast = true;
        } else if (strcmp(a, "--inproc") == 0) {
            cli->inproc = true;
        } else if (strcmp(a, "--broker") == 0 || strcmp(a, "-b") == 0) {
            if (!val)
                return usage_error(cli->cmd, "%s needs HOST:PORT", a);
            cli->broker = val;
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            char *end;
            long ms = val ? strtol(val, &end, 10) : -1;
            if (!val || *end || ms < 1 || ms > 600000)
                return usage_error(cli->cmd, "--timeout needs milliseconds 1..600000, got '%s'",
                                   val ? val : "");
            cli->timeout_ms = (int)ms;
            i++;
        } else if (strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0) {
            if (!val)
                return usage_error(cli->cmd, "%s needs a file name", a);
            cli->output = val;
            i++;
        } else if (strcmp(a, "--title") == 0) {
            if (!val)
                return usage_error(cli->cmd, "%s needs a text", a);
            cli->title = val;
            i++;
        } else if (strcmp(a, "--conn") == 0) {
            char *end;
            long id = val ? strtol(val, &end, 10) : -1;
            if (!val || *end || id < 1 || id > 100000000)
                return usage_error(cli->cmd, "--conn needs a connection number (c1 -> 1), got '%s'",
                                   val ? val : "");
            cli->conn_filter = (unsigned)id;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(cli->cmd, "unknown option '%s'", a);
        } else if (!cli->file) {
            cli->file = a;
        } else {
            return usage_error(cli->cmd, "one capture file only (extra '%s')", a);
        }
    }
    if (!cli->file)
        return usage_error(cli->cmd, "missing capture FILE%s", "");
    return 0;
}

int pcap_cli_run(const pcap_cli *cli, pcap_event_fn fn, void *ctx, pcap_flow_summary *sum)
{
    char err[1200];
    pcap_reader *r = pcap_reader_open_file(cli->file, err, sizeof err);
    if (!r) {
        fprintf(stderr, "mqtt-pcap %s: %s\n", cli->cmd, err);
        return 2;
    }
    pcap_flow_options opt = {.ports = cli->ports, .nports = cli->nports,
                             .no_detect = cli->no_detect};
    pcap_flow_summary local;
    int st = pcap_flow_run(r, &opt, fn, ctx, sum ? sum : &local, err, sizeof err);
    pcap_reader_close(r);
    if (st != 0) {
        fflush(stdout);
        fprintf(stderr, "mqtt-pcap %s: %s\n", cli->cmd, err);
        return 1;
    }
    return 0;
}

void pcap_cli_time(const pcap_cli *cli, const pcap_event *ev, char *buf, size_t cap)
{
    int64_t sec = ev->ts_sec;
    uint32_t nsec = ev->ts_nsec;
    if (cli->abs_time) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        char d[32];
        strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, cap, "%s.%06uZ", d, nsec / 1000);
        return;
    }
    int64_t ns = (sec - ev->origin_sec) * 1000000000 + ((int64_t)nsec - (int64_t)ev->origin_nsec);
    /* By hand, not snprintf: dump prints one per packet and this is its hot path. */
    char tmp[40];
    size_t n = 0;
    bool neg = ns < 0;
    uint64_t v = (uint64_t)(neg ? -ns : ns) / 1000; /* microseconds */
    for (int i = 0; i < 6; i++, v /= 10)
        tmp[n++] = (char)('0' + v % 10);
    tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    if (cap == 0)
        return;
    size_t k = 0;
    while (n > 0 && k + 1 < cap)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
}

void pcap_json_str(FILE *out, const char *s, size_t n)
{
    putc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\u%04x", ch);
        else
            putc(ch, out);
    }
    putc('"', out);
}

void pcap_hex(FILE *out, const uint8_t *p, size_t n, size_t max, bool spaces)
{
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        fprintf(out, spaces && i ? " %02x" : "%02x", p[i]);
    if (k < n)
        fputs(spaces ? " ..." : "...", out);
}

static const char *fmt(size_t (*f)(const mqtt_packet *, mqtt_version, char *, size_t),
                       const mqtt_packet *pkt, mqtt_version v, char **buf, size_t *cap)
{
    if (!*buf) {
        *cap = 4096;
        *buf = malloc(*cap);
        if (!*buf)
            return "(out of memory)";
    }
    size_t need = f(pkt, v, *buf, *cap);
    if (need >= *cap) {
        char *nb = realloc(*buf, need + 1);
        if (!nb)
            return *buf; /* truncated, still NUL-terminated */
        *buf = nb;
        *cap = need + 1;
        f(pkt, v, *buf, *cap);
    }
    return *buf;
}

const char *pcap_format_line(const mqtt_packet *pkt, mqtt_version v, char **buf, size_t *cap)
{
    return fmt(mqtt_format_line, pkt, v, buf, cap);
}

const char *pcap_format_json(const mqtt_packet *pkt, mqtt_version v, char **buf, size_t *cap)
{
    return fmt(mqtt_format_json, pkt, v, buf, cap);
}
