/*
 * tc_count: counts the bytes the core hands to the codec's decoder, so tests
 * can assert how much work a stream costs (issue 14: a packet arriving in
 * pieces must be decoded once, not from its first byte on every read). The
 * test binary is linked with -Wl,--wrap=mqtt_decode,--wrap=strcmp; the broker is
 * not: this is a test-only shim, no switch in the broker.
 */
#include "broker/tests/tc.h"

size_t tc_decoded_bytes;

mqtt_status __real_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err);
mqtt_status __wrap_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err);

mqtt_status __wrap_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err)
{
    tc_decoded_bytes += len;
    return __real_mqtt_decode(codec, buf, len, pkt, err);
}

/* String comparisons, to assert lookups are hashed (password file load). */
size_t tc_strcmp_calls;

int __real_strcmp(const char *a, const char *b);
int __wrap_strcmp(const char *a, const char *b);

int __wrap_strcmp(const char *a, const char *b)
{
    tc_strcmp_calls++;
    return __real_strcmp(a, b);
}
