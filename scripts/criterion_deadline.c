/*
 * Two guards linked into every Criterion test binary of `make check`:
 *
 * A deadline for every test: a test that hangs (a peer that never answers, a
 * loop that never ends) fails as "suite::test: Timed out." and names itself,
 * instead of hanging the suite until scripts/run-suite.sh's per-suite deadline.
 *
 * Criterion 2.4.1 ignores its own `--timeout` option and
 * `criterion_options.timeout` (tried: a test sleeping 30 s passes after 30 s),
 * but honours a test's or suite's `.timeout`. So before the run this fills in
 * CRITERION_DEADLINE_S for every test that has neither; a test or suite that
 * sets its own `.timeout` keeps it.
 *
 * A test that cannot fail is caught: one that passed without running a
 * single assertion prints "[NOASSERT] suite::test ...", which run-suite.sh
 * counts as a failure (a test must assert what it checks; "no crash under
 * ASan" alone is not a check anyone can read).
 *
 * With deadlines set, LeakSanitizer reports 48 bytes allocated inside
 * libcriterion at the exit of test-conform (whose tests run threads; not
 * without the deadlines): a leak of the framework, not of the code under
 * test, so allocations by libcriterion are suppressed by name here, for the
 * binaries this file is linked into.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <stdio.h>

/* Generous: the slowest test (pcaps corpus: 150 runs of mqtt-pcap under ASan) takes 25 s
 * of CPU, 60 s of wall time at load 12 on 2 cores. */
#ifndef CRITERION_DEADLINE_S
#define CRITERION_DEADLINE_S 120.0
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

ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
    if (stats->test_status == CR_STATUS_PASSED && stats->passed_asserts + stats->failed_asserts == 0)
        printf("[NOASSERT] %s::%s: passed without running an assertion (a test that cannot fail)\n",
               stats->test->category, stats->test->name);
}

/* LeakSanitizer reads this hook (sanitizer/lsan_interface.h) at exit. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}
