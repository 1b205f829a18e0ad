/*
 * JSON report: the run's settings, counts, coverage (with the id lists per
 * state) and every run with its verdict, message, rules, pcap path (null
 * when none was written) and transcript.
 */
#include "conformance/src/report.h"
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

int report_json(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    size_t c[V__COUNT];
    report_counts(r, c);
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
    if (r->broker_problem) report_json_string(f, r->broker_problem);
    else fputs("null", f);
    fprintf(f, ",\n  \"counts\": {");
    for (int v = V_PASS; v < V__COUNT; v++) {
        fprintf(f, "%s", v > V_PASS ? ", " : "");
        report_json_string(f, conf_verdict_name((conf_verdict)v));
        fprintf(f, ": %zu", c[v]);
    }
    fprintf(f, "},\n  \"coverage\": {");
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
        fputc('}', f);
        first = false;
    }
    report_coverage_free(cov);
    fprintf(f, "\n  },\n  \"runs\": [");
    for (size_t i = 0; i < r->n; i++) {
        const conf_run *run = &r->runs[i];
        fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
        report_json_string(f, run->sc->id);
        fprintf(f, ", \"version\": \"%s\", \"repeat\": %d, \"title\": ", conf_vi_name(run->vi), run->rep + 1);
        report_json_string(f, run->sc->title);
        fprintf(f, ", \"file\": ");
        report_json_string(f, run->sc->path);
        fprintf(f, ", \"verdict\": ");
        report_json_string(f, conf_verdict_name(run->verdict));
        fprintf(f, ", \"seconds\": %.3f, \"rules\": [", (double)run->duration_ms / 1000.0);
        for (size_t k = 0; k < run->sc->nrules[run->vi]; k++) {
            if (k) fputc(',', f);
            report_json_string(f, run->sc->rules[run->vi][k]);
        }
        fprintf(f, "], \"message\": ");
        if (run->message) report_json_string(f, run->message);
        else fputs("null", f);
        fprintf(f, ", \"deviation\": ");
        if (run->deviation) report_json_string(f, run->deviation);
        else fputs("null", f);
        fprintf(f, ", \"failed_line\": ");
        if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps)
            fprintf(f, "%d", run->sc->steps[run->fail_step].line);
        else
            fputs("null", f);
        fprintf(f, ", \"pcap\": ");
        if (run->pcap) report_json_string(f, run->pcap);
        else fputs("null", f);
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
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ]\n}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
