/*
 * fz_opts: mqtt-fuzz's command line, parsed once (fz_opts.c) and then only read.
 */
#ifndef FZ_OPTS_H
#define FZ_OPTS_H

#include <mqtt/codec.h>

typedef struct {
    char host[256];
    uint16_t port;
    const char *spawn;          /* --spawn 'CMD {port}' */
    const char *client;         /* --client 'CMD {host} {port}': fuzz a client (fz_client.h) */
    char ws_path[1024];         /* --broker ws://HOST:PORT/PATH or --ws PATH: MQTT over WebSocket; "" = TCP */
    char ref_host[256];
    uint16_t ref_port;          /* --reference; 0 = none */
    char ref_ws_path[1024];     /* --reference ws://...: the reference over WebSocket */
    const char *ref_spawn;      /* --reference-spawn 'CMD {port}' */
    mqtt_version versions[3];
    int nversions;
    uint64_t seed;
    uint64_t ns_salt;           /* --ns-salt: namespaces of this run (default: time and pid) */
    long runs;                  /* --runs N (0 = until --duration) */
    double duration_s;          /* --duration (0 = until --runs) */
    int jobs;
    const char *out;
    int connect_ms, answer_ms, hang_ms;
    long max_rss_kb;
    int max_steps;              /* session length */
    int minimize_budget;        /* executions per finding */
    int stop_after;             /* stop after this many findings (0 = never) */
    long restart_every;         /* --restart-every N: restart a spawned broker every N sessions */
    int stop_on;                /* --stop-on CLASS: stop at the first finding of it (-1 = never) */
    bool plain;                 /* replay only: no waiting, no oracles */
    const char *replay;         /* --replay FILE: run that session (session.txt) once */
    bool list_sessions;         /* print the session hashes and exit (no broker) */
    bool quiet;
} fz_opts;

/* Parses argv. Returns 0, 1 when the caller should exit 0 (--help), or 2 on
 * a usage error (message printed). */
int fz_opts_parse(fz_opts *o, int argc, char **argv);

#endif
