/*
 * mqtt-broker: the reference MQTT 3.1 / 3.1.1 / 5.0 broker.
 *
 *   mqtt-broker [-c FILE] [-p PORT] [-v] [-d] [--test-config]
 *
 * Without options it listens on 127.0.0.1:1883 and accepts anonymous
 * clients, as mosquitto 2 does without a configuration. For every listening
 * socket it prints `listening on HOST:PORT` on stdout, in configuration
 * order, so `-p 0` (any free port) lets a script start it and learn the
 * port without a race. Log lines go to the configured destinations
 * (stderr by default); -v adds every packet, through the codec's
 * formatter. SIGHUP reloads the password and ACL files (keeping the old
 * ones if a new one is broken), memory_limit from the configuration file,
 * and reopens log files; connections stay.
 * Exit status: 0 after a clean shutdown (SIGINT/SIGTERM) or a good
 * --test-config, 1 on a usage or configuration error, 2 when it cannot
 * listen or write its persistence files.
 */
#include "broker/src/broker_acl.h"
#include "broker/src/broker_config.h"
#include "broker/src/broker_passwd.h"
#include "broker/src/broker_store.h"
#include "broker/src/broker_ws.h"
#include "broker/src/event_loop.h"
#include "net/net.h"
#include "net/tls.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug", "packet"};

/* ---------------------------------------------------------------- logging */

typedef struct {
    unsigned mask;
    const broker_config *cfg;
    FILE *files[BROKER_MAX_LOG_DESTS];
    bool to_stderr, to_stdout, to_syslog;
} logger;

static void log_line(void *ctx, broker_log_level level, const char *line)
{
    logger *lg = ctx;
    if (!(lg->mask & (1u << level))) return;
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (lg->to_stderr) fprintf(stderr, "%s %s: %s\n", when, level_names[level], line);
    if (lg->to_stdout) {
        fprintf(stdout, "%s %s: %s\n", when, level_names[level], line);
        fflush(stdout);
    }
    for (size_t i = 0; i < BROKER_MAX_LOG_DESTS; i++) {
        if (!lg->files[i]) continue;
        fprintf(lg->files[i], "%s %s: %s\n", when, level_names[level], line);
        fflush(lg->files[i]);
    }
    if (lg->to_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG, LOG_DEBUG};
        syslog(prio[level], "%s", line);
    }
}

/* Opens (or reopens, after SIGHUP: log rotation) the log files. */
static int open_logs(logger *lg, char *err, size_t errlen)
{
    const broker_config *cfg = lg->cfg;
    for (size_t i = 0; i < cfg->nlog_dests; i++) {
        const broker_log_dest *d = &cfg->log_dests[i];
        if (d->kind != BROKER_LOGDEST_FILE) continue;
        FILE *f = fopen(d->path, "a");
        if (!f) {
            snprintf(err, errlen, "log_dest file %s: %s", d->path, strerror(errno));
            return -1;
        }
        if (lg->files[i]) fclose(lg->files[i]);
        lg->files[i] = f;
    }
    return 0;
}

static void close_logs(logger *lg)
{
    for (size_t i = 0; i < BROKER_MAX_LOG_DESTS; i++)
        if (lg->files[i]) fclose(lg->files[i]);
    if (lg->to_syslog) closelog();
}

/* --------------------------------------------------------------- security */

/* One per listener. Without per_listener_settings, policy 0 owns the
 * password file and ACL and the others share them (use_identity_as_username
 * stays a property of each listener, as in mosquitto). */
typedef struct {
    broker_security_config sec;
    bool use_identity;
    bool owner; /* loads and frees pw and acl */
    broker_passwd *pw;
    broker_acl *acl;
} policy_state;

typedef struct {
    broker_config *cfg;
    const char *config_path;     /* -c FILE, read again on SIGHUP (reload_options) */
    logger *lg;
    policy_state policies[BROKER_MAX_POLICIES];
    size_t npolicies;
    broker_store *store;
} app;

/* Loads the files of one policy; 0, or -1 with err (nothing changed). */
static int load_policy(policy_state *p, broker_passwd **pw, broker_acl **acl, char *err, size_t errlen)
{
    *pw = NULL;
    *acl = NULL;
    if (p->sec.password_file && !(*pw = broker_passwd_load(p->sec.password_file, err, errlen))) return -1;
    if (p->sec.acl_file) {
        size_t len;
        char *text = broker_read_file(p->sec.acl_file, &len, err, errlen);
        if (text) *acl = broker_acl_parse(text, len, p->sec.acl_file, err, errlen);
        free(text);
        if (!*acl) {
            broker_passwd_free(*pw);
            *pw = NULL;
            return -1;
        }
    }
    return 0;
}

static void apply_policy(broker_core *core, unsigned index, const policy_state *p)
{
    broker_policy bp = {
        .allow_anonymous = p->sec.allow_anonymous == 1,
        .check_password = p->pw ? broker_passwd_check : NULL,
        .password_ctx = p->pw,
        .acl = p->acl,
        .use_identity_as_username = p->use_identity,
    };
    broker_core_set_policy(core, index, &bp);
}

/* The options mosquitto marks "Reloaded on reload signal" that this broker
 * reloads too: memory_limit (a lower one frees nothing, as in mosquitto: it
 * refuses what would add to the memory held). The file is read again; if
 * it no longer loads, nothing changes. Other options need a restart. */
static void reload_options(app *a, broker_core *core)
{
    if (!a->config_path) return;
    broker_config *fresh = malloc(sizeof *fresh);
    if (!fresh) return;
    broker_config_init(fresh);
    char err[1024], line[1200];
    if (broker_config_load(fresh, a->config_path, err, sizeof err) != 0) {
        snprintf(line, sizeof line, "reload: %s; keeping the options loaded before", err);
        log_line(a->lg, BROKER_LOG_ERROR, line);
    } else if (fresh->opts.memory_limit != a->cfg->opts.memory_limit) {
        snprintf(line, sizeof line, "reload: memory_limit %llu (was %llu)", (unsigned long long)fresh->opts.memory_limit,
                 (unsigned long long)a->cfg->opts.memory_limit);
        a->cfg->opts.memory_limit = fresh->opts.memory_limit;
        broker_core_set_memory_limit(core, fresh->opts.memory_limit);
        log_line(a->lg, BROKER_LOG_NOTICE, line);
    }
    broker_config_free(fresh);
    free(fresh);
}

static void reload(void *ctx, broker_core *core)
{
    app *a = ctx;
    char err[600];
    if (open_logs(a->lg, err, sizeof err) != 0) log_line(a->lg, BROKER_LOG_ERROR, err);
    reload_options(a, core);
    for (size_t i = 0; i < a->npolicies; i++) {
        policy_state *p = &a->policies[i];
        if (!p->owner || (!p->sec.password_file && !p->sec.acl_file)) continue;
        broker_passwd *pw;
        broker_acl *acl;
        if (load_policy(p, &pw, &acl, err, sizeof err) != 0) {
            char line[700];
            snprintf(line, sizeof line, "reload: %s; keeping the files loaded before", err);
            log_line(a->lg, BROKER_LOG_ERROR, line);
            continue;
        }
        broker_passwd *old_pw = p->pw;
        broker_acl *old_acl = p->acl;
        p->pw = pw;
        p->acl = acl;
        /* The core sees the new ones before the old are freed. */
        apply_policy(core, (unsigned)i, p);
        for (size_t k = 0; k < a->npolicies; k++) {
            if (a->policies[k].owner) continue;
            a->policies[k].pw = pw;
            a->policies[k].acl = acl;
            apply_policy(core, (unsigned)k, &a->policies[k]);
        }
        broker_passwd_free(old_pw);
        broker_acl_free(old_acl);
        char line[700];
        snprintf(line, sizeof line, "reload: %zu users, %zu ACL rules", broker_passwd_count(pw),
                 broker_acl_rule_count(acl));
        log_line(a->lg, BROKER_LOG_NOTICE, line);
    }
}

static bool sync_hook(void *ctx, broker_core *core)
{
    app *a = ctx;
    return broker_store_sync(a->store, core);
}

static void loop_log_hook(void *ctx, broker_log_level level, const char *line)
{
    app *a = ctx;
    log_line(a->lg, level, line);
}

static int64_t tick_hook(void *ctx, broker_core *core, int64_t now)
{
    app *a = ctx;
    return a->store ? broker_store_tick(a->store, core, now) : INT64_MAX;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mqtt-broker [-c FILE] [-p PORT] [-v] [-d] [--test-config]\n"
            "  -c FILE        read the configuration file FILE (mosquitto.conf syntax,\n"
            "                 see mqtt-broker.conf.example)\n"
            "  -p PORT        listen on PORT (0: any free port) instead of the configured one\n"
            "                 (the first listener's; default listener 127.0.0.1:1883)\n"
            "  -v             verbose: log every packet in and out\n"
            "  -d             run in the background (daemon); stderr/stdout logs are then discarded\n"
            "  --test-config  check the configuration (and the files it names) and exit\n"
            "  -h             this help\n"
            "Prints `listening on HOST:PORT` on stdout for each listening socket.\n"
            "Signals: SIGINT/SIGTERM shut down cleanly, SIGHUP reloads password and ACL files and memory_limit.\n");
}

/* Allows as many connections as the hard limit permits. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* `user NAME`: started as root, run as NAME once the sockets are open. */
static int drop_privileges(const char *user, char *err, size_t errlen)
{
    if (!user || geteuid() != 0 || strcmp(user, "root") == 0) return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "user %s: no such user", user);
        return -1;
    }
    if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "user %s: cannot switch to it: %s", user, strerror(errno));
        return -1;
    }
    return 0;
}

typedef struct {
    const char *config_path;
    long port_override;
    bool verbose, daemonize, test_config;
} args;

/* Command line: 0 to run, 1 on an error (said), -1 after --help. */
static int parse_args(int argc, char **argv, args *o)
{
    *o = (args){.port_override = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config-file") == 0) {
            if (++i == argc) {
                fprintf(stderr, "mqtt-broker: %s needs a file name\n", a);
                return 1;
            }
            o->config_path = argv[i];
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) {
            char *end;
            if (++i == argc) {
                fprintf(stderr, "mqtt-broker: %s needs a port number\n", a);
                return 1;
            }
            errno = 0;
            o->port_override = strtol(argv[i], &end, 10);
            if (*argv[i] == '\0' || *end || errno || o->port_override < 0 || o->port_override > 65535) {
                fprintf(stderr, "mqtt-broker: invalid port '%s' (expected 0 to 65535)\n", argv[i]);
                return 1;
            }
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--daemon") == 0) {
            o->daemonize = true;
        } else if (strcmp(a, "--test-config") == 0 || strcmp(a, "-t") == 0) {
            o->test_config = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return -1;
        } else {
            fprintf(stderr, "mqtt-broker: unknown option '%s'\n", a);
            usage(stderr);
            return 1;
        }
    }
    if (o->test_config && !o->config_path) {
        fprintf(stderr, "mqtt-broker: --test-config needs -c FILE\n");
        return 1;
    }
    return 0;
}

/* Password files and ACLs of every policy (one per listener, or shared). */
static int load_policies(app *A, const broker_config *cfg, const broker_listener *listeners, char *err, size_t errlen)
{
    for (size_t i = 0; i < A->npolicies; i++) {
        policy_state *p = &A->policies[i];
        p->sec = broker_config_security(cfg, &listeners[i]);
        p->use_identity = listeners[i].use_identity_as_username;
        p->owner = cfg->per_listener_settings || i == 0;
        if (!p->owner) {
            p->pw = A->policies[0].pw;
            p->acl = A->policies[0].acl;
        } else if (load_policy(p, &p->pw, &p->acl, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The TLS contexts of the TLS listeners (NULL for plain ones). */
static int make_tls(const broker_listener *listeners, size_t nl, net_tls_ctx **tls, char *err, size_t errlen)
{
    for (size_t i = 0; i < nl; i++) {
        const broker_listener *l = &listeners[i];
        if (!l->certfile && !l->keyfile) {
            if (l->cafile || l->require_certificate || l->use_identity_as_username) {
                snprintf(err, errlen, "listener %u: cafile, require_certificate and use_identity_as_username "
                         "need a TLS listener (certfile and keyfile)", (unsigned)l->port);
                return -1;
            }
            continue;
        }
        net_tls_opts to = {.cafile = l->cafile, .capath = l->capath, .certfile = l->certfile, .keyfile = l->keyfile,
                           .tls_version = l->tls_version,
                           .require_certificate = l->require_certificate || l->use_identity_as_username};
        char e[900];
        tls[i] = net_tls_ctx_new(NET_TLS_SERVER, &to, e, sizeof e);
        if (!tls[i]) {
            snprintf(err, errlen, "listener %u: %s", (unsigned)l->port, e);
            return -1;
        }
    }
    return 0;
}

/* Log destinations and levels from the configuration and -v. */
static int setup_logging(logger *lg, const broker_config *cfg, bool verbose, char *err, size_t errlen)
{
    lg->mask = cfg->log_mask | (verbose ? 1u << BROKER_LOG_PACKET | 1u << BROKER_LOG_DEBUG : 0);
    if (cfg->log_none) {
        lg->mask = 0;
        return 0;
    }
    if (cfg->nlog_dests == 0) lg->to_stderr = true;
    for (size_t i = 0; i < cfg->nlog_dests; i++) {
        int k = cfg->log_dests[i].kind;
        if (k == BROKER_LOGDEST_STDERR) lg->to_stderr = true;
        if (k == BROKER_LOGDEST_STDOUT) lg->to_stdout = true;
        if (k == BROKER_LOGDEST_SYSLOG) lg->to_syslog = true;
    }
    if (open_logs(lg, err, errlen) != 0) return -1;
    if (lg->to_syslog) openlog("mqtt-broker", LOG_PID, LOG_DAEMON);
    return 0;
}

/* Opens every listening socket (fds[0..*nfds)) and prints its address. */
static int listen_all(const broker_listener *listeners, size_t nl, int *fds, size_t *nfds, char *err, size_t errlen)
{
    for (size_t i = 0; i < nl; i++) {
        fds[i] = net_listen(listeners[i].host, listeners[i].port, 1024, err, errlen);
        if (fds[i] < 0) return -1;
        (*nfds)++;
        printf("listening on %s:%u\n", listeners[i].host[0] ? listeners[i].host : "*",
               (unsigned)net_local_port(fds[i]));
    }
    fflush(stdout);
    return 0;
}

/* The core, its persistence and the event loop until a stop signal.
 * Returns the exit status (0, or 2 when persistence or the loop failed). */
static int serve(app *A, broker_config *cfg, const broker_listener *listeners, size_t nl, const int *fds,
                 net_tls_ctx **tls, bool verbose)
{
    logger *lg = A->lg;
    char err[1024];
    cfg->opts.trace_packets = verbose;
    cfg->opts.log = log_line;
    cfg->opts.log_ctx = lg;
    broker_core *core = broker_core_new(&cfg->opts, net_now_ms());
    for (size_t i = 0; i < A->npolicies; i++) apply_policy(core, (unsigned)i, &A->policies[i]);
    if (cfg->persistence) {
        A->store = broker_store_open(core, cfg->persistence_location, cfg->persistence_file, cfg->autosave_interval,
                                     log_line, lg, net_now_ms(), err, sizeof err);
        if (!A->store) {
            log_line(lg, BROKER_LOG_ERROR, err);
            broker_core_free(core);
            for (size_t i = 0; i < nl; i++) close(fds[i]);
            return 2;
        }
    }
    if (broker_config_local_only(cfg))
        log_line(lg, BROKER_LOG_NOTICE, "no listener configured: local only mode (127.0.0.1), anonymous clients allowed");
    log_line(lg, BROKER_LOG_NOTICE, "mqtt-broker " BROKER_VERSION " running");
    broker_loop_listener ll[BROKER_MAX_LISTENERS + 1];
    for (size_t i = 0; i < nl; i++) {
        ll[i] = (broker_loop_listener){.fd = fds[i], .policy = (unsigned)i,
                                       .tls = tls[i], .max_connections = listeners[i].max_connections,
                                       .identity = listeners[i].use_identity_as_username,
                                       .websockets = listeners[i].websockets,
                                       .ws_max_frame = broker_ws_frame_limit(&cfg->opts)};
    }
    broker_loop_hooks hooks = {.ctx = A, .reload = reload, .sync = A->store ? sync_hook : NULL, .tick = tick_hook,
                               .log = loop_log_hook};
    int lrc = broker_event_loop(core, ll, nl, &hooks, err, sizeof err); /* owns the sockets */
    if (lrc != 0) log_line(lg, BROKER_LOG_ERROR, err);
    broker_store_close(A->store, core);
    broker_core_free(core);
    log_line(lg, BROKER_LOG_NOTICE, "mqtt-broker stopped");
    return lrc == 0 ? 0 : 2;
}

static void block_signals(void)
{
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
    args o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0) return prc < 0 ? 0 : 1;
    static broker_config cfg;
    broker_config_init(&cfg);
    char err[1024];
    if (o.config_path && broker_config_load(&cfg, o.config_path, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-broker: %s\n", err);
        broker_config_free(&cfg);
        return 1;
    }
    broker_listener listeners[BROKER_MAX_LISTENERS + 1];
    size_t nl = broker_config_listeners(&cfg, listeners, BROKER_MAX_LISTENERS + 1);
    if (o.port_override >= 0) listeners[0].port = (uint16_t)o.port_override;

    /* Everything the configuration names is loaded now, so that a broken
     * file stops the broker here (or --test-config reports it). */
    static app A;
    logger lg = {.cfg = &cfg};
    A.cfg = &cfg;
    A.config_path = o.config_path;
    A.lg = &lg;
    A.npolicies = nl;
    int rc = 1;
    net_tls_ctx *tls[BROKER_MAX_LISTENERS + 1] = {0};
    int fds[BROKER_MAX_LISTENERS + 1];
    size_t nfds = 0;
    if (load_policies(&A, &cfg, listeners, err, sizeof err) != 0 || make_tls(listeners, nl, tls, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-broker: %s\n", err);
        goto out;
    }
    if (cfg.persistence && o.test_config) {
        const char *dir = cfg.persistence_location ? cfg.persistence_location : ".";
        if (access(dir, W_OK) != 0) {
            fprintf(stderr, "mqtt-broker: persistence_location %s: %s\n", dir, strerror(errno));
            goto out;
        }
    }
    if (o.test_config) {
        printf("%s: configuration OK (%zu listener%s%s%s)\n", o.config_path, nl, nl == 1 ? "" : "s",
               cfg.persistence ? ", persistence on" : "", cfg.per_listener_settings ? ", per listener settings" : "");
        rc = 0;
        goto out;
    }
    if (setup_logging(&lg, &cfg, o.verbose, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-broker: %s\n", err);
        goto out;
    }
    block_signals();
    if (listen_all(listeners, nl, fds, &nfds, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-broker: %s\n", err);
        rc = 2;
        goto out;
    }
    if (drop_privileges(cfg.user, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-broker: %s\n", err);
        goto out;
    }
    if (o.daemonize && daemon(0, 0) != 0) {
        fprintf(stderr, "mqtt-broker: daemon: %s\n", strerror(errno));
        goto out;
    }
    rc = serve(&A, &cfg, listeners, nl, fds, tls, o.verbose);
    nfds = 0; /* closed by the loop (or by serve when it could not start) */

out:
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
    for (size_t i = 0; i < A.npolicies; i++) {
        if (!A.policies[i].owner) continue;
        broker_passwd_free(A.policies[i].pw);
        broker_acl_free(A.policies[i].acl);
    }
    for (size_t i = 0; i < nl; i++) net_tls_ctx_free(tls[i]);
    close_logs(&lg);
    broker_config_free(&cfg);
    return rc;
}
