/*
 * fz_cover: coverage of the broker's answers: which packet types, which
 * reason codes (per packet type) and which 5.0 properties (per packet type)
 * the broker sent, per protocol version. A session that reaches something
 * new is "interesting" and joins the corpus.
 */
#ifndef FZ_COVER_H
#define FZ_COVER_H

#include "fuzz/live/src/fz_exec.h"

typedef struct {
    uint8_t type[3][16];          /* [version slot][packet type] */
    uint8_t reason[3][16][256];
    uint8_t prop[3][16][64];
} fz_cover;

/* Adds what the run's broker answers reached. Returns how many items were new. */
int fz_cover_add(fz_cover *cov, const fz_run *run);
/* Totals over versions: distinct packet types, (type, reason code) pairs, (type, property) pairs. */
void fz_cover_totals(const fz_cover *cov, int *types, int *reasons, int *props);
/* JSON object with the per-version lists ("5.0": {"types": [...], ...}). */
void fz_cover_json(const fz_cover *cov, FILE *fp);
/* Merges src into dst. */
void fz_cover_merge(fz_cover *dst, const fz_cover *src);

#endif
