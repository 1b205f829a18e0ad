/*
 * What every report leads with, computed once for all writers: counts by
 * verdict and level, the broker's capability table (from the probe), and
 * the findings a broker team acts on (fail, warn, error, unexpected-pass,
 * not run), grouped by area, each with the statement ids and level of the
 * step that decided it, that step, and a one-line reason.
 */
#include "conformance/src/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool report_is_finding(conf_verdict v)
{
    return v == V_FAIL || v == V_WARN || v == V_ERROR || v == V_XPASS || v == V_NOTRUN;
}

void report_level_counts(const conf_report *r, size_t counts[V__COUNT][LVL_MUST + 1])
{
    memset(counts, 0, sizeof(size_t) * V__COUNT * (LVL_MUST + 1));
    for (size_t i = 0; i < r->n; i++) {
        conf_level l = r->runs[i].level;
        counts[r->runs[i].verdict][l <= LVL_MUST ? l : LVL_NONE]++;
    }
}

static int by_area(const void *a, const void *b)
{
    const conf_run *x = *(const conf_run *const *)a, *y = *(const conf_run *const *)b;
    int c = strcmp(x->sc->area, y->sc->area);
    if (c) return c;
    return x < y ? -1 : x > y; /* plan order within an area */
}

size_t report_findings(const conf_report *r, const conf_run ***out)
{
    const conf_run **list = calloc(r->n + 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; list && i < r->n; i++)
        if (report_is_finding(r->runs[i].verdict)) list[n++] = &r->runs[i];
    if (n) qsort(list, n, sizeof *list, by_area);
    *out = list;
    return list ? n : 0;
}

/* The step that decided the run: the failing step, else the last finding's. */
static int deciding_step(const conf_run *run)
{
    int s = run->fail_step;
    if (s < 0 && run->nfind) s = run->find[run->nfind - 1].step;
    return s >= 0 && (size_t)s < run->sc->nsteps ? s : -1;
}

static void join_rules(char *out, size_t cap, char *const *ids, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n && o < cap; k++) o += (size_t)snprintf(out + o, cap - o, "%s%s", k ? " " : "", ids[k]);
}

/* The first line of s into out. */
static void first_line(char *out, size_t cap, const char *s)
{
    snprintf(out, cap, "%s", s ? s : "");
    out[strcspn(out, "\n")] = '\0';
}

void report_why_of(const conf_run *run, report_why *w)
{
    memset(w, 0, sizeof *w);
    w->level = run->level;
    int s = deciding_step(run);
    const conf_step *st = s >= 0 ? &run->sc->steps[s] : NULL;
    if (st) {
        w->line = st->line;
        w->step = st->src;
    }
    size_t n;
    char *const *ids = conf_run_rules(run, &n); /* the engine's word on what the verdict is about */
    join_rules(w->rules, sizeof w->rules, ids, n);
    if (run->verdict == V_XPASS)
        snprintf(w->reason, sizeof w->reason, "passes, but the profile lists it as a known deviation: %s",
                 run->deviation ? run->deviation : "");
    else if (run->message) first_line(w->reason, sizeof w->reason, run->message);
    else if (run->nfind) first_line(w->reason, sizeof w->reason, run->find[run->nfind - 1].text);
}

/* ---- the capability table ---- */

static const char *const cap_rows[REPORT_CAP_ROWS] = {
    "version accepted", "Maximum QoS", "Retain Available", "Wildcard Subscription Available",
    "Subscription Identifiers Available", "Shared Subscription Available", "Topic Alias Maximum",
    "Receive Maximum", "Maximum Packet Size", "Server Keep Alive", "QoS granted for QoS 2", "skipped for"};

const char *report_cap_row(int row)
{
    return row >= 0 && row < REPORT_CAP_ROWS ? cap_rows[row] : "?";
}

static void num_cell(char *buf, size_t cap, int64_t v, const char *dflt)
{
    if (v < 0) snprintf(buf, cap, "absent (%s)", dflt);
    else snprintf(buf, cap, "%lld", (long long)v);
}

/* The scenarios' capabilities the announcements rule out. */
static void lacks_cell(const conf_caps *c, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < CAP_COUNT && o < cap; k++)
        if (c->lacks & (1u << k)) o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", conf_cap_names[k]);
    if (!o) snprintf(buf, cap, "nothing");
}

void report_cap_cell(const conf_caps *c, int vi, int row, char *buf, size_t cap)
{
    bool v5 = vi == CONF_VI_5;
    snprintf(buf, cap, "-");
    if (!c->probed) { if (row == 0) snprintf(buf, cap, "not probed"); return; }
    if (row == 0) { snprintf(buf, cap, "%s%s%s", c->supported ? "yes" : "no", c->note[0] ? ": " : "", c->note); return; }
    if (!c->supported) return;
    switch (row) {
    case 1: if (v5) num_cell(buf, cap, c->max_qos, "2"); break;
    case 2: if (v5) num_cell(buf, cap, c->retain_available, "1"); break;
    case 3: if (v5) num_cell(buf, cap, c->wildcard_available, "1"); break;
    case 4: if (v5) num_cell(buf, cap, c->subid_available, "1"); break;
    case 5: if (v5) num_cell(buf, cap, c->shared_available, "1"); break;
    case 6: if (v5) num_cell(buf, cap, c->topic_alias_max, "0"); break;
    case 7: if (v5) num_cell(buf, cap, c->receive_max, "65535"); break;
    case 8: if (v5) num_cell(buf, cap, c->max_packet_size, "no limit"); break;
    case 9: if (v5) num_cell(buf, cap, c->server_keep_alive, "the client's"); break;
    case 10:
        if (c->granted_qos2 >= 0) snprintf(buf, cap, "%d", c->granted_qos2);
        else snprintf(buf, cap, "not learnt");
        break;
    case 11: lacks_cell(c, buf, cap); break;
    default: break;
    }
}

bool report_caps_any(const conf_report *r)
{
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (r->res.caps[vi].probed) return true;
    return false;
}
