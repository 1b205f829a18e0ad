/*
 * seeds-scenario: seeds for the codec harnesses from the conformance
 * scenarios' `send raw` steps (hand-made malformed packets).
 *
 *   seeds-scenario OUTDIR SCENARIO.mqs...
 *
 * Parses each scenario with the runner's parser, and for each `send raw`
 * step and each version it runs in, assembles the bytes as the runner does
 * (hex bytes, `*` = Remaining Length of what follows, "text", s"text" with a
 * 2-byte length; ${...} substituted with the namespace "fz") and writes them
 * as a client stream seed (seed_out.h): SCENARIO.lLINE.vVERSION. A scenario
 * that does not parse is an error (exit 1).
 */
#include "conformance/src/conform.h"
#include "fuzz/seed_out.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_CAP 4096

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t k;
    while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *t = realloc(s, cap * 2);
            if (!t) { free(s); s = NULL; break; }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s) s[n] = '\0';
    return s;
}

/* The bytes of one raw step for version slot vi; returns the length, 0 if it cannot be built. */
static size_t assemble(const conf_step *st, int vi, uint8_t *out)
{
    size_t n = 0, star_at = (size_t)-1;
    for (size_t i = 0; i < st->nraw; i++) {
        const conf_raw_tok *t = &st->raw[i];
        if (t->kind == RT_STAR) { star_at = n; continue; }
        size_t vl = t->len;
        char *v = NULL;
        const char *src = t->text;
        if (t->kind != RT_BYTES) {
            char err[200];
            conf_vars vars = {0};
            v = conf_subst(t->text, t->len, "fz", vi, &vars, &vl, err, sizeof err);
            if (!v) return 0; /* a captured variable: not known here */
            src = v;
        }
        if (n + vl + 2 > RAW_CAP - 4) { free(v); return 0; }
        if (t->kind == RT_MQTTSTR) {
            out[n++] = (uint8_t)(vl >> 8);
            out[n++] = (uint8_t)vl;
        }
        memcpy(out + n, src, vl);
        n += vl;
        free(v);
    }
    if (star_at != (size_t)-1) {
        size_t rem = n - star_at;
        uint8_t vbi[4];
        size_t k = 0;
        do {
            uint8_t b = (uint8_t)(rem & 0x7F);
            rem >>= 7;
            vbi[k++] = (uint8_t)(b | (rem ? 0x80 : 0));
        } while (rem && k < 4);
        memmove(out + star_at + k, out + star_at, n - star_at);
        memcpy(out + star_at, vbi, k);
        n += k;
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: seeds-scenario OUTDIR SCENARIO.mqs...\n");
        return 2;
    }
    static uint8_t buf[RAW_CAP];
    unsigned written = 0;
    for (int i = 2; i < argc; i++) {
        char *text = read_all(argv[i]);
        if (!text) {
            fprintf(stderr, "seeds-scenario: cannot read %s\n", argv[i]);
            return 1;
        }
        conf_errors errs = {0};
        conf_scenario *sc = conf_parse_scenario(argv[i], "seeds/00-seed", text, &errs);
        free(text);
        if (!sc) {
            fprintf(stderr, "seeds-scenario: %s\n", errs.count ? errs.msgs[0] : argv[i]);
            conf_errors_free(&errs);
            return 1;
        }
        conf_errors_free(&errs);
        char path[1024];
        snprintf(path, sizeof path, "%s", argv[i]);
        const char *base = basename(path);
        for (size_t s = 0; s < sc->nsteps; s++) {
            const conf_step *st = &sc->steps[s];
            if (st->kind != ST_SEND_RAW) continue;
            for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
                if (!(sc->vmask & st->vmask & CONF_VBIT(vi))) continue;
                size_t n = assemble(st, vi, buf);
                if (!n) continue;
                char name[600];
                snprintf(name, sizeof name, "%s.l%d.%s", base, st->line, conf_vi_name(vi));
                if (seed_out_write(argv[1], name, seed_out_selector(conf_vi_version(vi), MQTT_FROM_CLIENT), buf,
                                   n) != 0) {
                    conf_scenario_free(sc);
                    return 1;
                }
                written++;
            }
        }
        conf_scenario_free(sc);
    }
    printf("seeds-scenario: %u raw packets from %d scenarios in %s/{decode,roundtrip,stream}\n", written,
           argc - 2, argv[1]);
    return 0;
}
