/*
 * Client profiles (README "Testing clients"): how the broker seat asks one
 * MQTT client for what a scenario's `action` line says. One statement per
 * line, `#` comments, words split like a shell without expansions ("..."
 * and '...' quote):
 *   name NAME / about "TEXT" / versions V... / version V WORD
 *   pub WORDS...            the command that publishes once
 *   sub WORDS...            the command that subscribes (and exits after {count})
 *   opt ACTION KEY[=VAL] WORDS...   appended when the action has KEY (=VAL)
 *   cannot ACTION KEY[=VAL] "REASON"  the run is `skip` with REASON
 * ACTION is pub, sub or *. Placeholders {host} {port} {version} and {KEY} of
 * any action option are substituted in every word. An option the profile has
 * no way to ask for makes the run `skip` saying so: a client is never judged
 * on something it was not asked to do.
 */
#include "conformance/src/seat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void push(char ***arr, size_t *n, char *s)
{
    char **na = realloc(*arr, (*n + 2) * sizeof *na);
    if (!na) { free(s); return; }
    na[(*n)++] = s;
    na[*n] = NULL;
    *arr = na;
}

/* Splits a line into words; quotes group, '#' outside quotes ends the line.
 * Returns the count, -1 on an unterminated quote. */
static int split_words(const char *line, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (!*p || *p == '#') break;
        char word[4096];
        size_t k = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            if (*p == '"' || *p == '\'') {
                char q = *p++;
                while (*p && *p != q) {
                    if (q == '"' && *p == '\\' && p[1]) p++;
                    if (k < sizeof word - 1) word[k++] = *p;
                    p++;
                }
                if (*p != q) return -1;
                p++;
            } else if (k < sizeof word - 1) {
                word[k++] = *p++;
            } else {
                p++;
            }
        }
        word[k] = '\0';
        push(out, n, strdup(word));
    }
    return (int)*n;
}

static void free_words(char **w, size_t n)
{
    for (size_t i = 0; i < n; i++) free(w[i]);
    free(w);
}

void seat_profile_free(seat_profile *p)
{
    free(p->path);
    free(p->name);
    free(p->about);
    for (int v = 0; v < CONF_NVERSIONS; v++) free(p->vword[v]);
    for (int a = 0; a < 2; a++) free_words(p->cmd[a], p->ncmd[a]);
    for (size_t i = 0; i < p->nrules; i++) {
        free(p->rules[i].action);
        free(p->rules[i].key);
        free(p->rules[i].val);
        free_words(p->rules[i].args, p->rules[i].nargs);
        free(p->rules[i].reason);
    }
    free(p->rules);
    memset(p, 0, sizeof *p);
}

/* `opt|cannot ACTION KEY[=VAL] ...`. Returns NULL or what was expected. */
static const char *add_rule(seat_profile *p, char **w, size_t n)
{
    bool cannot = strcmp(w[0], "cannot") == 0;
    if (n < 3 || (strcmp(w[1], "pub") && strcmp(w[1], "sub") && strcmp(w[1], "*")))
        return "ACTION (pub, sub or *) and KEY[=VALUE] after opt/cannot";
    if (cannot && n != 4) return "one quoted reason after `cannot ACTION KEY[=VALUE]`";
    seat_rule *nr = realloc(p->rules, (p->nrules + 1) * sizeof *nr);
    if (!nr) return "memory";
    p->rules = nr;
    seat_rule *r = &p->rules[p->nrules++];
    memset(r, 0, sizeof *r);
    r->action = strdup(w[1]);
    char *eq = strchr(w[2], '=');
    r->key = eq ? strndup(w[2], (size_t)(eq - w[2])) : strdup(w[2]);
    r->val = eq ? strdup(eq + 1) : NULL;
    if (cannot) r->reason = strdup(w[3]);
    else for (size_t i = 3; i < n; i++) push(&r->args, &r->nargs, strdup(w[i]));
    return NULL;
}

/* One statement. Returns NULL or what was expected. */
static const char *statement(seat_profile *p, char **w, size_t n)
{
    const char *k = w[0];
    if (!strcmp(k, "name") || !strcmp(k, "about")) {
        if (n != 2) return "one word (or quoted text) after name/about";
        char **dst = !strcmp(k, "name") ? &p->name : &p->about;
        free(*dst);
        *dst = strdup(w[1]);
    } else if (!strcmp(k, "versions")) {
        p->vmask = 0;
        for (size_t i = 1; i < n; i++) {
            int vi = conf_vi_parse(w[i], strlen(w[i]));
            if (vi < 0) return "versions 3.1, 3.1.1 or 5.0";
            p->vmask |= CONF_VBIT(vi);
        }
    } else if (!strcmp(k, "version")) {
        int vi = n == 3 ? conf_vi_parse(w[1], strlen(w[1])) : -1;
        if (vi < 0) return "`version V WORD` (V: 3.1, 3.1.1 or 5.0)";
        free(p->vword[vi]);
        p->vword[vi] = strdup(w[2]);
    } else if (!strcmp(k, "pub") || !strcmp(k, "sub")) {
        int a = !strcmp(k, "sub");
        if (n < 2) return "a command after pub/sub";
        free_words(p->cmd[a], p->ncmd[a]);
        p->cmd[a] = NULL;
        p->ncmd[a] = 0;
        for (size_t i = 1; i < n; i++) push(&p->cmd[a], &p->ncmd[a], strdup(w[i]));
    } else if (!strcmp(k, "opt") || !strcmp(k, "cannot")) {
        return add_rule(p, w, n);
    } else {
        return "a statement: name, about, versions, version, pub, sub, opt or cannot";
    }
    return NULL;
}

int seat_profile_load(const char *path, seat_profile *p, conf_errors *errs)
{
    memset(p, 0, sizeof *p);
    p->path = strdup(path);
    p->vmask = CONF_VALL;
    FILE *f = fopen(path, "r");
    if (!f) {
        conf_error_add(errs, path, 0, 0, "cannot read the client profile");
        return -1;
    }
    char line[8192];
    int lineno = 0;
    size_t before = errs->count;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char **w;
        size_t n;
        if (split_words(line, &w, &n) < 0) conf_error_add(errs, path, lineno, 1, "expected a closing quote");
        else if (n) {
            const char *bad = statement(p, w, n);
            if (bad) conf_error_add(errs, path, lineno, 1, "expected %s, found '%s'", bad, w[0]);
        }
        free_words(w, n);
    }
    fclose(f);
    if (!p->name) conf_error_add(errs, path, 1, 1, "expected a `name` line");
    if (!p->ncmd[0] && !p->ncmd[1]) conf_error_add(errs, path, 1, 1, "expected a `pub` or `sub` command");
    return errs->count > before ? -1 : 0;
}

int seat_profile_command(const char *cmd, seat_profile *p, char *msg, size_t msglen)
{
    memset(p, 0, sizeof *p);
    p->vmask = CONF_VALL;
    p->name = strdup("command");
    p->about = strdup(cmd);
    char **w;
    size_t n;
    if (split_words(cmd, &w, &n) <= 0) {
        snprintf(msg, msglen, "--client expects a profile name or a command line, found '%s'", cmd);
        if (w) free_words(w, n);
        return -1;
    }
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < n; i++) push(&p->cmd[a], &p->ncmd[a], strdup(w[i]));
    free_words(w, n);
    return 0;
}

void seat_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++) free(argv[i]);
    free(argv);
}
