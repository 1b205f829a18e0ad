/* Starting and stopping the reference broker when no --broker is given. */
#ifndef CONF_SPAWN_H
#define CONF_SPAWN_H
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/* What the suite expects of the reference broker beyond its defaults (the
 * spawned broker's configuration file, and the in-process one's, inproc.c). */
#define CONF_REFERENCE_CONFIG \
    "# Written by mqtt-conform: the reference broker as the conformance suite runs it.\n" \
    "max_packet_size 1048576\n"

typedef struct {
    pid_t pid;                /* > 0 while the child is ours and not reaped */
    char host[64];
    uint16_t port;
    char log[4096];           /* where its stdout and stderr go */
    bool died;                /* reaped before we stopped it: a crash */
    char died_how[64];        /* "killed by signal 11" ... */
} conf_broker_proc;

/* Runs `bin -p 0` with stdout and stderr into logpath and waits (timeout_ms)
 * for its line "listening on HOST:PORT". Returns 0, or -1 with msg filled
 * (the broker is stopped again). */
int conf_broker_start(const char *bin, const char *logpath, int timeout_ms, conf_broker_proc *b,
                      char *msg, size_t msglen);
/* SIGTERM, wait up to 3 s, then SIGKILL; always reaps the child. Returns 0
 * when it stopped cleanly (exit status 0 on our SIGTERM), -1 when it had died
 * before (b->died), exited with another status, was killed by a signal or
 * had to be killed; msg says which. Does nothing (0, "not running") when
 * there is no child. */
int conf_broker_stop(conf_broker_proc *b, char *msg, size_t msglen);
/* Reaps the child if it has exited (waitpid WNOHANG, so a zombie counts as
 * dead, unlike kill(pid, 0)). Returns true while it runs. */
bool conf_broker_alive(conf_broker_proc *b);
/* Looks for an AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer
 * report in the broker's log. Returns true with its first line in msg. */
bool conf_broker_sanitizer_report(const conf_broker_proc *b, char *msg, size_t msglen);
/* On SIGINT, SIGTERM and SIGHUP: stop the broker b (SIGTERM, then SIGKILL
 * after 2 s), then die of the signal as if it had not been caught. b must
 * stay valid while the handlers are installed. */
void conf_broker_guard(conf_broker_proc *b);
#endif
