/*
 * fz_session: session storage, copying, hashing and the text form (see
 * fz_session.h). The text form is line-oriented and strict: a corpus file
 * that does not parse is reported with its line, never half-loaded.
 */
#include "fuzz/live/src/fz_session.h"

#include <stdlib.h>
#include <string.h>

void fz_session_init(fz_session *s, mqtt_version v, const char *ns, uint8_t nclients)
{
    memset(s, 0, sizeof *s);
    s->version = v;
    s->nclients = nclients;
    snprintf(s->ns, sizeof s->ns, "%s", ns);
}

void fz_session_free(fz_session *s)
{
    for (size_t i = 0; i < s->nsteps; i++) free(s->steps[i].bytes);
    s->nsteps = 0;
}

int fz_step_set(fz_step *st, const uint8_t *b, size_t len)
{
    if (len > FZ_MAX_STEP_BYTES) len = FZ_MAX_STEP_BYTES;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -1;
    if (len) memcpy(copy, b, len);
    free(st->bytes);
    st->bytes = copy;
    st->len = (uint16_t)len;
    return 0;
}

int fz_session_insert(fz_session *s, size_t at, fz_step_kind kind, uint8_t client,
                      const uint8_t *b, size_t len)
{
    if (s->nsteps >= FZ_MAX_STEPS || at > s->nsteps) return -1;
    fz_step st = {.kind = (uint8_t)kind, .client = client};
    if (kind == FZ_SEND && fz_step_set(&st, b, len) != 0) return -1;
    memmove(&s->steps[at + 1], &s->steps[at], (s->nsteps - at) * sizeof st);
    s->steps[at] = st;
    s->nsteps++;
    return 0;
}

int fz_session_add(fz_session *s, fz_step_kind kind, uint8_t client, const uint8_t *b, size_t len)
{
    return fz_session_insert(s, s->nsteps, kind, client, b, len);
}

void fz_session_remove(fz_session *s, size_t at)
{
    if (at >= s->nsteps) return;
    free(s->steps[at].bytes);
    memmove(&s->steps[at], &s->steps[at + 1], (s->nsteps - at - 1) * sizeof s->steps[0]);
    s->nsteps--;
}

int fz_session_copy(fz_session *dst, const fz_session *src)
{
    fz_session_init(dst, src->version, src->ns, src->nclients);
    for (size_t i = 0; i < src->nsteps; i++) {
        const fz_step *st = &src->steps[i];
        if (fz_session_add(dst, st->kind, st->client, st->bytes, st->len) != 0) {
            fz_session_free(dst);
            return -1;
        }
    }
    return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

/* FNV over b with every occurrence of ns hashed as NUL bytes. */
static uint64_t fnv_masked(uint64_t h, const uint8_t *b, size_t n, const char *ns)
{
    static const uint8_t zero[FZ_NS_LEN];
    for (size_t i = 0; i < n;) {
        if (i + FZ_NS_LEN <= n && memcmp(b + i, ns, FZ_NS_LEN) == 0) {
            h = fnv(h, zero, FZ_NS_LEN);
            i += FZ_NS_LEN;
        } else {
            h = fnv(h, b + i++, 1);
        }
    }
    return h;
}

uint64_t fz_session_hash(const fz_session *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    uint8_t head[2] = {(uint8_t)s->version, s->nclients};
    h = fnv(h, head, 2);
    for (size_t i = 0; i < s->nsteps; i++) {
        const fz_step *st = &s->steps[i];
        uint8_t k[2] = {st->kind, st->client};
        h = fnv(h, k, 2);
        h = fnv_masked(h, st->bytes, st->kind == FZ_SEND ? st->len : 0, s->ns);
    }
    return h;
}

size_t fz_session_bytes(const fz_session *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsteps; i++) n += s->steps[i].kind == FZ_SEND ? s->steps[i].len : 0;
    return n;
}

char fz_client_name(uint8_t client)
{
    return (char)('a' + client);
}

mqtt_version fz_version_parse(const char *t)
{
    if (strcmp(t, "3.1") == 0) return MQTT_V31;
    if (strcmp(t, "3.1.1") == 0) return MQTT_V311;
    if (strcmp(t, "5.0") == 0 || strcmp(t, "5") == 0) return MQTT_V5;
    return MQTT_VERSION_UNKNOWN;
}

int fz_session_append(fz_session *dst, const fz_session *src)
{
    for (uint8_t c = 0; c < dst->nclients; c++)
        if (fz_session_add(dst, FZ_CLOSE, c, NULL, 0) != 0) return -1;
    if (src->nclients > dst->nclients) dst->nclients = src->nclients;
    for (size_t i = 0; i < src->nsteps; i++) {
        const fz_step *st = &src->steps[i];
        if (fz_session_add(dst, st->kind, st->client, st->bytes, st->len) != 0) return -1;
    }
    return 0;
}

void fz_make_ns(uint64_t h, char *ns)
{
    static const char a36[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    ns[0] = a36[h % 26];
    h /= 26;
    for (int i = 1; i < FZ_NS_LEN; i++, h /= 36) ns[i] = a36[h % 36];
    ns[FZ_NS_LEN] = '\0';
}

void fz_session_rename(fz_session *s, const char *ns)
{
    for (size_t i = 0; i < s->nsteps; i++) {
        fz_step *st = &s->steps[i];
        for (size_t j = 0; st->kind == FZ_SEND && j + FZ_NS_LEN <= st->len; j++)
            if (memcmp(st->bytes + j, s->ns, FZ_NS_LEN) == 0) memcpy(st->bytes + j, ns, FZ_NS_LEN);
    }
    memcpy(s->ns, ns, FZ_NS_LEN + 1);
}
