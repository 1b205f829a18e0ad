/*
 * fz_rng: xoshiro256** (Blackman, Vigna) seeded by splitmix64. Fast, small
 * state, good enough statistics for choosing mutations; not cryptographic.
 */
#include "fuzz/live/src/fz_rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void fz_rng_seed(fz_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t fz_rng_derive(uint64_t seed, uint64_t index)
{
    uint64_t x = seed ^ (index * 0xD1B54A32D192ED03ull);
    splitmix64(&x);
    return splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t fz_rng_next(fz_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t fz_rng_below(fz_rng *r, uint32_t n)
{
    if (n == 0) return 0;
    /* Lemire's multiply-shift; the tiny bias is irrelevant for fuzzing. */
    return (uint32_t)(((fz_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

bool fz_rng_chance(fz_rng *r, uint32_t num, uint32_t den)
{
    return fz_rng_below(r, den) < num;
}
