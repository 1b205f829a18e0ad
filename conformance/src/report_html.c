/*
 * Self-contained HTML report: no external scripts, styles or fonts. In the
 * console's order: the summary by verdict and level, the capability table,
 * the findings grouped by area (linked to their runs), the coverage table
 * (every id coloured by state; for a client run also split into client and
 * server statements, with the untestable ones and why), a table of all runs with a filter (verdict,
 * area, version; plain JS in the page, works from a file), and per run a
 * <details> with its message, findings, the failing step and an SVG sequence
 * diagram of the exchange (clients on the left, the broker on the right)
 * with the failing step's messages and the failure marked in red; long
 * labels wrap (full text as a tooltip).
 * Runs with a pcap link it (relative to the page's directory).
 */
#include "conformance/src/report.h"
#include "conformance/src/report_sides.h"
#include "conformance/src/spec_ids.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIAGRAM_EVENTS 300

static void esc(FILE *f, const char *s)
{
    report_xml_escape(f, s);
}

/* Length of the next line of at most cpl bytes of s: up to the last space
 * that fits, else cut (never inside a UTF-8 sequence). */
static size_t line_len(const char *s, size_t cpl)
{
    size_t n = strlen(s);
    if (n <= cpl) return n;
    size_t cut = cpl;
    while (cut > cpl / 2 && s[cut] != ' ') cut--;
    if (s[cut] == ' ') return cut + 1;
    cut = cpl;
    while (cut > 1 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    return cut;
}

/* Lines text takes at cpl characters per line, at most max. */
static int count_lines(const char *s, size_t cpl, int max)
{
    int n = 0;
    while (*s && n < max) {
        s += line_len(s, cpl);
        n++;
    }
    return n ? n : 1;
}

#define LINE_H 13
#define MAX_LINES 12

/* <text> at (x, y) with text wrapped into tspans of cpl characters (at most
 * MAX_LINES; the whole text is the tooltip). */
static void wrapped(FILE *f, int x, int y, const char *cls, const char *prefix, const char *text, size_t cpl)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", prefix, text);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"%s\">", x, y, cls);
    const char *p = buf;
    for (int l = 0; *p && l < MAX_LINES; l++) {
        size_t n = line_len(p, cpl);
        char seg[4096];
        snprintf(seg, sizeof seg, "%.*s%s", (int)n, p, l == MAX_LINES - 1 && p[n] ? " ..." : "");
        fprintf(f, "<tspan x=\"%d\" dy=\"%d\">", x, l ? LINE_H : 0);
        esc(f, seg);
        fprintf(f, "</tspan>");
        p += n;
    }
    fprintf(f, "<title>");
    esc(f, text);
    fprintf(f, "</title></text>\n");
}

typedef struct {
    int left, colw, broker_x, width;
} layout;

/* Characters per line for an event's label, from the room it has. */
static size_t event_cpl(const layout *lo, const conf_event *ev)
{
    int cx = ev->client >= 0 ? lo->left + ev->client * lo->colw : lo->left;
    int room = ev->kind == EV_FAIL ? lo->broker_x - lo->left + 90 : ev->kind == EV_NOTE ? lo->width - cx - 12
                                                                                          : lo->broker_x - cx - 14;
    return (size_t)(room > 120 ? room : 120) * 10 / 66; /* 11px monospace: about 6.6px a character */
}

static const char *prefix_of(const conf_run *run, const conf_event *ev)
{
    if (ev->kind != EV_FAIL) return "";
    return run->verdict == V_WARN ? "WARNING: " : "FAILED: ";
}

static void event_svg(FILE *f, const layout *lo, const conf_run *run, const conf_event *ev, int y, int lines)
{
    bool failing = run->fail_step >= 0 && ev->step == run->fail_step &&
                   (run->verdict == V_FAIL || run->verdict == V_ERROR || run->verdict == V_XFAIL ||
                    run->verdict == V_WARN);
    fprintf(f, "<text x=\"2\" y=\"%d\" class=\"t\">+%lld.%03lld</text>", y + 4, (long long)(ev->t_ms / 1000),
            (long long)(ev->t_ms % 1000));
    int cx = ev->client >= 0 ? lo->left + ev->client * lo->colw : lo->left;
    size_t cpl = event_cpl(lo, ev);
    if (ev->kind == EV_SENT || ev->kind == EV_RECV) {
        int x1 = ev->kind == EV_SENT ? cx : lo->broker_x, x2 = ev->kind == EV_SENT ? lo->broker_x : cx;
        int ay = y + (lines - 1) * LINE_H; /* the arrow under its label */
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s\" marker-end=\"url(#%s)\"/>", x1, ay,
                x2 + (x2 > x1 ? -2 : 2), ay, failing ? "mf" : "m", failing ? "r" : "a");
        wrapped(f, cx + 6, y - 3, failing ? "lf" : "l", "", ev->text, cpl);
    } else if (ev->kind == EV_FAIL) {
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"fail\"/>", lo->left - 30, y - 14,
                lo->broker_x - lo->left + 100, 20 + (lines - 1) * LINE_H);
        wrapped(f, lo->left - 26, y + 1, "ft", prefix_of(run, ev), ev->text, cpl);
    } else {
        wrapped(f, cx + 6, y + 1, "n", "", ev->text, cpl);
    }
}

static void diagram(FILE *f, const conf_run *run)
{
    size_t ncl = run->sc->nclients;
    const int rowh = 22, top = 40;
    layout lo = {.left = 70, .colw = 150};
    lo.broker_x = lo.left + (int)ncl * lo.colw + 260;
    lo.width = lo.broker_x + 90;
    size_t nev = run->nev < MAX_DIAGRAM_EVENTS ? run->nev : MAX_DIAGRAM_EVENTS;
    int lines[MAX_DIAGRAM_EVENTS], height = top + 20;
    for (size_t k = 0; k < nev; k++) {
        const conf_event *ev = &run->ev[k];
        char label[4096];
        snprintf(label, sizeof label, "%s%s", prefix_of(run, ev), ev->text);
        lines[k] = count_lines(label, event_cpl(&lo, ev), MAX_LINES);
        height += rowh + (lines[k] - 1) * LINE_H;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" class=\"seq\">\n", lo.width, height);
    fprintf(f, "<defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
               "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#444\"/></marker>"
               "<marker id=\"r\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
               "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#c00\"/></marker></defs>\n");
    for (size_t k = 0; k < ncl; k++) {
        int x = lo.left + (int)k * lo.colw;
        fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"h\">", x);
        esc(f, run->sc->clients[k]);
        fprintf(f, "</text><line x1=\"%d\" y1=\"28\" x2=\"%d\" y2=\"%d\" class=\"life\"/>\n", x, x, height - 10);
    }
    /* broker seat: the client under test on the left, the runner as the server on the right */
    fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"h\">%s</text>"
               "<line x1=\"%d\" y1=\"28\" x2=\"%d\" y2=\"%d\" class=\"life\"/>\n",
            lo.broker_x, run->sc->broker_seat ? "mqtt-conform (server)" : "broker", lo.broker_x, lo.broker_x, height - 10);
    int y = top;
    for (size_t k = 0; k < nev; k++) {
        event_svg(f, &lo, run, &run->ev[k], y, lines[k]);
        y += rowh + (lines[k] - 1) * LINE_H;
    }
    fprintf(f, "</svg>\n");
    if (run->nev > nev) fprintf(f, "<p>(%zu more events in the transcript below)</p>\n", run->nev - nev);
}

static const char *css =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;"
    "vertical-align:top}"
    ".pass{background:#dfd}.fail,.error,.unexpected-pass,.not-run{background:#fdd}"
    ".warn,.expected-failure{background:#ffd}.skip{background:#eee}"
    ".ids span{display:inline-block;font:11px monospace;padding:1px 3px;margin:1px;border-radius:2px}"
    ".i0{background:#eee;color:#777}.i1{background:#bfb}.i2{background:#f99}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:12px}"
    "details{margin:.3em 0}summary{cursor:pointer}.filter label{margin-right:1em}"
    "svg.seq{font:11px monospace;background:#fcfcfc;border:1px solid #ddd}"
    ".h{font-weight:bold}.life{stroke:#bbb;stroke-dasharray:4 3}.m{stroke:#444}.mf{stroke:#c00;stroke-width:2}"
    ".l{fill:#135}.lf{fill:#c00;font-weight:bold}.n{fill:#888}.t{fill:#999}"
    "rect.fail{fill:#fee;stroke:#c00}.ft{fill:#c00;font-weight:bold}";

/* The run table's filter: plain JS, no server, no library. A row shows when
 * it matches every select that is not "all". */
static const char *filter_js =
    "<script>\n"
    "function runFilter(){\n"
    "  var v=document.getElementById('fv').value,a=document.getElementById('fa').value,"
    "n=document.getElementById('fn').value,shown=0;\n"
    "  var rows=document.querySelectorAll('#runs tr[data-v]');\n"
    "  for(var i=0;i<rows.length;i++){var r=rows[i];\n"
    "    var ok=(v==''||r.dataset.v==v)&&(a==''||r.dataset.a==a)&&(n==''||r.dataset.n==n);\n"
    "    r.style.display=ok?'':'none';if(ok)shown++;}\n"
    "  document.getElementById('fcount').textContent=shown+' of '+rows.length+' runs';\n"
    "}\n"
    "</script>\n";

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

static void summary(FILE *f, const conf_report *r)
{
    size_t c[V__COUNT], lc[V__COUNT][LVL_MUST + 1];
    report_counts(r, c);
    report_level_counts(r, lc);
    fprintf(f, "<h1>MQTT conformance report</h1>\n<p>Broker <code>");
    esc(f, r->target);
    fprintf(f, "</code>, profile <code>");
    esc(f, r->profile && r->profile->name ? r->profile->name : "default");
    fprintf(f, "</code>: %zu runs in %.1f s (time scale %g, %d in parallel).</p>\n", r->n,
            (double)r->res.wall_ms / 1000.0, r->time_scale, r->jobs);
    if (r->broker_problem) {
        fprintf(f, "<p class=\"fail\"><b>Broker problem: ");
        esc(f, r->broker_problem);
        fprintf(f, "</b></p>\n");
    }
    if (r->res.died_after >= 0) {
        fprintf(f, "<p class=\"fail\"><b>The broker stopped accepting connections after ");
        esc(f, r->runs[r->res.died_after].sc->id);
        fprintf(f, "@%s; later runs were not run.</b></p>\n", conf_vi_name(r->runs[r->res.died_after].vi));
    }
    fprintf(f, "<table id=\"summary\"><tr><th>verdict</th><th>runs</th><th>MUST</th><th>SHOULD</th><th>MAY</th>"
               "<th>no level</th></tr>\n");
    for (int v = V_PASS; v < V__COUNT; v++) {
        if (!c[v]) continue;
        fprintf(f, "<tr class=\"");
        vclass(f, (conf_verdict)v);
        fprintf(f, "\"><td>%s</td><td>%zu</td>", conf_verdict_name((conf_verdict)v), c[v]);
        bool lv = v == V_FAIL || v == V_WARN || v == V_XFAIL;
        for (int l = LVL_MUST; l >= LVL_NONE; l--)
            if (lv) fprintf(f, "<td>%zu</td>", lc[v][l]);
            else fprintf(f, "<td></td>");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void caps_table(FILE *f, const conf_report *r)
{
    if (!report_caps_any(r)) return;
    fprintf(f, "<h2>Capabilities</h2>\n<p>What the broker announced in its CONNACK and answers (absent: the "
               "specification's default applies); scenarios needing what is ruled out are skipped.</p>\n"
               "<table id=\"caps\"><tr><th></th>");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (r->res.caps[vi].probed) fprintf(f, "<th>MQTT %s</th>", conf_vi_name(vi));
    fprintf(f, "</tr>\n");
    for (int row = 0; row < REPORT_CAP_ROWS; row++) {
        fprintf(f, "<tr><th>%s</th>", report_cap_row(row));
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!r->res.caps[vi].probed) continue;
            char v[300];
            report_cap_cell(&r->res.caps[vi], vi, row, v, sizeof v);
            fprintf(f, "<td>");
            esc(f, v);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void finding_row(FILE *f, const conf_report *r, const conf_run *run)
{
    report_why w;
    report_why_of(run, &w);
    fprintf(f, "<tr class=\"");
    vclass(f, run->verdict);
    fprintf(f, "\"><td><a href=\"#run%zu\">", (size_t)(run - r->runs));
    esc(f, run->sc->id);
    fprintf(f, "@%s</a></td><td>%s</td><td>%s</td><td>", conf_vi_name(run->vi), conf_verdict_name(run->verdict),
            w.level ? conf_level_name(w.level) : "-");
    esc(f, w.rules[0] ? w.rules : "(precondition)");
    fprintf(f, "</td><td>");
    if (w.line) {
        fprintf(f, "<code>:%d ", w.line);
        esc(f, w.step);
        fprintf(f, "</code>");
    }
    fprintf(f, "</td><td>");
    esc(f, w.reason);
    fprintf(f, "</td></tr>\n");
}

static void findings(FILE *f, const conf_report *r)
{
    const conf_run **list;
    size_t n = report_findings(r, &list);
    fprintf(f, "<h2>Findings (%zu)</h2>\n", n);
    if (!n) fprintf(f, "<p>None: every run passed, was skipped or is a known deviation.</p>\n");
    const char *area = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!area || strcmp(area, list[i]->sc->area) != 0) {
            if (area) fprintf(f, "</table>\n");
            area = list[i]->sc->area;
            fprintf(f, "<h3>");
            esc(f, area);
            fprintf(f, "</h3>\n<table class=\"findings\"><tr><th>run</th><th>verdict</th><th>level</th>"
                       "<th>statements</th><th>step</th><th>reason</th></tr>\n");
        }
        finding_row(f, r, list[i]);
    }
    if (area) fprintf(f, "</table>\n");
    free(list);
}

static void coverage(FILE *f, const conf_report *r)
{
    fprintf(f, "<h2>Normative coverage</h2>\n<table><tr><th>version</th><th>ids</th><th>checked</th>"
               "<th>passed</th><th>failed</th></tr>\n");
    report_cov cov[CONF_NVERSIONS];
    report_coverage(r, cov);
    for (int vi = 0; vi < CONF_NVERSIONS; vi++)
        if (cov[vi].used)
            fprintf(f, "<tr><td>MQTT %s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", conf_vi_name(vi),
                    cov[vi].total, cov[vi].checked, cov[vi].passed, cov[vi].failed);
    fprintf(f, "</table>\n");
    report_sides_html(f, r, cov); /* a client run: client and server statements apart */
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        fprintf(f, "<details><summary>MQTT %s ids (green passed, red failed, grey not checked)</summary><div class=\"ids\">",
                conf_vi_name(vi));
        for (size_t k = 0; k < n; k++) fprintf(f, "<span class=\"i%d\">%s</span>", cov[vi].state ? cov[vi].state[k] : 0, ids[k]);
        fprintf(f, "</div></details>\n");
        /* 3.1 reuses the 3.1.1 ids for a few scenarios: its gaps say nothing; a client
         * run (broker seat) is not about what a broker can be tested on */
        if (vi == CONF_VI_31 || report_is_client_run(r)) continue;
        fprintf(f, "<details><summary>MQTT %s: %zu statements not testable against a broker, %zu not "
                   "covered yet</summary><ul>", conf_vi_name(vi), cov[vi].untestable, cov[vi].uncovered);
        for (size_t k = 0; cov[vi].state && k < n; k++) {
            if (cov[vi].state[k]) continue;
            const char *why = conf_untestable_reason(vi, ids[k]);
            fprintf(f, "<li>%s: ", ids[k]);
            report_xml_escape(f, why ? why : "testable against a broker; no scenario checks it yet");
            fputs("</li>", f);
        }
        fprintf(f, "</ul></details>\n");
    }
    report_coverage_free(cov);
}

/* <select> of the distinct values (in first-seen order) of one run attribute. */
static void filter_select(FILE *f, const conf_report *r, const char *id, const char *label, int what)
{
    fprintf(f, "<label>%s <select id=\"%s\" onchange=\"runFilter()\"><option value=\"\">all</option>", label, id);
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        const char *v = what == 0 ? conf_verdict_name(run->verdict) : what == 1 ? run->sc->area : conf_vi_name(run->vi);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const conf_run *o = &r->runs[j];
            const char *w = what == 0 ? conf_verdict_name(o->verdict) : what == 1 ? o->sc->area : conf_vi_name(o->vi);
            seen = strcmp(v, w) == 0;
        }
        if (seen) continue;
        fprintf(f, "<option>");
        esc(f, v);
        fprintf(f, "</option>");
    }
    fprintf(f, "</select></label>");
}

static void run_table(FILE *f, const char *path, const conf_report *r)
{
    bool pcaps = false;
    for (size_t i = 0; i < r->n; i++) pcaps |= r->runs[i].pcap != NULL;
    fprintf(f, "<h2>Runs</h2>\n%s<p class=\"filter\">", filter_js);
    filter_select(f, r, "fv", "verdict", 0);
    filter_select(f, r, "fa", "area", 1);
    filter_select(f, r, "fn", "version", 2);
    fprintf(f, "<span id=\"fcount\">%zu of %zu runs</span></p>\n", r->n, r->n);
    fprintf(f, "<table id=\"runs\"><tr><th>scenario</th><th>version</th><th>verdict</th><th>level</th><th>s</th>"
               "<th>title</th>%s</tr>\n", pcaps ? "<th>capture</th>" : "");
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        fprintf(f, "<tr data-v=\"%s\" data-a=\"", conf_verdict_name(run->verdict));
        esc(f, run->sc->area);
        fprintf(f, "\" data-n=\"%s\" class=\"", conf_vi_name(run->vi));
        vclass(f, run->verdict);
        fprintf(f, "\"><td><a href=\"#run%zu\">", i);
        esc(f, run->sc->id);
        fprintf(f, "</a></td><td>%s</td><td>%s</td><td>%s</td><td>%.2f</td><td>", conf_vi_name(run->vi),
                conf_verdict_name(run->verdict), run->level ? conf_level_name(run->level) : "",
                (double)run->duration_ms / 1000.0);
        esc(f, run->sc->title);
        fprintf(f, "</td>");
        if (pcaps) {
            fprintf(f, "<td>");
            if (run->pcap) pcap_link(f, path, run, "pcap");
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void run_rules_and_findings(FILE *f, const conf_run *run)
{
    fprintf(f, "</summary>\n<p>Rules: ");
    for (size_t k = 0; k < run->sc->nrules[run->vi]; k++) {
        fprintf(f, "%s<code>", k ? ", " : "");
        esc(f, run->sc->rules[run->vi][k]);
        fprintf(f, "</code> (%s)", conf_level_name(conf_rule_level(run->vi, run->sc->rules[run->vi][k])));
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
    for (size_t k = 0; k < run->nfind; k++) {
        if (!run->find[k].text || (run->message && strcmp(run->find[k].text, run->message) == 0)) continue;
        fprintf(f, "<p>%s: ", conf_level_name(run->find[k].level));
        esc(f, run->find[k].text);
        fprintf(f, "</p>\n");
    }
}

static void exchange(FILE *f, const char *path, const conf_run *run, size_t i)
{
    fprintf(f, "<details id=\"run%zu\"%s><summary class=\"", i, run->verdict != V_PASS ? " open" : "");
    vclass(f, run->verdict);
    fprintf(f, "\"><b>");
    esc(f, run->sc->id);
    fprintf(f, "@%s</b>: %s: ", conf_vi_name(run->vi), conf_verdict_name(run->verdict));
    esc(f, run->sc->title);
    run_rules_and_findings(f, run);
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

int report_html(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MQTT conformance report</title>"
               "<style>%s</style></head><body>\n", css);
    summary(f, r);
    caps_table(f, r);
    findings(f, r);
    coverage(f, r);
    run_table(f, path, r);
    fprintf(f, "<h2>Exchanges</h2>\n");
    for (size_t i = 0; i < r->n; i++)
        if (r->runs[i].verdict != V_SKIP && r->runs[i].verdict != V_NOTRUN) exchange(f, path, &r->runs[i], i);
    fprintf(f, "</body></html>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
