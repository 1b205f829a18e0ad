/*
 * Test vectors for libmqttcodec: the one helper every decode test goes through.
 *
 * A vector is hex text ("30 05 00 01 'a' 68 69"): pairs of hex digits, with
 * whitespace ignored and '...' standing for the ASCII bytes between the quotes
 * (no escapes; write 27 for a quote). Vectors are written by hand from the
 * byte layouts of the specification.
 *
 * TV_DECODE_OK decodes a valid vector and checks, besides MQTT_OK and the
 * whole length:
 *   - every proper prefix answers MQTT_NEED_MORE (with pkt->length the whole
 *     size once the fixed header is complete, else 0);
 *   - the same bytes followed by another packet decode to the same length;
 *   - the whole input and every prefix decode the same way when their last
 *     byte sits right before an unreadable (PROT_NONE) page: no over-read;
 *   - mqtt_encoded_size / mqtt_encode of the decoded packet give the same
 *     bytes (or TV_DECODE_CANON's canonical form), and encoding into a buffer
 *     one byte too small writes nothing and answers MQTT_ERR_LIMIT.
 * TV_REJECT decodes an invalid vector and asserts the status class, rule id,
 * offset and reason code; every prefix must answer NEED_MORE or that same
 * error, again checked against the unreadable page.
 *
 * The decoded packet and its bytes live in static storage that the next
 * TV_DECODE_* call overwrites (Criterion runs each test in its own process).
 */
#ifndef CODEC_TESTS_VECTORS_H
#define CODEC_TESTS_VECTORS_H

#include <mqtt/mqtt.h>

/* Capacities of the caller arrays tv_codec() attaches. */
#define TV_USER_PROPERTIES 16
#define TV_SUBSCRIPTION_IDS 8
#define TV_SUBSCRIPTIONS 16
/* Largest vector the hex parser accepts. */
#define TV_MAX_BYTES 4096

/* A codec for `version` and sender, with the static caller arrays attached. */
mqtt_codec tv_codec(mqtt_version version, mqtt_side from);

/* Parses hex text (see above) into out[0..cap); fails the test on bad text. */
size_t tv_hex(const char *hex, uint8_t *out, size_t cap);

/* A copy of bytes[0..len) whose last byte sits right before an unreadable page
 * (valid until the next call into this helper). */
const uint8_t *tv_at_guard(const uint8_t *bytes, size_t len);

/* A view of a C string (without its NUL). */
mqtt_bytes tv_str(const char *s);
/* Whether a view holds exactly the bytes of C string s. */
int tv_eq(mqtt_bytes b, const char *s);

const mqtt_packet *tv_decode_ok(const char *file, int line, const mqtt_codec *codec,
                                const char *hex, const char *canonical_hex);
const mqtt_packet *tv_decode_bytes_ok(const char *file, int line, const mqtt_codec *codec,
                                      const uint8_t *bytes, size_t len);
mqtt_error tv_reject(const char *file, int line, const mqtt_codec *codec, const char *hex,
                     mqtt_status status, const char *rule, size_t offset, uint8_t reason);
mqtt_error tv_reject_bytes(const char *file, int line, const mqtt_codec *codec,
                           const uint8_t *bytes, size_t len, mqtt_status status,
                           const char *rule, size_t offset, uint8_t reason);

/* Encodes pkt and checks it against hex (exact bytes, size, too-small buffer). */
void tv_encode_ok(const char *file, int line, const mqtt_codec *codec, const mqtt_packet *pkt,
                  const char *hex);
/* Checks that both mqtt_encoded_size and mqtt_encode refuse pkt with status and
 * rule, and that mqtt_encode writes nothing. */
void tv_encode_refused(const char *file, int line, const mqtt_codec *codec,
                       const mqtt_packet *pkt, mqtt_status status, const char *rule);

/* Decode a valid vector; returns the decoded packet. */
#define TV_DECODE_OK(codec, hex) tv_decode_ok(__FILE__, __LINE__, (codec), (hex), NULL)
/* Decode a valid vector whose re-encoding is the canonical form `canon`. */
#define TV_DECODE_CANON(codec, hex, canon) tv_decode_ok(__FILE__, __LINE__, (codec), (hex), (canon))
#define TV_DECODE_BYTES_OK(codec, bytes, len) \
    tv_decode_bytes_ok(__FILE__, __LINE__, (codec), (bytes), (len))
/* Decode an invalid vector; asserts status, rule id, offset, reason code. */
#define TV_REJECT(codec, hex, status, rule, offset, reason) \
    tv_reject(__FILE__, __LINE__, (codec), (hex), (status), (rule), (offset), (reason))
#define TV_REJECT_BYTES(codec, bytes, len, status, rule, offset, reason) \
    tv_reject_bytes(__FILE__, __LINE__, (codec), (bytes), (len), (status), (rule), (offset), (reason))
#define TV_ENCODE_OK(codec, pkt, hex) tv_encode_ok(__FILE__, __LINE__, (codec), (pkt), (hex))
#define TV_ENCODE_REFUSED(codec, pkt, status, rule) \
    tv_encode_refused(__FILE__, __LINE__, (codec), (pkt), (status), (rule))

/* Shorthands for the version/side pairs the tests use most. */
#define TV_C31 tv_codec(MQTT_V31, MQTT_FROM_CLIENT)
#define TV_S31 tv_codec(MQTT_V31, MQTT_FROM_SERVER)
#define TV_C311 tv_codec(MQTT_V311, MQTT_FROM_CLIENT)
#define TV_S311 tv_codec(MQTT_V311, MQTT_FROM_SERVER)
#define TV_C5 tv_codec(MQTT_V5, MQTT_FROM_CLIENT)
#define TV_S5 tv_codec(MQTT_V5, MQTT_FROM_SERVER)

#endif
