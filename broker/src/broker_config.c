/*
 * broker_config: parser of the mosquitto-style configuration file (see
 * broker_config.h). Line-oriented; every error names file and line and
 * stops the parse, so a broker never starts with a half-read
 * configuration. Values are checked for range here, not where they are
 * used.
 */
#include "broker/src/broker_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void broker_config_init(broker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    broker_options_default(&cfg->opts);
    snprintf(cfg->default_listener.host, sizeof cfg->default_listener.host, "127.0.0.1");
    cfg->default_listener.port = 1883;
}

typedef struct {
    const char *name;
    size_t line;
    char *err;
    size_t errlen;
} ctx;

static int fail(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx *x, const char *fmt, ...)
{
    int n = snprintf(x->err, x->errlen, "%s:%zu: ", x->name, x->line);
    if (n < 0) n = 0;
    if ((size_t)n < x->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int parse_uint(ctx *x, const char *opt, const char *v, unsigned long max, unsigned long *out)
{
    if (!v) return fail(x, "%s: missing value", opt);
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (*v == '-' || *v == '+' || end == v || *end || errno || n > max)
        return fail(x, "%s: expected a number from 0 to %lu, got '%s'", opt, max, v);
    *out = n;
    return 0;
}

static int parse_bool(ctx *x, const char *opt, const char *v, bool *out)
{
    if (!v) return fail(x, "%s: missing value", opt);
    if (strcmp(v, "true") == 0) *out = true;
    else if (strcmp(v, "false") == 0) *out = false;
    else return fail(x, "%s: expected true or false, got '%s'", opt, v);
    return 0;
}

static int parse_port(ctx *x, const char *opt, const char *v, uint16_t *out)
{
    unsigned long n;
    if (parse_uint(x, opt, v, 65535, &n)) return -1;
    *out = (uint16_t)n;
    return 0;
}

static int parse_host(ctx *x, const char *opt, const char *v, char *out, size_t cap)
{
    if (!v) return fail(x, "%s: missing address", opt);
    if (strlen(v) >= cap) return fail(x, "%s: address too long", opt);
    snprintf(out, cap, "%s", v);
    return 0;
}

/* One line, already split into at most 4 words. */
static int option(broker_config *cfg, ctx *x, char **w, size_t nw)
{
    const char *opt = w[0], *v = nw > 1 ? w[1] : NULL;
    broker_options *o = &cfg->opts;
    unsigned long n;
    size_t max_words = strcmp(opt, "listener") == 0 ? 3 : 2;
    if (nw > max_words) return fail(x, "%s: unexpected '%s'", opt, w[max_words]);

    if (strcmp(opt, "listener") == 0) {
        if (cfg->nlisteners == BROKER_MAX_LISTENERS)
            return fail(x, "listener: at most %d listeners", BROKER_MAX_LISTENERS);
        broker_listener *l = &cfg->listeners[cfg->nlisteners];
        memset(l, 0, sizeof *l);
        if (parse_port(x, opt, v, &l->port)) return -1;
        if (nw > 2 && parse_host(x, opt, w[2], l->host, sizeof l->host)) return -1;
        cfg->nlisteners++;
    } else if (strcmp(opt, "port") == 0) {
        if (parse_port(x, opt, v, &cfg->default_listener.port)) return -1;
        cfg->default_set = true;
    } else if (strcmp(opt, "bind_address") == 0) {
        if (parse_host(x, opt, v, cfg->default_listener.host, sizeof cfg->default_listener.host)) return -1;
        cfg->default_set = true;
    } else if (strcmp(opt, "allow_anonymous") == 0) {
        return parse_bool(x, opt, v, &o->allow_anonymous);
    } else if (strcmp(opt, "retain_available") == 0) {
        return parse_bool(x, opt, v, &o->retain_available);
    } else if (strcmp(opt, "max_keepalive") == 0) {
        if (parse_uint(x, opt, v, 65535, &n)) return -1;
        o->max_keepalive = (uint16_t)n;
    } else if (strcmp(opt, "max_queued_messages") == 0) {
        if (parse_uint(x, opt, v, UINT32_MAX, &n)) return -1;
        o->max_queued_messages = (uint32_t)n;
    } else if (strcmp(opt, "max_inflight_messages") == 0) {
        if (parse_uint(x, opt, v, 65535, &n)) return -1;
        o->max_inflight_messages = (uint16_t)n;
    } else if (strcmp(opt, "message_size_limit") == 0) {
        if (parse_uint(x, opt, v, 268435455, &n)) return -1;
        o->message_size_limit = (uint32_t)n;
    } else if (strcmp(opt, "max_packet_size") == 0) {
        if (parse_uint(x, opt, v, 268435460, &n)) return -1;
        if (n != 0 && n < 20) return fail(x, "max_packet_size: %lu is too small to be useful (at least 20)", n);
        o->max_packet_size = (uint32_t)n;
    } else if (strcmp(opt, "sys_interval") == 0) {
        if (parse_uint(x, opt, v, 65535, &n)) return -1;
        o->sys_interval = (uint32_t)n;
    } else if (strcmp(opt, "max_qos") == 0) {
        if (!v || strlen(v) != 1 || v[0] < '0' || v[0] > '2')
            return fail(x, "max_qos: expected 0, 1 or 2, got '%s'", v ? v : "");
        o->max_qos = (uint8_t)(v[0] - '0');
    } else if (strcmp(opt, "max_topic_alias") == 0) {
        if (parse_uint(x, opt, v, 65535, &n)) return -1;
        o->max_topic_alias = (uint16_t)n;
    } else {
        return fail(x, "unknown option '%s'", opt);
    }
    return 0;
}

int broker_config_parse(broker_config *cfg, const char *text, size_t len, const char *name, char *err,
                        size_t errlen)
{
    ctx x = {name, 0, err, errlen};
    size_t pos = 0;
    while (pos < len) {
        x.line++;
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        char line[1024];
        size_t n = end - pos;
        if (n >= sizeof line) return fail(&x, "line longer than %zu bytes", sizeof line - 1);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        if (memchr(line, '\0', n)) return fail(&x, "NUL byte in line");
        if (n && line[n - 1] == '\r') line[--n] = '\0';
        char *words[4];
        size_t nw = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t", &save); t && nw < 4; t = strtok_r(NULL, " \t", &save)) {
            if (nw == 0 && t[0] == '#') break;
            words[nw++] = t;
        }
        if (nw == 0) continue;
        if (option(cfg, &x, words, nw)) return -1;
    }
    return 0;
}

int broker_config_load(broker_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = broker_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap >= (64u << 20)) {
                fclose(f);
                free(buf);
                snprintf(err, errlen, "%s: larger than 64 MiB, not a configuration file", path);
                return -1;
            }
            cap *= 2;
            buf = broker_xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
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
