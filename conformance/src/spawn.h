/* Starting and stopping the reference broker when no --broker is given. */
#ifndef CONF_SPAWN_H
#define CONF_SPAWN_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char host[64];
    uint16_t port;
} conf_broker_proc;

/* Runs `bin -p 0` with stdout and stderr into logpath and waits (timeout_ms)
 * for its line "listening on HOST:PORT". Returns 0, or -1 with msg filled
 * (the broker is stopped again). */
int conf_broker_start(const char *bin, const char *logpath, int timeout_ms, conf_broker_proc *b,
                      char *msg, size_t msglen);
/* SIGTERM, wait up to 3 s, then SIGKILL. Returns the exit status text in msg. */
void conf_broker_stop(conf_broker_proc *b, char *msg, size_t msglen);
#endif
