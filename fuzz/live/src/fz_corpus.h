/*
 * fz_corpus: the resumable corpus directory (DIR/corpus/NAME.sess): sessions
 * that made the broker answer with something not seen before (a packet
 * type, reason code or property). A later campaign with the same --out
 * loads them (in name order, so deterministically) and mutates them too.
 */
#ifndef FZ_CORPUS_H
#define FZ_CORPUS_H

#include "fuzz/live/src/fz_session.h"

#define FZ_CORPUS_MAX 4096

typedef struct {
    fz_session *s;
    size_t n;
} fz_corpus;

/* Loads every DIR/NAME.sess. A missing directory is an empty corpus. Returns 0,
 * or -1 with err naming the file and line that does not parse. */
int fz_corpus_load(fz_corpus *c, const char *dir, char *err, size_t errlen);
/* Saves s as DIR/<hash>.sess (creating DIR). Returns 0 or -1. */
int fz_corpus_save(const char *dir, const fz_session *s);
void fz_corpus_free(fz_corpus *c);
/* mkdir -p. Returns 0 or -1. */
int fz_mkdirs(const char *path);

#endif
