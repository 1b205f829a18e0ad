/*
 * The client's command line for one run, from its profile: the action's
 * command, then for every action option the profile's `opt` words (or a
 * `cannot` that makes the run skip), with {placeholders} substituted.
 * The base options (topic, message, qos, id, count) go through the command's
 * own placeholders; any other option the profile cannot express is a skip
 * that names it, never a silent omission.
 */
#include "conformance/src/seat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const base_keys[] = {"topic", "message", "qos", "id", "count"};

static bool is_base(const char *k)
{
    for (size_t i = 0; i < sizeof base_keys / sizeof base_keys[0]; i++)
        if (!strcmp(base_keys[i], k)) return true;
    return false;
}

typedef struct {
    char **keys, **vals;
    size_t n;
    char host[64], port[8];
    const char *version, *bindir;
} subst_ctx;

static const char *lookup(const subst_ctx *c, const char *name, size_t len)
{
    if (len == 4 && !memcmp(name, "host", 4)) return c->host;
    if (len == 4 && !memcmp(name, "port", 4)) return c->port;
    if (len == 7 && !memcmp(name, "version", 7)) return c->version;
    if (len == 6 && !memcmp(name, "bindir", 6)) return c->bindir;
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->keys[i]) == len && !memcmp(c->keys[i], name, len)) return c->vals[i];
    return NULL;
}

/* Substitutes {name} in one word. NULL (why filled) on an unknown name. */
static char *subst_word(const subst_ctx *c, const char *w, char *why, size_t whylen)
{
    size_t cap = strlen(w) + 1, n = 0;
    char *out = malloc(cap);
    for (const char *p = w; out && *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        const char *v = close ? lookup(c, p + 1, (size_t)(close - p - 1)) : NULL;
        if (close && !v) {
            snprintf(why, whylen, "the client command's placeholder %.*s has no value in this scenario",
                     (int)(close - p + 1), p);
            free(out);
            return NULL;
        }
        size_t add = v ? strlen(v) : 1;
        if (n + add + 1 > cap) {
            cap = (n + add + 1) * 2;
            char *no = realloc(out, cap);
            if (!no) { free(out); return NULL; }
            out = no;
        }
        if (v) { memcpy(out + n, v, add); n += add; p = close + 1; }
        else out[n++] = *p++;
    }
    if (out) out[n] = '\0';
    return out;
}

static bool mentions(char **words, size_t n, const char *key)
{
    char ph[128];
    snprintf(ph, sizeof ph, "{%s}", key);
    for (size_t i = 0; i < n; i++)
        if (strstr(words[i], ph)) return true;
    return false;
}

/* The profile's rule for (action, key, val): `cannot` first, then `opt`. */
static const seat_rule *find_rule(const seat_profile *p, const char *action, const char *key, const char *val)
{
    const seat_rule *best = NULL;
    for (size_t i = 0; i < p->nrules; i++) {
        const seat_rule *r = &p->rules[i];
        if (strcmp(r->action, "*") && strcmp(r->action, action)) continue;
        if (strcmp(r->key, key) || (r->val && strcmp(r->val, val))) continue;
        if (r->reason) return r;
        if (!best) best = r;
    }
    return best;
}

/* Does the scenario judge the client's exit status (an `expect exit` that
 * checks rules in this version)? A profile may say its client cannot end by
 * itself (`cannot ACTION exit`): such runs skip, and exit steps that are
 * mere preconditions are not checked (seat_steps.c). */
static bool needs_exit(const conf_scenario *sc, int vi)
{
    for (size_t i = 0; i < sc->nsteps; i++)
        if (sc->steps[i].kind == ST_EXPECT_EXIT && sc->steps[i].exit_want != CONF_EXIT_ANY &&
            sc->steps[i].level[vi] != LVL_NONE)
            return true;
    return false;
}

const char *seat_cannot(const seat_profile *p, const char *action, const char *key, const char *val)
{
    const seat_rule *r = p ? find_rule(p, action, key, val) : NULL;
    return r ? r->reason : NULL;
}

static bool add_words(char ***argv, size_t *n, char **words, size_t nw, const subst_ctx *c, char *why,
                      size_t whylen)
{
    for (size_t i = 0; i < nw; i++) {
        char *s = subst_word(c, words[i], why, whylen);
        if (!s) return false;
        char **na = realloc(*argv, (*n + 2) * sizeof *na);
        if (!na) { free(s); return false; }
        na[(*n)++] = s;
        na[*n] = NULL;
        *argv = na;
    }
    return true;
}

char **seat_argv(const seat_profile *p, const conf_scenario *sc, int vi, const char *host, uint16_t port,
                 char **keys, char **vals, size_t n, bool *skip, char *why, size_t whylen)
{
    *skip = false;
    int a = sc->action && !strcmp(sc->action, "sub");
    if (!(p->vmask & CONF_VBIT(vi)) || !p->ncmd[a]) {
        *skip = true;
        snprintf(why, whylen, "client profile %s %s", p->name,
                 p->ncmd[a] ? "does not speak this protocol version" : a ? "has no sub command" : "has no pub command");
        return NULL;
    }
    subst_ctx c = {.keys = keys, .vals = vals, .n = n, .version = p->vword[vi] ? p->vword[vi] : conf_vi_name(vi),
                   .bindir = p->bindir};
    snprintf(c.host, sizeof c.host, "%s", host);
    snprintf(c.port, sizeof c.port, "%u", (unsigned)port);
    const seat_rule *ex = needs_exit(sc, vi) ? find_rule(p, sc->action, "exit", "1") : NULL;
    if (ex && ex->reason) {
        *skip = true;
        snprintf(why, whylen, "%s (client profile %s)", ex->reason, p->name);
        return NULL;
    }
    char **argv = NULL;
    size_t argc = 0;
    if (!add_words(&argv, &argc, p->cmd[a], p->ncmd[a], &c, why, whylen)) { seat_argv_free(argv); return NULL; }
    for (size_t i = 0; i < n; i++) {
        if (is_base(keys[i]) || mentions(p->cmd[a], p->ncmd[a], keys[i])) continue;
        const seat_rule *r = find_rule(p, sc->action, keys[i], vals[i]);
        if (!r || r->reason) {
            *skip = true;
            if (r) snprintf(why, whylen, "%s (client profile %s)", r->reason, p->name);
            else snprintf(why, whylen, "client profile %s has no way to ask its client for %s=%s", p->name, keys[i],
                          vals[i]);
            seat_argv_free(argv);
            return NULL;
        }
        if (!add_words(&argv, &argc, r->args, r->nargs, &c, why, whylen)) { seat_argv_free(argv); return NULL; }
    }
    return argv;
}
