/*
 * JUnit XML: one testsuite per protocol version, one testcase per run
 * (classname = area, name = id@version). fail -> <failure>, error and
 * not run -> <error>, skip -> <skipped>, expected-failure -> passes with the
 * deviation in <system-out>, unexpected-pass -> <failure> (the profile is
 * out of date). Failures carry the message, the path of the run's pcap (also
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

int report_junit(const char *path, const conf_report *r)
{
    FILE *f = report_open(path);
    if (!f) return -1;
    size_t c[V__COUNT];
    report_counts(r, c);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"mqtt-conform\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
            r->n + (r->broker_problem ? 1 : 0), c[V_FAIL] + c[V_XPASS], c[V_ERROR] + c[V_NOTRUN] + (r->broker_problem ? 1 : 0),
            c[V_SKIP], (double)r->res.wall_ms / 1000.0);
    if (r->broker_problem) {
        /* its own testcase, so that CI shows it by name */
        fprintf(f, "  <testsuite name=\"reference broker\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n"
                   "    <testcase classname=\"broker\" name=\"reference broker health\" time=\"0\">\n"
                   "      <error message=\"");
        report_xml_escape(f, r->broker_problem);
        fprintf(f, "\" type=\"broker-problem\"/>\n    </testcase>\n  </testsuite>\n");
    }
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
        for (size_t i = 0; i < r->n; i++) {
            const conf_run *run = &r->runs[i];
            if (run->vi != vi) continue;
            fprintf(f, "    <testcase classname=\"");
            report_xml_escape(f, run->sc->area);
            fprintf(f, "\" name=\"");
            report_xml_escape(f, run->sc->id);
            fprintf(f, "@%s", conf_vi_name(vi));
            if (run->rep > 0) fprintf(f, "#%d", run->rep + 1);
            fprintf(f, "\" time=\"%.3f\">\n", (double)run->duration_ms / 1000.0);
            const char *tag = NULL;
            switch (run->verdict) {
            case V_FAIL: case V_XPASS: tag = "failure"; break;
            case V_ERROR: case V_NOTRUN: tag = "error"; break;
            default: break;
            }
            if (run->verdict == V_SKIP) {
                fprintf(f, "      <skipped message=\"");
                report_xml_escape(f, run->message ? run->message : "skipped");
                fprintf(f, "\"/>\n");
            }
            if (tag) {
                fprintf(f, "      <%s message=\"", tag);
                if (run->verdict == V_XPASS) fprintf(f, "unexpected pass: the profile lists this as a known deviation (");
                report_xml_escape(f, run->verdict == V_XPASS ? run->deviation : run->message ? run->message : "");
                if (run->verdict == V_XPASS) fprintf(f, ")");
                fprintf(f, "\" type=\"%s\">", conf_verdict_name(run->verdict));
                if (run->fail_step >= 0 && (size_t)run->fail_step < run->sc->nsteps) {
                    fprintf(f, "%s:%d: ", run->sc->path, run->sc->steps[run->fail_step].line);
                    report_xml_escape(f, run->sc->steps[run->fail_step].src);
                    fputc('\n', f);
                }
                pcap_line(f, run);
                transcript(f, run);
                fprintf(f, "</%s>\n", tag);
            }
            if (run->verdict == V_XFAIL || run->pcap) {
                fprintf(f, "      <system-out>");
                if (run->verdict == V_XFAIL) {
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
            fprintf(f, "    </testcase>\n");
        }
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
