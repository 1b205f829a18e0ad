/*
 * Coverage split by the side a statement binds (client_stmts.c): client
 * statements (the Client's own and those of either side) and server
 * statements, each checked / passed / failed, and the client statements the
 * broker seat cannot test with why. Every report writer prints it when the
 * run tested a client (the broker seat); broker reports stay as they were.
 */
#include "conformance/src/report_sides.h"

#include "conformance/src/spec_ids.h"

#include <stdio.h>

bool report_is_client_run(const conf_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->runs[i].sc && r->runs[i].sc->broker_seat) return true;
    return false;
}

void report_side_coverage(const report_cov *cov, int vi, bool client, report_side_cov *out)
{
    *out = (report_side_cov){0};
    size_t n;
    const char *const *ids = conf_id_list(vi, &n);
    for (size_t k = 0; k < n; k++) {
        conf_side s = conf_stmt_side(vi, ids[k]);
        if (s != SIDE_BOTH && (s == SIDE_CLIENT) != client) continue;
        out->total++;
        unsigned char st = cov->state ? cov->state[k] : 0;
        out->checked += st != 0;
        out->passed += st == 1;
        out->failed += st == 2;
        out->untestable += client && conf_client_untestable(vi, ids[k]) != NULL;
    }
}

void report_sides_console(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS])
{
    if (!report_is_client_run(r)) return;
    fprintf(f, "by side (ids binding the client or either side / the server or either side):\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        report_side_cov c, s;
        report_side_coverage(&cov[vi], vi, true, &c);
        report_side_coverage(&cov[vi], vi, false, &s);
        fprintf(f, "  MQTT %-6s client %3zu of %3zu checked (%zu untestable), %zu passed, %zu failed; "
                "server %zu of %zu checked\n", conf_vi_name(vi), c.checked, c.total, c.untestable, c.passed, c.failed,
                s.checked, s.total);
    }
}

void report_sides_markdown(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS])
{
    if (!report_is_client_run(r)) return;
    fprintf(f, "\n### Client and server statements\n\n| version | side | ids | checked | passed | failed | untestable |\n"
               "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        for (int side = 1; side >= 0; side--) {
            report_side_cov c;
            report_side_coverage(&cov[vi], vi, side, &c);
            fprintf(f, "| MQTT %s | %s | %zu | %zu | %zu | %zu | %zu |\n", conf_vi_name(vi), side ? "client" : "server",
                    c.total, c.checked, c.passed, c.failed, c.untestable);
        }
    }
    fprintf(f, "\nClient statements the broker seat cannot test:\n\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        for (size_t k = 0; k < n; k++) {
            const char *why = conf_client_untestable(vi, ids[k]);
            if (why) fprintf(f, "- MQTT %s %s: %s\n", conf_vi_name(vi), ids[k], why);
        }
    }
}

void report_sides_json(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS])
{
    if (!report_is_client_run(r)) return;
    fprintf(f, ",\n  \"sides\": {");
    bool first = true;
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        report_side_cov c, s;
        report_side_coverage(&cov[vi], vi, true, &c);
        report_side_coverage(&cov[vi], vi, false, &s);
        fprintf(f, "%s\n    \"%s\": {\"client\": {\"total\": %zu, \"checked\": %zu, \"passed\": %zu, \"failed\": %zu, "
                "\"untestable\": %zu}, \"server\": {\"total\": %zu, \"checked\": %zu, \"passed\": %zu, \"failed\": %zu}, "
                "\"untestable_client\": [", first ? "" : ",", conf_vi_name(vi), c.total, c.checked, c.passed, c.failed,
                c.untestable, s.total, s.checked, s.passed, s.failed);
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        bool f1 = true;
        for (size_t k = 0; k < n; k++) {
            const char *why = conf_client_untestable(vi, ids[k]);
            if (!why) continue;
            fprintf(f, "%s{\"id\": \"%s\", \"why\": ", f1 ? "" : ", ", ids[k]);
            report_json_string(f, why);
            fputc('}', f);
            f1 = false;
        }
        fprintf(f, "]}");
        first = false;
    }
    fprintf(f, "\n  }");
}

/* One side's ids of version vi as coloured spans (the page's .ids / .iN). */
static void html_side_ids(FILE *f, const report_cov *cov, int vi, bool client)
{
    size_t n;
    const char *const *ids = conf_id_list(vi, &n);
    fprintf(f, "<details><summary>MQTT %s %s statements (green passed, red failed, grey not checked)</summary>"
               "<div class=\"ids\">", conf_vi_name(vi), client ? "client" : "server");
    for (size_t k = 0; k < n; k++) {
        conf_side s = conf_stmt_side(vi, ids[k]);
        if (s != SIDE_BOTH && (s == SIDE_CLIENT) != client) continue;
        fprintf(f, "<span class=\"i%d\">%s</span>", cov->state ? cov->state[k] : 0, ids[k]);
    }
    fprintf(f, "</div></details>\n");
}

void report_sides_html(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS])
{
    if (!report_is_client_run(r)) return;
    fprintf(f, "<h3>Client and server statements</h3>\n<table><tr><th>version</th><th>side</th><th>ids</th>"
               "<th>checked</th><th>passed</th><th>failed</th><th>untestable</th></tr>\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        for (int side = 1; side >= 0; side--) {
            report_side_cov c;
            report_side_coverage(&cov[vi], vi, side, &c);
            fprintf(f, "<tr><td>MQTT %s</td><td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td>"
                       "</tr>\n", conf_vi_name(vi), side ? "client" : "server", c.total, c.checked, c.passed, c.failed,
                    c.untestable);
        }
    }
    fprintf(f, "</table>\n");
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        if (!cov[vi].used) continue;
        html_side_ids(f, &cov[vi], vi, true);
        html_side_ids(f, &cov[vi], vi, false);
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        report_side_cov c;
        report_side_coverage(&cov[vi], vi, true, &c);
        fprintf(f, "<details><summary>MQTT %s: %zu client statements the broker seat cannot test, and why</summary>"
                   "<ul>", conf_vi_name(vi), c.untestable);
        for (size_t k = 0; k < n; k++) {
            const char *why = conf_client_untestable(vi, ids[k]);
            if (!why) continue;
            fprintf(f, "<li>%s: ", ids[k]);
            report_xml_escape(f, why);
            fputs("</li>", f);
        }
        fprintf(f, "</ul></details>\n");
    }
}
