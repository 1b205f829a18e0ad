/*
 * fz_oracle: the specification checks on a broker's answers, run on a
 * recorded session (fz_exec). Each connection's incoming bytes are decoded
 * with libmqttcodec as the server's, for the version of the CONNECT that
 * connection sent, within the Maximum Packet Size it announced:
 *   - bytes that do not decode: malformed or forbidden packet, with the
 *     codec's rule id;
 *   - the first packet is not CONNACK (AUTH allowed in 5.0): MQTT-3.2.0-1;
 *   - a CONNACK reason code the version does not define for CONNACK
 *     (3.1.1 MQTT-3.2.2-6 return codes 0..5; 5.0 MQTT-3.2.2-8 list);
 *   - a PUBLISH to a client whose client id subscribed to no matching
 *     filter in this session (MQTT-4.7.3-4: matching only);
 *   - a Topic Alias above the client's Topic Alias Maximum (5.0 MQTT-3.1.2-27).
 * A client whose own bytes did not decode is not judged on deliveries (the
 * broker may have understood them differently).
 */
#ifndef FZ_ORACLE_H
#define FZ_ORACLE_H

#include "fuzz/live/src/fz_exec.h"
#include "fuzz/live/src/fz_finding.h"

/* Returns 1 and fills *f on the first violation, else 0. */
int fz_oracle_spec(const fz_session *s, const fz_run *run, fz_finding *f);

#endif
