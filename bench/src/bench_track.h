/*
 * bench_track: what one subscriber received from each publisher, to count
 * losses, duplicates and reordering exactly.
 *
 * Per publisher (keyed by run id and publisher index, so messages of other
 * runs never mix in) it keeps a growable bit set of the sequence numbers
 * seen. A number seen twice is a duplicate; a new number below the highest
 * seen is out of order. Memory is one bit per message sent, per pair.
 */
#ifndef BENCH_TRACK_H
#define BENCH_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t key;         /* run_id << 32 | publisher index; 0 = empty slot */
    uint64_t *bits;
    size_t words;
    uint64_t distinct, dups, ooo;
    uint64_t next;        /* highest sequence seen + 1 */
} bench_pair;

typedef struct bench_track {
    bench_pair *slots;
    size_t cap, used;
} bench_track;

/* Sequence numbers at or above this are refused (TRACK_REJECT): a bit set
 * for them would take more than 512 MiB. */
#define BENCH_TRACK_MAX_SEQ ((uint64_t)1 << 32)

typedef enum { TRACK_NEW, TRACK_DUP, TRACK_OOO, TRACK_REJECT } track_result;

void bench_track_init(bench_track *t);
void bench_track_free(bench_track *t);
/* Records sequence seq from (run_id, pub). */
track_result bench_track_add(bench_track *t, uint32_t run_id, uint32_t pub, uint64_t seq);
/* The last bench_track_add of (run_id, pub) said TRACK_OOO for a message no
 * order binds (a retained message sent on subscribe): it is not counted. */
void bench_track_unorder(bench_track *t, uint32_t run_id, uint32_t pub);
/* The pair of (run_id, pub), or NULL if nothing came from it. */
const bench_pair *bench_track_get(const bench_track *t, uint32_t run_id, uint32_t pub);
/* Whether seq is in the pair's set. */
bool bench_pair_has(const bench_pair *p, uint64_t seq);

#endif
