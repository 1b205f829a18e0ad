/*
 * fz_rng: the live fuzzer's own PRNG (xoshiro256**, seeded through
 * splitmix64). Every random choice of mqtt-fuzz comes from here, never from
 * rand(), so a campaign is a pure function of --seed: session i of seed S is
 * the same on every machine and every run.
 */
#ifndef FZ_RNG_H
#define FZ_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} fz_rng;

/* Seeds from one 64-bit value (any value, 0 included). */
void fz_rng_seed(fz_rng *r, uint64_t seed);
/* The seed of session `index` of campaign `seed`: independent streams. */
uint64_t fz_rng_derive(uint64_t seed, uint64_t index);
uint64_t fz_rng_next(fz_rng *r);
/* Uniform in [0, n); 0 when n is 0. */
uint32_t fz_rng_below(fz_rng *r, uint32_t n);
/* True with probability num/den. */
bool fz_rng_chance(fz_rng *r, uint32_t num, uint32_t den);
/* One element of a table of n. */
#define FZ_PICK(r, table) ((table)[fz_rng_below((r), (uint32_t)(sizeof(table) / sizeof((table)[0])))])

#endif
