/*
 * fz_corpus: loading and saving the corpus directory (see fz_corpus.h).
 */
#include "fuzz/live/src/fz_corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fz_mkdirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of DIR/NAME.sess (at most FZ_CORPUS_MAX). */
static size_t list(const char *dir, char **names)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d)) && n < FZ_CORPUS_MAX;) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".sess") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    return n;
}

int fz_corpus_load(fz_corpus *c, const char *dir, char *err, size_t errlen)
{
    static char *names[FZ_CORPUS_MAX];
    size_t n = list(dir, names);
    int rc = 0;
    c->n = 0;
    c->s = n ? calloc(n, sizeof *c->s) : NULL;
    for (size_t i = 0; i < n; i++) {
        char path[1024], msg[200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *fp = fopen(path, "r");
        if (rc == 0 && c->s && fp && fz_session_read(&c->s[c->n], fp, msg, sizeof msg) == 0) c->n++;
        else if (rc == 0) {
            snprintf(err, errlen, "%s: %s", path, fp ? msg : strerror(errno));
            rc = -1;
        }
        if (fp) fclose(fp);
        free(names[i]);
    }
    return rc;
}

int fz_corpus_save(const char *dir, const fz_session *s)
{
    char path[1024];
    if (fz_mkdirs(dir) != 0) return -1;
    snprintf(path, sizeof path, "%s/%016llx.sess", dir, (unsigned long long)fz_session_hash(s));
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    int rc = fz_session_write(s, fp);
    return fclose(fp) == 0 ? rc : -1;
}

void fz_corpus_free(fz_corpus *c)
{
    for (size_t i = 0; i < c->n; i++) fz_session_free(&c->s[i]);
    free(c->s);
    c->s = NULL;
    c->n = 0;
}
