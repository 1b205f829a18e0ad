/*
 * Markdown report (for pull requests), in the console's order: summary by
 * verdict and level, the capability table, the findings grouped by area
 * (statement ids, level, step, reason), the coverage table, a table of every
 * run, then the details of each run that did not pass with its transcript
 * in a code block. Runs with a pcap link it (relative to the
 * report's directory, so the report and reports/pcap/ travel together).
 */
#include "conformance/src/spec_ids.h"
#include "conformance/src/report.h"
#include "conformance/src/report_sides.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Table cells must not contain '|' or newlines. */
static void cell(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n') fputc(' ', f);
        else fputc(*s, f);
    }
}

/* [text](relative/path.pcap); text defaults to the file's name. */
static void pcap_link(FILE *f, const char *report_path, const conf_run *run, const char *text)
{
    char rel[PATH_MAX];
    report_rel_link(report_path, run->pcap, rel, sizeof rel);
    const char *name = strrchr(run->pcap, '/');
    fputc('[', f);
    cell(f, text ? text : name ? name + 1 : run->pcap);
    fputs("](", f);
    report_url_path(f, rel);
    fputc(')', f);
}

/* The anchor GitHub makes of a details heading "### `ID@V`: verdict":
 * lower case, spaces to '-', punctuation but '-' and '_' dropped. */
static void anchor(FILE *f, const conf_run *run)
{
    char h[600];
    snprintf(h, sizeof h, "%s@%s: %s", run->sc->id, conf_vi_name(run->vi), conf_verdict_name(run->verdict));
    for (const char *p = h; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') fputc(c - 'A' + 'a', f);
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') fputc(c, f);
        else if (c == ' ') fputc('-', f);
    }
}

static void summary(FILE *f, const conf_report *r)
{
    size_t c[V__COUNT], lc[V__COUNT][LVL_MUST + 1];
    report_counts(r, c);
    report_level_counts(r, lc);
    fprintf(f, "# MQTT conformance report\n\n");
    fprintf(f, "Broker `%s`, profile `%s`, %zu runs in %.1f s (time scale %g, %d in parallel).\n\n", r->target,
            r->profile && r->profile->name ? r->profile->name : "default", r->n, (double)r->res.wall_ms / 1000.0,
            r->time_scale, r->jobs);
    if (r->broker_problem) fprintf(f, "**Broker problem: %s.**\n\n", r->broker_problem);
    fprintf(f, "| verdict | runs | MUST | SHOULD | MAY | no level |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (int v = V_PASS; v < V__COUNT; v++) {
        if (!c[v]) continue;
        fprintf(f, "| %s | %zu |", conf_verdict_name((conf_verdict)v), c[v]);
        for (int l = LVL_MUST; l >= LVL_NONE; l--)
            if (v == V_FAIL || v == V_WARN || v == V_XFAIL) fprintf(f, " %zu |", lc[v][l]);
            else fputs("  |", f);
        fputc('\n', f);
    }
    if (r->res.died_after >= 0)
        fprintf(f, "\n**The broker stopped accepting connections after `%s@%s`; later runs were not run.**\n",
                r->runs[r->res.died_after].sc->id, conf_vi_name(r->runs[r->res.died_after].vi));
}

static void caps_table(FILE *f, const conf_report *r)
{
    if (!report_caps_any(r)) return;
    fprintf(f, "\n## Capabilities\n\nWhat the broker announced (absent: the specification's default applies).\n\n| |");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (r->res.caps[vi].probed) fprintf(f, " %s |", conf_vi_name(vi));
    fprintf(f, "\n| --- |");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (r->res.caps[vi].probed) fprintf(f, " --- |");
    fputc('\n', f);
    for (int row = 0; row < REPORT_CAP_ROWS; row++) {
        fprintf(f, "| %s |", report_cap_row(row));
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!r->res.caps[vi].probed) continue;
            char v[300];
            report_cap_cell(&r->res.caps[vi], vi, row, v, sizeof v);
            fputc(' ', f);
            cell(f, v);
            fputs(" |", f);
        }
        fputc('\n', f);
    }
}

static void findings(FILE *f, const conf_report *r)
{
    const conf_run **list;
    size_t n = report_findings(r, &list);
    const char *area = NULL;
    if (n) fprintf(f, "\n## Findings (%zu)\n", n);
    for (size_t i = 0; i < n; i++) {
        const conf_run *run = list[i];
        report_why w;
        report_why_of(run, &w);
        if (!area || strcmp(area, run->sc->area) != 0)
            fprintf(f, "\n### %s\n\n| run | verdict | level | statements | step | reason |\n| --- | --- | --- | --- | --- | --- |\n",
                    area = run->sc->area);
        fprintf(f, "| [`%s@%s`](#", run->sc->id, conf_vi_name(run->vi));
        anchor(f, run);
        fprintf(f, ") | %s | %s | ", conf_verdict_name(run->verdict), w.level ? conf_level_name(w.level) : "-");
        cell(f, w.rules[0] ? w.rules : "(precondition)");
        fputs(" | ", f);
        if (w.line) {
            fprintf(f, "`:%d` `", w.line);
            cell(f, w.step);
            fputc('`', f);
        }
        fputs(" | ", f);
        cell(f, w.reason);
        fputs(" |\n", f);
    }
    free(list);
}

static void coverage(FILE *f, const conf_report *r)
{
    report_cov cov[CONF_NVERSIONS];
    report_coverage(r, cov);
    fprintf(f, "\n## Normative coverage\n\n| version | ids | checked | passed | failed | not testable | not covered |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (cov[vi].used)
            fprintf(f, "| MQTT %s | %zu | %zu | %zu | %zu | %zu | %zu |\n", conf_vi_name(vi), cov[vi].total, cov[vi].checked,
                    cov[vi].passed, cov[vi].failed, cov[vi].untestable, cov[vi].uncovered);
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        /* 3.1 runs reuse the 3.1.1 ids for a handful of scenarios: their gaps say nothing */
        if (!cov[vi].used || !cov[vi].state || vi == CONF_VI_31 || report_is_client_run(r)) continue;
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        fprintf(f, "\n### MQTT %s: statements not checked\n\n| id | why |\n| --- | --- |\n", conf_vi_name(vi));
        for (size_t k = 0; k < n; k++) {
            if (cov[vi].state[k]) continue;
            const char *why = conf_untestable_reason(vi, ids[k]);
            fprintf(f, "| %s | ", ids[k]);
            cell(f, why ? why : "testable against a broker; no scenario checks it yet");
            fputs(" |\n", f);
        }
    }
    report_sides_markdown(f, r, cov);
    report_coverage_free(cov);
}

static void run_table(FILE *f, const char *path, const conf_report *r)
{
    bool pcaps = false;
    for (size_t i = 0; i < r->n; i++) pcaps |= r->runs[i].pcap != NULL;
    fprintf(f, "\n## Runs\n\n| scenario | version | verdict | seconds | note |%s\n| --- | --- | --- | ---: | --- |%s\n",
            pcaps ? " capture |" : "", pcaps ? " --- |" : "");
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        fprintf(f, "| `%s` | %s | %s | %.2f | ", run->sc->id, conf_vi_name(run->vi), conf_verdict_name(run->verdict),
                (double)run->duration_ms / 1000.0);
        if (run->deviation) { fputs("known deviation: ", f); cell(f, run->deviation); }
        else if (run->verdict == V_SKIP) cell(f, run->message);
        fputs(" |", f);
        if (pcaps) {
            fputc(' ', f);
            if (run->pcap) pcap_link(f, path, run, "pcap");
            fputs(" |", f);
        }
        fputs("\n", f);
    }
}

static void run_details(FILE *f, const char *path, const conf_run *run)
{
    fprintf(f, "\n### `%s@%s`: %s\n\n", run->sc->id, conf_vi_name(run->vi), conf_verdict_name(run->verdict));
    fprintf(f, "%s\n\n", run->sc->title);
    if (run->deviation) fprintf(f, "Known deviation: %s\n\n", run->deviation);
    if (run->message) fprintf(f, "%s\n\n", run->message);
    for (size_t k = 0; k < run->nfind; k++)
        if (run->find[k].text && (!run->message || strcmp(run->find[k].text, run->message) != 0))
            fprintf(f, "- %s: %s\n\n", conf_level_name(run->find[k].level), run->find[k].text);
    if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps)
        fprintf(f, "At `%s:%d`: `%s`\n\n", run->sc->path, run->sc->steps[run->fail_step].line,
                run->sc->steps[run->fail_step].src);
    if (run->pcap) {
        fputs("Capture (opens in Wireshark): ", f);
        pcap_link(f, path, run, NULL);
        fputs("\n\n", f);
    }
    fprintf(f, "```\n");
    for (size_t k = 0; k < run->nev; k++) {
        char line[2300];
        report_event_line(run, &run->ev[k], line, sizeof line);
        fprintf(f, "%s\n", line);
    }
    fprintf(f, "```\n");
}

int report_markdown(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    summary(f, r);
    caps_table(f, r);
    findings(f, r);
    coverage(f, r);
    run_table(f, path, r);
    bool any = false;
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        if (run->verdict == V_PASS || run->verdict == V_SKIP || run->verdict == V_NOTRUN) continue;
        if (!any) fprintf(f, "\n## Failures, warnings and deviations\n");
        any = true;
        run_details(f, path, run);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
