/*
 * mqtt-conform's options as one table: name, where the value goes, how it
 * is checked. getopt_long's table and the parser are both made from it, so an
 * option is added in one place. Range errors name the option and the value.
 */
#include "conformance/src/cli.h"
#include "conformance/src/conform.h"

#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_STR, K_FLAG, K_INT, K_REAL, K_PCAP } opt_kind;

typedef struct {
    const char *name;
    char short_name;      /* 0: long only */
    opt_kind kind;
    size_t off;           /* offset of the field in conf_cli */
    double min, max;      /* K_INT, K_REAL */
    const char *expects;  /* what a bad value should have been */
} opt_def;

#define F(field) offsetof(conf_cli, field)
static const opt_def defs[] = {
    {"broker", 0, K_STR, F(broker), 0, 0, NULL},
    {"broker-bin", 0, K_STR, F(broker_bin), 0, 0, NULL},
    {"inproc", 0, K_FLAG, F(inproc), 0, 0, NULL},
    {"username", 0, K_STR, F(username), 0, 0, NULL},
    {"password", 0, K_STR, F(password), 0, 0, NULL},
    {"cafile", 0, K_STR, F(cafile), 0, 0, NULL},
    {"cert", 0, K_STR, F(certfile), 0, 0, NULL},
    {"key", 0, K_STR, F(keyfile), 0, 0, NULL},
    {"insecure", 0, K_FLAG, F(insecure), 0, 0, NULL},
    {"versions", 0, K_STR, F(versions), 0, 0, NULL},
    {"profile", 0, K_STR, F(profile), 0, 0, NULL},
    {"filter", 0, K_STR, F(filter), 0, 0, NULL},
    {"list", 0, K_FLAG, F(list), 0, 0, NULL},
    {"time-scale", 0, K_REAL, F(time_scale), 0, 100, "a number above 0 and at most 100"},
    {"repeat", 0, K_INT, F(repeat), 1, 1000, "a count from 1 to 1000"},
    {"jobs", 'j', K_INT, F(jobs), 1, 512, "a count from 1 to 512"},
    {"out", 0, K_STR, F(outdir), 0, 0, NULL},
    {"junit", 0, K_STR, F(junit), 0, 0, NULL},
    {"json", 0, K_STR, F(json), 0, 0, NULL},
    {"markdown", 0, K_STR, F(md), 0, 0, NULL},
    {"html", 0, K_STR, F(html), 0, 0, NULL},
    {"no-reports", 0, K_FLAG, F(no_reports), 0, 0, NULL},
    {"pcap", 0, K_PCAP, F(pcap), 0, 0, "failures, all or none"},
    {"write-profile", 0, K_STR, F(write_profile), 0, 0, NULL},
    {"strict", 0, K_FLAG, F(strict), 0, 0, NULL},
    {"client", 0, K_STR, F(client), 0, 0, NULL},
    {"client-listen", 0, K_STR, F(client_listen), 0, 0, NULL},
    {"verbose", 'v', K_FLAG, F(verbose), 0, 0, NULL},
    {"quiet", 'q', K_FLAG, F(quiet), 0, 0, NULL},
    {"help", 'h', K_FLAG, F(help), 0, 0, NULL},
};
#undef F
#define NDEFS (sizeof defs / sizeof defs[0])

void conf_cli_usage(FILE *f)
{
    fputs(
        "usage: mqtt-conform [OPTIONS] [SCENARIO-FILE-OR-DIR...]\n"
        "       mqtt-conform compare [--markdown F] [--html F] [LABEL=]REPORT.json...\n"
        "Runs MQTT conformance scenarios (.mqs) against a broker and reports, per scenario\n"
        "and per normative statement, where it departs from MQTT 3.1.1 and 5.0.\n"
        "`compare` prints one matrix of verdicts per scenario and broker from the JSON\n"
        "reports of earlier runs, with each broker's capability table.\n\n"
        "  --broker HOST:PORT   broker to test; without it (and without a profile\n"
        "                       address) the reference broker is started on a free port\n"
        "  --broker URL         mqtt://H:P, mqtts://H:P (TLS), ws://H:P/PATH, wss://H:P/PATH:\n"
        "                       MQTT over WebSockets (subprotocol mqtt), TLS with wss\n"
        "  --broker-bin PATH    reference broker to start (default: mqtt-broker next to\n"
        "                       this program)\n"
        "  --inproc             run against the reference broker's core inside this\n"
        "                       process, on a virtual clock: timers (keep alive, expiry,\n"
        "                       will delay) take no real time, verdicts never depend\n"
        "                       on the machine's load (not with --broker or TLS)\n"
        "  --username U --password P   credentials for every CONNECT\n"
        "  --cafile FILE        TLS: every connection over TLS, the broker's certificate\n"
        "                       checked against the CA certificates in FILE (PEM) and\n"
        "                       against the host name of --broker\n"
        "  --cert FILE --key FILE   TLS: a client certificate and its key (PEM)\n"
        "  --insecure           TLS: do not check the host name; without --cafile, do\n"
        "                       not verify the certificate at all. Any of these four\n"
        "                       turns TLS on (without --cafile: the system's CAs); they\n"
        "                       need --broker (or a profile's broker): the reference\n"
        "                       broker the runner starts itself listens without TLS\n"
        , f);
    /* two literals: ISO C caps one at 4095 bytes */
    fprintf(f,
        "  --versions LIST      protocol versions to run: 3.1,3.1.1,5.0 (default: all)\n"
        "  --profile FILE|NAME  broker profile: capabilities and known deviations\n"
        "  --write-profile FILE after the run, write a profile to FILE that lists every\n"
        "                       failure of this run (scenario, version, rule or step) with\n"
        "                       its reason: the starting point on a broker that fails today\n"
        "  --filter EXPR        scenarios to run: comma-separated terms, any of them:\n"
        "                       area:X tag:X rule:ID id:GLOB, or a word matching an area,\n"
        "                       tag, rule id, or part of a scenario id or title\n"
        "  --list               list the selected scenarios and exit\n"
        "  --time-scale F       multiply every scenario timing by F (slow brokers)\n"
        "  --repeat N           run each scenario N times (flaky behaviour)\n"
        "  -j, --jobs N         runs in parallel (default %d)\n"
        "  --strict             exit 1 on a warn (SHOULD broken, timer late) too\n"
        "  --out DIR            report directory (default reports): junit.xml,\n"
        "                       report.json, report.md, report.html, pcap/\n"
        "  --junit F --json F --markdown F --html F   write that report to F instead\n"
        "  --no-reports         write no report files (and no captures)\n"
        "  --pcap WHEN          write runs' traffic as pcap (real addresses, ports and\n"
        "                       timestamps; every client of a run in one file) to\n"
        "                       DIR/pcap/<area>_<name>@<version>.pcap, linked from the\n"
        "                       reports. WHEN: failures (default: runs that fail, error\n"
        "                       or are expected failures), all, or none. Earlier\n"
        "                       *@*.pcap files there are removed first. Over TLS the\n"
        "                       capture holds the decrypted MQTT bytes, not the TLS\n"
        "                       records (decode it as MQTT: tshark -d tcp.port==PORT,mqtt)\n"
        "  -v, --verbose        show every transcript on the console\n"
        "  -q, --quiet          no table on the console, only failures and the summary\n"
        "  -h, --help           this text\n\n"
        "Exit status: 0 when nothing unexpected failed, 1 when a run failed unexpectedly\n"
        "(a MUST broken and not in the profile), errored, could not run, or the reference\n"
        "broker the runner started crashed or logged a sanitizer report (with --strict:\n"
        "also on warn), 2 for usage errors, scenario or profile errors, or an unreachable\n"
        "broker.\n",
        CONF_DEFAULT_JOBS);
    fprintf(f, "\nTesting a client (the runner plays the server):\n"
            "  --client NAME|CMD    test an MQTT client instead of a broker: the runner plays\n"
            "                       the server (conformance/client-scenarios). NAME: a client\n"
            "                       profile (mosquitto-clients, mqtt-tools, mqttjs, or a\n"
            "                       .profile file); CMD: a command line run for every\n"
            "                       scenario, with {host} {port} {topic} {qos} {version} {id}\n"
            "                       {message} {count} substituted\n"
            "  --client-listen HOST:PORT   test clients started by someone else: listen there\n"
            "                       and run the client scenarios one at a time\n"
            );
}

/* Stores one option's value; 0, or 2 after a message. */
static int store(const opt_def *d, const char *arg, conf_cli *o)
{
    char *field = (char *)o + d->off, *end;
    switch (d->kind) {
    case K_STR: *(const char **)field = arg; return 0;
    case K_FLAG: *(bool *)field = true; return 0;
    case K_INT: {
        long v = strtol(arg, &end, 10);
        if (*end || end == arg || v < d->min || v > d->max) break;
        *(int *)field = (int)v;
        return 0;
    }
    case K_REAL: {
        double v = strtod(arg, &end);
        if (*end || end == arg || !(v > d->min && v <= d->max)) break;
        *(double *)field = v;
        return 0;
    }
    case K_PCAP:
        if (conf_pcap_mode_parse(arg, &o->pcap_mode) < 0) break;
        o->pcap = arg;
        return 0;
    }
    if (d->short_name) fprintf(stderr, "mqtt-conform: -%c expects %s, not '%s'\n", d->short_name, d->expects, arg);
    else fprintf(stderr, "mqtt-conform: --%s expects %s, not '%s'\n", d->name, d->expects, arg);
    return 2;
}

/* The getopt tables made from defs: long options return their index in defs. */
static void getopt_tables(struct option *longs, char *shorts)
{
    size_t s = 0;
    for (size_t i = 0; i < NDEFS; i++) {
        longs[i] = (struct option){defs[i].name, defs[i].kind == K_FLAG ? no_argument : required_argument, NULL,
                                   (int)(256 + i)};
        if (defs[i].short_name) {
            shorts[s++] = defs[i].short_name;
            if (defs[i].kind != K_FLAG) shorts[s++] = ':';
        }
    }
    longs[NDEFS] = (struct option){0, 0, 0, 0};
    shorts[s] = '\0';
}

int conf_cli_parse(int argc, char **argv, conf_cli *o)
{
    *o = (conf_cli){.versions = "3.1,3.1.1,5.0", .outdir = "reports", .pcap_mode = CONF_PCAP_FAILURES,
                    .time_scale = 1.0, .repeat = 1, .jobs = CONF_DEFAULT_JOBS};
    struct option longs[NDEFS + 1];
    char shorts[2 * NDEFS + 1];
    getopt_tables(longs, shorts);
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const opt_def *d = NULL;
        if (c >= 256 && (size_t)(c - 256) < NDEFS) d = &defs[c - 256];
        for (size_t i = 0; !d && i < NDEFS; i++)
            if (c != '?' && defs[i].short_name == c) d = &defs[i];
        if (!d) {
            conf_cli_usage(stderr);
            return 2;
        }
        if (store(d, optarg, o) != 0) return 2;
    }
    o->roots = argv + optind;
    o->nroots = argc - optind;
    if (o->no_reports) o->outdir = NULL;
    if (o->no_reports && o->pcap && o->pcap_mode != CONF_PCAP_NONE) {
        fprintf(stderr, "mqtt-conform: --pcap writes into the report directory (DIR/pcap): use --out DIR "
                "instead of --no-reports\n");
        return 2;
    }
    if (!o->outdir) o->pcap_mode = CONF_PCAP_NONE;
    return 0;
}

unsigned conf_cli_versions(const char *list)
{
    unsigned vmask = 0;
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int vi = conf_vi_parse(p, n);
        if (vi < 0) {
            fprintf(stderr, "mqtt-conform: --versions expects a list of 3.1, 3.1.1 and 5.0, found '%.*s'\n", (int)n, p);
            return 0;
        }
        vmask |= CONF_VBIT(vi);
        p += n + (comma ? 1 : 0);
    }
    if (!vmask) fprintf(stderr, "mqtt-conform: --versions expects a list of 3.1, 3.1.1 and 5.0, found nothing\n");
    return vmask;
}
