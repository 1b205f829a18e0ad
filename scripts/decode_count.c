/* decode_count: the mqtt_decode wrap behind scripts/decode_count.h. */
#include "scripts/decode_count.h"

#include <mqtt/mqtt.h>

size_t test_decoded_bytes;
size_t test_decode_calls;

mqtt_status __real_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err);
mqtt_status __wrap_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err);

mqtt_status __wrap_mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                               mqtt_error *err)
{
    test_decoded_bytes += len;
    test_decode_calls++;
    return __real_mqtt_decode(codec, buf, len, pkt, err);
}
