/*
 * fz_client_script: the record of a client-fuzzing session, our writes with
 * their anchors (see fz_client.h), in memory and as text:
 *   # comment
 *   after 0 send 20020000
 *   after 12 close
 */
#include "fuzz/live/src/fz_client.h"

#include <stdlib.h>
#include <string.h>

void fz_cscript_free(fz_cscript *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->w[i].bytes);
    s->n = 0;
}

int fz_cscript_add(fz_cscript *s, uint32_t anchor, bool close, const uint8_t *b, size_t len)
{
    if (s->n == FZ_CMAX_WRITES || len > FZ_CMAX_WRITE) return -1;
    uint8_t *copy = NULL;
    if (!close && len) {
        if (!(copy = malloc(len))) return -1;
        memcpy(copy, b, len);
    }
    s->w[s->n++] = (fz_cwrite){anchor, close, close ? 0 : (uint32_t)len, copy};
    return 0;
}

int fz_cscript_copy(fz_cscript *dst, const fz_cscript *src)
{
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++)
        if (fz_cscript_add(dst, src->w[i].anchor, src->w[i].close, src->w[i].bytes, src->w[i].len) != 0) {
            fz_cscript_free(dst);
            return -1;
        }
    return 0;
}

int fz_cscript_write(const fz_cscript *s, FILE *fp)
{
    for (size_t i = 0; i < s->n; i++) {
        fprintf(fp, "after %u %s", s->w[i].anchor, s->w[i].close ? "close" : "send ");
        for (uint32_t k = 0; k < s->w[i].len; k++) fprintf(fp, "%02x", s->w[i].bytes[k]);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

static int hex_line(const char *h, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    for (; h[0] && h[0] != '\n'; h += 2) {
        unsigned v;
        if (!h[1] || sscanf(h, "%2x", &v) != 1 || *n == cap) return -1;
        out[(*n)++] = (uint8_t)v;
    }
    return 0;
}

int fz_cscript_read(fz_cscript *s, FILE *fp, char *err, size_t errlen)
{
    static char line[2 * FZ_CMAX_WRITE + 64];
    static uint8_t bytes[FZ_CMAX_WRITE];
    s->n = 0;
    for (int no = 1; fgets(line, sizeof line, fp); no++) {
        unsigned anchor;
        char verb[8];
        int used = 0;
        size_t n = 0;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (sscanf(line, "after %u %7s %n", &anchor, verb, &used) < 2 || (strcmp(verb, "send") && strcmp(verb, "close")) ||
            (!strcmp(verb, "send") && hex_line(line + used, bytes, sizeof bytes, &n) != 0) ||
            fz_cscript_add(s, anchor, !strcmp(verb, "close"), bytes, n) != 0) {
            snprintf(err, errlen, "line %d: expected 'after N send HEX' or 'after N close'", no);
            fz_cscript_free(s);
            return -1;
        }
    }
    return 0;
}
