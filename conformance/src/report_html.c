/*
 * Self-contained HTML report: no external scripts, styles or fonts. A
 * summary, the coverage table (every id coloured by state), a table of runs,
 * and per run a <details> with its message, the failing step and an SVG
 * sequence diagram of the exchange (clients on the left, the broker on the
 * right) with the failing step's messages and the failure marked in red.
 * Runs with a pcap link it (relative to the page's directory).
 */
#include "conformance/src/report.h"
#include "conformance/src/spec_ids.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define MAX_DIAGRAM_EVENTS 300

static void esc(FILE *f, const char *s)
{
    report_xml_escape(f, s);
}

static void diagram(FILE *f, const conf_run *run)
{
    size_t ncl = run->sc->nclients;
    const int colw = 150, left = 70, rowh = 22, top = 40;
    int broker_x = left + (int)ncl * colw + 260;
    size_t nev = run->nev < MAX_DIAGRAM_EVENTS ? run->nev : MAX_DIAGRAM_EVENTS;
    int height = top + (int)nev * rowh + 20;
    int width = broker_x + 90;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" class=\"seq\">\n", width, height);
    fprintf(f, "<defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
               "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#444\"/></marker>"
               "<marker id=\"r\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
               "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#c00\"/></marker></defs>\n");
    for (size_t k = 0; k < ncl; k++) {
        int x = left + (int)k * colw;
        fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"h\">", x);
        esc(f, run->sc->clients[k]);
        fprintf(f, "</text><line x1=\"%d\" y1=\"28\" x2=\"%d\" y2=\"%d\" class=\"life\"/>\n", x, x, height - 10);
    }
    fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"h\">broker</text>"
               "<line x1=\"%d\" y1=\"28\" x2=\"%d\" y2=\"%d\" class=\"life\"/>\n",
            broker_x, broker_x, broker_x, height - 10);
    for (size_t k = 0; k < nev; k++) {
        const conf_event *ev = &run->ev[k];
        int y = top + (int)k * rowh;
        bool failing = run->fail_step >= 0 && ev->step == run->fail_step &&
                       (run->verdict == V_FAIL || run->verdict == V_ERROR || run->verdict == V_XFAIL);
        char t[32];
        snprintf(t, sizeof t, "+%lld.%03lld", (long long)(ev->t_ms / 1000), (long long)(ev->t_ms % 1000));
        fprintf(f, "<text x=\"2\" y=\"%d\" class=\"t\">%s</text>", y + 4, t);
        int cx = ev->client >= 0 ? left + ev->client * colw : left;
        if (ev->kind == EV_SENT || ev->kind == EV_RECV) {
            int x1 = ev->kind == EV_SENT ? cx : broker_x, x2 = ev->kind == EV_SENT ? broker_x : cx;
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s\" marker-end=\"url(#%s)\"/>",
                    x1, y, x2 + (x2 > x1 ? -2 : 2), y, failing ? "mf" : "m", failing ? "r" : "a");
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"%s\">", cx + 6, y - 3, failing ? "lf" : "l");
            char shortened[160];
            snprintf(shortened, sizeof shortened, "%s", ev->text);
            esc(f, shortened);
            fprintf(f, "<title>");
            esc(f, ev->text);
            fprintf(f, "</title></text>\n");
        } else if (ev->kind == EV_FAIL) {
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"fail\"/>", left - 30, y - 14,
                    broker_x - left + 100, rowh - 2);
            char shortened[170];
            snprintf(shortened, sizeof shortened, "FAILED: %s", ev->text);
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ft\">", left - 26, y + 1);
            esc(f, shortened);
            fprintf(f, "<title>");
            esc(f, ev->text);
            fprintf(f, "</title></text>\n");
        } else {
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"n\">", cx + 6, y + 1);
            char shortened[160];
            snprintf(shortened, sizeof shortened, "%s", ev->text);
            esc(f, shortened);
            fprintf(f, "</text>\n");
        }
    }
    fprintf(f, "</svg>\n");
    if (run->nev > nev) fprintf(f, "<p>(%zu more events in the transcript below)</p>\n", run->nev - nev);
}

static const char *css =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    ".pass{background:#dfd}.fail,.error,.unexpected-pass,.not-run{background:#fdd}"
    ".expected-failure{background:#ffd}.skip{background:#eee}"
    ".ids span{display:inline-block;font:11px monospace;padding:1px 3px;margin:1px;border-radius:2px}"
    ".i0{background:#eee;color:#777}.i1{background:#bfb}.i2{background:#f99}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:12px}"
    "details{margin:.3em 0}summary{cursor:pointer}"
    "svg.seq{font:11px monospace;background:#fcfcfc;border:1px solid #ddd}"
    ".h{font-weight:bold}.life{stroke:#bbb;stroke-dasharray:4 3}.m{stroke:#444}.mf{stroke:#c00;stroke-width:2}"
    ".l{fill:#135}.lf{fill:#c00;font-weight:bold}.n{fill:#888}.t{fill:#999}"
    "rect.fail{fill:#fee;stroke:#c00}.ft{fill:#c00;font-weight:bold}";

/* <a href="relative/path.pcap">text</a> */
static void pcap_link(FILE *f, const char *report_path, const conf_run *run, const char *text)
{
    char rel[PATH_MAX];
    report_rel_link(report_path, run->pcap, rel, sizeof rel);
    const char *name = strrchr(run->pcap, '/');
    fprintf(f, "<a href=\"");
    report_url_path(f, rel);
    fprintf(f, "\" download>");
    esc(f, text ? text : name ? name + 1 : run->pcap);
    fprintf(f, "</a>");
}

static void vclass(FILE *f, conf_verdict v)
{
    const char *n = conf_verdict_name(v);
    for (; *n; n++) fputc(*n == ' ' ? '-' : *n, f);
}

int report_html(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    size_t c[V__COUNT];
    report_counts(r, c);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MQTT conformance report</title>"
               "<style>%s</style></head><body>\n", css);
    fprintf(f, "<h1>MQTT conformance report</h1>\n<p>Broker <code>");
    esc(f, r->target);
    fprintf(f, "</code>, profile <code>");
    esc(f, r->profile && r->profile->name ? r->profile->name : "default");
    fprintf(f, "</code>: %zu runs in %.1f s (time scale %g, %d in parallel).</p>\n", r->n,
            (double)r->res.wall_ms / 1000.0, r->time_scale, r->jobs);
    if (r->res.died_after >= 0) {
        fprintf(f, "<p class=\"fail\"><b>The broker stopped accepting connections after ");
        esc(f, r->runs[r->res.died_after].sc->id);
        fprintf(f, "@%s; later runs were not run.</b></p>\n", conf_vi_name(r->runs[r->res.died_after].vi));
    }
    if (r->broker_problem) {
        fprintf(f, "<p class=\"fail\"><b>Broker problem: ");
        esc(f, r->broker_problem);
        fprintf(f, "</b></p>\n");
    }
    fprintf(f, "<table><tr><th>verdict</th><th>runs</th></tr>\n");
    for (int v = V_PASS; v < V__COUNT; v++)
        if (c[v]) {
            fprintf(f, "<tr class=\"");
            vclass(f, (conf_verdict)v);
            fprintf(f, "\"><td>%s</td><td>%zu</td></tr>\n", conf_verdict_name((conf_verdict)v), c[v]);
        }
    fprintf(f, "</table>\n<h2>Normative coverage</h2>\n<table><tr><th>version</th><th>ids</th><th>checked</th>"
               "<th>passed</th><th>failed</th></tr>\n");
    report_cov cov[CONF_NVERSIONS];
    report_coverage(r, cov);
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (cov[vi].used)
            fprintf(f, "<tr><td>MQTT %s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", conf_vi_name(vi),
                    cov[vi].total, cov[vi].checked, cov[vi].passed, cov[vi].failed);
    fprintf(f, "</table>\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        fprintf(f, "<details><summary>MQTT %s ids (green passed, red failed, grey not checked)</summary><div class=\"ids\">",
                conf_vi_name(vi));
        for (size_t k = 0; k < n; k++) fprintf(f, "<span class=\"i%d\">%s</span>", cov[vi].state ? cov[vi].state[k] : 0, ids[k]);
        fprintf(f, "</div></details>\n");
    }
    report_coverage_free(cov);

    bool pcaps = false;
    for (size_t i = 0; i < r->n; i++) pcaps |= r->runs[i].pcap != NULL;
    fprintf(f, "<h2>Runs</h2>\n<table><tr><th>scenario</th><th>version</th><th>verdict</th><th>s</th><th>title</th>%s</tr>\n",
            pcaps ? "<th>capture</th>" : "");
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        fprintf(f, "<tr class=\"");
        vclass(f, run->verdict);
        fprintf(f, "\"><td><a href=\"#run%zu\">", i);
        esc(f, run->sc->id);
        fprintf(f, "</a></td><td>%s</td><td>%s</td><td>%.2f</td><td>", conf_vi_name(run->vi),
                conf_verdict_name(run->verdict), (double)run->duration_ms / 1000.0);
        esc(f, run->sc->title);
        fprintf(f, "</td>");
        if (pcaps) {
            fprintf(f, "<td>");
            if (run->pcap) pcap_link(f, path, run, "pcap");
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n<h2>Exchanges</h2>\n");
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        if (run->verdict == V_SKIP || run->verdict == V_NOTRUN) continue;
        bool open = run->verdict != V_PASS;
        fprintf(f, "<details id=\"run%zu\"%s><summary class=\"", i, open ? " open" : "");
        vclass(f, run->verdict);
        fprintf(f, "\"><b>");
        esc(f, run->sc->id);
        fprintf(f, "@%s</b>: %s: ", conf_vi_name(run->vi), conf_verdict_name(run->verdict));
        esc(f, run->sc->title);
        fprintf(f, "</summary>\n<p>Rules: ");
        for (size_t k = 0; k < run->sc->nrules[run->vi]; k++) {
            fprintf(f, "%s<code>", k ? ", " : "");
            esc(f, run->sc->rules[run->vi][k]);
            fprintf(f, "</code>");
        }
        fprintf(f, "</p>\n");
        if (run->deviation) {
            fprintf(f, "<p>Known deviation: ");
            esc(f, run->deviation);
            fprintf(f, "</p>\n");
        }
        if (run->message) {
            fprintf(f, "<p><b>");
            esc(f, run->message);
            fprintf(f, "</b></p>\n");
        }
        if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps) {
            fprintf(f, "<p>Failing step <code>");
            esc(f, run->sc->path);
            fprintf(f, ":%d</code>: <code>", run->sc->steps[run->fail_step].line);
            esc(f, run->sc->steps[run->fail_step].src);
            fprintf(f, "</code></p>\n");
        }
        if (run->pcap) {
            fprintf(f, "<p>Capture of this run (opens in Wireshark): ");
            pcap_link(f, path, run, NULL);
            fprintf(f, "</p>\n");
        }
        diagram(f, run);
        fprintf(f, "<pre>");
        for (size_t k = 0; k < run->nev; k++) {
            char line[2300];
            report_event_line(run, &run->ev[k], line, sizeof line);
            esc(f, line);
            fputc('\n', f);
        }
        fprintf(f, "</pre></details>\n");
    }
    fprintf(f, "</body></html>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
