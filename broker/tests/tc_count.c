/*
 * tc_count: wraps of libc calls the core makes (strcmp, fdatasync, rename), so
 * tests can count work and inject faults; the decoded-bytes count is
 * scripts/decode_count.c. The test binary is linked with -Wl,--wrap=...; the
 * broker is not: this is a test-only shim, no switch in the broker.
 */
#include "broker/tests/tc.h"

#include <errno.h>
#include <string.h>

/* String comparisons, to assert lookups are hashed (password file load). */
size_t tc_strcmp_calls;

int __real_strcmp(const char *a, const char *b);
int __wrap_strcmp(const char *a, const char *b);

int __wrap_strcmp(const char *a, const char *b)
{
    tc_strcmp_calls++;
    return __real_strcmp(a, b);
}

/* Faults for the persistence files (test_store.c): while set, fdatasync
 * fails with this errno, and rename fails with EIO when its target ends
 * with tc_fail_rename_suffix. */
int tc_fail_fdatasync;
const char *tc_fail_rename_suffix;

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);

int __wrap_fdatasync(int fd)
{
    if (tc_fail_fdatasync) {
        errno = tc_fail_fdatasync;
        return -1;
    }
    return __real_fdatasync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    size_t n = tc_fail_rename_suffix ? strlen(tc_fail_rename_suffix) : 0;
    size_t m = strlen(to);
    if (n && m >= n && memcmp(to + m - n, tc_fail_rename_suffix, n) == 0) {
        errno = EIO;
        return -1;
    }
    return __real_rename(from, to);
}
