/*
 * mqtt-conform: runs MQTT conformance scenarios against a broker and writes
 * reports. Exit status: 0 nothing unexpected failed, 1 something did, 2 usage
 * error, a scenario or profile that does not parse, or no broker to talk to.
 */
#include "conformance/src/engine.h"
#include "conformance/src/plan.h"
#include "conformance/src/profile.h"
#include "conformance/src/report.h"
#include "conformance/src/spawn.h"

#include "net/net.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_JOBS 32

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mqtt-conform [OPTIONS] [SCENARIO-FILE-OR-DIR...]\n"
        "Runs MQTT conformance scenarios (.mqs) against a broker and reports, per scenario\n"
        "and per normative statement, where it departs from MQTT 3.1.1 and 5.0.\n\n"
        "  --broker HOST:PORT   broker to test; without it (and without a profile\n"
        "                       address) the reference broker is started on a free port\n"
        "  --broker-bin PATH    reference broker to start (default: mqtt-broker next to\n"
        "                       this program)\n"
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
        "  --versions LIST      protocol versions to run: 3.1,3.1.1,5.0 (default: all)\n"
        "  --profile FILE|NAME  broker profile: capabilities and known deviations\n"
        "  --filter EXPR        scenarios to run: comma-separated terms, any of them:\n"
        "                       area:X tag:X rule:ID id:GLOB, or a word matching an area,\n"
        "                       tag, rule id, or part of a scenario id or title\n"
        "  --list               list the selected scenarios and exit\n"
        "  --time-scale F       multiply every scenario timing by F (slow brokers)\n"
        "  --repeat N           run each scenario N times (flaky behaviour)\n"
        "  -j, --jobs N         runs in parallel (default %d)\n"
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
        "Exit status: 0 when nothing unexpected failed, 1 otherwise, 2 for usage errors,\n"
        "scenario or profile errors, or an unreachable broker.\n",
        DEFAULT_JOBS);
}

typedef struct {
    bool tty;
} progress_state;

static void on_done(const conf_run *run, size_t done, size_t total, void *arg)
{
    progress_state *p = arg;
    if (!p->tty) return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s@%s %s", done, total, run->sc->id, conf_vi_name(run->vi),
            conf_verdict_name(run->verdict));
    fflush(stderr);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Directory of this executable, for finding the broker and the scenarios. */
static void exe_dir(char *out, size_t cap)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) { snprintf(out, cap, "."); return; }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    snprintf(out, cap, "%s", buf);
}

static void copy_str(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static void default_scenarios(char *out, size_t cap)
{
    if (is_dir("conformance/scenarios")) { snprintf(out, cap, "conformance/scenarios"); return; }
    char ed[PATH_MAX], p[PATH_MAX + 64];
    exe_dir(ed, sizeof ed);
    const char *cands[] = {"/../../conformance/scenarios", "/../../../conformance/scenarios",
                           "/../share/mqtt-conform/scenarios"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", ed, cands[i]);
        if (is_dir(p)) { copy_str(out, cap, p); return; }
    }
    snprintf(out, cap, "conformance/scenarios");
}

static int write_reports(const conf_report *rep, const char *outdir, const char *junit, const char *json,
                         const char *md, const char *html)
{
    char p[PATH_MAX];
    int rc = 0;
    if (outdir && !is_dir(outdir) && mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mqtt-conform: cannot create %s: %s\n", outdir, strerror(errno));
        return -1;
    }
#define OUT(given, name) (given ? given : (snprintf(p, sizeof p, "%s/%s", outdir, name), p))
    if (junit || outdir) rc |= report_junit(OUT(junit, "junit.xml"), rep);
    if (json || outdir) rc |= report_json(OUT(json, "report.json"), rep);
    if (md || outdir) rc |= report_markdown(OUT(md, "report.md"), rep);
    if (html || outdir) rc |= report_html(OUT(html, "report.html"), rep);
#undef OUT
    return rc;
}

/* Makes DIR/pcap (for the captures of this invocation) and removes the
 * captures an earlier run left there (only names this runner writes,
 * "*@*.pcap"), so the directory never shows a failure that is gone.
 * Returns 0, or -1 with a message on stderr. */
static int prepare_pcap_dir(const char *dir)
{
    if (!is_dir(dir) && mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mqtt-conform: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "mqtt-conform: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    char p[PATH_MAX + 300];
    while ((de = readdir(d))) {
        if (fnmatch("*@*.pcap", de->d_name, FNM_PERIOD) != 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (is_file(p)) unlink(p);
    }
    closedir(d);
    return 0;
}

/* Everything main allocates, so that every exit path frees it (the tests run
 * the sanitized build, where a leak is a failure). */
static conf_scenario **all;
static size_t nall;
static conf_scenario **sel;
static conf_run *runs;
static size_t nruns;
static conf_profile prof;
static conf_errors errs;
static conf_broker_proc proc;
static net_tls_ctx *tls;

static int cleanup(int rc)
{
    net_tls_ctx_free(tls);
    char msg[128];
    conf_broker_stop(&proc, msg, sizeof msg);
    for (size_t i = 0; i < nruns; i++) conf_run_free(&runs[i]);
    free(runs);
    free(sel);
    for (size_t i = 0; i < nall; i++) conf_scenario_free(all[i]);
    free(all);
    conf_profile_free(&prof);
    conf_errors_free(&errs);
    return rc;
}

int main(int argc, char **argv)
{
    const char *broker = NULL, *broker_bin = NULL, *username = NULL, *password = NULL;
    const char *versions = "3.1,3.1.1,5.0", *profile_arg = NULL, *filter = NULL;
    const char *cafile = NULL, *certfile = NULL, *keyfile = NULL;
    bool insecure = false;
    const char *outdir = "reports", *junit = NULL, *json = NULL, *md = NULL, *html = NULL;
    bool list = false, verbose = false, quiet = false, no_reports = false, pcap_given = false;
    conf_pcap_mode pcap_mode = CONF_PCAP_FAILURES;
    double time_scale = 1.0;
    int repeat = 1, jobs = DEFAULT_JOBS;
    enum { O_BROKER = 256, O_BIN, O_USER, O_PASS, O_VERS, O_PROF, O_FILTER, O_LIST, O_SCALE, O_REPEAT, O_OUT,
           O_JUNIT, O_JSON, O_MD, O_HTML, O_NOREP, O_PCAP, O_CAFILE, O_CERT, O_KEY, O_INSECURE };
    static const struct option opts[] = {
        {"broker", required_argument, 0, O_BROKER}, {"broker-bin", required_argument, 0, O_BIN},
        {"username", required_argument, 0, O_USER}, {"password", required_argument, 0, O_PASS},
        {"versions", required_argument, 0, O_VERS}, {"profile", required_argument, 0, O_PROF},
        {"filter", required_argument, 0, O_FILTER}, {"list", no_argument, 0, O_LIST},
        {"time-scale", required_argument, 0, O_SCALE}, {"repeat", required_argument, 0, O_REPEAT},
        {"jobs", required_argument, 0, 'j'}, {"out", required_argument, 0, O_OUT},
        {"junit", required_argument, 0, O_JUNIT}, {"json", required_argument, 0, O_JSON},
        {"markdown", required_argument, 0, O_MD}, {"html", required_argument, 0, O_HTML},
        {"no-reports", no_argument, 0, O_NOREP}, {"pcap", required_argument, 0, O_PCAP},
        {"cafile", required_argument, 0, O_CAFILE}, {"cert", required_argument, 0, O_CERT},
        {"key", required_argument, 0, O_KEY}, {"insecure", no_argument, 0, O_INSECURE},
        {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, "j:vqh", opts, NULL)) != -1) {
        switch (o) {
        case O_BROKER: broker = optarg; break;
        case O_BIN: broker_bin = optarg; break;
        case O_USER: username = optarg; break;
        case O_PASS: password = optarg; break;
        case O_CAFILE: cafile = optarg; break;
        case O_CERT: certfile = optarg; break;
        case O_KEY: keyfile = optarg; break;
        case O_INSECURE: insecure = true; break;
        case O_VERS: versions = optarg; break;
        case O_PROF: profile_arg = optarg; break;
        case O_FILTER: filter = optarg; break;
        case O_LIST: list = true; break;
        case O_SCALE:
            time_scale = strtod(optarg, &end);
            if (*end || !(time_scale > 0 && time_scale <= 100)) {
                fprintf(stderr, "mqtt-conform: --time-scale expects a number above 0 and at most 100, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_REPEAT:
            repeat = (int)strtol(optarg, &end, 10);
            if (*end || repeat < 1 || repeat > 1000) {
                fprintf(stderr, "mqtt-conform: --repeat expects a count from 1 to 1000, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'j':
            jobs = (int)strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 512) {
                fprintf(stderr, "mqtt-conform: -j expects a count from 1 to 512, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_OUT: outdir = optarg; break;
        case O_JUNIT: junit = optarg; break;
        case O_JSON: json = optarg; break;
        case O_MD: md = optarg; break;
        case O_HTML: html = optarg; break;
        case O_NOREP: no_reports = true; break;
        case O_PCAP:
            if (conf_pcap_mode_parse(optarg, &pcap_mode) < 0) {
                fprintf(stderr, "mqtt-conform: --pcap expects failures, all or none, not '%s'\n", optarg);
                return 2;
            }
            pcap_given = true;
            break;
        case 'v': verbose = true; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (no_reports) outdir = NULL;
    if (no_reports && pcap_given && pcap_mode != CONF_PCAP_NONE) {
        fprintf(stderr, "mqtt-conform: --pcap writes into the report directory (DIR/pcap): use --out DIR "
                "instead of --no-reports\n");
        return 2;
    }
    if (!outdir) pcap_mode = CONF_PCAP_NONE;

    /* versions */
    unsigned vmask = 0;
    for (const char *p = versions; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int vi = conf_vi_parse(p, n);
        if (vi < 0) {
            fprintf(stderr, "mqtt-conform: --versions expects a list of 3.1, 3.1.1 and 5.0, found '%.*s'\n", (int)n, p);
            return cleanup(2);
        }
        vmask |= CONF_VBIT(vi);
        p += n + (comma ? 1 : 0);
    }

    /* scenarios: all files parsed, all errors reported, before anything runs */
    char defdir[PATH_MAX];
    default_scenarios(defdir, sizeof defdir);
    int nroots = argc - optind;
    for (int i = 0; i < (nroots ? nroots : 1); i++) {
        const char *root = nroots ? argv[optind + i] : defdir;
        if (!is_dir(root) && !is_file(root)) {
            fprintf(stderr, "mqtt-conform: %s: no such scenario file or directory%s\n", root,
                    nroots ? "" : " (run from the project root or name a directory)");
            return cleanup(2);
        }
        conf_scenario **got = NULL;
        size_t n = conf_load_dir(root, &got, &errs);
        conf_scenario **na = realloc(all, (nall + n + 1) * sizeof *na);
        if (!na) return cleanup(2);
        all = na;
        memcpy(all + nall, got, n * sizeof *got);
        nall += n;
        free(got);
    }
    conf_profile_default(&prof);
    if (profile_arg) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s", profile_arg);
        if (!is_file(path)) snprintf(path, sizeof path, "%s/../profiles/%s.profile", defdir, profile_arg);
        if (!is_file(path)) {
            fprintf(stderr, "mqtt-conform: --profile %s: no such file (nor %s)\n", profile_arg, path);
            return cleanup(2);
        }
        conf_profile_free(&prof);
        conf_profile_load(path, &prof, &errs);
    }
    if (errs.count) {
        for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "%s\n", errs.msgs[i]);
        fprintf(stderr, "mqtt-conform: %zu error%s; nothing was run\n", errs.count, errs.count == 1 ? "" : "s");
        return cleanup(2);
    }
    if (!nall) {
        fprintf(stderr, "mqtt-conform: no scenarios (*.mqs) found\n");
        return cleanup(2);
    }
    /* duplicate ids (two roots with the same area/name) would make reports ambiguous */
    sel = calloc(nall, sizeof *sel);
    size_t nsel = 0;
    for (size_t i = 0; i < nall; i++)
        if (conf_filter_match(all[i], filter)) sel[nsel++] = all[i];
    if (!nsel) {
        fprintf(stderr, "mqtt-conform: --filter '%s' selects no scenario (try --list)\n", filter ? filter : "");
        return cleanup(2);
    }
    if (list) {
        for (size_t i = 0; i < nsel; i++) {
            const conf_scenario *s = sel[i];
            printf("%-44s", s->id);
            for (int vi = 0; vi < CONF_NVERSIONS; vi++)
                printf(" %-5s", (s->vmask & CONF_VBIT(vi)) ? conf_vi_name(vi) : "");
            printf("  %s\n", s->title);
        }
        printf("%zu scenarios\n", nsel);
        return cleanup(0);
    }

    nruns = conf_plan(sel, nsel, vmask, repeat, &prof, &runs);
    if (!nruns) {
        fprintf(stderr, "mqtt-conform: the selected scenarios do not apply to --versions %s\n", versions);
        return cleanup(2);
    }

    /* the broker */
    signal(SIGPIPE, SIG_IGN);
    char host[256] = "127.0.0.1";
    uint16_t port = 1883;
    char target[PATH_MAX * 3];
    char msg[1024];
    if (!broker && prof.broker) broker = prof.broker;
    if (!username) username = prof.username;
    if (!password) password = prof.password;
    if (!cafile) cafile = prof.cafile;
    if (!certfile) certfile = prof.certfile;
    if (!keyfile) keyfile = prof.keyfile;
    insecure = insecure || prof.insecure;
    if (cafile || certfile || keyfile || insecure) {
        if (!broker) {
            fprintf(stderr, "mqtt-conform: --cafile, --cert, --key and --insecure (TLS) need --broker HOST:PORT "
                    "(or a profile's broker): the reference broker the runner starts listens without TLS\n");
            return cleanup(2);
        }
        if (!certfile != !keyfile) {
            fprintf(stderr, "mqtt-conform: %s needs %s too (a client certificate and its key)\n",
                    certfile ? "--cert" : "--key", certfile ? "--key" : "--cert");
            return cleanup(2);
        }
        const char *files[3][2] = {{cafile, "CA file (--cafile)"}, {certfile, "certificate (--cert)"},
                                   {keyfile, "key (--key)"}};
        for (int i = 0; i < 3; i++) {
            FILE *f = files[i][0] ? fopen(files[i][0], "r") : NULL;
            if (f) fclose(f);
            else if (files[i][0]) {
                fprintf(stderr, "mqtt-conform: cannot open the %s %s: %s\n", files[i][1], files[i][0], strerror(errno));
                return cleanup(2);
            }
        }
        net_tls_opts to = {.cafile = cafile, .certfile = certfile, .keyfile = keyfile, .insecure = insecure};
        tls = net_tls_ctx_new(NET_TLS_CLIENT, &to, msg, sizeof msg);
        if (!tls) {
            fprintf(stderr, "mqtt-conform: TLS: %s\n", msg);
            return cleanup(2);
        }
    }
    if (broker) {
        if (net_parse_hostport(broker, host, sizeof host, &port) < 0) {
            fprintf(stderr, "mqtt-conform: --broker expects HOST:PORT, found '%s'\n", broker);
            return cleanup(2);
        }
        snprintf(target, sizeof target, "%s:%u%s", host, port, tls ? " (TLS)" : "");
    } else {
        char bin[PATH_MAX + 32], logp[PATH_MAX + 32];
        if (broker_bin) snprintf(bin, sizeof bin, "%s", broker_bin);
        else {
            char ed[PATH_MAX];
            exe_dir(ed, sizeof ed);
            snprintf(bin, sizeof bin, "%s/mqtt-broker", ed);
        }
        const char *logdir = outdir ? outdir : "/tmp";
        if (outdir && !is_dir(outdir)) mkdir(outdir, 0755);
        snprintf(logp, sizeof logp, "%s/broker.log", logdir);
        if (conf_broker_start(bin, logp, 10000, &proc, msg, sizeof msg) < 0) {
            fprintf(stderr, "mqtt-conform: %s\n", msg);
            return cleanup(2);
        }
        snprintf(host, sizeof host, "%s", proc.host);
        port = proc.port;
        snprintf(target, sizeof target, "%s:%u (reference broker %s, log %s)", host, port, bin, logp);
    }
    if (conf_probe_broker(host, port, tls, (int)(3000 * time_scale), msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: the broker is not reachable: %s\n", msg);
        conf_broker_stop(&proc, msg, sizeof msg);
        return cleanup(2);
    }

    char pcapdir[PATH_MAX + 8] = "";
    if (outdir && pcap_mode == CONF_PCAP_NONE) {
        /* no captures this time: none of an earlier run may look like one of this run */
        snprintf(pcapdir, sizeof pcapdir, "%s/pcap", outdir);
        if (is_dir(pcapdir)) prepare_pcap_dir(pcapdir);
        pcapdir[0] = '\0';
    } else if (pcap_mode != CONF_PCAP_NONE) {
        snprintf(pcapdir, sizeof pcapdir, "%s/pcap", outdir);
        if ((!is_dir(outdir) && mkdir(outdir, 0755) != 0 && errno != EEXIST) || prepare_pcap_dir(pcapdir) < 0) {
            if (!is_dir(outdir)) fprintf(stderr, "mqtt-conform: cannot create %s: %s\n", outdir, strerror(errno));
            conf_broker_stop(&proc, msg, sizeof msg);
            return cleanup(2);
        }
    }

    progress_state ps = {.tty = isatty(2) && !quiet};
    conf_engine_cfg cfg = {.host = host, .port = port, .username = username, .password = password,
                           .time_scale = time_scale, .jobs = jobs, .on_done = on_done, .arg = &ps,
                           .pcap_mode = pcap_mode, .pcap_dir = pcapdir[0] ? pcapdir : NULL, .tls = tls};
    conf_report rep = {.runs = runs, .n = nruns, .profile = &prof, .target = target, .time_scale = time_scale,
                       .jobs = jobs, .started = time(NULL)};
    if (conf_engine_run(&cfg, runs, nruns, &rep.res, msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: %s\n", msg);
        conf_broker_stop(&proc, msg, sizeof msg);
        return cleanup(2);
    }
    if (ps.tty) fprintf(stderr, "\r\033[K");
    if (proc.pid > 0) {
        /* A reference broker that died is a finding of its own. */
        int alive = kill(proc.pid, 0) == 0;
        conf_broker_stop(&proc, msg, sizeof msg);
        if (!alive) fprintf(stderr, "mqtt-conform: the reference broker stopped during the run (%s)\n", msg);
    }

    report_console(stdout, &rep, isatty(1), verbose, quiet);
    for (size_t i = 0; i < prof.ndevs; i++)
        if (!prof.devs[i].used && !filter)
            fprintf(stderr, "mqtt-conform: warning: %s:%d: deviation '%s' matches no run\n", prof.path,
                    prof.devs[i].line, prof.devs[i].glob);
    int rrc = write_reports(&rep, outdir, junit, json, md, html);
    if (outdir && !quiet) printf("reports written to %s/ (junit.xml report.json report.md report.html)\n", outdir);
    if (rep.res.pcap_written && !quiet) printf("%zu pcap file%s written to %s/\n", rep.res.pcap_written,
                                               rep.res.pcap_written == 1 ? "" : "s", pcapdir);
    if (rep.res.pcap_errors) {
        fprintf(stderr, "mqtt-conform: %zu pcap file%s could not be written: %s\n", rep.res.pcap_errors,
                rep.res.pcap_errors == 1 ? "" : "s", rep.res.pcap_error);
        rrc = 1;
    }

    int bad = 0;
    for (size_t i = 0; i < nruns; i++) bad |= conf_verdict_bad(runs[i].verdict);
    return cleanup(rrc || bad ? 1 : 0);
}
