/*
 * fz_campaign: the fuzzing loop of one worker. Session i of the campaign is
 * a pure function of (--seed, i) and of the corpus as it was when the
 * campaign started (sessions found interesting during the run are saved for
 * the next run, not fed back into this one), so the same seed gives the same
 * sequence of sessions, whatever the broker answers. With -j N, worker k
 * runs sessions k, k+N, k+2N ...
 */
#ifndef FZ_CAMPAIGN_H
#define FZ_CAMPAIGN_H

#include "fuzz/live/src/fz_cover.h"
#include "fuzz/live/src/fz_finding.h"
#include "fuzz/live/src/fz_opts.h"

#define FZ_MAX_GROUPS 64

typedef struct {
    fz_class cls;
    char rule[32];
    char sig[160];
    char line[700];          /* the one-line summary */
    char dir[300];
    int count;
    long first_session;
    double first_seconds;    /* since the campaign started */
} fz_group;

/* One worker's numbers; lives in shared memory so the parent can show progress. */
typedef struct {
    long sessions, execs;
    long findings[FZ_NCLASS];
    double seconds, first_finding_s;
    uint64_t chain;          /* sum over sessions of hash(session i, i): same seed, same chain, any -j */
    int ngroups, corpus, corpus_new;
    bool done, lost;         /* lost: the external broker went down */
    fz_group groups[FZ_MAX_GROUPS];
    fz_cover cov;
} fz_stats;

#include <signal.h>

/* Set by SIGINT/SIGTERM: workers finish the session they are in, then stop. */
extern volatile sig_atomic_t fz_stop_requested;

/* Builds session i (for --list-sessions and the campaign). */
void fz_campaign_session(const fz_opts *o, long i, fz_session *s, void *corpus);
/* Runs worker `w` of o->jobs; fills *st as it goes. Returns 0, or 2 when the
 * broker could not be reached at the start (message printed). */
int fz_campaign_run(const fz_opts *o, int w, fz_stats *st, fz_stats *all);

#endif
