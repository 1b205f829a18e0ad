/*
 * The broker seat: mqtt-conform plays the (possibly hostile) server and tests
 * an MQTT client (issue 15). For each run it listens on a free port of its
 * own, starts the client under test with the command line its client profile
 * gives for the scenario's `action`, accepts its connection(s), runs the
 * steps from the server's side (seat_steps.c) and judges with the same
 * matcher, levels, verdicts, transcript and pcap as the broker-facing engine.
 * Runs go in parallel (one thread each, every wait bounded by the run's
 * deadline); the client's process group is killed at the end of its run.
 */
#ifndef CONF_SEAT_H
#define CONF_SEAT_H

#include "conformance/src/engine.h"

#include <sys/types.h>

/* A client profile (conformance/profiles/clients/NAME.profile, README
 * "Testing clients"): how to ask one client for each action and option. */
typedef struct {
    char *action;     /* "pub", "sub" or "*" */
    char *key;        /* action option name */
    char *val;        /* NULL: any value */
    char **args;      /* `opt`: words appended to the command; `cannot`: NULL */
    size_t nargs;
    char *reason;     /* `cannot`: why the run is skipped */
} seat_rule;

typedef struct {
    char *path, *name, *about;
    unsigned vmask;                     /* versions the client speaks */
    char *vword[CONF_NVERSIONS];        /* {version} per version slot, NULL: its name */
    char **cmd[2];                      /* words of the pub and sub commands */
    size_t ncmd[2];
    seat_rule *rules;
    size_t nrules;
    char bindir[1024];                  /* {bindir}: the directory of mqtt-conform itself */
} seat_profile;

/* Reads a client profile. Returns 0, or -1 with errors added (file:line). */
int seat_profile_load(const char *path, seat_profile *p, conf_errors *errs);
/* A profile whose every action runs CMD (words split like a shell without
 * expansions: "..." and '...' quote). Options are asked for only through
 * {KEY} placeholders in CMD. Returns 0, or -1 with msg. */
int seat_profile_command(const char *cmd, seat_profile *p, char *msg, size_t msglen);
void seat_profile_free(seat_profile *p);

/* The command line for one run: argv (malloc'd, NULL-terminated, free with
 * seat_argv_free) with {host} {port} {topic} {qos} {version} {id} {message}
 * {count} {KEY} substituted from vals (the action's options after ${...}).
 * Returns NULL with why filled when the profile cannot ask for an option
 * (skip: *skip = true) or a placeholder has no value (error). */
char **seat_argv(const seat_profile *p, const conf_scenario *sc, int vi, const char *host, uint16_t port,
                 char **keys, char **vals, size_t n, bool *skip, char *why, size_t whylen);
void seat_argv_free(char **argv);
/* The profile's `cannot` reason for (action, key, val), or NULL. */
const char *seat_cannot(const seat_profile *p, const char *action, const char *key, const char *val);

/* The client under test as a process: its own process group, stdout and
 * stderr into one pipe, stdin from /dev/null. */
typedef struct {
    pid_t pid;          /* > 0 until reaped */
    int out;            /* read end of the output pipe, -1 at EOF */
    int pidfd;          /* readable when the process exits (-1: not available, poll) */
    bool exited;
    int code;           /* once exited: its exit status, -1 when a signal ended it */
    int sig;            /* once exited: the signal that ended it, 0 */
    bool killed;        /* we killed it at the end of the run */
    char buf[4096];     /* its output (the first 4 KiB) */
    size_t len;
    size_t dropped;     /* output bytes beyond buf */
} seat_proc;

/* Held while making a descriptor and setting FD_CLOEXEC on it, and while
 * spawning: no run's descriptor leaks into another run's client. */
void seat_fd_lock(void);
void seat_fd_unlock(void);

/* Starts argv[0] (searched in PATH). 0, or -1 with msg. The caller must
 * call seat_proc_stop once. */
int seat_proc_start(seat_proc *p, char *const argv[], char *msg, size_t msglen);
/* On SIGINT, SIGTERM and SIGHUP: kill every running client's process group,
 * then die of the signal. */
void seat_proc_guard(void);
/* Reads what the output pipe has (non-blocking). */
void seat_proc_read(seat_proc *p);
/* True once the process has exited (code/sig set); it stays a zombie until
 * seat_proc_stop. */
bool seat_proc_reap(seat_proc *p);
/* SIGKILL to its process group (if it still runs), then reaps it; closes the fds. */
void seat_proc_stop(seat_proc *p);
/* "exited with status 0", "killed by signal 11" ... */
void seat_proc_status_text(const seat_proc *p, char *buf, size_t cap);

/* How the seat runs the client scenarios. */
typedef struct {
    const seat_profile *prof;      /* how to start the client (NULL: --client-listen) */
    const char *listen_host;       /* --client-listen HOST:PORT: wait for clients started by someone else */
    uint16_t listen_port;
    double time_scale;
    int jobs;                      /* runs in parallel (forced to 1 with listen_host) */
    conf_pcap_mode pcap_mode;
    const char *pcap_dir;
    void (*on_done)(const conf_run *run, size_t done, size_t total, void *arg);
    void *arg;
} conf_seat_cfg;

/* Runs every pending run (broker-seat scenarios). Returns 0, or -1 with msg
 * (the listener cannot be set up). */
int conf_seat_run(const conf_seat_cfg *cfg, conf_run *runs, size_t n, conf_engine_result *res, char *msg,
                  size_t msglen);
#endif
