/*
 * --write-profile FILE: a profile made from a finished run, for a team
 * adopting the suite on a broker that fails today. Every failure (fail,
 * error, expected-failure) becomes a deviation keyed by scenario, versions
 * and what failed (the deciding step's rule ids, or its line when the step
 * checks no rule), with its level and reason; runs of one scenario that fail
 * the same way in several versions share a line. Warns are listed as
 * comments (they do not fail a run unless --strict). Read back with
 * --profile, the same run exits 0, and any new failure is still a
 * regression.
 */
#include "conformance/src/profile.h"
#include "conformance/src/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const conf_run *run;   /* the first run with this key */
    char key[600];         /* "rule=A,B" or "step=N" or "" */
    unsigned vmask;
} entry;

static void key_of(const conf_run *run, char *key, size_t cap)
{
    report_why w;
    report_why_of(run, &w);
    int s = run->fail_step;
    bool step_rules = s >= 0 && (size_t)s < run->sc->nsteps && run->sc->steps[s].nrules[run->vi];
    if (w.rules[0] && (step_rules || run->level != LVL_NONE)) {
        snprintf(key, cap, "rule=%s", w.rules);
        for (char *p = key; *p; p++)
            if (*p == ' ') *p = ',';
    } else if (w.line) {
        snprintf(key, cap, "step=%d", w.line);
    } else {
        key[0] = '\0';
    }
}

/* The versions of a mask as the profile writes them: "3.1.1,5.0" or "all". */
static void versions_text(unsigned m, char *out, size_t cap)
{
    if (m == CONF_VALL) { snprintf(out, cap, "all"); return; }
    size_t o = 0;
    out[0] = '\0';
    for (int vi = 0; vi < CONF_NVERSIONS && o < cap; vi++)
        if (m & CONF_VBIT(vi)) o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "," : "", conf_vi_name(vi));
}

/* A reason in quotes: '"' and '\' escaped, one line, at most about 240
 * characters (the report has the rest). */
static void quoted(FILE *f, const char *lvl, const char *s)
{
    fputc('"', f);
    if (lvl) fprintf(f, "%s: ", lvl);
    const char *start = s;
    for (; *s && *s != '\n'; s++) {
        if (s - start >= 240 && ((unsigned char)*s & 0xC0) != 0x80) {
            fputs(" ...", f);
            break;
        }
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static size_t collect(const conf_run *runs, size_t n, bool warns, entry *out)
{
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        conf_verdict v = runs[i].verdict;
        bool want = warns ? v == V_WARN : (v == V_FAIL || v == V_ERROR || v == V_XFAIL);
        if (!want) continue;
        char key[600];
        key_of(&runs[i], key, sizeof key);
        size_t k = 0;
        while (k < ne && !(out[k].run->sc == runs[i].sc && strcmp(out[k].key, key) == 0)) k++;
        if (k == ne) {
            out[ne] = (entry){.run = &runs[i]};
            snprintf(out[ne++].key, sizeof out[0].key, "%s", key);
        }
        out[k].vmask |= CONF_VBIT(runs[i].vi);
    }
    return ne;
}

static void header(FILE *f, const conf_profile *p, const char *target, size_t nfail)
{
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f, "# Written by mqtt-conform --write-profile on %s from a run against %s.\n", when, target);
    fprintf(f, "# %zu known failure%s, each keyed by scenario, versions and the rule (or step) that\n"
               "# failed: with this profile the same run passes, and a new failure, even inside a\n"
               "# listed scenario, is a regression. Review each line: a deviation is a bug of the\n"
               "# broker (or of the suite) that someone accepted, with the reason shown.\n",
            nfail, nfail == 1 ? "" : "s");
    fprintf(f, "name      %s\n", p->name && strcmp(p->name, "default") ? p->name : "written");
    if (p->broker) fprintf(f, "broker    %s\n", p->broker);
    char v[64];
    versions_text(p->vmask, v, sizeof v);
    fprintf(f, "versions  %s\n", strcmp(v, "all") == 0 ? "3.1 3.1.1 5.0" : v);
    if (p->lacks) {
        fprintf(f, "lacks    ");
        for (int c = 0; c < CAP_COUNT; c++)
            if (p->lacks & (1u << c)) fprintf(f, " %s", conf_cap_names[c]);
        fputc('\n', f);
    }
}

static void entries(FILE *f, const entry *e, size_t ne, bool warns)
{
    for (size_t i = 0; i < ne; i++) {
        const conf_run *run = e[i].run;
        report_why w;
        report_why_of(run, &w);
        char v[64];
        versions_text(e[i].vmask, v, sizeof v);
        const char *lvl = w.level ? conf_level_name(w.level) : run->verdict == V_ERROR ? "error" : NULL;
        fprintf(f, "%sdeviation %s %s%s%s ", warns ? "# warn: " : "", run->sc->id, v, e[i].key[0] ? " " : "", e[i].key);
        bool kept = run->verdict == V_XFAIL && run->deviation; /* a reviewed reason stays as it was */
        quoted(f, kept ? NULL : lvl, kept ? run->deviation : w.reason);
        fputc('\n', f);
    }
}

int conf_profile_write(const char *path, const conf_profile *p, const conf_run *runs, size_t n, const char *target)
{
    entry *e = calloc(n + 1, sizeof *e);
    FILE *f = e ? fopen(path, "w") : NULL;
    if (!f) {
        fprintf(stderr, "mqtt-conform: --write-profile: cannot write %s: %s\n", path, strerror(errno));
        free(e);
        return -1;
    }
    size_t ne = collect(runs, n, false, e);
    header(f, p, target, ne);
    if (ne) fprintf(f, "\n# ---- failures ----\n");
    entries(f, e, ne, false);
    size_t nw = collect(runs, n, true, e);
    if (nw) fprintf(f, "\n# ---- warnings (a SHOULD broken or a timer late; they fail only with --strict) ----\n");
    entries(f, e, nw, true);
    free(e);
    if (fclose(f) != 0) {
        fprintf(stderr, "mqtt-conform: --write-profile: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
