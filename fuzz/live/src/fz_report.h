/*
 * fz_report: what mqtt-fuzz tells people and machines. A finding with a new
 * signature is minimised and written under DIR/findings/ (fz_emit), with
 * its one-line summary printed and appended to DIR/findings.txt; a finding
 * with a known signature is counted in its group. The progress line (on a
 * terminal) and the JSON summary (DIR/summary.json) come from the workers'
 * numbers.
 */
#ifndef FZ_REPORT_H
#define FZ_REPORT_H

#include "fuzz/live/src/fz_campaign.h"
#include "fuzz/live/src/fz_eval.h"

/* The sessions run just before the one with a finding (oldest first): a
 * finding may need the state they left in the broker. */
typedef struct {
    const fz_session *s;
    size_t n;
} fz_history;

/* Counts finding f of session i (t seconds in) and returns the new group it
 * opens, or NULL when a group with its signature exists (counted there) or the
 * table is full: one finding per signature is minimised and written. */
fz_group *fz_stats_group(fz_stats *st, long i, double t, const fz_finding *f);
/* Groups, minimises and writes finding f of session i (worker w, t seconds in). */
void fz_report_finding(fz_ctx *x, fz_stats *st, int w, long i, double t, const fz_session *s,
                       const fz_run *run, const fz_finding *f, fz_history h);
/* Sums n workers' numbers into *sum (groups appended). */
void fz_stats_sum(fz_stats *sum, const fz_stats *w, int n);
/* The progress line of n workers ("\r..." on a terminal). */
void fz_report_progress(const fz_stats *w, int n, FILE *fp);
/* Writes DIR/summary.json and prints the closing lines. Returns 0 or -1. */
int fz_report_summary(const fz_opts *o, const fz_stats *sum);

#endif
