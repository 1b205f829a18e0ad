/*
 * The console report, in the order a broker team reads it: the summary by
 * verdict and level, the capability table the probe found, every finding
 * (fail, warn, error, unexpected-pass, not run) grouped by area with its
 * statement ids, level, step and reason; then the table of all runs (not
 * with -q), the transcripts of failing runs (every run's with -v), the
 * normative coverage and a closing count line ("mqtt-conform: N passed,
 * M failed ...") that scripts/run-suite.sh understands.
 */
#include "conformance/src/report.h"
#include "conformance/src/report_sides.h"

#include <stdlib.h>
#include <string.h>

static const char *color_of(conf_verdict v)
{
    switch (v) {
    case V_PASS: return "\033[32m";
    case V_FAIL: case V_ERROR: case V_XPASS: case V_NOTRUN: return "\033[31m";
    case V_WARN: case V_XFAIL: return "\033[33m";
    default: return "\033[90m";
    }
}

static void summary(FILE *f, const conf_report *r)
{
    size_t c[V__COUNT], lc[V__COUNT][LVL_MUST + 1];
    report_counts(r, c);
    report_level_counts(r, lc);
    fprintf(f, "\nMQTT conformance of %s (profile %s): %zu runs\n", r->target,
            r->profile && r->profile->name ? r->profile->name : "default", r->n);
    for (int v = V_PASS; v < V__COUNT; v++) {
        if (!c[v]) continue;
        fprintf(f, "  %-17s %4zu", conf_verdict_name((conf_verdict)v), c[v]);
        if (v == V_FAIL || v == V_WARN || v == V_XFAIL) {
            const char *sep = "  (";
            for (int l = LVL_MUST; l >= LVL_NONE; l--)
                if (lc[v][l]) {
                    fprintf(f, "%s%zu %s", sep, lc[v][l], l == LVL_NONE ? "no level" : conf_level_name((conf_level)l));
                    sep = ", ";
                }
            if (strcmp(sep, ", ") == 0) fputc(')', f);
        }
        fputc('\n', f);
    }
    if (r->broker_problem) fprintf(f, "  BROKER PROBLEM: %s\n", r->broker_problem);
}

static void caps_table(FILE *f, const conf_report *r)
{
    if (!report_caps_any(r)) return;
    fprintf(f, "\ncapabilities (what the broker announced; absent: the spec's default applies)\n  %-36s", "");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (r->res.caps[vi].probed) fprintf(f, " %-22s", conf_vi_name(vi));
    fputc('\n', f);
    for (int row = 0; row < REPORT_CAP_ROWS; row++) {
        fprintf(f, "  %-36s", report_cap_row(row));
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!r->res.caps[vi].probed) continue;
            char cell[300];
            report_cap_cell(&r->res.caps[vi], vi, row, cell, sizeof cell);
            fprintf(f, " %-22s", cell);
        }
        fputc('\n', f);
    }
}

static void findings(FILE *f, const conf_report *r, bool color)
{
    const conf_run **list;
    size_t n = report_findings(r, &list);
    const char *area = NULL;
    if (n) fprintf(f, "\nfindings (%zu), by area:\n", n);
    for (size_t i = 0; i < n; i++) {
        const conf_run *run = list[i];
        report_why w;
        report_why_of(run, &w);
        if (!area || strcmp(area, run->sc->area) != 0) fprintf(f, "  %s\n", area = run->sc->area);
        fprintf(f, "    %s%-15s%s %s@%s  %s %s\n", color ? color_of(run->verdict) : "", conf_verdict_name(run->verdict),
                color ? "\033[0m" : "", run->sc->id, conf_vi_name(run->vi), w.level ? conf_level_name(w.level) : "-",
                w.rules[0] ? w.rules : "(precondition)");
        if (w.line) fprintf(f, "        step %s:%d: %s\n", run->sc->path, w.line, w.step);
        fprintf(f, "        %s\n", w.reason);
    }
    free(list);
}

static void run_table(FILE *f, const conf_report *r, bool color)
{
    bool vused[CONF_NVERSIONS] = {false};
    size_t idw = 8;
    for (size_t i = 0; i < r->n; i++) {
        vused[r->runs[i].vi] = true;
        if (strlen(r->runs[i].sc->id) > idw) idw = strlen(r->runs[i].sc->id);
    }
    if (idw > 60) idw = 60;
    fprintf(f, "\n%-*s", (int)idw, "scenario");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (vused[vi]) fprintf(f, "  %-16s", conf_vi_name(vi));
    fputc('\n', f);
    /* one row per (scenario, repeat): runs are grouped by scenario in plan order */
    for (size_t i = 0; i < r->n;) {
        const conf_scenario *sc = r->runs[i].sc;
        int rep = r->runs[i].rep;
        const conf_run *cell[CONF_NVERSIONS] = {NULL};
        size_t j = i;
        for (; j < r->n && r->runs[j].sc == sc && r->runs[j].rep == rep; j++) cell[r->runs[j].vi] = &r->runs[j];
        if (j == i) j = i + 1;
        fprintf(f, "%-*.*s", (int)idw, (int)idw, sc->id);
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!vused[vi]) continue;
            const char *name = cell[vi] ? conf_verdict_name(cell[vi]->verdict) : "-";
            if (color && cell[vi]) fprintf(f, "  %s%-16s\033[0m", color_of(cell[vi]->verdict), name);
            else fprintf(f, "  %-16s", name);
        }
        fputc('\n', f);
        i = j;
    }
}

/* The transcript of one run: the last lines (all with verbose). */
static void transcript(FILE *f, const conf_run *run, bool verbose)
{
    size_t from = run->nev > 14 && !verbose ? run->nev - 14 : 0;
    if (from) fprintf(f, "  ... %zu earlier events in the reports\n", from);
    for (size_t k = from; k < run->nev; k++) {
        char line[2300];
        report_event_line(run, &run->ev[k], line, sizeof line);
        fprintf(f, "    %s\n", line);
    }
}

static void details(FILE *f, const conf_report *r, bool color, bool verbose, bool quiet)
{
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        if (run->verdict == V_PASS || ((run->verdict == V_SKIP || run->verdict == V_NOTRUN) && !verbose)) continue;
        if (quiet && !conf_verdict_bad(run->verdict)) continue;
        fprintf(f, "\n%s%s@%s%s: %s\n", color ? color_of(run->verdict) : "", run->sc->id, conf_vi_name(run->vi),
                color ? "\033[0m" : "", conf_verdict_name(run->verdict));
        if (run->message) fprintf(f, "  %s\n", run->message);
        for (size_t k = 0; k < run->nfind; k++)
            if (run->find[k].text && (!run->message || strcmp(run->find[k].text, run->message) != 0))
                fprintf(f, "  %s: %s\n", conf_level_name(run->find[k].level), run->find[k].text);
        if (run->deviation) fprintf(f, "  known deviation: %s\n", run->deviation);
        if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps)
            fprintf(f, "  at %s:%d: %s\n", run->sc->path, run->sc->steps[run->fail_step].line,
                    run->sc->steps[run->fail_step].src);
        if (run->pcap) fprintf(f, "  pcap: %s\n", run->pcap);
        if (run->verdict == V_FAIL || run->verdict == V_ERROR || verbose) transcript(f, run, verbose);
    }
}

static void closing(FILE *f, const conf_report *r)
{
    report_cov cov[CONF_NVERSIONS];
    report_coverage(r, cov);
    fprintf(f, "\nnormative coverage (ids checked / passed / failed):\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        fprintf(f, "  MQTT %-6s %3zu of %3zu checked, %3zu passed, %3zu failed", conf_vi_name(vi), cov[vi].checked,
                cov[vi].total, cov[vi].passed, cov[vi].failed);
        if (vi != CONF_VI_31 && !report_is_client_run(r)) /* a client run: the by-side lines below; 3.1 reuses the 3.1.1 ids for a few scenarios: its gaps say nothing */
            fprintf(f, "; not checked: %zu not testable against a broker (why: Markdown/HTML/JSON reports), %zu not "
                    "covered", cov[vi].untestable, cov[vi].uncovered);
        fputc('\n', f);
    }
    report_sides_console(f, r, cov);
    report_coverage_free(cov);
    size_t c[V__COUNT];
    report_counts(r, c);
    if (r->res.died_after >= 0)
        fprintf(f, "\nthe broker stopped accepting connections after %s@%s: later runs were not run\n",
                r->runs[r->res.died_after].sc->id, conf_vi_name(r->runs[r->res.died_after].vi));
    if (r->broker_problem) fprintf(f, "\nBROKER PROBLEM: %s\n", r->broker_problem);
    size_t bad = (r->broker_problem ? 1 : 0) + c[V_FAIL] + c[V_ERROR] + c[V_XPASS] + c[V_NOTRUN];
    fprintf(f, "\nmqtt-conform: %zu passed, %zu failed (%zu pass, %zu warn, %zu fail, %zu error, %zu skip, "
            "%zu expected-failure, %zu unexpected-pass, %zu not run) against %s in %.1fs\n",
            c[V_PASS] + c[V_WARN] + c[V_XFAIL], bad, c[V_PASS], c[V_WARN], c[V_FAIL], c[V_ERROR], c[V_SKIP],
            c[V_XFAIL], c[V_XPASS], c[V_NOTRUN], r->target, (double)r->res.wall_ms / 1000.0);
}

void report_console(FILE *f, const conf_report *r, bool color, bool verbose, bool quiet)
{
    summary(f, r);
    caps_table(f, r);
    findings(f, r, color);
    if (!quiet) run_table(f, r, color);
    details(f, r, color, verbose, quiet);
    closing(f, r);
}
