/*
 * JSON report: the run's settings, counts (by verdict and by level), the
 * capability table the probe found (per version: each row's text, as the
 * other reports print it, which `mqtt-conform compare` reads back),
 * coverage (with the id lists per state) and every run with its verdict,
 * level, findings (each with its level, step line and statement ids),
 * message, rules, pcap path (null when none was written) and transcript.
 */
#include "conformance/src/report.h"
#include "conformance/src/report_sides.h"
#include "conformance/src/spec_ids.h"

#include <errno.h>
#include <string.h>

static void id_array(FILE *f, const report_cov *c, int vi, unsigned char want)
{
    size_t n;
    const char *const *ids = conf_id_list(vi, &n);
    fputc('[', f);
    bool first = true;
    for (size_t k = 0; k < n && c->state; k++) {
        if (c->state[k] != want) continue;
        if (!first) fputc(',', f);
        report_json_string(f, ids[k]);
        first = false;
    }
    fputc(']', f);
}

static void str_or_null(FILE *f, const char *s)
{
    if (s) report_json_string(f, s);
    else fputs("null", f);
}

static void header(FILE *f, const conf_report *r)
{
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&r->started));
    fprintf(f, "{\n  \"tool\": \"mqtt-conform\",\n  \"started\": \"%s\",\n  \"broker\": ", when);
    report_json_string(f, r->target);
    fprintf(f, ",\n  \"profile\": ");
    report_json_string(f, r->profile && r->profile->name ? r->profile->name : "default");
    fprintf(f, ",\n  \"time_scale\": %g,\n  \"jobs\": %d,\n  \"wall_seconds\": %.3f,\n", r->time_scale, r->jobs,
            (double)r->res.wall_ms / 1000.0);
    fprintf(f, "  \"broker_died_after\": ");
    if (r->res.died_after >= 0) {
        char b[512];
        snprintf(b, sizeof b, "%s@%s", r->runs[r->res.died_after].sc->id, conf_vi_name(r->runs[r->res.died_after].vi));
        report_json_string(f, b);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n  \"broker_problem\": ");
    str_or_null(f, r->broker_problem);
}

static void counts(FILE *f, const conf_report *r)
{
    size_t c[V__COUNT], lc[V__COUNT][LVL_MUST + 1];
    report_counts(r, c);
    report_level_counts(r, lc);
    fprintf(f, ",\n  \"counts\": {");
    for (int v = V_PASS; v < V__COUNT; v++) {
        fprintf(f, "%s", v > V_PASS ? ", " : "");
        report_json_string(f, conf_verdict_name((conf_verdict)v));
        fprintf(f, ": %zu", c[v]);
    }
    fprintf(f, "},\n  \"counts_by_level\": {");
    bool first = true;
    for (int v = V_PASS; v < V__COUNT; v++) {
        if (v != V_FAIL && v != V_WARN && v != V_XFAIL) continue;
        fprintf(f, "%s\"%s\": {\"MUST\": %zu, \"SHOULD\": %zu, \"MAY\": %zu, \"none\": %zu}", first ? "" : ", ",
                conf_verdict_name((conf_verdict)v), lc[v][LVL_MUST], lc[v][LVL_SHOULD], lc[v][LVL_MAY], lc[v][LVL_NONE]);
        first = false;
    }
    fputc('}', f);
}

static void capabilities(FILE *f, const conf_report *r)
{
    fprintf(f, ",\n  \"capabilities\": {");
    bool first = true;
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        const conf_caps *c = &r->res.caps[vi];
        if (!c->probed) continue;
        fprintf(f, "%s\n    \"%s\": {\"supported\": %s", first ? "" : ",", conf_vi_name(vi), c->supported ? "true" : "false");
        for (int row = 0; row < REPORT_CAP_ROWS; row++) {
            char cell[300];
            report_cap_cell(c, vi, row, cell, sizeof cell);
            fputs(", ", f);
            report_json_string(f, report_cap_row(row));
            fputs(": ", f);
            report_json_string(f, cell);
        }
        fputc('}', f);
        first = false;
    }
    fprintf(f, "%s}", first ? "" : "\n  ");
}

/* The unchecked ids that no scenario can check, with the reason (untestable.c). */
static void untestable(FILE *f, const report_cov *c, int vi)
{
    size_t n;
    const char *const *ids = conf_id_list(vi, &n);
    fprintf(f, ", \"untestable\": [");
    bool first = true;
    for (size_t k = 0; c->state && k < n; k++) {
        const char *why = c->state[k] ? NULL : conf_untestable_reason(vi, ids[k]);
        if (!why) continue;
        fprintf(f, "%s{\"id\": ", first ? "" : ", ");
        report_json_string(f, ids[k]);
        fprintf(f, ", \"reason\": ");
        report_json_string(f, why);
        fputc('}', f);
        first = false;
    }
    fputc(']', f);
}

static void coverage(FILE *f, const conf_report *r)
{
    fprintf(f, ",\n  \"coverage\": {");
    report_cov cov[CONF_NVERSIONS];
    report_coverage(r, cov);
    bool first = true;
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        fprintf(f, "%s\n    \"%s\": {\"total\": %zu, \"checked\": %zu, \"passed\": %zu, \"failed\": %zu, \"passed_ids\": ",
                first ? "" : ",", conf_vi_name(vi), cov[vi].total, cov[vi].checked, cov[vi].passed, cov[vi].failed);
        id_array(f, &cov[vi], vi, 1);
        fprintf(f, ", \"failed_ids\": ");
        id_array(f, &cov[vi], vi, 2);
        fprintf(f, ", \"unchecked_ids\": ");
        id_array(f, &cov[vi], vi, 0);
        untestable(f, &cov[vi], vi);
        fputc('}', f);
        first = false;
    }
    fprintf(f, "\n  }");
    report_sides_json(f, r, cov);
    report_coverage_free(cov);
}

static void rule_array(FILE *f, char *const *ids, size_t n)
{
    fputc('[', f);
    for (size_t k = 0; k < n; k++) {
        if (k) fputc(',', f);
        report_json_string(f, ids[k]);
    }
    fputc(']', f);
}

static void findings(FILE *f, const conf_run *run)
{
    fprintf(f, ", \"level\": \"%s\", \"findings\": [", run->level ? conf_level_name(run->level) : "none");
    for (size_t k = 0; k < run->nfind; k++) {
        const conf_finding *fd = &run->find[k];
        bool step_ok = fd->step >= 0 && (size_t)fd->step < run->sc->nsteps;
        fprintf(f, "%s{\"level\": \"%s\", \"line\": ", k ? ", " : "", fd->level ? conf_level_name(fd->level) : "none");
        if (step_ok) fprintf(f, "%d, \"rules\": ", run->sc->steps[fd->step].line);
        else fputs("null, \"rules\": ", f);
        if (step_ok) rule_array(f, run->sc->steps[fd->step].rules[run->vi], run->sc->steps[fd->step].nrules[run->vi]);
        else fputs("[]", f);
        fprintf(f, ", \"measured_ms\": ");
        if (fd->measured_ms >= 0) fprintf(f, "%lld", (long long)fd->measured_ms);
        else fputs("null", f);
        fprintf(f, ", \"text\": ");
        report_json_string(f, fd->text);
        fputc('}', f);
    }
    report_why w;
    report_why_of(run, &w);
    fprintf(f, "], \"deciding_rules\": ");
    report_json_string(f, w.rules);
}

static void transcript(FILE *f, const conf_run *run)
{
    fprintf(f, ", \"transcript\": [");
    for (size_t k = 0; k < run->nev; k++) {
        const conf_event *ev = &run->ev[k];
        static const char *const kinds[] = {"sent", "received", "note", "failure"};
        fprintf(f, "%s{\"ms\": %lld, \"client\": ", k ? ", " : "", (long long)ev->t_ms);
        report_json_string(f, ev->client >= 0 ? run->sc->clients[ev->client] : "runner");
        fprintf(f, ", \"kind\": \"%s\", \"text\": ", kinds[ev->kind]);
        report_json_string(f, ev->text);
        fputc('}', f);
    }
    fputc(']', f);
}

static void run_json(FILE *f, const conf_run *run)
{
    fprintf(f, "{\"id\": ");
    report_json_string(f, run->sc->id);
    fprintf(f, ", \"area\": ");
    report_json_string(f, run->sc->area);
    fprintf(f, ", \"version\": \"%s\", \"repeat\": %d, \"title\": ", conf_vi_name(run->vi), run->rep + 1);
    report_json_string(f, run->sc->title);
    fprintf(f, ", \"file\": ");
    report_json_string(f, run->sc->path);
    fprintf(f, ", \"verdict\": ");
    report_json_string(f, conf_verdict_name(run->verdict));
    fprintf(f, ", \"seconds\": %.3f, \"rules\": ", (double)run->duration_ms / 1000.0);
    rule_array(f, run->sc->rules[run->vi], run->sc->nrules[run->vi]);
    findings(f, run);
    fprintf(f, ", \"message\": ");
    str_or_null(f, run->message);
    fprintf(f, ", \"deviation\": ");
    str_or_null(f, run->deviation);
    fprintf(f, ", \"failed_line\": ");
    if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps)
        fprintf(f, "%d", run->sc->steps[run->fail_step].line);
    else
        fputs("null", f);
    fprintf(f, ", \"pcap\": ");
    str_or_null(f, run->pcap);
    transcript(f, run);
    fputc('}', f);
}

int report_json(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    header(f, r);
    counts(f, r);
    capabilities(f, r);
    coverage(f, r);
    fprintf(f, ",\n  \"runs\": [");
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        run_json(f, &r->runs[i]);
    }
    fprintf(f, "\n  ]\n}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
