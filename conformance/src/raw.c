/*
 * `send raw` bytes of a step, as written: hex bytes, quoted text and
 * s"..." MQTT strings (values substituted per run), and a `*` where the
 * Remaining Length of what follows goes. Shared by both seats: the engine
 * (runner as client) and the broker seat (runner as server). Bytes are bytes:
 * nothing here checks that they form a valid packet.
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inserts the Remaining Length of buf[at..n) at `at`, as a variable byte integer. */
static uint8_t *insert_length(uint8_t *buf, size_t *n, size_t at)
{
    size_t rem = *n - at;
    uint8_t vbi[4];
    size_t k = 0;
    do {
        uint8_t d = rem % 128;
        rem /= 128;
        if (rem) d |= 0x80;
        vbi[k++] = d;
    } while (rem && k < 4);
    uint8_t *nb = realloc(buf, *n + k + 1);
    if (!nb) { free(buf); return NULL; }
    memmove(nb + at + k, nb + at, *n - at);
    memcpy(nb + at, vbi, k);
    *n += k;
    return nb;
}

uint8_t *conf_raw_bytes(const conf_step *st, const char *ns, int vi, const conf_vars *vars, size_t *out_len,
                        char *err, size_t errlen)
{
    size_t cap = 256, n = 0, star_at = (size_t)-1;
    uint8_t *buf = malloc(cap);
    for (size_t i = 0; buf && i < st->nraw; i++) {
        const conf_raw_tok *t = &st->raw[i];
        char *v = NULL;
        size_t vl = 0;
        if (t->kind == RT_STAR) { star_at = n; continue; }
        if (t->kind == RT_BYTES) { v = malloc(t->len + 1); if (v) memcpy(v, t->text, t->len); vl = t->len; }
        else if (!(v = conf_subst(t->text, t->len, ns, vi, vars, &vl, err, errlen))) { free(buf); return NULL; }
        if (!v) break;
        if (n + vl + 2 > cap) {
            cap = (n + vl + 2) * 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(v); free(buf); buf = NULL; break; }
            buf = nb;
        }
        if (t->kind == RT_MQTTSTR) {
            buf[n++] = (uint8_t)(vl >> 8);
            buf[n++] = (uint8_t)vl;
        }
        memcpy(buf + n, v, vl);
        n += vl;
        free(v);
    }
    if (buf && star_at != (size_t)-1) buf = insert_length(buf, &n, star_at);
    if (!buf) { snprintf(err, errlen, "out of memory"); return NULL; }
    *out_len = n;
    return buf;
}
