/*
 * fz_deliver: the differential oracle's second half, PUBLISH deliveries.
 * After fz_diff found the control answers equal, this compares, connection
 * by connection, which messages each subscriber received from the target
 * and from the reference: the set of (topic, payload) delivered, the highest
 * QoS each came at and its RETAIN flags.
 *
 * What the specification leaves open is not compared:
 *   - order: only messages of one topic and QoS are ordered (MQTT-4.6.0-5/6,
 *     and the executor's pacing cannot fix arrival order across publishers);
 *     sets are compared, so no order counts;
 *   - copies: a QoS 1 message may come twice (DUP redelivery), and a client
 *     with overlapping subscriptions MAY get one copy per subscription
 *     (5.0 section 3.3.4, 3.1.1 section 3.3.5): presence counts, not copies;
 *   - shared subscriptions: which member gets a message is the broker's
 *     choice (5.0 section 4.8.2); topics any $share filter matches are left out;
 *   - time: messages with a Message Expiry Interval and Wills with a Will
 *     Delay (or expiry) depend on the clock; their topics are left out;
 *   - invalid input: a connection that sent bytes that do not decode, or
 *     that a broker closed, may have had its last packets routed by one broker
 *     and not the other; topics appearing in its bytes are left out;
 *   - granted QoS: a broker may grant less than asked (MQTT-3.8.4-8 / 3.9.3),
 *     so QoS is compared only when both runs granted the same codes;
 *   - RETAIN with Retain As Published subscriptions (5.0) is left out.
 * Only connections that were valid and answered both end-of-session PINGREQ
 * rounds in both runs are judged (every delivery is in).
 */
#ifndef FZ_DELIVER_H
#define FZ_DELIVER_H

#include "fuzz/live/src/fz_exec.h"
#include "fuzz/live/src/fz_finding.h"

/* Returns 1 with *f filled (f->delivery set, f->expect holding the
 * reference's deliveries as scenario lines) at the first difference, else 0. */
int fz_deliver_diff(const fz_run *target, const fz_run *ref, const char *ns, fz_finding *f);

#endif
