/*
 * compare: reads the report.json of several runs (one per broker) and
 * prints one matrix: a row per scenario and version, a column per broker,
 * the verdict in each cell; rows where the brokers differ are marked. Above
 * it, each broker's counts and, per version, their capability tables side by
 * side (the rows as the reports print them). Console always; Markdown and a
 * self-contained HTML page on request. A column is named LABEL when given as
 * LABEL=FILE, else by the report's profile, or by its file name when the
 * profile is the default.
 */
#include "conformance/src/compare.h"
#include "conformance/src/json.h"
#include "conformance/src/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BROKERS 16

typedef struct {
    char label[128];
    const char *target;
    json doc;
    const json *runs, *caps, *counts;
} column;

typedef struct {
    const char *id, *version;
} row;

typedef struct {
    column col[MAX_BROKERS];
    int ncol;
    row *rows;
    size_t nrows;
} matrix;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 65536 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 65536);
            if (!nb) { free(buf); fclose(f); errno = ENOMEM; return NULL; }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* FILE, or LABEL=FILE (when FILE itself does not exist under the whole name). */
static int load_column(column *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *path = eq && access(arg, F_OK) != 0 ? eq + 1 : arg;
    size_t len = 0;
    char *text = slurp(path, &len), err[200];
    if (!text) {
        fprintf(stderr, "mqtt-conform compare: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = json_parse(text, len, &c->doc, err, sizeof err);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "mqtt-conform compare: %s is not JSON (%s)\n", path, err);
        return -1;
    }
    c->runs = json_get(&c->doc, "runs");
    if (strcmp(json_str(&c->doc, "tool", ""), "mqtt-conform") != 0 || !c->runs || c->runs->kind != J_ARR) {
        fprintf(stderr, "mqtt-conform compare: %s is not an mqtt-conform report.json (no \"runs\")\n", path);
        return -1;
    }
    c->caps = json_get(&c->doc, "capabilities");
    c->counts = json_get(&c->doc, "counts");
    c->target = json_str(&c->doc, "broker", "?");
    const char *prof = json_str(&c->doc, "profile", "default");
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (path != arg) snprintf(c->label, sizeof c->label, "%.*s", (int)(eq - arg), arg);
    else if (strcmp(prof, "default") != 0) snprintf(c->label, sizeof c->label, "%s", prof);
    else snprintf(c->label, sizeof c->label, "%.*s", (int)(strcspn(base, ".") ? strcspn(base, ".") : strlen(base)), base);
    return 0;
}

/* The verdict of (id, version) in column c, "-" when it has no such run. */
static const char *verdict_of(const column *c, const row *r)
{
    for (size_t i = 0; i < c->runs->n; i++) {
        const json *run = &c->runs->items[i];
        if (strcmp(json_str(run, "id", ""), r->id) == 0 && strcmp(json_str(run, "version", ""), r->version) == 0)
            return json_str(run, "verdict", "?");
    }
    return "-";
}

/* Rows: every (id, version) of every report, in first-seen order. */
static int build_rows(matrix *m)
{
    size_t cap = 0;
    for (int k = 0; k < m->ncol; k++) cap += m->col[k].runs->n;
    m->rows = calloc(cap + 1, sizeof *m->rows);
    if (!m->rows) return -1;
    for (int k = 0; k < m->ncol; k++)
        for (size_t i = 0; i < m->col[k].runs->n; i++) {
            row r = {json_str(&m->col[k].runs->items[i], "id", "?"), json_str(&m->col[k].runs->items[i], "version", "?")};
            size_t j = 0;
            while (j < m->nrows && !(strcmp(m->rows[j].id, r.id) == 0 && strcmp(m->rows[j].version, r.version) == 0)) j++;
            if (j == m->nrows) m->rows[m->nrows++] = r;
        }
    return 0;
}

static bool differs(const matrix *m, const row *r)
{
    for (int k = 1; k < m->ncol; k++)
        if (strcmp(verdict_of(&m->col[0], r), verdict_of(&m->col[k], r)) != 0) return true;
    return false;
}

/* The capability cell of column c, version v, row name; "" when not probed. */
static const char *cap_of(const column *c, const char *v, const char *name)
{
    return json_str(json_get(c->caps, v), name, "");
}

static bool version_probed(const matrix *m, const char *v)
{
    for (int k = 0; k < m->ncol; k++)
        if (json_get(m->col[k].caps, v)) return true;
    return false;
}

static size_t count_of(const column *c, const char *verdict)
{
    const json *n = json_get(c->counts, verdict);
    return n && n->kind == J_NUM ? (size_t)n->num : 0;
}

static const char *const versions[] = {"3.1", "3.1.1", "5.0"};
static const char *const shown[] = {"pass", "fail", "warn", "skip", "error", "expected-failure", "unexpected-pass",
                                    "not run"};
#define NSHOWN (sizeof shown / sizeof shown[0])

static void console(FILE *f, const matrix *m)
{
    fprintf(f, "brokers:\n");
    for (int k = 0; k < m->ncol; k++) {
        fprintf(f, "  %-16s", m->col[k].label);
        const char *sep = " ";
        for (size_t v = 0; v < NSHOWN; v++)
            if (count_of(&m->col[k], shown[v])) {
                fprintf(f, "%s%zu %s", sep, count_of(&m->col[k], shown[v]), shown[v]);
                sep = ", ";
            }
        fprintf(f, "  (%s)\n", m->col[k].target);
    }
    for (int vi = 0; vi < 3; vi++) {
        if (!version_probed(m, versions[vi])) continue;
        fprintf(f, "\ncapabilities, MQTT %s\n  %-36s", versions[vi], "");
        for (int k = 0; k < m->ncol; k++) fprintf(f, " %-22s", m->col[k].label);
        fputc('\n', f);
        for (int r = 0; r < REPORT_CAP_ROWS; r++) {
            fprintf(f, "  %-36s", report_cap_row(r));
            for (int k = 0; k < m->ncol; k++) fprintf(f, " %-22s", cap_of(&m->col[k], versions[vi], report_cap_row(r)));
            fputc('\n', f);
        }
    }
    fprintf(f, "\n  %-52s", "scenario@version (* the brokers differ)");
    for (int k = 0; k < m->ncol; k++) fprintf(f, " %-16s", m->col[k].label);
    fputc('\n', f);
    for (size_t i = 0; i < m->nrows; i++) {
        char name[300];
        snprintf(name, sizeof name, "%s@%s", m->rows[i].id, m->rows[i].version);
        fprintf(f, "%c %-52s", differs(m, &m->rows[i]) ? '*' : ' ', name);
        for (int k = 0; k < m->ncol; k++) fprintf(f, " %-16s", verdict_of(&m->col[k], &m->rows[i]));
        fputc('\n', f);
    }
}

static void markdown(FILE *f, const matrix *m)
{
    fprintf(f, "# MQTT conformance: %d brokers compared\n\n| broker | address |", m->ncol);
    for (size_t v = 0; v < NSHOWN; v++) fprintf(f, " %s |", shown[v]);
    fprintf(f, "\n| --- | --- |");
    for (size_t v = 0; v < NSHOWN; v++) fprintf(f, " ---: |");
    fputc('\n', f);
    for (int k = 0; k < m->ncol; k++) {
        fprintf(f, "| %s | `%s` |", m->col[k].label, m->col[k].target);
        for (size_t v = 0; v < NSHOWN; v++) fprintf(f, " %zu |", count_of(&m->col[k], shown[v]));
        fputc('\n', f);
    }
    for (int vi = 0; vi < 3; vi++) {
        if (!version_probed(m, versions[vi])) continue;
        fprintf(f, "\n## Capabilities, MQTT %s\n\n| |", versions[vi]);
        for (int k = 0; k < m->ncol; k++) fprintf(f, " %s |", m->col[k].label);
        fprintf(f, "\n| --- |");
        for (int k = 0; k < m->ncol; k++) fprintf(f, " --- |");
        fputc('\n', f);
        for (int r = 0; r < REPORT_CAP_ROWS; r++) {
            fprintf(f, "| %s |", report_cap_row(r));
            for (int k = 0; k < m->ncol; k++) fprintf(f, " %s |", cap_of(&m->col[k], versions[vi], report_cap_row(r)));
            fputc('\n', f);
        }
    }
    fprintf(f, "\n## Verdicts\n\nRows where the brokers differ are in bold.\n\n| scenario | version |");
    for (int k = 0; k < m->ncol; k++) fprintf(f, " %s |", m->col[k].label);
    fprintf(f, "\n| --- | --- |");
    for (int k = 0; k < m->ncol; k++) fprintf(f, " --- |");
    fputc('\n', f);
    for (size_t i = 0; i < m->nrows; i++) {
        const char *b = differs(m, &m->rows[i]) ? "**" : "";
        fprintf(f, "| %s`%s`%s | %s |", b, m->rows[i].id, b, m->rows[i].version);
        for (int k = 0; k < m->ncol; k++) fprintf(f, " %s |", verdict_of(&m->col[k], &m->rows[i]));
        fputc('\n', f);
    }
}

static void html_cell(FILE *f, const char *tag, const char *cls, const char *text)
{
    fprintf(f, "<%s%s%s%s>", tag, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    report_xml_escape(f, text);
    fprintf(f, "</%s>", tag);
}

/* A verdict's CSS class: its name with spaces as '-'. */
static const char *vcls(const char *v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", v);
    for (char *p = buf; *p; p++)
        if (*p == ' ') *p = '-';
    return buf;
}

static void html_caps(FILE *f, const matrix *m)
{
    for (int vi = 0; vi < 3; vi++) {
        if (!version_probed(m, versions[vi])) continue;
        fprintf(f, "<h2>Capabilities, MQTT %s</h2>\n<table><tr><th></th>", versions[vi]);
        for (int k = 0; k < m->ncol; k++) html_cell(f, "th", NULL, m->col[k].label);
        fprintf(f, "</tr>\n");
        for (int r = 0; r < REPORT_CAP_ROWS; r++) {
            fprintf(f, "<tr>");
            html_cell(f, "th", NULL, report_cap_row(r));
            for (int k = 0; k < m->ncol; k++) html_cell(f, "td", NULL, cap_of(&m->col[k], versions[vi], report_cap_row(r)));
            fprintf(f, "</tr>\n");
        }
        fprintf(f, "</table>\n");
    }
}

static void html(FILE *f, const matrix *m)
{
    char cls[64], num[32];
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MQTT conformance: brokers "
               "compared</title><style>body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:"
               "collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
               ".pass{background:#dfd}.fail,.error,.unexpected-pass,.not-run{background:#fdd}"
               ".warn,.expected-failure{background:#ffd}.skip{background:#eee}tr.differ td:first-child{font-weight:bold}"
               "</style></head><body>\n<h1>MQTT conformance: %d brokers compared</h1>\n<table><tr><th>broker</th>"
               "<th>address</th>", m->ncol);
    for (size_t v = 0; v < NSHOWN; v++) html_cell(f, "th", vcls(shown[v], cls, sizeof cls), shown[v]);
    fprintf(f, "</tr>\n");
    for (int k = 0; k < m->ncol; k++) {
        fprintf(f, "<tr>");
        html_cell(f, "td", NULL, m->col[k].label);
        html_cell(f, "td", NULL, m->col[k].target);
        for (size_t v = 0; v < NSHOWN; v++) {
            snprintf(num, sizeof num, "%zu", count_of(&m->col[k], shown[v]));
            html_cell(f, "td", NULL, num);
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    html_caps(f, m);
    fprintf(f, "<h2>Verdicts</h2>\n<p>Rows where the brokers differ are in bold.</p>\n<table><tr><th>scenario</th>"
               "<th>version</th>");
    for (int k = 0; k < m->ncol; k++) html_cell(f, "th", NULL, m->col[k].label);
    fprintf(f, "</tr>\n");
    for (size_t i = 0; i < m->nrows; i++) {
        fprintf(f, "<tr%s>", differs(m, &m->rows[i]) ? " class=\"differ\"" : "");
        html_cell(f, "td", NULL, m->rows[i].id);
        html_cell(f, "td", NULL, m->rows[i].version);
        for (int k = 0; k < m->ncol; k++) {
            const char *v = verdict_of(&m->col[k], &m->rows[i]);
            html_cell(f, "td", vcls(v, cls, sizeof cls), v);
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n</body></html>\n");
}

static int write_file(const char *path, const matrix *m, void (*writer)(FILE *, const matrix *))
{
    FILE *f = report_open(path);
    if (!f) return -1;
    writer(f, m);
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* --markdown F --html F and the report files; 0 or 2 after a message. */
static int parse_args(int argc, char **argv, const char **md, const char **htm, matrix *m)
{
    for (int i = 1; i < argc; i++) {
        bool opt_md = strcmp(argv[i], "--markdown") == 0, opt_html = strcmp(argv[i], "--html") == 0;
        if ((opt_md || opt_html) && i + 1 < argc) {
            *(opt_md ? md : htm) = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "mqtt-conform compare: unknown option %s\nusage: mqtt-conform compare [--markdown F] "
                            "[--html F] [LABEL=]REPORT.json [LABEL=]REPORT.json...\n", argv[i]);
            return 2;
        } else if (m->ncol == MAX_BROKERS) {
            fprintf(stderr, "mqtt-conform compare: at most %d reports\n", MAX_BROKERS);
            return 2;
        } else if (load_column(&m->col[m->ncol], argv[i]) < 0) {
            return 2;
        } else {
            m->ncol++;
        }
    }
    if (m->ncol < 2) {
        fprintf(stderr, "mqtt-conform compare: name two or more report.json files (one per broker)\n");
        return 2;
    }
    return 0;
}

int conf_compare_main(int argc, char **argv)
{
    static matrix m;
    const char *md = NULL, *htm = NULL;
    int rc = parse_args(argc, argv, &md, &htm, &m);
    if (!rc && build_rows(&m) < 0) rc = 2;
    if (!rc) {
        console(stdout, &m);
        if (md && write_file(md, &m, markdown) < 0) rc = 2;
        if (htm && write_file(htm, &m, html) < 0) rc = 2;
    }
    for (int k = 0; k <= m.ncol && k < MAX_BROKERS; k++) json_free(&m.col[k].doc);
    free(m.rows);
    return rc;
}
