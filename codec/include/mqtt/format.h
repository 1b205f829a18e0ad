/*
 * libmqttcodec: packets as text. One line per packet for people, e.g.
 *   PUBLISH q1 id=10 r=0 topic="a/b" 2B
 * and one JSON object per packet for machines. The broker log, the runner's
 * transcripts and the pcap tool all print packets this way.
 *
 * Both functions behave like snprintf: they write at most cap-1 characters
 * and a NUL (nothing when cap is 0) and return the length the whole text
 * needs, without the NUL.
 */
#ifndef MQTT_FORMAT_H
#define MQTT_FORMAT_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: what this header declares is
 * what libmqttcodec.so exports (codec/tests/check_exports.sh checks the list). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

size_t mqtt_format_line(const mqtt_packet *pkt, mqtt_version version, char *buf, size_t cap);
size_t mqtt_format_json(const mqtt_packet *pkt, mqtt_version version, char *buf, size_t cap);
/* An error as one line: "malformed MQTT-3.3.1-4 at 0: QoS 3 is not allowed (reason 0x81)". */
size_t mqtt_format_error(const mqtt_error *err, char *buf, size_t cap);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
