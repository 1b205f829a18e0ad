/*
 * Profile files (SCENARIOS.md, section 6): one statement per line, `#`
 * comments, quoted reasons; one handler per keyword (a table). Errors name
 * file:line:col like scenario errors. Also: checking expected failures
 * against the keys of their deviations after a run (conf_profile_apply).
 */
#include "conformance/src/profile.h"

#include "conformance/src/report.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void conf_profile_default(conf_profile *p)
{
    memset(p, 0, sizeof *p);
    p->name = strdup("default");
    p->vmask = CONF_VALL;
}

void conf_profile_free(conf_profile *p)
{
    free(p->path);
    free(p->name);
    free(p->broker);
    free(p->username);
    free(p->password);
    free(p->cafile);
    free(p->certfile);
    free(p->keyfile);
    for (size_t i = 0; i < p->ndevs; i++) {
        free(p->devs[i].glob);
        free(p->devs[i].reason);
        for (size_t k = 0; k < p->devs[i].nrules; k++) free(p->devs[i].rules[k]);
        free(p->devs[i].rules);
    }
    free(p->devs);
    memset(p, 0, sizeof *p);
}

conf_deviation *conf_profile_deviation(conf_profile *p, const char *id, int vi)
{
    for (size_t i = 0; i < p->ndevs; i++)
        if ((p->devs[i].vmask & CONF_VBIT(vi)) && fnmatch(p->devs[i].glob, id, 0) == 0) return &p->devs[i];
    return NULL;
}

/* Next word of a line: a bare word or a "quoted string" (escapes \" and \\). */
static char *next_word(char **s, int *col, const char *line, bool *quoted)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    if (!*p || *p == '#') { *s = p; return NULL; }
    *col = (int)(p - line) + 1;
    *quoted = *p == '"';
    char *out;
    if (*quoted) {
        p++;
        out = p;
        char *o = p;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) p++;
            *o++ = *p++;
        }
        if (*p != '"') { *s = p; return (char *)-1; }
        p++;
        *o = '\0';
        /* the closing quote's slot may have been overwritten by the shift: fine */
    } else {
        out = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
        if (*p) *p++ = '\0';
    }
    *s = p;
    return out;
}

/* A file named in a profile: relative paths are relative to the profile's directory. */
static char *profile_file(const char *profile_path, const char *name)
{
    const char *slash = strrchr(profile_path, '/');
    if (name[0] == '/' || !slash) return strdup(name);
    size_t dl = (size_t)(slash - profile_path);
    size_t n = dl + 1 + strlen(name) + 1;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s/%s", (int)dl, profile_path, name);
    return out;
}

static unsigned versions_of(const char *w)
{
    if (strcmp(w, "all") == 0) return CONF_VALL;
    unsigned m = 0;
    const char *s = w;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        int vi = conf_vi_parse(s, n);
        if (vi < 0) return 0;
        m |= CONF_VBIT(vi);
        s += n + (comma ? 1 : 0);
    }
    return m;
}

/* One line being parsed: the rest of it, and where errors point. */
typedef struct {
    const char *path;
    int lineno;
    char *line, *s;     /* the line, and the unparsed rest */
    int col;            /* column of the last word */
    conf_errors *errs;
} line_ctx;

/* The next word; NULL at the end of the line (or a comment), after an error
 * for an unclosed quote. */
static char *word(line_ctx *c, bool *quoted)
{
    bool q;
    char *w = next_word(&c->s, &c->col, c->line, quoted ? quoted : &q);
    if (w == (char *)-1) {
        conf_error_add(c->errs, c->path, c->lineno, c->col, "expected a closing '\"'");
        return NULL;
    }
    return w;
}

static void set_str(char **field, char *v)
{
    free(*field);
    *field = strdup(v);
}

static void kw_insecure(conf_profile *p, line_ctx *c, char *a)
{
    if (strcmp(a, "true") == 0 || strcmp(a, "yes") == 0) p->insecure = true;
    else if (strcmp(a, "false") == 0 || strcmp(a, "no") == 0) p->insecure = false;
    else conf_error_add(c->errs, c->path, c->lineno, c->col, "expected true or false after insecure, found '%s'", a);
}

static void kw_versions(conf_profile *p, line_ctx *c, char *a)
{
    p->vmask = 0;
    for (char *w = a; w; w = word(c, NULL)) {
        unsigned m = versions_of(w);
        if (!m) conf_error_add(c->errs, c->path, c->lineno, c->col, "expected versions (3.1, 3.1.1, 5.0 or all), found '%s'", w);
        p->vmask |= m;
    }
}

static void kw_lacks(conf_profile *p, line_ctx *c, char *a)
{
    for (char *w = a; w; w = word(c, NULL)) {
        int cap = conf_cap_parse(w, strlen(w));
        if (cap < 0) conf_error_add(c->errs, c->path, c->lineno, c->col, "expected a capability name, found '%s'", w);
        else p->lacks |= 1u << cap;
    }
}

static void kw_max_qos(conf_profile *p, line_ctx *c, char *a)
{
    if (strcmp(a, "0") == 0) p->lacks |= (1u << CAP_QOS1) | (1u << CAP_QOS2);
    else if (strcmp(a, "1") == 0) p->lacks |= 1u << CAP_QOS2;
    else if (strcmp(a, "2") != 0) conf_error_add(c->errs, c->path, c->lineno, c->col, "expected 0, 1 or 2 after max_qos");
}

/* rule=ID,ID... or step=LINE into d; false after an error. */
static bool deviation_key(conf_deviation *d, line_ctx *c, char *w)
{
    if (strncmp(w, "step=", 5) == 0) {
        char *end;
        long n = strtol(w + 5, &end, 10);
        if (*end || n < 1 || n > 1000000) {
            conf_error_add(c->errs, c->path, c->lineno, c->col, "expected step=LINE (a line of the scenario), found '%s'", w);
            return false;
        }
        d->step_line = (int)n;
        return true;
    }
    if (strncmp(w, "rule=", 5) != 0 || !w[5]) {
        conf_error_add(c->errs, c->path, c->lineno, c->col,
                       "expected rule=ID, step=LINE or a quoted reason after the versions, found '%s'", w);
        return false;
    }
    for (char *id = strtok(w + 5, ","); id; id = strtok(NULL, ",")) {
        char **nr = realloc(d->rules, (d->nrules + 1) * sizeof *nr);
        if (!nr) return false;
        d->rules = nr;
        d->rules[d->nrules++] = strdup(id);
    }
    return true;
}

/* deviation / flaky GLOB VERSIONS [KEY...] "reason" */
static void kw_deviation(conf_profile *p, line_ctx *c, char *glob, bool flaky, const char *kw)
{
    char *v = word(c, NULL);
    unsigned m = v ? versions_of(v) : 0;
    if (!m) {
        conf_error_add(c->errs, c->path, c->lineno, c->col, "expected versions (all or 3.1.1,5.0 ...) after the scenario id");
        return;
    }
    conf_deviation d = {.glob = strdup(glob), .vmask = m, .line = c->lineno, .flaky = flaky};
    bool q = false, ok = true;
    char *w;
    while (ok && (w = word(c, &q)) && !q) ok = deviation_key(&d, c, w);
    if (ok && (!w || !q || !*w)) {
        conf_error_add(c->errs, c->path, c->lineno, c->col, "expected a quoted reason: %s ID VERSIONS [rule=ID] \"why\"", kw);
        ok = false;
    }
    conf_deviation *nd = ok ? realloc(p->devs, (p->ndevs + 1) * sizeof *nd) : NULL;
    if (!nd) {
        free(d.glob);
        for (size_t k = 0; k < d.nrules; k++) free(d.rules[k]);
        free(d.rules);
        return;
    }
    d.reason = strdup(w);
    p->devs = nd;
    p->devs[p->ndevs++] = d;
}

/* One statement: keyword and its first value. */
static void statement(conf_profile *p, line_ctx *c, char *kw, char *a)
{
    if (strcmp(kw, "name") == 0) set_str(&p->name, a);
    else if (strcmp(kw, "broker") == 0) set_str(&p->broker, a);
    else if (strcmp(kw, "username") == 0) set_str(&p->username, a);
    else if (strcmp(kw, "password") == 0) set_str(&p->password, a);
    else if (strcmp(kw, "cafile") == 0) { free(p->cafile); p->cafile = profile_file(c->path, a); }
    else if (strcmp(kw, "cert") == 0) { free(p->certfile); p->certfile = profile_file(c->path, a); }
    else if (strcmp(kw, "key") == 0) { free(p->keyfile); p->keyfile = profile_file(c->path, a); }
    else if (strcmp(kw, "insecure") == 0) kw_insecure(p, c, a);
    else if (strcmp(kw, "versions") == 0) kw_versions(p, c, a);
    else if (strcmp(kw, "lacks") == 0) kw_lacks(p, c, a);
    else if (strcmp(kw, "max_qos") == 0) kw_max_qos(p, c, a);
    else if (strcmp(kw, "deviation") == 0 || strcmp(kw, "flaky") == 0) kw_deviation(p, c, a, kw[0] == 'f', kw);
    else
        conf_error_add(c->errs, c->path, c->lineno, 1,
                       "expected name, broker, username, password, cafile, cert, key, insecure, versions, lacks, "
                       "max_qos, deviation or flaky, found '%s'", kw);
}

int conf_profile_load(const char *path, conf_profile *p, conf_errors *errs)
{
    conf_profile_default(p);
    p->path = strdup(path);
    FILE *f = fopen(path, "r");
    if (!f) {
        conf_error_add(errs, path, 0, 0, "cannot open the profile");
        return -1;
    }
    size_t before = errs->count;
    char line[4096];
    line_ctx c = {.path = path, .errs = errs, .line = line};
    while (fgets(line, sizeof line, f)) {
        c.lineno++;
        line[strcspn(line, "\n")] = '\0';
        c.s = line;
        char *kw = word(&c, NULL);
        if (!kw) continue;
        int kwcol = c.col;
        char *a = word(&c, NULL);
        if (!a) {
            if (errs->count == before || c.s[0] != '"')
                conf_error_add(errs, path, c.lineno, kwcol, "expected a value after `%s`", kw);
            continue;
        }
        statement(p, &c, kw, a);
    }
    fclose(f);
    return errs->count > before ? -1 : 0;
}

/* ---- after the run: expected failures against their keys ---- */

static bool key_matches(const conf_deviation *d, const conf_run *run)
{
    if (!d->nrules && !d->step_line) return true;
    report_why w;
    report_why_of(run, &w);
    if (d->step_line && w.line == d->step_line) return true;
    for (size_t k = 0; k < d->nrules; k++) {
        const char *r = w.rules;
        size_t n = strlen(d->rules[k]);
        for (const char *hit = strstr(r, d->rules[k]); hit; hit = strstr(hit + 1, d->rules[k]))
            if ((hit == r || hit[-1] == ' ') && (hit[n] == '\0' || hit[n] == ' ')) return true;
    }
    return false;
}

/* A failure no key covers: a regression, saying which deviation it is not. */
static void unexpected(conf_run *run, const conf_deviation *d)
{
    run->verdict = run->level == LVL_NONE ? V_ERROR : V_FAIL;
    run->deviation = NULL;
    report_why w;
    report_why_of(run, &w);
    char key[300] = "", at[700];
    size_t o = 0;
    for (size_t k = 0; k < d->nrules && o < sizeof key; k++)
        o += (size_t)snprintf(key + o, sizeof key - o, "%s%s", k ? "," : "rule ", d->rules[k]);
    if (d->step_line && o < sizeof key) snprintf(key + o, sizeof key - o, "%sstep %d", o ? ", " : "", d->step_line);
    snprintf(at, sizeof at, "step %d (%s)", w.line, w.rules[0] ? w.rules : "no rules");
    char *old = run->message;
    size_t n = strlen(old ? old : "") + strlen(key) + strlen(at) + 120;
    run->message = malloc(n);
    if (run->message)
        snprintf(run->message, n, "%s [a new failure: the profile's deviation (line %d) covers %s, this one is at %s]",
                 old ? old : "", d->line, key, at);
    free(old);
}

void conf_profile_apply(conf_profile *p, conf_run *runs, size_t n)
{
    for (size_t i = 0; i < p->ndevs; i++) p->devs[i].used = false;
    for (size_t i = 0; i < n; i++) {
        conf_run *run = &runs[i];
        const conf_deviation *first = NULL, *hit = NULL;
        for (size_t k = 0; k < p->ndevs && !hit; k++) {
            conf_deviation *d = &p->devs[k];
            if (!(d->vmask & CONF_VBIT(run->vi)) || fnmatch(d->glob, run->sc->id, 0) != 0) continue;
            if (!first) first = d;
            if (run->verdict != V_XFAIL || key_matches(d, run)) hit = d;
        }
        if (!first) continue;
        if (hit) {
            ((conf_deviation *)hit)->used = true;
            if (run->deviation) run->deviation = hit->reason;
        } else if (run->verdict == V_XFAIL) {
            unexpected(run, first);
        }
    }
}
