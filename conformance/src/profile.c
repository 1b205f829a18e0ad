/*
 * Profile files (SCENARIOS.md, section 6): one statement per line, `#`
 * comments, quoted reasons. Errors name file:line:col like scenario errors.
 */
#include "conformance/src/profile.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void conf_profile_default(conf_profile *p)
{
    memset(p, 0, sizeof *p);
    p->name = strdup("default");
    p->vmask = CONF_VALL;
}

void conf_profile_free(conf_profile *p)
{
    free(p->path);
    free(p->name);
    free(p->broker);
    free(p->username);
    free(p->password);
    free(p->cafile);
    free(p->certfile);
    free(p->keyfile);
    for (size_t i = 0; i < p->ndevs; i++) {
        free(p->devs[i].glob);
        free(p->devs[i].reason);
    }
    free(p->devs);
    memset(p, 0, sizeof *p);
}

conf_deviation *conf_profile_deviation(conf_profile *p, const char *id, int vi)
{
    for (size_t i = 0; i < p->ndevs; i++)
        if ((p->devs[i].vmask & CONF_VBIT(vi)) && fnmatch(p->devs[i].glob, id, 0) == 0) return &p->devs[i];
    return NULL;
}

/* Next word of a line: a bare word or a "quoted string" (escapes \" and \\). */
static char *next_word(char **s, int *col, const char *line, bool *quoted)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    if (!*p || *p == '#') { *s = p; return NULL; }
    *col = (int)(p - line) + 1;
    *quoted = *p == '"';
    char *out;
    if (*quoted) {
        p++;
        out = p;
        char *o = p;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) p++;
            *o++ = *p++;
        }
        if (*p != '"') { *s = p; return (char *)-1; }
        p++;
        *o = '\0';
        /* the closing quote's slot may have been overwritten by the shift: fine */
    } else {
        out = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
        if (*p) *p++ = '\0';
    }
    *s = p;
    return out;
}

/* A file named in a profile: relative paths are relative to the profile's directory. */
static char *profile_file(const char *profile_path, const char *name)
{
    const char *slash = strrchr(profile_path, '/');
    if (name[0] == '/' || !slash) return strdup(name);
    size_t dl = (size_t)(slash - profile_path);
    size_t n = dl + 1 + strlen(name) + 1;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s/%s", (int)dl, profile_path, name);
    return out;
}

static unsigned versions_of(const char *w)
{
    if (strcmp(w, "all") == 0) return CONF_VALL;
    unsigned m = 0;
    const char *s = w;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        int vi = conf_vi_parse(s, n);
        if (vi < 0) return 0;
        m |= CONF_VBIT(vi);
        s += n + (comma ? 1 : 0);
    }
    return m;
}

int conf_profile_load(const char *path, conf_profile *p, conf_errors *errs)
{
    conf_profile_default(p);
    p->path = strdup(path);
    FILE *f = fopen(path, "r");
    if (!f) {
        conf_error_add(errs, path, 0, 0, "cannot open the profile");
        return -1;
    }
    size_t before = errs->count;
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", line);
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\n') line[--ll] = '\0';
        char *s = line;
        int col = 1, c2 = 1, c3 = 1, c4 = 1;
        bool q;
        char *kw = next_word(&s, &col, line, &q);
        if (!kw) continue;
        if (kw == (char *)-1) { conf_error_add(errs, path, lineno, col, "expected a closing '\"'"); continue; }
        char *a = next_word(&s, &c2, line, &q);
        if (a == (char *)-1) { conf_error_add(errs, path, lineno, c2, "expected a closing '\"'"); continue; }
        if (!a) {
            conf_error_add(errs, path, lineno, col, "expected a value after `%s`", kw);
            continue;
        }
        if (strcmp(kw, "name") == 0) { free(p->name); p->name = strdup(a); }
        else if (strcmp(kw, "broker") == 0) { free(p->broker); p->broker = strdup(a); }
        else if (strcmp(kw, "username") == 0) { free(p->username); p->username = strdup(a); }
        else if (strcmp(kw, "password") == 0) { free(p->password); p->password = strdup(a); }
        else if (strcmp(kw, "cafile") == 0) { free(p->cafile); p->cafile = profile_file(path, a); }
        else if (strcmp(kw, "cert") == 0) { free(p->certfile); p->certfile = profile_file(path, a); }
        else if (strcmp(kw, "key") == 0) { free(p->keyfile); p->keyfile = profile_file(path, a); }
        else if (strcmp(kw, "insecure") == 0) {
            if (strcmp(a, "true") == 0 || strcmp(a, "yes") == 0) p->insecure = true;
            else if (strcmp(a, "false") == 0 || strcmp(a, "no") == 0) p->insecure = false;
            else conf_error_add(errs, path, lineno, c2, "expected true or false after insecure, found '%s'", a);
        }
        else if (strcmp(kw, "versions") == 0) {
            p->vmask = 0;
            for (char *w = a; w && w != (char *)-1; w = next_word(&s, &c2, line, &q)) {
                unsigned m = versions_of(w);
                if (!m) conf_error_add(errs, path, lineno, c2, "expected versions (3.1, 3.1.1, 5.0 or all), found '%s'", w);
                p->vmask |= m;
            }
        } else if (strcmp(kw, "lacks") == 0) {
            for (char *w = a; w && w != (char *)-1; w = next_word(&s, &c2, line, &q)) {
                int cap = conf_cap_parse(w, strlen(w));
                if (cap < 0) conf_error_add(errs, path, lineno, c2, "expected a capability name, found '%s'", w);
                else p->lacks |= 1u << cap;
            }
        } else if (strcmp(kw, "max_qos") == 0) {
            if (strcmp(a, "0") == 0) p->lacks |= (1u << CAP_QOS1) | (1u << CAP_QOS2);
            else if (strcmp(a, "1") == 0) p->lacks |= 1u << CAP_QOS2;
            else if (strcmp(a, "2") != 0) conf_error_add(errs, path, lineno, c2, "expected 0, 1 or 2 after max_qos");
        } else if (strcmp(kw, "deviation") == 0 || strcmp(kw, "flaky") == 0) {
            char *v = next_word(&s, &c3, line, &q);
            char *reason = v && v != (char *)-1 ? next_word(&s, &c4, line, &q) : NULL;
            unsigned m = v && v != (char *)-1 ? versions_of(v) : 0;
            if (!v || v == (char *)-1 || !m) {
                conf_error_add(errs, path, lineno, c3, "expected versions (all or 3.1.1,5.0 ...) after the scenario id");
                continue;
            }
            if (!reason || reason == (char *)-1 || !q || !*reason) {
                conf_error_add(errs, path, lineno, c4, "expected a quoted reason: %s ID VERSIONS \"why\"", kw);
                continue;
            }
            conf_deviation *nd = realloc(p->devs, (p->ndevs + 1) * sizeof *nd);
            if (!nd) break;
            p->devs = nd;
            p->devs[p->ndevs++] = (conf_deviation){strdup(a), m, strdup(reason), lineno, false,
                                                   strcmp(kw, "flaky") == 0};
        } else {
            conf_error_add(errs, path, lineno, col,
                           "expected name, broker, username, password, cafile, cert, key, insecure, versions, lacks, "
                           "max_qos, deviation or flaky, found '%s'", kw);
        }
    }
    fclose(f);
    return errs->count > before ? -1 : 0;
}
