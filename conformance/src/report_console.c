/*
 * The console report: one row per scenario with a verdict per version, then
 * every run that did not pass with its reason and transcript, the coverage
 * table (with the pcap of each failure, when one was written), and a closing count line ("mqtt-conform: N passed, M failed ...")
 * that scripts/run-suite.sh understands.
 */
#include "conformance/src/report.h"

#include <string.h>

static const char *color_of(conf_verdict v)
{
    switch (v) {
    case V_PASS: return "\033[32m";
    case V_FAIL: case V_ERROR: case V_XPASS: case V_NOTRUN: return "\033[31m";
    case V_XFAIL: return "\033[33m";
    default: return "\033[90m";
    }
}

void report_console(FILE *f, const conf_report *r, bool color, bool verbose, bool quiet)
{
    /* versions present, in order */
    bool vused[CONF_NVERSIONS] = {false};
    for (size_t i = 0; i < r->n; i++) vused[r->runs[i].vi] = true;
    size_t idw = 8;
    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->runs[i].sc->id) > idw) idw = strlen(r->runs[i].sc->id);
    if (idw > 60) idw = 60;
    if (quiet) goto details;
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
        while (j < r->n && r->runs[j].sc == sc && r->runs[j].rep == rep) {
            cell[r->runs[j].vi] = &r->runs[j];
            j++;
        }
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

details:
    /* details of everything that did not pass */
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        if (run->verdict == V_PASS || (run->verdict == V_SKIP && !verbose)) continue;
        if (run->verdict == V_NOTRUN && !verbose) continue;
        if (quiet && !conf_verdict_bad(run->verdict)) continue;
        fprintf(f, "\n%s%s@%s%s: %s\n", color ? color_of(run->verdict) : "", run->sc->id, conf_vi_name(run->vi),
                color ? "\033[0m" : "", conf_verdict_name(run->verdict));
        if (run->message) fprintf(f, "  %s\n", run->message);
        if (run->deviation) fprintf(f, "  known deviation: %s\n", run->deviation);
        if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps)
            fprintf(f, "  at %s:%d: %s\n", run->sc->path, run->sc->steps[run->fail_step].line,
                    run->sc->steps[run->fail_step].src);
        if (run->pcap) fprintf(f, "  pcap: %s\n", run->pcap);
        if (run->verdict == V_FAIL || run->verdict == V_ERROR || verbose) {
            /* the whole transcript is in the files; the console shows the last lines */
            size_t from = run->nev > 14 && !verbose ? run->nev - 14 : 0;
            if (from) fprintf(f, "  ... %zu earlier events in the reports\n", from);
            for (size_t k = from; k < run->nev; k++) {
                char line[2300];
                report_event_line(run, &run->ev[k], line, sizeof line);
                fprintf(f, "    %s\n", line);
            }
        }
    }

    report_cov cov[CONF_NVERSIONS];
    report_coverage(r, cov);
    fprintf(f, "\nnormative coverage (ids checked / passed / failed):\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        fprintf(f, "  MQTT %-6s %3zu of %3zu checked, %3zu passed, %3zu failed\n", conf_vi_name(vi), cov[vi].checked,
                cov[vi].total, cov[vi].passed, cov[vi].failed);
    }
    report_coverage_free(cov);

    size_t c[V__COUNT];
    report_counts(r, c);
    if (r->res.died_after >= 0)
        fprintf(f, "\nthe broker stopped accepting connections after %s@%s: later runs were not run\n",
                r->runs[r->res.died_after].sc->id, conf_vi_name(r->runs[r->res.died_after].vi));
    if (r->broker_problem) fprintf(f, "\n%sBROKER PROBLEM: %s%s\n", color ? "\033[31m" : "", r->broker_problem,
                                   color ? "\033[0m" : "");
    size_t bad = (r->broker_problem ? 1 : 0) + c[V_FAIL] + c[V_ERROR] + c[V_XPASS] + c[V_NOTRUN];
    fprintf(f, "\nmqtt-conform: %zu passed, %zu failed (%zu pass, %zu fail, %zu error, %zu skip, "
            "%zu expected-failure, %zu unexpected-pass, %zu not run) against %s in %.1fs\n",
            c[V_PASS] + c[V_XFAIL], bad, c[V_PASS], c[V_FAIL], c[V_ERROR], c[V_SKIP], c[V_XFAIL], c[V_XPASS],
            c[V_NOTRUN], r->target, (double)r->res.wall_ms / 1000.0);
}
