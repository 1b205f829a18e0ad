/*
 * fz_probe: is the broker alive and answering? A fresh connection sends a
 * 3.1.1 CONNECT, expects CONNACK 0, sends PINGREQ, expects PINGRESP, all
 * within a bound. Run after every session: the crash oracle for a broker the
 * fuzzer did not start (refused after it was up) and the hang oracle (no
 * answer while the broker is otherwise idle).
 */
#ifndef FZ_PROBE_H
#define FZ_PROBE_H

#include <stdint.h>

typedef enum { FZ_PROBE_OK = 0, FZ_PROBE_REFUSED, FZ_PROBE_TIMEOUT, FZ_PROBE_CLOSED } fz_probe_result;

/* ws_path: over a WebSocket with that HTTP path (an upgrade refused is
 * FZ_PROBE_CLOSED); NULL: plain TCP. */
fz_probe_result fz_probe(const char *host, uint16_t port, const char *ws_path, int timeout_ms);
const char *fz_probe_name(fz_probe_result r);

#endif
