/*
 * fz_report: progress line, totals and the JSON summary (see fz_report.h).
 */
#include "fuzz/live/src/fz_report.h"

#include "fuzz/live/src/fz_mutate.h"

#include <string.h>
#include <unistd.h>

void fz_stats_sum(fz_stats *sum, const fz_stats *w, int n)
{
    memset(sum, 0, sizeof *sum);
    for (int k = 0; k < n; k++) {
        sum->sessions += w[k].sessions;
        sum->execs += w[k].execs;
        for (int c = 0; c < FZ_NCLASS; c++) sum->findings[c] += w[k].findings[c];
        if (w[k].seconds > sum->seconds) sum->seconds = w[k].seconds;
        if (w[k].first_finding_s && (!sum->first_finding_s || w[k].first_finding_s < sum->first_finding_s))
            sum->first_finding_s = w[k].first_finding_s;
        sum->chain += w[k].chain;
        sum->corpus += w[k].corpus;
        sum->corpus_new += w[k].corpus_new;
        sum->lost |= w[k].lost;
        for (int g = 0; g < w[k].ngroups && sum->ngroups < FZ_MAX_GROUPS; g++)
            sum->groups[sum->ngroups++] = w[k].groups[g];
        fz_cover_merge(&sum->cov, &w[k].cov);
    }
}

static long total(const fz_stats *s)
{
    long n = 0;
    for (int c = 0; c < FZ_NCLASS; c++) n += s->findings[c];
    return n;
}

void fz_report_progress(const fz_stats *w, int n, FILE *fp)
{
    static fz_stats sum;
    int types, reasons, props;
    fz_stats_sum(&sum, w, n);
    fz_cover_totals(&sum.cov, &types, &reasons, &props);
    bool tty = isatty(fileno(fp));
    fprintf(fp, "%s[mqtt-fuzz] %.0fs %ld sessions %.1f exec/s | findings %ld (crash %ld hang %ld memory %ld spec %ld diff %ld) | "
            "answers: %d types %d codes %d props | corpus %d+%d%s",
            tty ? "\r\033[K" : "", sum.seconds, sum.sessions, sum.seconds > 0 ? (double)sum.execs / sum.seconds : 0.0,
            total(&sum), sum.findings[FZ_CRASH], sum.findings[FZ_HANG], sum.findings[FZ_MEMORY],
            sum.findings[FZ_SPEC], sum.findings[FZ_DIFF], types, reasons, props, sum.corpus, sum.corpus_new,
            tty ? "" : "\n");
    fflush(fp);
}

static void json_groups(const fz_stats *s, FILE *fp)
{
    fprintf(fp, "  \"groups\": [");
    for (int g = 0; g < s->ngroups; g++) {
        const fz_group *x = &s->groups[g];
        fprintf(fp, "%s\n    {\"class\": \"%s\", \"rule\": \"%s\", \"signature\": \"", g ? "," : "",
                fz_class_name(x->cls), x->rule);
        for (const char *p = x->sig; *p; p++) fprintf(fp, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
        fprintf(fp, "\", \"count\": %d, \"first_session\": %ld, \"first_seconds\": %.3f, \"dir\": \"%s\"}",
                x->count, x->first_session, x->first_seconds, x->dir);
    }
    fprintf(fp, "%s],\n", s->ngroups ? "\n  " : "");
}

int fz_report_summary(const fz_opts *o, const fz_stats *s)
{
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    double rate = s->seconds > 0 ? (double)s->execs / s->seconds : 0;
    fprintf(fp, "{\n  \"seed\": %llu,\n  \"mode\": \"%s\",\n  \"jobs\": %d,\n  \"sessions\": %ld,\n  \"executions\": %ld,\n"
            "  \"seconds\": %.3f,\n  \"exec_per_s\": %.1f,\n  \"session_chain\": \"%016llx\",\n",
            (unsigned long long)o->seed, o->plain ? "plain" : "oracles", o->jobs, s->sessions, s->execs,
            s->seconds, rate, (unsigned long long)s->chain);
    fprintf(fp, "  \"findings\": {\"total\": %ld, \"crash\": %ld, \"hang\": %ld, \"memory\": %ld, \"spec\": %ld, \"diff\": %ld},\n",
            total(s), s->findings[FZ_CRASH], s->findings[FZ_HANG], s->findings[FZ_MEMORY], s->findings[FZ_SPEC], s->findings[FZ_DIFF]);
    fprintf(fp, "  \"time_to_first_finding_s\": ");
    fprintf(fp, s->first_finding_s ? "%.3f,\n" : "null,\n", s->first_finding_s);
    fprintf(fp, "  \"corpus\": {\"loaded\": %d, \"added\": %d},\n  \"broker_lost\": %s,\n", s->corpus, s->corpus_new,
            s->lost ? "true" : "false");
    json_groups(s, fp);
    fprintf(fp, "  \"coverage\": ");
    fz_cover_json(&s->cov, fp);
    fprintf(fp, "\n}\n");
    if (fclose(fp) != 0) return -1;
    int types, reasons, props;
    fz_cover_totals(&s->cov, &types, &reasons, &props);
    printf("mqtt-fuzz: %ld sessions, %ld executions in %.1f s (%.1f exec/s), %ld findings in %d groups; "
           "broker answered %d packet types, %d reason codes, %d properties; summary %s\n",
           s->sessions, s->execs, s->seconds, rate, total(s), s->ngroups, types, reasons, props, path);
    return 0;
}
