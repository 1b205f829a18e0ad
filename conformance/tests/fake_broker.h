/*
 * A tiny fake broker for the engine tests (a thread on 127.0.0.1, a free
 * port) that misbehaves on purpose: sends garbage, stalls, closes early,
 * stops listening, answers by script, or speaks only 3.1.1. Plus the
 * helpers that run a scenario against it.
 */
#ifndef CONF_TEST_FAKE_BROKER_H
#define CONF_TEST_FAKE_BROKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conformance/src/conform.h"
#include "conformance/src/engine.h"

/* FAKE_SCRIPT: CONNACK in the CONNECT's version (3.1.1 or 5.0 form), then the
 * bytes scripted for that connection (by accept order), then a close if asked. */
/* FAKE_RESET: reads the CONNECT, then resets the connection (RST, SO_LINGER 0). */
/* FAKE_V311_ONLY: accepts 3.1.1 CONNECTs, answers a 5.0 CONNECT with the
 * 3.1.1 CONNACK 0x01 (unacceptable protocol version) and closes. */
typedef enum { FAKE_GARBAGE, FAKE_STALL, FAKE_CLOSE, FAKE_CONNACK_THEN_DIE, FAKE_GOOD, FAKE_SCRIPT, FAKE_RESET,
               FAKE_V311_ONLY } fake_mode;

typedef struct {
    const uint8_t *bytes;
    size_t len;
    bool close;
    int close_after_ms;     /* > 0: close that long after the CONNECT */
} fake_reply;

typedef struct {
    fake_mode mode;
    fake_reply script[4];
    int accept_after_ms;      /* accept nothing for this long after the start (a full accept queue) */
    int backlog;              /* listen(2) backlog (0: 16); set with fake_start_slow */
    int connack_after_ms;     /* FAKE_GOOD: answer each CONNECT this late (a busy broker) */
    int64_t started;
    const uint8_t *connack5;  /* FAKE_SCRIPT: the CONNACK for a 5.0 CONNECT (NULL: 20 03 00 00 00) */
    size_t connack5_len;
    int lfd;
    uint16_t port;
    volatile int stop;
    pthread_t th;
} fake;

void fake_start_script(fake *f, fake_mode mode, const fake_reply *script, size_t n);
void fake_start(fake *f, fake_mode mode);
/* FAKE_GOOD with listen backlog 1, its accept queue filled by `fill`
 * connections that are never used, accepting nothing for accept_after_ms:
 * a broker whose accept queue is full (connects wait for SYN retransmits). */
void fake_start_slow(fake *f, int accept_after_ms, int fill);
void fake_stop(fake *f);
/* Parses text as scenario engine/01-t (asserts it parses). */
conf_scenario *scenario(const char *text);
/* Runs s once (version vi) against port, without the capability probe (the
 * fake scripts connections by accept order); returns the run (caller frees). */
conf_run run_vi(conf_scenario *s, int vi, uint16_t port, int64_t *elapsed);
conf_run run_one(conf_scenario *s, uint16_t port, int64_t *elapsed);
/* The same with the probe: *res gets the capability table. */
conf_run run_probed(conf_scenario *s, int vi, uint16_t port, conf_engine_result *res);
/* True if an event of client ci (kind, text containing needle) was recorded. */
bool has_event(const conf_run *r, int ci, int kind, const char *needle);

#endif
