/*
 * Helpers shared by the libFuzzer harnesses (fuzz/fuzz_*.c): how the first
 * input byte picks a codec configuration, the invariants every decoded packet
 * and every decode error must satisfy, field-by-field packet equality, and the
 * "is this input in the encoder's canonical form" oracle.
 *
 * A failed invariant prints what broke and aborts, which libFuzzer reports as
 * a crash and saves as a reproducer. Nothing here keeps state between inputs.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <mqtt/mqtt.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capacities of the caller arrays of a full-size decoder (see fz_decoder_init). */
#define FZ_USER_CAP 32
#define FZ_SUBID_CAP 8
#define FZ_SUBS_CAP 32

/* One direction of one connection: a codec and the caller arrays it decodes into. */
typedef struct {
    mqtt_codec codec;
    mqtt_user_property user[FZ_USER_CAP];
    uint32_t subid[FZ_SUBID_CAP];
    mqtt_subscription subs[FZ_SUBS_CAP];
} fz_decoder;

/*
 * Configures *d from a selector byte (the first byte of every input):
 *   bits 0-1  version: 0 unknown (the first CONNECT decides), 1 = 3.1, 2 = 3.1.1, 3 = 5.0
 *   bit  2    sender: 0 client, 1 server
 *   bits 3-4  caller arrays: 0, 3 full; 1 tiny (2 / 1 / 2 items); 2 none (capacity 0)
 *   bits 5-6  max_packet_size: 0, 1 none; 2 = 128 bytes; 3 = 4096 bytes
 *   bit  7    free for the harness (stream: nothing; roundtrip: nothing)
 * The arrays live in *d, so *d must outlive the packets it decodes.
 */
void fz_decoder_init(fz_decoder *d, uint8_t selector);

/* After a packet decoded: a server that learns the version from CONNECT switches to it. */
void fz_decoder_after(fz_decoder *d, const mqtt_packet *pkt);

/* The version whose rules decoded *pkt (CONNECT carries its own). */
mqtt_version fz_packet_version(const fz_decoder *d, const mqtt_packet *pkt);

/* Aborts with a message (libFuzzer saves the input) when cond is false. */
#define FZ_ASSERT(cond, ...) \
    do { \
        if (!(cond)) fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)
_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A decode error's invariants: a known error class, a rule id that is not NULL
 * and starts with "MQTT-" or "LIMIT-", a message, an MQTT 5 reason code
 * (0x80 or above), and an offset inside the len bytes given to the decoder.
 */
void fz_check_error(mqtt_status st, const mqtt_error *err, size_t len);

/*
 * A decoded packet's invariants: length within len, every view (topic,
 * payload, strings, binary fields, properties, user properties, topic
 * filters, reason codes) inside buf[0..pkt->length), repeated items inside
 * the decoder's arrays, strings valid UTF-8, topics and filters valid.
 */
void fz_check_packet(const fz_decoder *d, const mqtt_packet *pkt, const uint8_t *buf, size_t len);

/* The same NEED_MORE contract for a buffer of len bytes: pkt->length is 0 or > len. */
void fz_check_need_more(const mqtt_packet *pkt, size_t len);

/*
 * Field-by-field equality of two decoded packets (views by content, properties
 * included). compare_lengths also compares remaining_length and length, which
 * differ between a non-canonical input and its re-encoding. Aborts with the
 * first differing field named.
 */
void fz_assert_equal(const mqtt_packet *a, const mqtt_packet *b, mqtt_version v, bool compare_lengths,
                     const char *what);

/*
 * Whether bytes[0..pkt->length), which decoded to *pkt under version v, are
 * exactly what mqtt_encode writes for *pkt: shortest Remaining Length,
 * properties in ascending identifier order, 5.0 acknowledgements (and
 * DISCONNECT, AUTH) in their shortest form. Walks the property blocks itself
 * (an oracle independent of the codec).
 */
bool fz_is_canonical(mqtt_version v, const mqtt_packet *pkt, const uint8_t *bytes);

/* Whether two views hold the same bytes. */
bool fz_bytes_eq(mqtt_bytes a, mqtt_bytes b);

#endif
