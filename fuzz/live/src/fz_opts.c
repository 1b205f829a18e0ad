/*
 * fz_opts: command-line parsing for mqtt-fuzz. Every bad value is reported
 * with the option it came from; nothing runs until the whole line is good.
 */
#include "fuzz/live/src/fz_opts.h"

#include "fuzz/live/src/fz_finding.h"
#include "fuzz/live/src/fz_session.h"
#include "net/net.h"
#include "net/url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: mqtt-fuzz (--broker HOST:PORT | --broker ws://HOST:PORT/PATH | --spawn 'CMD {port}') [options]\n"
    "       mqtt-fuzz --client 'CMD {host} {port}' [options]   (fuzz a client: play a hostile broker)\n"
    "  --ws PATH           speak MQTT over WebSocket (HTTP path PATH) to the target, e.g. a\n"
    "                      --spawn'ed broker whose {port} is a websockets listener\n"
    "  --versions V,V      protocol versions to fuzz: 3.1, 3.1.1, 5.0 (default 3.1.1,5.0)\n"
    "  --runs N            sessions to run (default 1000 unless --duration)\n"
    "  --duration T        run for T (30s, 10m, 1h)\n"
    "  --seed S            campaign seed (default 1); everything follows from it\n"
    "  --ns-salt N         namespace salt (default: from the clock): client ids and topics of\n"
    "                      this run differ from earlier runs' (sessions a broker kept)\n"
    "  -j N                N workers in parallel (each with its own spawned broker)\n"
    "  --out DIR           findings, corpus, logs, summary.json (default fuzz-out)\n"
    "  --reference HOST:PORT | --reference-spawn 'CMD {port}'\n"
    "                      differential oracle: the same sessions against a reference broker\n"
    "  --hang-ms N         PINGRESP bound (default 2000); --answer-ms N (default 200); with\n"
    "                      --client: how long a client has to close after a protocol violation\n"
    "  --max-rss MB        memory oracle bound for a spawned broker (default 512)\n"
    "  --restart-every N   restart a spawned broker every N sessions (state a long campaign piles up)\n"
    "  --steps N           session length (default 24, at most 90)\n"
    "  --minimize N        executions spent minimising each finding (default 300; 0 = off)\n"
    "  --stop-after N      stop after N findings\n"
    "  --stop-on CLASS     stop at the first finding of CLASS (crash, hang, memory, spec, diff)\n"
    "  --plain             replay sessions without waiting or oracles (to measure their cost)\n"
    "  --list-sessions     print each session's hash and exit (no broker needed)\n"
    "  --replay FILE       run one saved session (a finding's session.txt; with --client its\n"
    "                      repro.txt) through the oracles\n"
    "  -q                  no progress line\n"
    "Exit status: 0 nothing found, 1 findings, 2 usage error or broker unreachable.\n";

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "mqtt-fuzz: %s '%s': %s\n%s", opt, val, why, usage);
    return 2;
}

static int num(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        char why[64];
        snprintf(why, sizeof why, "expected a number from %ld to %ld", lo, hi);
        return bad(opt, v, why);
    }
    *out = n;
    return 0;
}

static int duration(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    double mul = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : !strcmp(end, "ms") ? 0.001 : -1;
    if (end == v || mul < 0 || d <= 0) return bad("--duration", v, "expected a time like 30s, 10m, 1h");
    *out = d * mul;
    return 0;
}

static int versions(fz_opts *o, const char *v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v);
    o->nversions = 0;
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        mqtt_version ver = fz_version_parse(t);
        if (!ver || o->nversions == 3) return bad("--versions", v, "expected a list of 3.1, 3.1.1, 5.0");
        o->versions[o->nversions++] = ver;
    }
    return o->nversions ? 0 : bad("--versions", v, "empty list");
}

/* HOST:PORT, mqtt://HOST:PORT or ws://HOST:PORT/PATH (ws_path filled, "/" at least). */
static int hostport(const char *opt, const char *v, char *host, uint16_t *port, char *ws_path)
{
    *port = 0;
    if (!strstr(v, "://")) {
        if (net_parse_hostport(v, host, 256, port) != 0 || !*port) return bad(opt, v, "expected HOST:PORT, mqtt://HOST:PORT or ws://HOST:PORT/PATH");
        return 0;
    }
    net_url u;
    char err[300];
    if (net_url_parse(v, &u, err, sizeof err) != 0) return bad(opt, v, err);
    if (u.tls) return bad(opt, v, "TLS (mqtts://, wss://) is not supported by mqtt-fuzz; use mqtt:// or ws://");
    snprintf(host, 256, "%s", u.host);
    *port = u.port;
    if (u.ws) snprintf(ws_path, 1024, "%s", u.path);
    return 0;
}

static void defaults(fz_opts *o)
{
    memset(o, 0, sizeof *o);
    o->versions[0] = MQTT_V311;
    o->versions[1] = MQTT_V5;
    o->nversions = 2;
    o->seed = 1;
    o->ns_salt = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    o->jobs = 1;
    o->out = "fuzz-out";
    o->connect_ms = 2000;
    o->answer_ms = 200;
    o->hang_ms = 2000;
    o->max_rss_kb = 512 * 1024;
    o->max_steps = 24;
    o->minimize_budget = 300;
    o->stop_on = -1;
}

/* One option with a value; returns 0, 2 on error, -1 if opt is not one of these. */
static int with_value(fz_opts *o, const char *opt, const char *v)
{
    long n = 0;
    int rc = 0;
    if (!strcmp(opt, "--broker")) return hostport(opt, v, o->host, &o->port, o->ws_path);
    if (!strcmp(opt, "--reference")) return hostport(opt, v, o->ref_host, &o->ref_port, o->ref_ws_path);
    if (!strcmp(opt, "--ws")) return (snprintf(o->ws_path, sizeof o->ws_path, "%s", v)), v[0] == '/' ? 0 : bad(opt, v, "expected an HTTP path like /mqtt");
    if (!strcmp(opt, "--spawn")) return (o->spawn = v), strstr(v, "{port}") ? 0 : bad(opt, v, "the command must contain {port}");
    if (!strcmp(opt, "--reference-spawn")) return (o->ref_spawn = v), strstr(v, "{port}") ? 0 : bad(opt, v, "the command must contain {port}");
    if (!strcmp(opt, "--client")) return (o->client = v), strstr(v, "{port}") ? 0 : bad(opt, v, "the command must contain {port} (and {host})");
    if (!strcmp(opt, "--versions")) return versions(o, v);
    if (!strcmp(opt, "--duration")) return duration(v, &o->duration_s);
    if (!strcmp(opt, "--out")) return (o->out = v), 0;
    if (!strcmp(opt, "--replay")) return (o->replay = v), (o->runs = 1), 0;
    if (!strcmp(opt, "--stop-on")) {
        for (int c = 0; c < FZ_NCLASS; c++)
            if (!strcmp(v, fz_class_name((fz_class)c))) return (o->stop_on = c), 0;
        return bad(opt, v, "expected crash, hang, memory, spec or diff");
    }
    if (!strcmp(opt, "--seed") || !strcmp(opt, "--ns-salt")) {
        char *end;
        errno = 0;
        *(!strcmp(opt, "--seed") ? &o->seed : &o->ns_salt) = strtoull(v, &end, 0);
        return errno || end == v || *end ? bad(opt, v, "expected a number") : 0;
    }
    if (!strcmp(opt, "--runs")) rc = num(opt, v, 1, 1000000000L, &n), o->runs = n;
    else if (!strcmp(opt, "-j")) rc = num(opt, v, 1, 64, &n), o->jobs = (int)n;
    else if (!strcmp(opt, "--hang-ms")) rc = num(opt, v, 10, 600000, &n), o->hang_ms = (int)n;
    else if (!strcmp(opt, "--answer-ms")) rc = num(opt, v, 1, 600000, &n), o->answer_ms = (int)n;
    else if (!strcmp(opt, "--max-rss")) rc = num(opt, v, 1, 1 << 20, &n), o->max_rss_kb = n * 1024;
    else if (!strcmp(opt, "--steps")) rc = num(opt, v, 3, 90, &n), o->max_steps = (int)n;
    else if (!strcmp(opt, "--minimize")) rc = num(opt, v, 0, 100000, &n), o->minimize_budget = (int)n;
    else if (!strcmp(opt, "--restart-every")) rc = num(opt, v, 1, 1000000000L, &n), o->restart_every = n;
    else if (!strcmp(opt, "--stop-after")) rc = num(opt, v, 0, 1000000, &n), o->stop_after = (int)n;
    else return -1;
    return rc;
}

static int check(const fz_opts *o)
{
    if (o->list_sessions) return 0;
    if (o->client && (o->port || o->spawn || o->ref_port || o->ref_spawn))
        return bad("--client", o->client, "fuzzes a client: no --broker, --spawn or --reference with it");
    if (o->client) return 0;
    if (!o->port && !o->spawn) return bad("--broker", "", "give --broker HOST:PORT or --spawn 'CMD {port}'");
    if (o->port && o->spawn) return bad("--spawn", o->spawn, "give --broker or --spawn, not both");
    if (o->ref_port && o->ref_spawn) return bad("--reference-spawn", o->ref_spawn, "give one reference");
    return 0;
}

int fz_opts_parse(fz_opts *o, int argc, char **argv)
{
    defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return fputs(usage, stdout), 1;
        if (!strcmp(a, "--plain")) { o->plain = true; continue; }
        if (!strcmp(a, "--list-sessions")) { o->list_sessions = true; continue; }
        if (!strcmp(a, "-q")) { o->quiet = true; continue; }
        if (i + 1 >= argc) return bad(a, "", a[0] == '-' ? "unknown option or missing value" : "unexpected argument");
        int rc = with_value(o, a, argv[i + 1]);
        if (rc < 0) return bad(a, argv[i + 1], "unknown option");
        if (rc) return rc;
        i++;
    }
    if (!o->runs && !o->duration_s) o->runs = 1000;
    if (o->replay) o->runs = 1, o->duration_s = 0, o->jobs = 1;
    if (o->client) o->jobs = 1; /* one listening port, one client at a time */
    return check(o);
}
