/*
 * Oracles for the codec's text output (mqtt_format_line / _json / _error) and
 * its topic matcher, written independently of the codec so the harnesses can
 * check one against the other.
 */
#ifndef FUZZ_TEXT_H
#define FUZZ_TEXT_H

#include <mqtt/mqtt.h>

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629), 0 if none; *cp its code point. */
size_t fz_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp);

/* Text for people: valid UTF-8, no C0/C1 control, DEL, line separator or bidi override. NULL or what is wrong. */
const char *fz_line_problem(const char *s, size_t n);

/* A complete RFC 8259 JSON text, valid UTF-8, with no raw control character. NULL or what is wrong. */
const char *fz_json_problem(const char *s, size_t n);

/* Reference topic matching (MQTT-4.7.1, MQTT-4.7.2-1) for a valid topic name and a valid non-shared filter. */
bool fz_topic_matches(mqtt_bytes filter, mqtt_bytes topic);

#endif
