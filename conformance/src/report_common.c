/*
 * Shared pieces of the report writers: verdict counts, normative coverage
 * and the transcript line format. Coverage keys ids by (version, id): the
 * same id means different things in 3.1.1 and 5.0; 3.1 runs use 3.1.1 ids.
 * A run counts for the ids its verdict is about (conf_run_rules: the
 * deciding step's for a failure or warn, every rule of the scenario for a
 * pass, none for a failed precondition). An id is "failed" in a version when
 * a run failed at it there (expected failures included: the report shows
 * every deviation), "passed" when it was checked and never failed; a warn
 * at a SHOULD counts as passed (no MUST broken), a late timer on a MUST as
 * failed.
 */
#include "conformance/src/report.h"
#include "conformance/src/spec_ids.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void report_counts(const conf_report *r, size_t counts[V__COUNT])
{
    memset(counts, 0, V__COUNT * sizeof counts[0]);
    for (size_t i = 0; i < r->n; i++) counts[r->runs[i].verdict]++;
}

void report_coverage(const conf_report *r, report_cov cov[CONF_NVERSIONS])
{
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        size_t n;
        conf_id_list(vi, &n);
        cov[vi] = (report_cov){.total = n, .state = calloc(n, 1)};
    }
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        conf_verdict v = run->verdict;
        /* only the rules the verdict is about: a failed precondition or a
         * failing step blames no other rule of the scenario */
        bool failed = v == V_FAIL || v == V_ERROR || v == V_XFAIL;
        bool passed = v == V_PASS || v == V_XPASS || v == V_WARN;
        if (!failed && !passed) continue;
        report_cov *c = &cov[run->vi];
        c->used = true;
        size_t n;
        char *const *ids = conf_run_rules(run, &n);
        for (size_t k = 0; k < n; k++) {
            int idx = conf_id_index(run->vi, ids[k]);
            if (idx < 0 || !c->state) continue;
            if (failed || (v == V_WARN && run->level == LVL_MUST)) c->state[idx] = 2;
            else if (c->state[idx] == 0) c->state[idx] = 1;
        }
    }
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        size_t nid;
        const char *const *ids = conf_id_list(vi, &nid);
        for (size_t k = 0; cov[vi].state && k < cov[vi].total && k < nid; k++) {
            if (cov[vi].state[k]) cov[vi].checked++;
            if (cov[vi].state[k] == 1) cov[vi].passed++;
            if (cov[vi].state[k] == 2) cov[vi].failed++;
            if (cov[vi].state[k] == 0 && conf_untestable_reason(vi, ids[k])) cov[vi].untestable++;
            else if (cov[vi].state[k] == 0) cov[vi].uncovered++;
        }
    }
}

void report_coverage_free(report_cov cov[CONF_NVERSIONS])
{
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        free(cov[vi].state);
        cov[vi].state = NULL;
    }
}

void report_event_line(const conf_run *run, const conf_event *ev, char *buf, size_t cap)
{
    const char *who = ev->client >= 0 && (size_t)ev->client < run->sc->nclients ? run->sc->clients[ev->client] : "runner";
    const char *arrow = ev->kind == EV_SENT ? "->" : ev->kind == EV_RECV ? "<-" : ev->kind == EV_FAIL ? "!!" : "..";
    snprintf(buf, cap, "+%lld.%03llds %-8s %s %s", (long long)(ev->t_ms / 1000), (long long)(ev->t_ms % 1000), who,
             arrow, ev->text);
}

FILE *report_open(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

void report_xml_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            /* XML 1.0 forbids most control characters, even escaped */
            if (c < 0x20 && c != '\n' && c != '\t') fputc('?', f);
            else fputc(c, f);
        }
    }
}

void report_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Length of the path component at p (which is just after a '/'). */
static size_t comp_len(const char *p)
{
    const char *e = strchr(p, '/');
    return e ? (size_t)(e - p) : strlen(p);
}

void report_rel_link(const char *report_path, const char *target, char *out, size_t cap)
{
    char dir[PATH_MAX], base[PATH_MAX], tgt[PATH_MAX];
    snprintf(out, cap, "%s", target);
    snprintf(dir, sizeof dir, "%s", report_path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if (!realpath(dir, base) || !realpath(target, tgt)) return;
    /* Both are absolute and canonical. Skip the directories they share... */
    const char *b = strcmp(base, "/") == 0 ? base + 1 : base; /* at a '/' or the end */
    const char *t = tgt;                                       /* at a '/' */
    for (;;) {
        if (*b != '/') break;
        size_t bl = comp_len(b + 1), tl = comp_len(t + 1);
        if (bl != tl || memcmp(b + 1, t + 1, bl) != 0 || t[1 + tl] != '/') break;
        b += 1 + bl;
        t += 1 + tl;
    }
    /* ... climb out of the rest of the report's directory, then down to the target. */
    size_t o = 0;
    for (; *b == '/' && o + 4 < cap; b += 1 + comp_len(b + 1)) o += (size_t)snprintf(out + o, cap - o, "../");
    snprintf(out + o, cap - o, "%s", t + 1);
}

void report_url_path(FILE *f, const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        unsigned char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_' || c == '~' || c == '/' || c == '@';
        if (ok) fputc(c, f);
        else fprintf(f, "%%%02X", c);
    }
}
