/*
 * libmqttcodec: MQTT 3.1 / 3.1.1 / 5.0 packets to and from bytes.
 *
 * Include this header for the whole library. It is pure: no I/O, no
 * allocation, no global state; every function is reentrant and thread-safe
 * on distinct arguments.
 */
#ifndef MQTT_CODEC_H
#define MQTT_CODEC_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: what this header declares is
 * what libmqttcodec.so exports (codec/tests/check_exports.sh checks the list). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* Largest remaining length the 4-byte encoding allows, and the largest packet. */
#define MQTT_MAX_REMAINING_LENGTH 268435455u
#define MQTT_MAX_PACKET_SIZE (MQTT_MAX_REMAINING_LENGTH + 5u)

/*
 * How to read or write one direction of one connection. Zero-initialise, then
 * set what you need; the struct is only read by the codec.
 *
 * version: the protocol level in force. CONNECT is always decoded by its own
 *   protocol level (a server does not know it before), every other packet by
 *   this one; MQTT_VERSION_UNKNOWN rejects everything but CONNECT.
 * from: who sends the bytes (a CONNACK from a client is a protocol error).
 * max_packet_size: largest whole packet accepted or produced; 0 means the
 *   protocol maximum. Over it: MQTT_ERR_LIMIT, reason 0x95.
 * user_properties, subscription_identifiers, subscriptions: caller storage
 *   for the repeated items of one decoded packet (with their capacities).
 *   A packet with more items than fit is MQTT_ERR_LIMIT; a NULL array has
 *   capacity 0. The encoder does not use them.
 */
typedef struct {
    mqtt_version version;
    mqtt_side from;
    uint32_t max_packet_size;
    mqtt_user_property *user_properties;
    size_t user_properties_cap;
    uint32_t *subscription_identifiers;
    size_t subscription_identifiers_cap;
    mqtt_subscription *subscriptions;
    size_t subscriptions_cap;
} mqtt_codec;

/*
 * Decode the packet at the start of buf[0..len).
 *
 * Returns:
 *   MQTT_OK         *pkt holds the packet; pkt->length is its size in bytes
 *                   (consume that many and call again for the next one).
 *   MQTT_NEED_MORE  the buffer ends inside a packet and every byte so far is
 *                   a valid prefix. pkt->length is the whole packet's size once
 *                   the fixed header is complete, else 0. Nothing else in *pkt
 *                   is meaningful.
 *   MQTT_ERR_*      the packet is rejected; *err says why (err may be NULL).
 *                   Only pkt->type and pkt->flags (the first byte's) are
 *                   meaningful, and for a CONNECT pkt->connect.protocol_level:
 *                   the level the client asked for once the decoder read it
 *                   (whatever rule the packet broke later), 0 before.
 * Never reads buf[len] or beyond. The views in *pkt point into buf and into
 * the caller arrays of *codec, and stay valid while those do.
 */
mqtt_status mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len,
                        mqtt_packet *pkt, mqtt_error *err);

/* The fixed header of a packet, as mqtt_peek_header reads it. */
typedef struct {
    mqtt_packet_type type;     /* high nibble of the first byte, 0..15, not checked */
    uint8_t flags;             /* low nibble of the first byte, not checked */
    uint32_t remaining_length; /* the Remaining Length field */
    size_t header_length;      /* bytes of the fixed header: 2..5 */
    size_t length;             /* the whole packet: header_length + remaining_length */
} mqtt_header;

/*
 * Read only the fixed header at the start of buf[0..len): the packet's size,
 * for framing a stream (captures, resynchronisation) even when the packet
 * itself will be rejected. Checks nothing but the Remaining Length encoding:
 * at most 4 bytes (MQTT-2.2.3 in 3.1.1, MQTT-1.5.5 in 5.0) and, for
 * MQTT_V5 only, its shortest form (MQTT-1.5.5-1); any other version,
 * MQTT_VERSION_UNKNOWN included, accepts a longer form. The type, the flags
 * and the packet's body are for mqtt_decode to judge.
 *
 * Returns:
 *   MQTT_OK           *hdr is filled (the packet's body need not be in buf).
 *   MQTT_NEED_MORE    buf ends inside the fixed header (or is empty).
 *   MQTT_ERR_MALFORMED  the Remaining Length is broken; *err says why (err
 *                     may be NULL).
 * Whenever len > 0, hdr->type and hdr->flags are set; the sizes only on MQTT_OK
 * (0 otherwise).
 * Never reads buf[len] or beyond, nor past the fixed header.
 */
mqtt_status mqtt_peek_header(mqtt_version version, const uint8_t *buf, size_t len, mqtt_header *hdr,
                             mqtt_error *err);

/*
 * Size in bytes of the encoding of *pkt, after checking that the packet is
 * one the decoder would accept for this codec (version, sender, limits).
 * Returns MQTT_OK and sets *size, or an error (err may be NULL). Only the
 * union member selected by pkt->type is read; pkt->flags, remaining_length
 * and length are ignored (the encoder derives them).
 */
mqtt_status mqtt_encoded_size(const mqtt_codec *codec, const mqtt_packet *pkt,
                              size_t *size, mqtt_error *err);

/*
 * Encode *pkt into buf[0..cap). On MQTT_OK, *written is the size. When cap is
 * too small, writes nothing and returns MQTT_ERR_LIMIT (rule
 * "LIMIT-buffer") with *written set to the size needed. Any other error is as
 * for mqtt_encoded_size and writes nothing either.
 */
mqtt_status mqtt_encode(const mqtt_codec *codec, const mqtt_packet *pkt,
                        uint8_t *buf, size_t cap, size_t *written, mqtt_error *err);

/* Names for people and reports; all return static strings, never NULL. */
const char *mqtt_packet_type_name(mqtt_packet_type type);  /* "PUBLISH"; "RESERVED" for 0, "UNKNOWN" above 15 */
const char *mqtt_status_name(mqtt_status status);          /* "malformed", "protocol error", ... */
const char *mqtt_version_name(mqtt_version version);       /* "3.1", "3.1.1", "5.0", "unknown" */
const char *mqtt_property_name(mqtt_property_id id);       /* "Session Expiry Interval", "unknown" */
/* Name of an MQTT 5 reason code in the context of a packet type ("Granted QoS 1" in SUBACK,
 * "Normal disconnection" in DISCONNECT, "Success" elsewhere); "unknown" if undefined. */
const char *mqtt_reason_name(mqtt_packet_type type, uint8_t code);
/* Name of an MQTT 3.x CONNACK return code ("Connection Refused, not authorized"). */
const char *mqtt_connack_return_name(uint8_t code);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
