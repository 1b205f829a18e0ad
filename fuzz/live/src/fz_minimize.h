/*
 * fz_minimize: delta debugging of a finding. First over steps (drop chunks
 * of steps, halving the chunk size, as long as the finding stays), then
 * over the bytes of each remaining step (drop chunks of bytes the same
 * way). "Stays" means the same class, and for spec and diff findings the
 * same rule. Bounded by a number of executions.
 */
#ifndef FZ_MINIMIZE_H
#define FZ_MINIMIZE_H

#include "fuzz/live/src/fz_eval.h"

/* Whether s, run once more, gives a finding of the same kind as f. */
bool fz_minimize_reproduces(fz_ctx *x, const fz_session *s, const fz_finding *f);
/* Shrinks *s in place. Returns the executions used. */
int fz_minimize(fz_ctx *x, fz_session *s, const fz_finding *f, int budget);

#endif
