/*
 * fz_mutate: breaking valid sessions. Packet-level mutations work on the
 * bytes of one step, knowing the fixed header and where fields start: flags,
 * packet type (including types that only a server sends), Remaining Length
 * (off by some, non-minimal, huge), field values at and beyond their limits
 * (lengths, packet ids, QoS and subscription options, property values),
 * property identifiers inserted or duplicated, UTF-8 broken (overlong,
 * surrogates, U+0000), truncation, and one packet split over two TCP
 * writes. Session-level mutations reorder, repeat and drop steps, close a
 * connection early, or move a packet to another client.
 */
#ifndef FZ_MUTATE_H
#define FZ_MUTATE_H

#include "fuzz/live/src/fz_rng.h"
#include "fuzz/live/src/fz_session.h"

/* Applies 1..max_ops random mutations to *s. Deterministic in *r. */
void fz_mutate_session(fz_rng *r, fz_session *s, unsigned max_ops);

/* Names of the mutation operators, for the summary (index = operator). */
extern const char *const fz_mutation_names[];
extern const unsigned fz_mutation_count;

#endif
