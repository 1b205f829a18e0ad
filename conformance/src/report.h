/*
 * Report writers: console, JUnit XML, JSON, Markdown and a self-contained
 * HTML page, all from the same finished runs; plus the normative coverage
 * (ids checked / passed / failed per version) they all print.
 */
#ifndef CONF_REPORT_H
#define CONF_REPORT_H

#include "conformance/src/engine.h"
#include "conformance/src/profile.h"

#include <stdio.h>
#include <time.h>

typedef struct {
    conf_run *runs;
    size_t n;
    const conf_profile *profile;
    const char *target;       /* HOST:PORT, plus "(reference broker)" when spawned */
    conf_engine_result res;
    double time_scale;
    int jobs;
    time_t started;
    /* The reference broker the runner started crashed, did not shut down
     * cleanly or logged a sanitizer report (what and the log's path); NULL
     * otherwise. Every report names it; the exit status is 1. */
    const char *broker_problem;
} conf_report;

/* ---- report_summary.c: what every report leads with ---- */

/* Verdicts a broker team acts on: fail, warn, error, unexpected-pass, not run. */
bool report_is_finding(conf_verdict v);
/* Counts of runs by verdict and by the level that decided them (run->level). */
void report_level_counts(const conf_report *r, size_t counts[V__COUNT][LVL_MUST + 1]);
/* The runs that are findings, grouped by area (plan order within one).
 * Returns the count; *out is malloc'd (free it), pointing into r->runs. */
size_t report_findings(const conf_report *r, const conf_run ***out);
/* Why a run is a finding, in one line each. */
typedef struct {
    conf_level level;         /* of the deciding step (LVL_NONE: a precondition, or none) */
    char rules[512];          /* the deciding step's statement ids, space-separated */
    int line;                 /* its line in the scenario file, 0: none */
    const char *step;         /* its source text, NULL: none */
    char reason[600];         /* the first line of the message */
} report_why;
void report_why_of(const conf_run *run, report_why *w);

/* The capability table: REPORT_CAP_ROWS rows (row 0: was the version
 * accepted), one column per probed version. */
enum { REPORT_CAP_ROWS = 12 };
const char *report_cap_row(int row);
void report_cap_cell(const conf_caps *c, int vi, int row, char *buf, size_t cap);
bool report_caps_any(const conf_report *r);

/* Counts of runs by verdict. */
void report_counts(const conf_report *r, size_t counts[V__COUNT]);

/* Per-version coverage of the normative ids. */
typedef struct {
    bool used;                /* some run of this version ran */
    size_t total;             /* ids in the spec (139 or 251) */
    size_t checked, passed, failed;
    size_t untestable;        /* unchecked ids that no scenario can check (untestable.c) */
    size_t uncovered;         /* unchecked ids that a scenario could check but none does */
    unsigned char *state;     /* per id: 0 unchecked, 1 passed, 2 failed (malloc'd) */
} report_cov;
void report_coverage(const conf_report *r, report_cov cov[CONF_NVERSIONS]);
void report_coverage_free(report_cov cov[CONF_NVERSIONS]);

/* One transcript line: "+0.012s a -> CONNECT ..." into buf. */
void report_event_line(const conf_run *run, const conf_event *ev, char *buf, size_t cap);

/* The path of `target` (a file that exists) relative to the directory of
 * `report_path` (a report being written), for links from that report:
 * "pcap/x@5.0.pcap". Falls back to `target` as given if either cannot be
 * resolved. */
void report_rel_link(const char *report_path, const char *target, char *out, size_t cap);

/* Writes a relative path as a URL path: characters other than letters,
 * digits and -._~/@ percent-encoded (for href and Markdown links). */
void report_url_path(FILE *f, const char *path);

/* Escapers writing to f. */
/* Opens a report file for writing; on failure says so on stderr (path and reason)
 * and returns NULL. */
FILE *report_open(const char *path);
void report_xml_escape(FILE *f, const char *s);
void report_json_string(FILE *f, const char *s);

void report_console(FILE *f, const conf_report *r, bool color, bool verbose, bool quiet);
/* Each returns 0, or -1 with a message on stderr naming the file. */
int report_junit(const char *path, const conf_report *r);
int report_json(const char *path, const conf_report *r);
int report_markdown(const char *path, const conf_report *r);
int report_html(const char *path, const conf_report *r);
#endif
