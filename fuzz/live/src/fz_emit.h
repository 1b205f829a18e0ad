/*
 * fz_emit: a finding as files a broker team can use.
 *   repro.mqs    a conformance scenario (mqtt-conform --broker HOST:PORT repro.mqs)
 *                replaying the minimised run: raw hex sends with the session's
 *                namespace as "${ns}" (same length, so no length field changes),
 *                opens and drops as they happened, then the check that fails:
 *                a fresh client's CONNECT + PINGREQ (crash, hang), or the
 *                expected answer (spec, diff);
 *   repro.pcap   the run's traffic (pcaps/src/pcap_writer.c), opens in Wireshark;
 *   session.txt  the minimised session (mqtt-fuzz's own text form);
 *   report.txt   the summary line, the sanitizer report or exit status.
 */
#ifndef FZ_EMIT_H
#define FZ_EMIT_H

#include "fuzz/live/src/fz_exec.h"
#include "fuzz/live/src/fz_finding.h"

/* The scenario for finding f reproduced by (s, run). Returns 0 or -1 (errno). */
int fz_emit_mqs(const char *path, const fz_session *s, const fz_run *run, const fz_finding *f,
                const char *origin);
/* The run as a pcap. Returns 0, or -1 with err filled. */
int fz_emit_pcap(const char *path, const fz_run *run, char *err, size_t errlen);
/* The normative id a scenario for f names for version v (valid for that version). */
const char *fz_emit_rule(const fz_finding *f, mqtt_version v);

#endif
