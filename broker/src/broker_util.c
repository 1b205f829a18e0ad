/*
 * broker_util: allocation that cannot fail, a hash map of item pointers,
 * growable byte buffers and topic level splitting.
 *
 * The map is open addressing with linear probing and backward-shift
 * deletion, so there are no tombstones and a lookup stops at the first empty
 * slot. Items carry their own keys; the caller passes the hash and an
 * equality callback. Load factor stays below 3/4.
 */
#include "broker/src/broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "mqtt-broker: out of memory allocating %zu bytes\n", n);
    abort();
}

void *broker_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *broker_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory(n * size);
    return p;
}

void *broker_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

/* FNV-1a with a final avalanche (murmur3 fmix32). */
uint32_t broker_hash(const void *data, size_t len, uint32_t seed)
{
    const uint8_t *p = data;
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

void *broker_map_get(const broker_map *m, uint32_t hash, const void *key, broker_map_eq eq)
{
    if (m->cap == 0) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const broker_map_slot *s = &m->slots[i];
        if (!s->item) return NULL;
        if (s->hash == hash && eq(s->item, key)) return s->item;
    }
}

static void map_insert(broker_map_slot *slots, size_t cap, uint32_t hash, void *item)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;
    while (slots[i].item) i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].item = item;
}

void broker_map_put(broker_map *m, uint32_t hash, void *item)
{
    if ((m->count + 1) * 4 > m->cap * 3) {
        size_t ncap = m->cap ? m->cap * 2 : 8;
        broker_map_slot *ns = broker_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].item) map_insert(ns, ncap, m->slots[i].hash, m->slots[i].item);
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    map_insert(m->slots, m->cap, hash, item);
    m->count++;
}

void broker_map_remove(broker_map *m, uint32_t hash, const void *item)
{
    if (m->cap == 0) return;
    size_t mask = m->cap - 1;
    size_t i = hash & mask;
    for (;; i = (i + 1) & mask) {
        if (!m->slots[i].item) return; /* not present */
        if (m->slots[i].item == item) break;
    }
    /* Backward shift: pull later entries of the cluster into the hole when
     * their home slot is not between the hole and their position. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].item; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].item = NULL;
    m->slots[hole].hash = 0;
    m->count--;
    if (m->count == 0) {
        free(m->slots);
        m->slots = NULL;
        m->cap = 0;
    }
}

void broker_map_free(broker_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static size_t mem_held;

void broker_mem_add(size_t n)
{
    mem_held += n;
}

void broker_mem_sub(size_t n)
{
    mem_held = n > mem_held ? 0 : mem_held - n;
}

size_t broker_mem_held(void)
{
    return mem_held;
}

size_t broker_buf_growth(const broker_buf *b, size_t n)
{
    size_t pending = b->len - b->off;
    return b->cap - pending >= n ? 0 : pending + n - b->cap;
}

uint8_t *broker_buf_reserve_within(broker_buf *b, size_t n, uint64_t limit)
{
    if (b->cap - b->len < n) {
        /* Reclaim consumed space first, then grow geometrically. */
        if (b->off > 0) {
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        if (b->cap - b->len < n) {
            size_t ncap = b->cap ? b->cap : 256;
            while (ncap - b->len < n) ncap *= 2;
            if (limit && (uint64_t)mem_held + (ncap - b->cap) > limit) {
                /* No step past the limit: half the room left (so a buffer
                 * filling up near it is still copied O(log) times), at least
                 * what n needs. */
                uint64_t room = limit > mem_held ? limit - mem_held : 0;
                size_t part = b->cap + (size_t)(room / 2);
                ncap = part > b->len + n ? part : b->len + n;
            }
            b->data = broker_xrealloc(b->data, ncap);
            broker_mem_add(ncap - b->cap);
            b->cap = ncap;
        }
    }
    return b->data + b->len;
}

uint8_t *broker_buf_reserve(broker_buf *b, size_t n)
{
    return broker_buf_reserve_within(b, n, 0);
}

void broker_buf_consume(broker_buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len) broker_buf_free(b); /* idle connections hold no buffer */
}

void broker_buf_free(broker_buf *b)
{
    broker_mem_sub(b->cap);
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

void broker_levels_split(broker_levels *lv, mqtt_bytes topic)
{
    lv->count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= topic.len; i++) {
        if (i < topic.len && topic.ptr[i] != '/') continue;
        if (lv->count == lv->cap) {
            lv->cap = lv->cap ? lv->cap * 2 : 16;
            lv->levels = broker_xrealloc(lv->levels, lv->cap * sizeof *lv->levels);
        }
        lv->levels[lv->count].ptr = topic.ptr ? topic.ptr + start : NULL;
        lv->levels[lv->count].len = i - start;
        lv->count++;
        start = i + 1;
    }
}

void broker_levels_free(broker_levels *lv)
{
    free(lv->levels);
    lv->levels = NULL;
    lv->count = lv->cap = 0;
}
