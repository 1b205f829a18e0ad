/*
 * broker_config: parser of the mosquitto-style configuration file (see
 * broker_config.h). Line-oriented; every error names file and line and
 * stops the parse, so a broker never starts with a half-read
 * configuration. Values are checked for range here, not where they are
 * used. Options are mosquitto 2.0's, with its meaning; the ones it has and
 * this broker does not implement are refused by name rather than ignored.
 */
#include "broker/src/broker_where.h"
#include "broker/src/broker_config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LOG_MASK \
    ((1u << BROKER_LOG_ERROR) | (1u << BROKER_LOG_WARNING) | (1u << BROKER_LOG_NOTICE) | (1u << BROKER_LOG_INFO))

void broker_config_init(broker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    broker_options_default(&cfg->opts);
    snprintf(cfg->default_listener.host, sizeof cfg->default_listener.host, "127.0.0.1");
    cfg->default_listener.port = 1883;
    cfg->default_listener.sec.allow_anonymous = -1;
    cfg->sec.allow_anonymous = -1;
    cfg->autosave_interval = 1800;
    cfg->log_mask = DEFAULT_LOG_MASK;
}

static void free_sec(broker_security_config *s)
{
    free(s->password_file);
    free(s->acl_file);
}

static void free_listener(broker_listener *l)
{
    free(l->cafile);
    free(l->capath);
    free(l->certfile);
    free(l->keyfile);
    free(l->tls_version);
    free_sec(&l->sec);
}

void broker_config_free(broker_config *cfg)
{
    for (size_t i = 0; i < cfg->nlisteners; i++) free_listener(&cfg->listeners[i]);
    free_listener(&cfg->default_listener);
    free_sec(&cfg->sec);
    free(cfg->persistence_location);
    free(cfg->persistence_file);
    for (size_t i = 0; i < cfg->nlog_dests; i++) free(cfg->log_dests[i].path);
    free(cfg->user);
    broker_config_init(cfg);
}


static int parse_uint(broker_where *x, const char *opt, const char *v, unsigned long max, unsigned long *out)
{
    if (!v) return broker_where_fail(x, "%s: missing value", opt);
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (*v == '-' || *v == '+' || end == v || *end || errno || n > max)
        return broker_where_fail(x, "%s: expected a number from 0 to %lu, got '%s'", opt, max, v);
    *out = n;
    return 0;
}

static int parse_bool(broker_where *x, const char *opt, const char *v, bool *out)
{
    if (!v) return broker_where_fail(x, "%s: missing value", opt);
    if (strcmp(v, "true") == 0) *out = true;
    else if (strcmp(v, "false") == 0) *out = false;
    else return broker_where_fail(x, "%s: expected true or false, got '%s'", opt, v);
    return 0;
}

static int parse_port(broker_where *x, const char *opt, const char *v, uint16_t *out)
{
    unsigned long n;
    if (parse_uint(x, opt, v, 65535, &n)) return -1;
    *out = (uint16_t)n;
    return 0;
}

static int parse_host(broker_where *x, const char *opt, const char *v, char *out, size_t cap)
{
    if (!v) return broker_where_fail(x, "%s: missing address", opt);
    if (strlen(v) >= cap) return broker_where_fail(x, "%s: address too long", opt);
    snprintf(out, cap, "%s", v);
    return 0;
}

/* A path option: the rest of the line. Replaces an earlier value. */
static int parse_path(broker_where *x, const char *opt, const char *rest, char **out)
{
    if (!rest || !*rest) return broker_where_fail(x, "%s: missing path", opt);
    if (strlen(rest) > 4095) return broker_where_fail(x, "%s: path longer than 4095 bytes", opt);
    free(*out);
    *out = broker_xmalloc(strlen(rest) + 1);
    strcpy(*out, rest);
    return 0;
}

/* The listener that listener options apply to: the last `listener`, or the
 * default one before any. */
static broker_listener *cur_listener(broker_config *cfg)
{
    return cfg->nlisteners ? &cfg->listeners[cfg->nlisteners - 1] : &cfg->default_listener;
}

static broker_security_config *cur_security(broker_config *cfg)
{
    return cfg->per_listener_settings ? &cur_listener(cfg)->sec : &cfg->sec;
}

static const struct {
    const char *name;
    unsigned mask;
} log_types[] = {
    {"error", 1u << BROKER_LOG_ERROR},
    {"warning", 1u << BROKER_LOG_WARNING},
    {"notice", 1u << BROKER_LOG_NOTICE},
    {"information", 1u << BROKER_LOG_INFO},
    {"debug", 1u << BROKER_LOG_DEBUG},
    /* mosquitto's per-event types: this broker logs subscriptions at info
     * and has no websockets; accepted so that mosquitto files load. */
    {"subscribe", 0},
    {"unsubscribe", 0},
    {"websockets", 0},
    {"none", 0},
    {"all", DEFAULT_LOG_MASK | (1u << BROKER_LOG_DEBUG)},
};

/* Options mosquitto has that this broker does not implement: refused by
 * name, with the reason, rather than reported as unknown or ignored. */
static const char *const unsupported[] = {
    "bridge_cafile", "connection", "address", "psk_file", "psk_hint", "auth_plugin", "plugin", "websockets_log_level",
    "http_dir", "mount_point", "clientid_prefixes", "allow_zero_length_clientid", "queue_qos0_messages",
    "upgrade_outgoing_qos", "autosave_on_changes", "persistent_client_expiration", "check_retain_source",
    "max_inflight_bytes", "allow_duplicate_messages", "retry_interval",
    "set_tcp_nodelay", "socket_domain", "bind_interface", "use_username_as_clientid", "use_subject_as_username",
    "ciphers", "ciphers_tls1.3", "crlfile", "dhparamfile", "keyfile_password", "ocsp_responder", "pid_file",
    "connection_messages", "log_timestamp", "log_timestamp_format", "password_file_plugin", "acl_file_plugin",
    NULL,
};

static int parse_text(broker_config *cfg, const char *text, size_t len, const char *name, char *err, size_t errlen);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include_dir: every *.conf file of dir, in byte order of their names (as
 * mosquitto), parsed as if they followed this line. */
static int include_dir(broker_config *cfg, broker_where *x, const char *dir)
{
    if (cfg->depth > 0) return broker_where_fail(x, "include_dir: only allowed in the main configuration file");
    DIR *d = opendir(dir);
    if (!d) return broker_where_fail(x, "include_dir: cannot open %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".conf") != 0) continue;
        names = broker_xrealloc(names, (n + 1) * sizeof *names);
        names[n] = broker_xmalloc(l + 1);
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t pl = strlen(dir) + strlen(names[i]) + 2;
        char *path = broker_xmalloc(pl);
        snprintf(path, pl, "%s/%s", dir, names[i]);
        size_t flen;
        char *text = broker_read_file(path, &flen, x->err, x->errlen);
        if (!text) {
            rc = -1;
        } else {
            cfg->depth++;
            rc = parse_text(cfg, text, flen, path, x->err, x->errlen);
            cfg->depth--;
            free(text);
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static bool is_listener_option(const char *opt)
{
    static const char *const names[] = {"max_connections", "protocol", "cafile", "capath", "certfile", "keyfile",
                                        "require_certificate", "use_identity_as_username", "tls_version", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcmp(opt, names[i]) == 0) return true;
    return false;
}

/* log_dest stderr|stdout|syslog|none|file PATH (w: the words, rest: the line). */
static int log_dest_option(broker_config *cfg, broker_where *x, const char *opt, char **w, size_t nw, const char *rest)
{
    char *r = (char *)rest;
    if (!r || !*r) return broker_where_fail(x, "log_dest: missing destination");
    const char *kind = w[1];
    if (strcmp(kind, "none") == 0) {
        cfg->log_none = true;
        return 0;
    }
    if (cfg->nlog_dests == BROKER_MAX_LOG_DESTS) return broker_where_fail(x, "log_dest: at most %d", BROKER_MAX_LOG_DESTS);
    broker_log_dest *d = &cfg->log_dests[cfg->nlog_dests];
    memset(d, 0, sizeof *d);
    if (strcmp(kind, "stderr") == 0) d->kind = BROKER_LOGDEST_STDERR;
    else if (strcmp(kind, "stdout") == 0) d->kind = BROKER_LOGDEST_STDOUT;
    else if (strcmp(kind, "syslog") == 0) d->kind = BROKER_LOGDEST_SYSLOG;
    else if (strcmp(kind, "file") == 0) {
        const char *path = rest + 4;
        while (*path == ' ' || *path == '\t') path++;
        if (!*path) return broker_where_fail(x, "log_dest file: missing path");
        d->kind = BROKER_LOGDEST_FILE;
        if (parse_path(x, opt, path, &d->path)) return -1;
    } else if (strcmp(kind, "topic") == 0 || strcmp(kind, "dlt") == 0) {
        return broker_where_fail(x, "log_dest %s: not supported by mqtt-broker (stderr, stdout, file, syslog, none)", kind);
    } else {
        return broker_where_fail(x, "log_dest: unknown destination '%s' (stderr, stdout, file PATH, syslog, none)", kind);
    }
    if (d->kind != BROKER_LOGDEST_FILE && nw > 2) return broker_where_fail(x, "log_dest: unexpected '%s'", w[2]);
    cfg->nlog_dests++;
    return 0;
}

/* The numeric limits of broker_options: name, field, largest value, and the
 * smallest non-zero value that makes sense (0 keeps its "none" meaning).
 * Every one is range-checked here, so no value can overflow where used. */
#define LIMIT(name, max, min_nonzero) {#name, offsetof(broker_options, name), sizeof(((broker_options *)0)->name), max, min_nonzero}
static const struct {
    const char *name;
    size_t offset, size;
    unsigned long max, min_nonzero;
} limits[] = {
    LIMIT(max_keepalive, 65535, 0),
    LIMIT(max_queued_messages, UINT32_MAX, 0),
    LIMIT(max_queued_bytes, ULONG_MAX, 0),
    LIMIT(memory_limit, ULONG_MAX, 65536),
    LIMIT(max_inflight_messages, 65535, 0),
    LIMIT(message_size_limit, 268435455, 0),
    LIMIT(max_packet_size, 268435460, 20),
    LIMIT(max_connect_size, 268435460, 64),
    LIMIT(max_topic_levels, 65535, 0),
    LIMIT(max_filter_length, 65535, 0),
    LIMIT(sys_interval, 65535, 0),
    LIMIT(max_topic_alias, 65535, 0),
};

/* A numeric limit option: 1 if opt is not one, else 0 or -1 (error said). */
static int limit_option(broker_options *o, broker_where *x, const char *opt, const char *v)
{
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        if (strcmp(opt, limits[i].name) != 0) continue;
        unsigned long n;
        if (parse_uint(x, opt, v, limits[i].max, &n)) return -1;
        if (n != 0 && n < limits[i].min_nonzero)
            return broker_where_fail(x, "%s: %lu is too small to be useful (at least %lu)", opt, n, limits[i].min_nonzero);
        uint8_t *field = (uint8_t *)o + limits[i].offset;
        if (limits[i].size == 2) *(uint16_t *)(void *)field = (uint16_t)n;
        else if (limits[i].size == 4) *(uint32_t *)(void *)field = (uint32_t)n;
        else *(uint64_t *)(void *)field = (uint64_t)n;
        return 0;
    }
    return 1;
}

/* One line: opt, its first word v (or NULL), the number of words, and the
 * rest of the line after opt (trimmed). */
static int option(broker_config *cfg, broker_where *x, const char *opt, char **w, size_t nw, const char *rest)
{
    const char *v = nw > 1 ? w[1] : NULL;
    broker_options *o = &cfg->opts;
    unsigned long n;
    static const char *const path_opts[] = {"password_file", "acl_file", "cafile", "capath", "certfile", "keyfile",
                                            "persistence_location", "include_dir", "log_dest", NULL};
    bool takes_rest = false;
    for (size_t i = 0; path_opts[i]; i++)
        if (strcmp(opt, path_opts[i]) == 0) takes_rest = true;
    size_t max_words = strcmp(opt, "listener") == 0 ? 3 : 2;
    if (!takes_rest && nw > max_words) return broker_where_fail(x, "%s: unexpected '%s'", opt, w[max_words]);
    if (is_listener_option(opt)) cfg->any_listener_option = true;
    int lim = limit_option(o, x, opt, v);
    if (lim != 1) return lim;

    if (strcmp(opt, "listener") == 0) {
        if (cfg->nlisteners == BROKER_MAX_LISTENERS)
            return broker_where_fail(x, "listener: at most %d listeners", BROKER_MAX_LISTENERS);
        broker_listener *l = &cfg->listeners[cfg->nlisteners];
        memset(l, 0, sizeof *l);
        l->sec.allow_anonymous = -1;
        if (parse_port(x, opt, v, &l->port)) return -1;
        if (nw > 2 && parse_host(x, opt, w[2], l->host, sizeof l->host)) return -1;
        cfg->nlisteners++;
    } else if (strcmp(opt, "port") == 0) {
        if (parse_port(x, opt, v, &cfg->default_listener.port)) return -1;
        if (!cfg->default_set) cfg->default_listener.host[0] = '\0'; /* all addresses, as mosquitto */
        cfg->default_set = true;
    } else if (strcmp(opt, "bind_address") == 0) {
        if (parse_host(x, opt, v, cfg->default_listener.host, sizeof cfg->default_listener.host)) return -1;
        cfg->default_set = true;
    } else if (strcmp(opt, "protocol") == 0) {
        if (!v) return broker_where_fail(x, "protocol: missing value");
        if (strcmp(v, "mqtt") != 0 && strcmp(v, "websockets") != 0)
            return broker_where_fail(x, "protocol: expected mqtt or websockets, got '%s'", v);
        cur_listener(cfg)->websockets = strcmp(v, "websockets") == 0;
    } else if (strcmp(opt, "max_connections") == 0) {
        if (v && strcmp(v, "-1") == 0) v = "0"; /* mosquitto's "no limit" */
        if (parse_uint(x, opt, v, 1000000000, &n)) return -1;
        cur_listener(cfg)->max_connections = (uint32_t)n;
    } else if (strcmp(opt, "per_listener_settings") == 0) {
        bool b;
        if (parse_bool(x, opt, v, &b)) return -1;
        if (b && (cfg->any_security || cfg->nlisteners))
            return broker_where_fail(x, "per_listener_settings true: must come before any listener and any allow_anonymous, "
                           "password_file or acl_file");
        cfg->per_listener_settings = b;
    } else if (strcmp(opt, "allow_anonymous") == 0) {
        bool b;
        if (parse_bool(x, opt, v, &b)) return -1;
        cur_security(cfg)->allow_anonymous = b;
        cfg->any_security = true;
    } else if (strcmp(opt, "password_file") == 0) {
        cfg->any_security = true;
        return parse_path(x, opt, rest, &cur_security(cfg)->password_file);
    } else if (strcmp(opt, "acl_file") == 0) {
        cfg->any_security = true;
        return parse_path(x, opt, rest, &cur_security(cfg)->acl_file);
    } else if (strcmp(opt, "cafile") == 0) {
        return parse_path(x, opt, rest, &cur_listener(cfg)->cafile);
    } else if (strcmp(opt, "capath") == 0) {
        return parse_path(x, opt, rest, &cur_listener(cfg)->capath);
    } else if (strcmp(opt, "certfile") == 0) {
        return parse_path(x, opt, rest, &cur_listener(cfg)->certfile);
    } else if (strcmp(opt, "keyfile") == 0) {
        return parse_path(x, opt, rest, &cur_listener(cfg)->keyfile);
    } else if (strcmp(opt, "require_certificate") == 0) {
        return parse_bool(x, opt, v, &cur_listener(cfg)->require_certificate);
    } else if (strcmp(opt, "use_identity_as_username") == 0) {
        return parse_bool(x, opt, v, &cur_listener(cfg)->use_identity_as_username);
    } else if (strcmp(opt, "tls_version") == 0) {
        if (!v) return broker_where_fail(x, "tls_version: missing value");
        if (strcmp(v, "tlsv1.3") != 0 && strcmp(v, "tlsv1.2") != 0 && strcmp(v, "tlsv1.1") != 0)
            return broker_where_fail(x, "tls_version: expected tlsv1.3, tlsv1.2 or tlsv1.1, got '%s'", v);
        return parse_path(x, opt, v, &cur_listener(cfg)->tls_version);
    } else if (strcmp(opt, "persistence") == 0) {
        return parse_bool(x, opt, v, &cfg->persistence);
    } else if (strcmp(opt, "persistence_location") == 0) {
        return parse_path(x, opt, rest, &cfg->persistence_location);
    } else if (strcmp(opt, "persistence_file") == 0) {
        if (!v) return broker_where_fail(x, "persistence_file: missing file name");
        if (strchr(v, '/')) return broker_where_fail(x, "persistence_file: a file name, not a path (use persistence_location)");
        return parse_path(x, opt, v, &cfg->persistence_file);
    } else if (strcmp(opt, "autosave_interval") == 0) {
        if (parse_uint(x, opt, v, 86400 * 365, &n)) return -1;
        cfg->autosave_interval = (uint32_t)n;
    } else if (strcmp(opt, "log_dest") == 0) {
        return log_dest_option(cfg, x, opt, w, nw, rest);
    } else if (strcmp(opt, "log_type") == 0) {
        if (!v) return broker_where_fail(x, "log_type: missing value");
        size_t i = 0;
        while (i < sizeof log_types / sizeof log_types[0] && strcmp(log_types[i].name, v) != 0) i++;
        if (i == sizeof log_types / sizeof log_types[0])
            return broker_where_fail(x, "log_type: unknown type '%s' (error, warning, notice, information, debug, subscribe, "
                           "unsubscribe, websockets, none, all)", v);
        if (!cfg->log_type_set) cfg->log_mask = 0;
        cfg->log_type_set = true;
        cfg->log_mask |= log_types[i].mask;
    } else if (strcmp(opt, "include_dir") == 0) {
        if (!rest || !*rest) return broker_where_fail(x, "include_dir: missing directory");
        return include_dir(cfg, x, rest);
    } else if (strcmp(opt, "user") == 0) {
        if (!v) return broker_where_fail(x, "user: missing user name");
        return parse_path(x, opt, v, &cfg->user);
    } else if (strcmp(opt, "retain_available") == 0) {
        return parse_bool(x, opt, v, &o->retain_available);
    } else if (strcmp(opt, "max_qos") == 0) {
        if (!v || strlen(v) != 1 || v[0] < '0' || v[0] > '2')
            return broker_where_fail(x, "max_qos: expected 0, 1 or 2, got '%s'", v ? v : "");
        o->max_qos = (uint8_t)(v[0] - '0');
    } else {
        for (size_t i = 0; unsupported[i]; i++)
            if (strcmp(opt, unsupported[i]) == 0)
                return broker_where_fail(x, "%s: a mosquitto option mqtt-broker does not implement", opt);
        return broker_where_fail(x, "unknown option '%s'", opt);
    }
    return 0;
}

static int parse_text(broker_config *cfg, const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    broker_where x = {name, 0, err, errlen};
    size_t pos = 0;
    while (pos < len) {
        x.line++;
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        char line[4200];
        size_t n = end - pos;
        if (n >= sizeof line) return broker_where_fail(&x, "line longer than %zu bytes", sizeof line - 1);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        if (memchr(line, '\0', n)) return broker_where_fail(&x, "NUL byte in line");
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        /* rest: what follows the option name, trimmed */
        char *opt_end = p;
        while (*opt_end && *opt_end != ' ' && *opt_end != '\t') opt_end++;
        char *rest = opt_end;
        while (*rest == ' ' || *rest == '\t') rest++;
        char restcopy[4200];
        snprintf(restcopy, sizeof restcopy, "%s", rest);
        char *words[4] = {NULL, NULL, NULL, NULL};
        size_t nw = 0;
        char *save = NULL;
        for (char *t = strtok_r(p, " \t", &save); t && nw < 4; t = strtok_r(NULL, " \t", &save)) words[nw++] = t;
        if (nw == 0) continue;
        if (option(cfg, &x, words[0], words, nw, restcopy)) return -1;
    }
    return 0;
}

bool broker_config_local_only(const broker_config *cfg)
{
    return cfg->nlisteners == 0 && !cfg->default_set;
}

int broker_config_parse(broker_config *cfg, const char *text, size_t len, const char *name, char *err,
                        size_t errlen)
{
    if (parse_text(cfg, text, len, name, err, errlen)) return -1;
    /* Anonymous access without a configured listener only (mosquitto 2). */
    cfg->opts.allow_anonymous = cfg->sec.allow_anonymous >= 0 ? cfg->sec.allow_anonymous == 1
                                                             : broker_config_local_only(cfg);
    cfg->opts.persistence = cfg->persistence;
    return 0;
}

char *broker_read_file(const char *path, size_t *len_out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = broker_xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= (64u << 20)) {
                fclose(f);
                free(buf);
                snprintf(err, errlen, "%s: larger than 64 MiB", path);
                return NULL;
            }
            cap *= 2;
            buf = broker_xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) break;
    }
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

int broker_config_load(broker_config *cfg, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = broker_read_file(path, &len, err, errlen);
    if (!buf) return -1;
    int rc = broker_config_parse(cfg, buf, len, path, err, errlen);
    free(buf);
    return rc;
}

size_t broker_config_listeners(const broker_config *cfg, broker_listener *out, size_t cap)
{
    size_t n = 0;
    if (cfg->nlisteners == 0 || cfg->default_set) {
        if (n < cap) out[n++] = cfg->default_listener;
    }
    for (size_t i = 0; i < cfg->nlisteners && n < cap; i++) out[n++] = cfg->listeners[i];
    return n;
}

broker_security_config broker_config_security(const broker_config *cfg, const broker_listener *l)
{
    broker_security_config s = cfg->per_listener_settings ? l->sec : cfg->sec;
    if (s.allow_anonymous < 0) s.allow_anonymous = broker_config_local_only(cfg) ? 1 : 0;
    return s;
}
