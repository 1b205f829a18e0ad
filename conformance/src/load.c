/*
 * Finding and reading scenario files: every *.mqs below a directory, in id
 * order, each parsed (all errors collected; nothing runs if there is one).
 */
#include "conformance/src/conform.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *read_all(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n + 1 >= cap) {
            if (cap > (1u << 20)) { snprintf(err, errlen, "larger than 1 MiB"); free(buf); buf = NULL; break; }
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf && ferror(f)) { snprintf(err, errlen, "read error: %s", strerror(errno)); free(buf); buf = NULL; }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (memchr(buf, '\0', n)) { snprintf(err, errlen, "contains a NUL byte (not a text file)"); free(buf); return NULL; }
    }
    return buf;
}

/* id: path below root without ".mqs" (or the file name alone). */
static char *make_id(const char *path, const char *root)
{
    const char *rel = path;
    size_t rl = root ? strlen(root) : 0;
    while (rl > 1 && root[rl - 1] == '/') rl--;
    if (root && rl && strncmp(path, root, rl) == 0 && path[rl] == '/') rel = path + rl + 1;
    else {
        /* outside the root: keep the last two components (area/name) */
        const char *last = strrchr(path, '/');
        if (last) {
            const char *prev = last;
            while (prev > path && prev[-1] != '/') prev--;
            rel = prev > path ? prev : path;
            if (prev == path && last != path) rel = path;
        }
    }
    size_t n = strlen(rel);
    if (n > 4 && strcmp(rel + n - 4, ".mqs") == 0) n -= 4;
    return strndup(rel, n);
}

conf_scenario *conf_parse_file(const char *path, const char *root, conf_errors *errs)
{
    char err[256];
    char *text = read_all(path, err, sizeof err);
    if (!text) {
        conf_error_add(errs, path, 0, 0, "%s", err);
        return NULL;
    }
    char *id = make_id(path, root);
    conf_scenario *s = id ? conf_parse_scenario(path, id, text, errs) : NULL;
    free(id);
    free(text);
    return s;
}

typedef struct {
    char **paths;
    size_t n;
} pathlist;

static void walk(const char *dir, pathlist *pl, conf_errors *errs, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        conf_error_add(errs, dir, 0, 0, "cannot open directory: %s", strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) break;
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 8) {
            walk(p, pl, errs, depth + 1);
            free(p);
        } else if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".mqs") == 0) {
            char **np = realloc(pl->paths, (pl->n + 1) * sizeof *np);
            if (!np) { free(p); break; }
            pl->paths = np;
            pl->paths[pl->n++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_sc(const void *a, const void *b)
{
    return strcmp((*(conf_scenario *const *)a)->id, (*(conf_scenario *const *)b)->id);
}

size_t conf_load_dir(const char *dir, conf_scenario ***out, conf_errors *errs)
{
    pathlist pl = {0};
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        pl.paths = malloc(sizeof *pl.paths);
        if (pl.paths) pl.paths[pl.n++] = strdup(dir);
    } else {
        walk(dir, &pl, errs, 0);
    }
    qsort(pl.paths, pl.n, sizeof *pl.paths, cmp_str);
    conf_scenario **arr = calloc(pl.n ? pl.n : 1, sizeof *arr);
    size_t n = 0;
    for (size_t i = 0; i < pl.n; i++) {
        conf_scenario *s = arr ? conf_parse_file(pl.paths[i], dir, errs) : NULL;
        if (s) arr[n++] = s;
        free(pl.paths[i]);
    }
    free(pl.paths);
    if (arr) qsort(arr, n, sizeof *arr, cmp_sc);
    *out = arr;
    return n;
}
