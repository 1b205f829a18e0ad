/*
 * Planning: which runs exist and which are skipped before anything runs.
 * Run order is scenario order, then version, then repeat, which is the order
 * of every report; the engine starts runs in that order.
 */
#include "conformance/src/plan.h"
#include "conformance/src/spec_ids.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool term_match(const conf_scenario *s, const char *t, size_t n)
{
    char term[256];
    if (n == 0 || n >= sizeof term) return false;
    memcpy(term, t, n);
    term[n] = '\0';
    if (strncmp(term, "area:", 5) == 0) return strcmp(s->area, term + 5) == 0;
    if (strncmp(term, "id:", 3) == 0) return fnmatch(term + 3, s->id, 0) == 0;
    if (strncmp(term, "tag:", 4) == 0) {
        for (size_t i = 0; i < s->ntags; i++)
            if (strcmp(s->tags[i], term + 4) == 0) return true;
        return false;
    }
    const char *rule = strncmp(term, "rule:", 5) == 0 ? term + 5 : NULL;
    for (int v = 0; v < CONF_NVERSIONS; v++)
        for (size_t i = 0; i < s->nrules[v]; i++)
            if (strcmp(s->rules[v][i], rule ? rule : term) == 0) return true;
    if (rule) return false;
    if (strcmp(s->area, term) == 0) return true;
    for (size_t i = 0; i < s->ntags; i++)
        if (strcmp(s->tags[i], term) == 0) return true;
    if (strchr(term, '*') || strchr(term, '?')) return fnmatch(term, s->id, 0) == 0;
    return strstr(s->id, term) != NULL || (s->title && strstr(s->title, term) != NULL);
}

bool conf_filter_match(const conf_scenario *s, const char *filter)
{
    if (!filter || !*filter) return true;
    const char *p = filter;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (term_match(s, p, n)) return true;
        p += n + (comma ? 1 : 0);
    }
    return false;
}

size_t conf_plan(conf_scenario **sc, size_t nsc, unsigned vmask, int repeat, conf_profile *prof, conf_run **out)
{
    size_t cap = nsc * CONF_NVERSIONS * (size_t)(repeat > 0 ? repeat : 1) + 1, n = 0;
    conf_run *runs = calloc(cap, sizeof *runs);
    if (!runs) { *out = NULL; return 0; }
    for (size_t i = 0; i < nsc; i++) {
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!(vmask & sc[i]->vmask & CONF_VBIT(vi))) continue;
            for (int rep = 0; rep < (repeat > 0 ? repeat : 1); rep++) {
                conf_run *r = &runs[n++];
                r->sc = sc[i];
                r->vi = vi;
                r->rep = rep;
                r->fail_step = -1;
                r->verdict = V_PENDING;
                char why[512] = "";
                if (prof && !(prof->vmask & CONF_VBIT(vi))) {
                    snprintf(why, sizeof why, "the profile says the broker does not speak MQTT %s", conf_vi_name(vi));
                } else if (prof && (sc[i]->needs & prof->lacks)) {
                    size_t o = (size_t)snprintf(why, sizeof why, "the broker lacks:");
                    for (int c = 0; c < CAP_COUNT; c++)
                        if ((sc[i]->needs & prof->lacks) & (1u << c))
                            o += (size_t)snprintf(why + o, sizeof why - o, " %s", conf_cap_names[c]);
                }
                if (why[0]) {
                    r->verdict = V_SKIP;
                    r->message = strdup(why);
                }
                conf_deviation *d = prof ? conf_profile_deviation(prof, sc[i]->id, vi) : NULL;
                if (d) {
                    r->deviation = d->reason;
                    r->deviation_flaky = d->flaky;
                    d->used = true;
                }
            }
        }
    }
    *out = runs;
    return n;
}
