/*
 * mqtt-conform: runs MQTT conformance scenarios against a broker and writes
 * reports. Exit status: 0 nothing unexpected failed, 1 something did (or the
 * reference broker it started crashed or logged a sanitizer report), 2 usage
 * error, a scenario or profile that does not parse, or no broker to talk to.
 * main() is the sequence; each step below has one job and returns 0 or the
 * exit status to stop with. Everything allocated lives in `app`, freed once.
 */
#include "conformance/src/cli.h"
#include "conformance/src/compare.h"
#include "conformance/src/engine.h"
#include "conformance/src/inproc.h"
#include "conformance/src/plan.h"
#include "conformance/src/profile.h"
#include "conformance/src/report.h"
#include "conformance/src/seat_cli.h"
#include "conformance/src/spawn.h"

#include "net/net.h"
#include "net/url.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    conf_cli o;
    unsigned vmask;
    char defdir[PATH_MAX];     /* the default scenario directory */
    conf_scenario **all, **sel;
    size_t nall, nsel;
    conf_run *runs;
    size_t nruns;
    conf_profile prof;
    conf_errors errs;
    conf_broker_proc proc;
    conf_inproc *inproc;       /* --inproc: the core in this process */
    net_tls_ctx *tls;
    bool has_url;              /* --broker was a URL (mqtt://, mqtts://, ws://, wss://) */
    net_url url;
    char host[256];
    uint16_t port;
    char target[PATH_MAX * 3];
    char pcapdir[PATH_MAX + 8];
    char broker_problem[6000]; /* the reference broker crashed / logged a sanitizer report */
    char logdir[PATH_MAX];     /* without a report directory: the broker log's private directory */
    bool clients;              /* --client / --client-listen: the broker seat (seat.c) */
    seat_profile cprof;        /* the client profile */
} app;

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

static int make_dir(const char *d)
{
    if (is_dir(d) || mkdir(d, 0755) == 0 || errno == EEXIST) return 0;
    fprintf(stderr, "mqtt-conform: cannot create %s: %s\n", d, strerror(errno));
    return -1;
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

static void default_scenarios(char *out, size_t cap, const char *dir)
{
    snprintf(out, cap, "conformance/%s", dir);
    if (is_dir(out)) return;
    char ed[PATH_MAX], p[PATH_MAX + 64];
    exe_dir(ed, sizeof ed);
    const char *cands[] = {"/../../conformance/", "/../../../conformance/", "/../share/mqtt-conform/"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s%s", ed, cands[i], dir);
        if (is_dir(p)) { snprintf(out, cap, "%.*s", (int)cap - 1, p); return; }
    }
}

static void app_free(app *a)
{
    net_tls_ctx_free(a->tls);
    char msg[128];
    conf_broker_stop(&a->proc, msg, sizeof msg);
    conf_inproc_free(a->inproc);
    for (size_t i = 0; i < a->nruns; i++) conf_run_free(&a->runs[i]);
    free(a->runs);
    free(a->sel);
    for (size_t i = 0; i < a->nall; i++) conf_scenario_free(a->all[i]);
    free(a->all);
    conf_profile_free(&a->prof);
    seat_profile_free(&a->cprof);
    conf_errors_free(&a->errs);
}

/* All files parsed, all errors collected, before anything runs. */
static int load_scenarios(app *a)
{
    int nroots = a->o.nroots;
    for (int i = 0; i < (nroots ? nroots : 1); i++) {
        const char *root = nroots ? a->o.roots[i] : a->defdir;
        if (!is_dir(root) && !is_file(root)) {
            fprintf(stderr, "mqtt-conform: %s: no such scenario file or directory%s\n", root,
                    nroots ? "" : " (run from the project root or name a directory)");
            return 2;
        }
        conf_scenario **got = NULL;
        size_t n = conf_load_dir(root, &got, &a->errs);
        conf_scenario **na = realloc(a->all, (a->nall + n + 1) * sizeof *na);
        if (!na) { free(got); return 2; }
        a->all = na;
        if (n) memcpy(a->all + a->nall, got, n * sizeof *got);
        a->nall += n;
        free(got);
    }
    return 0;
}

/* --profile FILE, or NAME from the profiles directory next to the scenarios. */
static int load_profile(app *a)
{
    conf_profile_default(&a->prof);
    if (!a->o.profile) return 0;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s", a->o.profile);
    if (!is_file(path)) snprintf(path, sizeof path, "%s/../profiles/%s.profile", a->defdir, a->o.profile);
    if (!is_file(path)) {
        fprintf(stderr, "mqtt-conform: --profile %s: no such file (nor %s)\n", a->o.profile, path);
        return 2;
    }
    conf_profile_free(&a->prof);
    conf_profile_load(path, &a->prof, &a->errs);
    return 0;
}

static int report_load_errors(const app *a)
{
    if (a->errs.count) {
        for (size_t i = 0; i < a->errs.count; i++) fprintf(stderr, "%s\n", a->errs.msgs[i]);
        fprintf(stderr, "mqtt-conform: %zu error%s; nothing was run\n", a->errs.count, a->errs.count == 1 ? "" : "s");
        return 2;
    }
    if (!a->nall) {
        fprintf(stderr, "mqtt-conform: no scenarios (*.mqs) found\n");
        return 2;
    }
    return 0;
}

static int select_scenarios(app *a)
{
    a->sel = calloc(a->nall, sizeof *a->sel);
    if (!a->sel) return 2;
    for (size_t i = 0; i < a->nall; i++)
        if (conf_filter_match(a->all[i], a->o.filter) && a->all[i]->broker_seat == a->clients)
            a->sel[a->nsel++] = a->all[i];
    if (!a->nsel) {
        fprintf(stderr, "mqtt-conform: --filter '%s' selects no scenario (try --list)\n", a->o.filter ? a->o.filter : "");
        return 2;
    }
    return 0;
}

static void list_scenarios(const app *a)
{
    for (size_t i = 0; i < a->nsel; i++) {
        const conf_scenario *s = a->sel[i];
        printf("%-44s", s->id);
        for (int vi = 0; vi < CONF_NVERSIONS; vi++)
            printf(" %-5s", (s->vmask & CONF_VBIT(vi)) ? conf_vi_name(vi) : "");
        printf("  %s\n", s->title);
    }
    printf("%zu scenarios\n", a->nsel);
}

/* Command line over profile: credentials and TLS files. */
static void merge_profile(app *a)
{
    conf_cli *o = &a->o;
    if (!o->broker) o->broker = a->prof.broker;
    if (!o->username) o->username = a->prof.username;
    if (!o->password) o->password = a->prof.password;
    if (!o->cafile) o->cafile = a->prof.cafile;
    if (!o->certfile) o->certfile = a->prof.certfile;
    if (!o->keyfile) o->keyfile = a->prof.keyfile;
    o->insecure = o->insecure || a->prof.insecure;
}

/* --broker as a URL: the scheme says TLS and WebSockets, the user part
 * the credentials (unless given as options). HOST:PORT stays plain TCP. */
static int parse_url(app *a)
{
    conf_cli *o = &a->o;
    char err[300];
    if (!o->broker || !strstr(o->broker, "://")) return 0;
    if (net_url_parse(o->broker, &a->url, err, sizeof err) < 0) {
        fprintf(stderr, "mqtt-conform: --broker '%s': %s\n", o->broker, err);
        return 2;
    }
    a->has_url = true;
    bool tls_opts = o->cafile || o->certfile || o->keyfile || o->insecure;
    if (tls_opts && !a->url.tls) {
        fprintf(stderr, "mqtt-conform: --cafile, --cert, --key and --insecure are TLS options, but --broker %s "
                "is plain: use mqtts:// or wss://\n", o->broker);
        return 2;
    }
    if (!o->username && a->url.has_user) o->username = a->url.user;
    if (!o->password && a->url.has_password) o->password = a->url.password;
    return 0;
}

static int setup_tls(app *a)
{
    const conf_cli *o = &a->o;
    if (!o->cafile && !o->certfile && !o->keyfile && !o->insecure && !(a->has_url && a->url.tls)) return 0;
    if (!o->broker) {
        fprintf(stderr, "mqtt-conform: --cafile, --cert, --key and --insecure (TLS) need --broker HOST:PORT "
                "(or a profile's broker): the reference broker the runner starts listens without TLS\n");
        return 2;
    }
    if (!o->certfile != !o->keyfile) {
        fprintf(stderr, "mqtt-conform: %s needs %s too (a client certificate and its key)\n",
                o->certfile ? "--cert" : "--key", o->certfile ? "--key" : "--cert");
        return 2;
    }
    const char *files[3][2] = {{o->cafile, "CA file (--cafile)"}, {o->certfile, "certificate (--cert)"},
                               {o->keyfile, "key (--key)"}};
    for (int i = 0; i < 3; i++) {
        FILE *f = files[i][0] ? fopen(files[i][0], "r") : NULL;
        if (f) fclose(f);
        else if (files[i][0]) {
            fprintf(stderr, "mqtt-conform: cannot open the %s %s: %s\n", files[i][1], files[i][0], strerror(errno));
            return 2;
        }
    }
    char msg[1024];
    net_tls_opts to = {.cafile = o->cafile, .certfile = o->certfile, .keyfile = o->keyfile, .insecure = o->insecure};
    a->tls = net_tls_ctx_new(NET_TLS_CLIENT, &to, msg, sizeof msg);
    if (!a->tls) {
        fprintf(stderr, "mqtt-conform: TLS: %s\n", msg);
        return 2;
    }
    return 0;
}

/* Without a report directory the broker's log goes to a directory of this
 * run's own (never a fixed /tmp path: runs side by side would share it). */
static int private_log_dir(app *a)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(a->logdir, sizeof a->logdir, "%s/mqtt-conform-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(a->logdir)) return 0;
    fprintf(stderr, "mqtt-conform: cannot create a directory for the reference broker's log (%s): %s\n",
            a->logdir, strerror(errno));
    a->logdir[0] = '\0';
    return -1;
}

/* The private log directory goes once the run found nothing in the log; a
 * crash or sanitizer report keeps it, for the message that names it. */
static void remove_private_log(app *a)
{
    if (!a->logdir[0] || a->broker_problem[0]) return;
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/broker.log", a->logdir);
    unlink(p);
    rmdir(a->logdir);
}

/* The reference broker on a free port, its log in the report directory. */
static int spawn_reference(app *a)
{
    char bin[PATH_MAX + 32], logp[PATH_MAX + 32], msg[1024];
    if (a->o.broker_bin) snprintf(bin, sizeof bin, "%s", a->o.broker_bin);
    else {
        char ed[PATH_MAX];
        exe_dir(ed, sizeof ed);
        snprintf(bin, sizeof bin, "%s/mqtt-broker", ed);
    }
    if (a->o.outdir && make_dir(a->o.outdir) < 0) return 2;
    if (!a->o.outdir && private_log_dir(a) < 0) return 2;
    snprintf(logp, sizeof logp, "%s/broker.log", a->o.outdir ? a->o.outdir : a->logdir);
    if (conf_broker_start(bin, logp, 10000, &a->proc, msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: %s\n", msg);
        return 2;
    }
    conf_broker_guard(&a->proc);
    snprintf(a->host, sizeof a->host, "%s", a->proc.host);
    a->port = a->proc.port;
    snprintf(a->target, sizeof a->target, "%s:%u (reference broker %s, log %s)", a->host, a->port, bin, logp);
    return 0;
}

/* --inproc: the reference broker's core in this process (inproc.h); host and
 * port only name it in transcripts and captures. */
static int start_inproc(app *a)
{
    char logp[PATH_MAX + 32], msg[1024];
    if (a->o.broker || a->o.broker_bin || a->tls) {
        fprintf(stderr, "mqtt-conform: --inproc runs the reference broker's core in-process: it cannot be "
                "combined with --broker, --broker-bin, a profile's broker or TLS options\n");
        return 2;
    }
    if (a->o.outdir && make_dir(a->o.outdir) < 0) return 2;
    if (a->o.outdir) snprintf(logp, sizeof logp, "%s/broker.log", a->o.outdir);
    if (!(a->inproc = conf_inproc_new(a->o.outdir ? logp : NULL, msg, sizeof msg))) {
        fprintf(stderr, "mqtt-conform: %s\n", msg);
        return 2;
    }
    snprintf(a->target, sizeof a->target, "the reference broker's core in-process (virtual clock)%s%s",
             a->o.outdir ? ", log " : "", a->o.outdir ? logp : "");
    return 0;
}

/* The WebSocket path of a ws:// or wss:// --broker, else NULL (plain MQTT). */
static const char *ws_path(const app *a)
{
    return a->has_url && a->url.ws ? a->url.path : NULL;
}

/* --broker (or the profile's), else the reference broker; then: is it there? */
static int choose_broker(app *a)
{
    char msg[1024];
    snprintf(a->host, sizeof a->host, "127.0.0.1");
    a->port = 1883;
    if (a->o.inproc) return start_inproc(a);
    if (a->has_url) {
        const net_url *u = &a->url;
        snprintf(a->host, sizeof a->host, "%s", u->host);
        a->port = u->port;
        snprintf(a->target, sizeof a->target, "%s://%s:%u%s", u->ws ? (u->tls ? "wss" : "ws") : (u->tls ? "mqtts" : "mqtt"),
                 u->host, u->port, u->ws ? u->path : "");
    } else if (a->o.broker) {
        if (net_parse_hostport(a->o.broker, a->host, sizeof a->host, &a->port) < 0) {
            fprintf(stderr, "mqtt-conform: --broker expects HOST:PORT, found '%s'\n", a->o.broker);
            return 2;
        }
        snprintf(a->target, sizeof a->target, "%s:%u%s", a->host, a->port, a->tls ? " (TLS)" : "");
    } else if (spawn_reference(a) != 0) {
        return 2;
    }
    conf_engine_cfg cfg = {.host = a->host, .port = a->port, .tls = a->tls, .ws_path = ws_path(a)};
    if (conf_probe_target(&cfg, (int)(3000 * a->o.time_scale), msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: the broker is not reachable: %s\n", msg);
        return 2;
    }
    return 0;
}

/* Removes the captures an earlier run left in dir (only names this runner
 * writes, "*@*.pcap"), so the directory never shows a failure that is gone. */
static int clear_pcap_dir(const char *dir)
{
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

/* DIR/pcap for this run's captures, emptied of an earlier run's. */
static int prepare_pcaps(app *a)
{
    const char *outdir = a->o.outdir;
    if (!outdir) return 0;
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/pcap", outdir);
    if (a->o.pcap_mode == CONF_PCAP_NONE) {
        /* no captures this time: none of an earlier run may look like one of this run */
        if (is_dir(dir)) clear_pcap_dir(dir);
        return 0;
    }
    if (make_dir(outdir) < 0 || make_dir(dir) < 0 || clear_pcap_dir(dir) < 0) return 2;
    snprintf(a->pcapdir, sizeof a->pcapdir, "%s", dir);
    return 0;
}

static void on_done(const conf_run *run, size_t done, size_t total, void *arg)
{
    if (!*(bool *)arg) return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s@%s %s", done, total, run->sc->id, conf_vi_name(run->vi),
            conf_verdict_name(run->verdict));
    fflush(stderr);
}

static int run_engine(app *a, conf_report *rep, bool *tty)
{
    char msg[1024];
    conf_engine_cfg cfg = {.host = a->host, .port = a->port, .username = a->o.username, .password = a->o.password,
                           .time_scale = a->o.time_scale, .jobs = a->o.jobs, .on_done = on_done, .arg = tty,
                           .pcap_mode = a->o.pcap_mode, .pcap_dir = a->pcapdir[0] ? a->pcapdir : NULL,
                           .tls = a->tls, .ws_path = ws_path(a),
                           .transport = a->inproc ? conf_inproc_transport(a->inproc) : NULL};
    if (conf_engine_run(&cfg, a->runs, a->nruns, &rep->res, msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: %s\n", msg);
        return 2;
    }
    if (*tty) fprintf(stderr, "\r\033[K");
    return 0;
}

/* The reference broker we started: stopped, reaped, its log read. A crash, a
 * failed shutdown or a sanitizer report is a finding every report names. */
static void judge_reference(app *a)
{
    if (a->proc.pid <= 0 && !a->proc.died) return;
    char how[256], san[1024];
    bool died = a->proc.died || !conf_broker_alive(&a->proc);
    int stop = conf_broker_stop(&a->proc, how, sizeof how);
    if (died) snprintf(a->broker_problem, sizeof a->broker_problem, "the reference broker crashed during the run "
                       "(%s; log %s)", a->proc.died_how, a->proc.log);
    else if (stop < 0) snprintf(a->broker_problem, sizeof a->broker_problem, "the reference broker did not shut "
                                "down cleanly on SIGTERM (%s; log %s)", how, a->proc.log);
    if (conf_broker_sanitizer_report(&a->proc, san, sizeof san)) {
        size_t o = strlen(a->broker_problem);
        snprintf(a->broker_problem + o, sizeof a->broker_problem - o, "%sthe reference broker's log holds a "
                 "sanitizer report: %s (log %s)", o ? "; " : "", san, a->proc.log);
    }
}

static int write_reports(const app *a, const conf_report *rep)
{
    const conf_cli *o = &a->o;
    const char *outdir = o->outdir;
    char p[PATH_MAX];
    int rc = 0;
    if (outdir && make_dir(outdir) < 0) return -1;
#define OUT(given, name) (given ? given : (snprintf(p, sizeof p, "%s/%s", outdir, name), p))
    if (o->junit || outdir) rc |= report_junit(OUT(o->junit, "junit.xml"), rep);
    if (o->json || outdir) rc |= report_json(OUT(o->json, "report.json"), rep);
    if (o->md || outdir) rc |= report_markdown(OUT(o->md, "report.md"), rep);
    if (o->html || outdir) rc |= report_html(OUT(o->html, "report.html"), rep);
#undef OUT
    if (o->write_profile) rc |= conf_profile_write(o->write_profile, &a->prof, a->runs, a->nruns, a->target);
    return rc;
}

/* Reports, warnings about the profile, and the exit status. */
static int finish(app *a, conf_report *rep)
{
    const conf_cli *o = &a->o;
    report_console(stdout, rep, isatty(1), o->verbose, o->quiet);
    for (size_t i = 0; i < a->prof.ndevs; i++)
        if (!a->prof.devs[i].used && !o->filter)
            fprintf(stderr, "mqtt-conform: warning: %s:%d: deviation '%s' matches no run (or none failing at its rule or step)\n", a->prof.path,
                    a->prof.devs[i].line, a->prof.devs[i].glob);
    int rrc = write_reports(a, rep);
    if (o->outdir && !o->quiet) printf("reports written to %s/ (junit.xml report.json report.md report.html)\n", o->outdir);
    if (o->write_profile && !o->quiet) printf("profile written to %s\n", o->write_profile);
    if (rep->res.pcap_written && !o->quiet)
        printf("%zu pcap file%s written to %s/\n", rep->res.pcap_written, rep->res.pcap_written == 1 ? "" : "s",
               a->pcapdir);
    if (rep->res.pcap_errors) {
        fprintf(stderr, "mqtt-conform: %zu pcap file%s could not be written: %s\n", rep->res.pcap_errors,
                rep->res.pcap_errors == 1 ? "" : "s", rep->res.pcap_error);
        rrc = 1;
    }
    if (a->broker_problem[0]) fprintf(stderr, "mqtt-conform: %s\n", a->broker_problem);
    bool bad = a->broker_problem[0] != '\0';
    for (size_t i = 0; i < a->nruns; i++)
        bad |= conf_verdict_bad_strict(a->runs[i].verdict, o->strict);
    return rrc || bad ? 1 : 0;
}

/* Everything up to the plan: options, scenarios, profile, selection. */
static int prepare(app *a, int argc, char **argv)
{
    int rc = conf_cli_parse(argc, argv, &a->o);
    if (rc || a->o.help) {
        if (a->o.help) conf_cli_usage(stdout);
        return rc ? rc : -1;
    }
    if (!(a->vmask = conf_cli_versions(a->o.versions))) return 2;
    a->clients = a->o.client || a->o.client_listen;
    default_scenarios(a->defdir, sizeof a->defdir, a->clients ? "client-scenarios" : "scenarios");
    if (a->clients && (rc = conf_seat_prepare(&a->o, a->defdir, &a->cprof, &a->errs, a->target, sizeof a->target)))
        return rc;
    if ((rc = load_scenarios(a)) || (rc = load_profile(a)) || (rc = report_load_errors(a)) ||
        (rc = select_scenarios(a)))
        return rc;
    if (a->o.list) {
        list_scenarios(a);
        return -1;
    }
    a->nruns = conf_plan(a->sel, a->nsel, a->vmask, a->o.repeat, &a->prof, &a->runs);
    if (!a->nruns) {
        fprintf(stderr, "mqtt-conform: the selected scenarios do not apply to --versions %s\n", a->o.versions);
        return 2;
    }
    return 0;
}

/* The broker seat instead of a broker: every run starts the client under test. */
static int run_seat(app *a, conf_report *rep, bool *tty)
{
    char msg[1024], host[256] = "";
    conf_seat_cfg cfg = {.prof = a->o.client_listen ? NULL : &a->cprof, .time_scale = a->o.time_scale,
                         .jobs = a->o.jobs > 8 ? 8 : a->o.jobs, .on_done = on_done, .arg = tty,
                         .pcap_mode = a->o.pcap_mode, .pcap_dir = a->pcapdir[0] ? a->pcapdir : NULL};
    conf_seat_listen_addr(&a->o, host, sizeof host, &cfg.listen_port);
    cfg.listen_host = host[0] ? host : NULL;
    if (conf_seat_run(&cfg, a->runs, a->nruns, &rep->res, msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: %s\n", msg);
        return 2;
    }
    if (*tty) fprintf(stderr, "\r\033[K");
    conf_profile_apply(&a->prof, a->runs, a->nruns);
    return finish(a, rep);
}

static int run(app *a, int argc, char **argv)
{
    int rc = prepare(a, argc, argv);
    if (rc) return rc < 0 ? 0 : rc;
    if (a->clients) {
        signal(SIGPIPE, SIG_IGN);
        bool tty = isatty(2) && !a->o.quiet;
        conf_report rep = {.runs = a->runs, .n = a->nruns, .profile = &a->prof, .target = a->target,
                           .time_scale = a->o.time_scale, .jobs = a->o.jobs, .started = time(NULL)};
        return (rc = prepare_pcaps(a)) ? rc : run_seat(a, &rep, &tty);
    }
    signal(SIGPIPE, SIG_IGN);
    merge_profile(a);
    if ((rc = parse_url(a)) || (rc = setup_tls(a)) || (rc = choose_broker(a)) || (rc = prepare_pcaps(a))) return rc;
    bool tty = isatty(2) && !a->o.quiet;
    conf_report rep = {.runs = a->runs, .n = a->nruns, .profile = &a->prof, .target = a->target,
                       .time_scale = a->o.time_scale, .jobs = a->o.jobs, .started = time(NULL)};
    if ((rc = run_engine(a, &rep, &tty))) return rc;
    conf_profile_apply(&a->prof, a->runs, a->nruns);
    judge_reference(a);
    rep.broker_problem = a->broker_problem[0] ? a->broker_problem : NULL;
    return finish(a, &rep);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "compare") == 0) return conf_compare_main(argc - 1, argv + 1);
    static app a; /* large; static keeps it off the stack */
    int rc = run(&a, argc, argv);
    app_free(&a);
    remove_private_log(&a);
    return rc;
}
