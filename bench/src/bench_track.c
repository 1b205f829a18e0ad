/*
 * bench_track: loss / duplicate / order bookkeeping (bench_track.h).
 * An open-addressing table of pairs, doubled at half load; keys are never 0
 * because the stored key is (run_id << 32 | pub) + 1.
 */
#include "bench/src/bench_track.h"

#include <stdlib.h>
#include <string.h>

void bench_track_init(bench_track *t)
{
    memset(t, 0, sizeof *t);
}

void bench_track_free(bench_track *t)
{
    for (size_t i = 0; i < t->cap; i++) free(t->slots[i].bits);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static size_t slot_of(const bench_track *t, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & (t->cap - 1);
    while (t->slots[i].key && t->slots[i].key != key) i = (i + 1) & (t->cap - 1);
    return i;
}

static int grow(bench_track *t)
{
    bench_track n = {.cap = t->cap ? t->cap * 2 : 16};
    n.slots = calloc(n.cap, sizeof *n.slots);
    if (!n.slots) return -1;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key) n.slots[slot_of(&n, t->slots[i].key)] = t->slots[i];
    n.used = t->used;
    free(t->slots);
    *t = n;
    return 0;
}

static uint64_t make_key(uint32_t run_id, uint32_t pub)
{
    return ((uint64_t)run_id << 32 | pub) + 1u;
}

bool bench_pair_has(const bench_pair *p, uint64_t seq)
{
    return seq / 64u < p->words && (p->bits[seq / 64u] >> (seq % 64u) & 1u);
}

static int ensure_bits(bench_pair *p, uint64_t seq)
{
    size_t need = (size_t)(seq / 64u) + 1u;
    if (need <= p->words) return 0;
    size_t words = p->words ? p->words : 16;
    while (words < need) words *= 2;
    uint64_t *b = realloc(p->bits, words * sizeof *b);
    if (!b) return -1;
    memset(b + p->words, 0, (words - p->words) * sizeof *b);
    p->bits = b;
    p->words = words;
    return 0;
}

track_result bench_track_add(bench_track *t, uint32_t run_id, uint32_t pub, uint64_t seq)
{
    if (seq >= BENCH_TRACK_MAX_SEQ) return TRACK_REJECT;
    if ((t->used + 1) * 2 > t->cap && grow(t) != 0) return TRACK_REJECT;
    uint64_t key = make_key(run_id, pub);
    bench_pair *p = &t->slots[slot_of(t, key)];
    if (!p->key) {
        p->key = key;
        t->used++;
    }
    if (bench_pair_has(p, seq)) {
        p->dups++;
        return TRACK_DUP;
    }
    if (ensure_bits(p, seq) != 0) return TRACK_REJECT;
    p->bits[seq / 64u] |= (uint64_t)1 << (seq % 64u);
    p->distinct++;
    if (seq + 1u > p->next) {
        p->next = seq + 1u;
        return TRACK_NEW;
    }
    p->ooo++;
    return TRACK_OOO;
}

const bench_pair *bench_track_get(const bench_track *t, uint32_t run_id, uint32_t pub)
{
    if (!t->cap) return NULL;
    const bench_pair *p = &t->slots[slot_of(t, make_key(run_id, pub))];
    return p->key ? p : NULL;
}

void bench_track_unorder(bench_track *t, uint32_t run_id, uint32_t pub)
{
    if (!t->cap) return;
    bench_pair *p = &t->slots[slot_of(t, make_key(run_id, pub))];
    if (p->key && p->ooo) p->ooo--;
}
