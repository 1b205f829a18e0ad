/* Coverage by side: client and server statements (report_sides.c). */
#ifndef CONF_REPORT_SIDES_H
#define CONF_REPORT_SIDES_H

#include "conformance/src/client_stmts.h"
#include "conformance/src/report.h"

typedef struct {
    size_t total, checked, passed, failed;
    size_t untestable; /* client side: statements the broker seat cannot test */
} report_side_cov;

/* Did this report test a client (broker-seat scenarios)? */
bool report_is_client_run(const conf_report *r);
/* Counts of version vi's statements binding the client (client=true: the
 * Client's own and either side's) or the server (its own and either side's). */
void report_side_coverage(const report_cov *cov, int vi, bool client, report_side_cov *out);
/* The split for each writer; each prints nothing for a broker run. */
void report_sides_console(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS]);
void report_sides_markdown(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS]);
void report_sides_json(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS]);
/* HTML: the table, each side's ids coloured by state, the untestable ones with why. */
void report_sides_html(FILE *f, const conf_report *r, const report_cov cov[CONF_NVERSIONS]);
#endif
