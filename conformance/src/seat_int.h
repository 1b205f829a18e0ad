/*
 * The broker seat's private state, shared by its parts (seat.c: runs and
 * threads, seat_io.c: the listener, the connection and the client's process,
 * seat_steps.c: one handler per step). It reuses the engine's run state
 * (rt_state: step index, clocks, variables) so that verdicts, findings and
 * values go through the same code as on the broker side (engine_judge.c,
 * engine_send.c, engine_match.c).
 */
#ifndef CONF_SEAT_INT_H
#define CONF_SEAT_INT_H

#include "conformance/src/engine_int.h"
#include "conformance/src/seat.h"

/* The most the seat buffers from one client (bytes not yet decoded). */
#define SEAT_RX_MAX ((size_t)16 << 20)
#define SEAT_ACCEPT_MS 5000     /* `accept`: default wait for the client's next connection */
/* The client's first connection: starting a process (node.js takes seconds
 * on a loaded machine) is not conformance, so this wait is long and the
 * run's deadline starts only once the client has connected. */
#define SEAT_FIRST_CONNECT_MS 30000
#define SEAT_EXIT_MS 5000       /* `expect exit`: default wait (a process ending takes time too) */
#define SEAT_NOPIDFD_POLL_MS 50 /* without a pidfd, the child's exit is polled this often */

typedef struct {
    const conf_seat_cfg *cfg;
    conf_run *r;
    rt_state rt;            /* r->rt points here */
    conf_engine_cfg ecfg;   /* time scale, for the engine's helpers ... */
    engine eng;             /* ... that take an engine (eng_check_late) */
    int lfd;                /* the run's listener */
    char host[64];
    uint16_t port;
    int fd;                 /* the client's current connection, -1 */
    bool peer_closed;       /* it ended from the client's side (EOF, reset) */
    bool garbage;           /* it sent bytes that do not decode */
    bool close_noted;       /* the transcript says how it ended */
    char why[512];          /* how the connection ended */
    int nconn;              /* connections accepted so far */
    int pending;            /* a connection accepted before a step asked for it, -1 */
    uint8_t *rbuf;
    size_t rlen, rcap;
    rx *last;               /* the packet the last expect matched (capture) */
    seat_proc proc;
    conf_traffic *tr;
    int stream;
    int64_t run_deadline;
    uint32_t server_mps;    /* Maximum Packet Size the seat's last CONNACK announced (5.0), 0: none */
} seat_ctx;

/* What a wait ended with. */
enum { SW_PACKET, SW_CLOSED, SW_TIMEOUT, SW_END };

int64_t seat_scaled(const seat_ctx *x, int64_t ms);
/* Waits (poll) until something happens or `until`: bytes or EOF from the
 * client, a new connection (queued), output, the process's exit. */
void seat_pump(seat_ctx *x, int64_t until);
/* The next packet from the client (PINGREQ answered with PINGRESP when
 * answer_ping: a server must, MQTT-3.12.4-1). SW_PACKET (*out: owned by the
 * caller), SW_CLOSED (x->why says how), SW_TIMEOUT, SW_END (run over). */
int seat_next_packet(seat_ctx *x, int64_t until, bool answer_ping, rx **out);
/* Waits for the client's next connection. True when there is one. */
bool seat_accept(seat_ctx *x, int64_t until);
/* Sends bytes to the client (blocking, bounded by the run's deadline). 0 or -1. */
int seat_write(seat_ctx *x, const uint8_t *b, size_t n);
/* The runner closes the current connection. */
void seat_close(seat_ctx *x);
/* Records the client's exit status and output in the transcript (once). */
void seat_note_process(seat_ctx *x);

/* Runs one step: S_DONE (go on) or S_END (the run ended: verdict set). */
int seat_step(seat_ctx *x, const conf_step *st);
#endif
