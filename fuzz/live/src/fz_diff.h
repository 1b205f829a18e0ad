/*
 * fz_diff: the differential oracle. Compares two runs of one session (the
 * target's and the reference broker's) where the specification fixes the
 * answer, connection by connection, and only for connections whose every
 * byte was a valid packet (on invalid input brokers may legitimately answer
 * differently: DISCONNECT first or just closing, 0x81 or 0x82):
 *   - CONNACK accepted or refused (MQTT-3.2.2-... per version);
 *   - the packet types of the direct answers, in order: SUBACK, UNSUBACK,
 *     PUBACK, PUBREC, PUBCOMP, PINGRESP (each MUST be sent);
 *   - SUBACK success or failure per filter;
 * and then (fz_deliver) which PUBLISH messages each subscriber received.
 */
#ifndef FZ_DIFF_H
#define FZ_DIFF_H

#include "fuzz/live/src/fz_exec.h"
#include "fuzz/live/src/fz_finding.h"

/* Returns 1 and fills *f at the first difference, else 0. */
int fz_diff(const fz_run *target, const fz_run *ref, fz_finding *f);

#endif
