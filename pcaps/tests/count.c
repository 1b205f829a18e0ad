/*
 * count: bytes handed to the codec's decoder by the objects of the pcap test
 * binary, so a test can assert how much work a capture costs (issue 14: a
 * packet spread over many segments must be decoded once, not from its first
 * byte on every segment). The test binary is linked with
 * -Wl,--wrap=mqtt_decode; mqtt-pcap is not: a test-only shim.
 */
#include "pcaps/tests/count.h"

size_t pcap_test_decoded_bytes;

mqtt_status __real_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err);
mqtt_status __wrap_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err);

mqtt_status __wrap_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err)
{
    pcap_test_decoded_bytes += len;
    return __real_mqtt_decode(codec, buf, len, pkt, err);
}
