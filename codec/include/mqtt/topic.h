/*
 * libmqttcodec: topic names, topic filters and UTF-8 strings as the spec
 * defines them. The decoder and encoder use these checks; so can any caller
 * (a broker matching subscriptions, a client validating user input).
 */
#ifndef MQTT_TOPIC_H
#define MQTT_TOPIC_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: what this header declares is
 * what libmqttcodec.so exports (codec/tests/check_exports.sh checks the list). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/*
 * Checks that s is an MQTT UTF-8 string: well-formed UTF-8, no surrogates,
 * no overlong forms, nothing above U+10FFFF, no U+0000. Returns NULL when
 * valid, else the rule id it breaks for `version`, with *bad_at (may be NULL)
 * the offset of the first offending byte within s.
 */
const char *mqtt_utf8_check(mqtt_version version, mqtt_bytes s, size_t *bad_at);

/* A topic name (PUBLISH, Will Topic, Response Topic): NULL if valid, else the rule id. */
const char *mqtt_topic_name_check(mqtt_version version, mqtt_bytes topic);

/* A topic filter (SUBSCRIBE, UNSUBSCRIBE), including "$share/{name}/{filter}" in 5.0:
 * NULL if valid, else the rule id. */
const char *mqtt_topic_filter_check(mqtt_version version, mqtt_bytes filter);

/* Whether a valid topic name matches a valid (non-shared) topic filter, with
 * '+', '#' and the rule that wildcards in the first level do not match '$' topics. */
bool mqtt_topic_matches(mqtt_bytes filter, mqtt_bytes topic);

/* Splits "$share/{name}/{filter}": true and the two parts if filter is a shared
 * subscription, false otherwise. Does not validate. */
bool mqtt_shared_split(mqtt_bytes filter, mqtt_bytes *share_name, mqtt_bytes *topic_filter);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
