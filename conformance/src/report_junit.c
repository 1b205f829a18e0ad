/*
 * JUnit XML: one testsuite per protocol version, one testcase per run
 * (classname = area, name = id@version). fail -> <failure> whose message
 * starts with the level and statement ids ("MUST MQTT-3.3.1-4: ..."), error
 * and not run -> <error>, skip -> <skipped message="reason">, warn -> a
 * passing testcase with the findings (level, reason) in <system-out>,
 * expected-failure -> passes with the deviation in <system-out>,
 * unexpected-pass -> <failure> (the profile is out of date). A broker
 * problem (the reference broker crashed) is a testcase of its own. Failures carry the message, the path of the run's pcap (also
 * as a [[ATTACHMENT|path]] line in <system-out>, which Jenkins and GitLab
 * show as a file of the test) and the whole transcript.
 */
#include "conformance/src/report.h"

#include <errno.h>
#include <string.h>

static void pcap_line(FILE *f, const conf_run *run)
{
    if (!run->pcap) return;
    fprintf(f, "pcap: ");
    report_xml_escape(f, run->pcap);
    fputc('\n', f);
}

static void transcript(FILE *f, const conf_run *run)
{
    for (size_t k = 0; k < run->nev; k++) {
        char line[2300];
        report_event_line(run, &run->ev[k], line, sizeof line);
        report_xml_escape(f, line);
        fputc('\n', f);
    }
}

static void broker_problem(FILE *f, const conf_report *r)
{
    if (!r->broker_problem) return;
    /* its own testcase, so that CI shows it by name */
    fprintf(f, "  <testsuite name=\"reference broker\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n"
               "    <testcase classname=\"broker\" name=\"reference broker health\" time=\"0\">\n"
               "      <error message=\"");
    report_xml_escape(f, r->broker_problem);
    fprintf(f, "\" type=\"broker-problem\"/>\n    </testcase>\n  </testsuite>\n");
}

/* <failure> or <error>: level and rules, reason, the step, pcap, transcript. */
static void failure(FILE *f, const conf_run *run, const char *tag)
{
    report_why w;
    report_why_of(run, &w);
    fprintf(f, "      <%s message=\"", tag);
    if (run->verdict == V_XPASS) fprintf(f, "unexpected pass: the profile lists this as a known deviation (");
    else if (w.rules[0]) {
        fprintf(f, "%s ", w.level ? conf_level_name(w.level) : "-");
        report_xml_escape(f, w.rules);
        fprintf(f, ": ");
    }
    report_xml_escape(f, run->verdict == V_XPASS ? run->deviation : run->message ? run->message : w.reason);
    if (run->verdict == V_XPASS) fprintf(f, ")");
    fprintf(f, "\" type=\"%s\">", conf_verdict_name(run->verdict));
    if (w.line) {
        fprintf(f, "%s:%d: ", run->sc->path, w.line);
        report_xml_escape(f, w.step);
        fputc('\n', f);
    }
    pcap_line(f, run);
    transcript(f, run);
    fprintf(f, "</%s>\n", tag);
}

/* <system-out> of a passing testcase: a warn's findings, an expected
 * failure's deviation, the pcap attachment. */
static void system_out(FILE *f, const conf_run *run)
{
    bool warn = run->verdict == V_WARN, xfail = run->verdict == V_XFAIL;
    if (!warn && !xfail && !run->pcap) return;
    fprintf(f, "      <system-out>");
    if (warn) {
        fprintf(f, "warn: passes every MUST; findings:\n");
        for (size_t k = 0; k < run->nfind; k++) {
            fprintf(f, "%s: ", run->find[k].level ? conf_level_name(run->find[k].level) : "-");
            report_xml_escape(f, run->find[k].text);
            fputc('\n', f);
        }
        transcript(f, run);
    }
    if (xfail) {
        fprintf(f, "expected failure (known deviation: ");
        report_xml_escape(f, run->deviation);
        fprintf(f, ")\n");
        report_xml_escape(f, run->message);
        fputc('\n', f);
        pcap_line(f, run);
        transcript(f, run);
    }
    if (run->pcap) {
        /* the attachment convention of Jenkins' junit-attachments and GitLab */
        fprintf(f, "[[ATTACHMENT|");
        report_xml_escape(f, run->pcap);
        fprintf(f, "]]\n");
    }
    fprintf(f, "</system-out>\n");
}

static void testcase(FILE *f, const conf_run *run)
{
    fprintf(f, "    <testcase classname=\"");
    report_xml_escape(f, run->sc->area);
    fprintf(f, "\" name=\"");
    report_xml_escape(f, run->sc->id);
    fprintf(f, "@%s", conf_vi_name(run->vi));
    if (run->rep > 0) fprintf(f, "#%d", run->rep + 1);
    fprintf(f, "\" time=\"%.3f\">\n", (double)run->duration_ms / 1000.0);
    if (run->verdict == V_SKIP) {
        fprintf(f, "      <skipped message=\"");
        report_xml_escape(f, run->message ? run->message : "skipped");
        fprintf(f, "\"/>\n");
    }
    if (run->verdict == V_FAIL || run->verdict == V_XPASS) failure(f, run, "failure");
    if (run->verdict == V_ERROR || run->verdict == V_NOTRUN) failure(f, run, "error");
    system_out(f, run);
    fprintf(f, "    </testcase>\n");
}

int report_junit(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    size_t c[V__COUNT];
    report_counts(r, c);
    size_t extra = r->broker_problem ? 1 : 0;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"mqtt-conform\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
            r->n + extra, c[V_FAIL] + c[V_XPASS], c[V_ERROR] + c[V_NOTRUN] + extra, c[V_SKIP],
            (double)r->res.wall_ms / 1000.0);
    broker_problem(f, r);
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        size_t tests = 0, fails = 0, errs = 0, skips = 0;
        for (size_t i = 0; i < r->n; i++) {
            if (r->runs[i].vi != vi) continue;
            tests++;
            conf_verdict v = r->runs[i].verdict;
            fails += v == V_FAIL || v == V_XPASS;
            errs += v == V_ERROR || v == V_NOTRUN;
            skips += v == V_SKIP;
        }
        if (!tests) continue;
        fprintf(f, "  <testsuite name=\"MQTT %s\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n",
                conf_vi_name(vi), tests, fails, errs, skips);
        for (size_t i = 0; i < r->n; i++)
            if (r->runs[i].vi == vi) testcase(f, &r->runs[i]);
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
