/*
 * A deadline for every Criterion test, linked into every test binary of
 * `make check`: a test that hangs (a peer that never answers, a loop that
 * never ends) fails as "suite::test: Timed out." and names itself, instead of
 * hanging the suite until scripts/run-suite.sh's per-suite deadline.
 *
 * Criterion 2.4.1 ignores its own `--timeout` option and
 * `criterion_options.timeout` (tried: a test sleeping 30 s passes after 30 s),
 * but honours a test's or suite's `.timeout`. So before the run this fills in
 * CRITERION_DEADLINE_S for every test that has neither; a test or suite that
 * sets its own `.timeout` keeps it.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>

/* Generous: the slowest test under ASan on a loaded 2-core machine takes a few seconds. */
#ifndef CRITERION_DEADLINE_S
#define CRITERION_DEADLINE_S 60.0
#endif

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    FOREACH_SET(struct criterion_suite_set *s, set->suites) {
        bool suite_has_one = s->suite.data && s->suite.data->timeout > 0;
        FOREACH_SET(struct criterion_test *t, s->tests) {
            if (t->data && t->data->timeout <= 0 && !suite_has_one) t->data->timeout = CRITERION_DEADLINE_S;
        }
    }
}
