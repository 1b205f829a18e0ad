/*
 * fz_target: the broker under test. Either an address given by the user
 * (--broker), or a command mqtt-fuzz starts itself (--spawn 'CMD {port}'):
 * {port} becomes a free port, stdout and stderr go to a log file per start
 * (DIR/target/broker-N.log), and the broker is restarted after every crash.
 * For a spawned broker it also answers: has it died (exit status), has its
 * log grown a sanitizer report, how much memory does it hold (VmRSS).
 */
#ifndef FZ_TARGET_H
#define FZ_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    const char *spawn_cmd;   /* NULL: an external broker at host:port */
    const char *logdir;      /* where broker-N.log files go */
    char host[256];
    uint16_t port;
    pid_t pid;               /* spawned and running, else 0 */
    int starts;
    char logpath[512];
    long log_seen;           /* bytes of the current log already scanned */
    int exit_status;         /* wait status of the last death */
} fz_target;

/* Starts a spawned target (no-op for an external one) and waits until it
 * accepts TCP, up to timeout_ms. Returns 0, or -1 with err filled (its log
 * path included). */
int fz_target_start(fz_target *t, int timeout_ms, char *err, size_t errlen);
/* SIGTERM, up to 2 s, then SIGKILL. */
void fz_target_stop(fz_target *t);
/* Spawned target that has exited (waits up to wait_ms for it to do so):
 * true, and a description ("killed by signal 11", "exit status 1"). */
bool fz_target_died(fz_target *t, int wait_ms, char *what, size_t cap);
/* New sanitizer report text in the log since the last call: 1 and the
 * report's first lines (with the stack) in report, else 0. */
int fz_target_sanitizer(fz_target *t, char *report, size_t cap);
/* Resident memory of the spawned broker in KiB, or -1. */
long fz_target_rss_kb(const fz_target *t);

#endif
