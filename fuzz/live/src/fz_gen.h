/*
 * fz_gen: grammar-aware generation of valid sessions with libmqttcodec's
 * encoder: CONNECTs with random but valid properties and Wills, SUBSCRIBE,
 * UNSUBSCRIBE, PUBLISH and acknowledgements in plausible orders, several
 * clients sharing topics and sometimes client ids (takeovers), retained
 * messages, shared subscriptions, reconnects and abrupt closes. Every packet
 * is one the codec's decoder accepts; mutations (fz_mutate) break them.
 */
#ifndef FZ_GEN_H
#define FZ_GEN_H

#include "fuzz/live/src/fz_rng.h"
#include "fuzz/live/src/fz_session.h"

/* Fills *s (initialised by the caller with version, ns and nclients) with
 * a session of about `steps` steps. Deterministic in *r. */
void fz_gen_session(fz_rng *r, fz_session *s, size_t steps);

#endif
