/*
 * libmqttcodec: the data model shared by every part of the project.
 *
 * A decoded packet is a set of *views* into the caller's buffer: nothing is
 * copied and nothing is allocated, so a packet stays valid exactly as long as
 * the bytes it was decoded from (and the caller arrays named in mqtt_codec)
 * stay alive and unchanged. The same structures are the input of the encoder,
 * so "decode, then encode" reproduces the bytes.
 *
 * Only <stddef.h>, <stdint.h> and <stdbool.h> may be included here: the codec
 * is pure (no I/O, no allocation, no globals).
 */
#ifndef MQTT_TYPES_H
#define MQTT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol levels as they appear in CONNECT. 0 means "not yet known". */
typedef enum {
    MQTT_VERSION_UNKNOWN = 0,
    MQTT_V31 = 3,  /* MQTT 3.1, protocol name "MQIsdp" */
    MQTT_V311 = 4, /* MQTT 3.1.1, protocol name "MQTT" */
    MQTT_V5 = 5    /* MQTT 5.0, protocol name "MQTT" */
} mqtt_version;

/* Which side sent (or will send) the bytes: some packets only flow one way. */
typedef enum { MQTT_FROM_CLIENT = 0, MQTT_FROM_SERVER = 1 } mqtt_side;

typedef enum {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_PUBREC = 5,
    MQTT_PUBREL = 6,
    MQTT_PUBCOMP = 7,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14,
    MQTT_AUTH = 15 /* MQTT 5.0 only */
} mqtt_packet_type;

/* A read-only view of bytes owned by someone else. ptr may be NULL when len is 0. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} mqtt_bytes;

/* A User Property (0x26): a UTF-8 string pair. */
typedef struct {
    mqtt_bytes name;
    mqtt_bytes value;
} mqtt_user_property;

/* MQTT 5.0 property identifiers (section 2.2.2.2). */
typedef enum {
    MQTT_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,
    MQTT_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,
    MQTT_PROP_CONTENT_TYPE = 0x03,
    MQTT_PROP_RESPONSE_TOPIC = 0x08,
    MQTT_PROP_CORRELATION_DATA = 0x09,
    MQTT_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,
    MQTT_PROP_SESSION_EXPIRY_INTERVAL = 0x11,
    MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,
    MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,
    MQTT_PROP_AUTHENTICATION_METHOD = 0x15,
    MQTT_PROP_AUTHENTICATION_DATA = 0x16,
    MQTT_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,
    MQTT_PROP_WILL_DELAY_INTERVAL = 0x18,
    MQTT_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,
    MQTT_PROP_RESPONSE_INFORMATION = 0x1A,
    MQTT_PROP_SERVER_REFERENCE = 0x1C,
    MQTT_PROP_REASON_STRING = 0x1F,
    MQTT_PROP_RECEIVE_MAXIMUM = 0x21,
    MQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
    MQTT_PROP_TOPIC_ALIAS = 0x23,
    MQTT_PROP_MAXIMUM_QOS = 0x24,
    MQTT_PROP_RETAIN_AVAILABLE = 0x25,
    MQTT_PROP_USER_PROPERTY = 0x26,
    MQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27,
    MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,
    MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29,
    MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A
} mqtt_property_id;

/* Bit for property `id` in mqtt_properties.present. */
#define MQTT_PROP_BIT(id) ((uint64_t)1 << (id))
/* True when property `id` is present in *props. */
#define MQTT_HAS_PROP(props, id) (((props)->present & MQTT_PROP_BIT(id)) != 0)

/*
 * The properties of one MQTT 5.0 packet (or of a Will). A field is meaningful
 * only when its bit is set in `present`; decoding clears `present` and the two
 * counts, and leaves the other fields untouched.
 *
 * User Properties and Subscription Identifiers may repeat. On decode they are
 * stored in the caller arrays named in mqtt_codec (all property blocks of one
 * packet share them, in order); on encode they are read from the pointers
 * here. Their presence is the count being non-zero (their bits in `present`
 * are set too after a decode, and ignored by the encoder).
 */
typedef struct {
    uint64_t present;                   /* MQTT_PROP_BIT(id) for each property present */
    uint32_t message_expiry_interval;   /* 0x02 */
    uint32_t session_expiry_interval;   /* 0x11 */
    uint32_t will_delay_interval;       /* 0x18 */
    uint32_t maximum_packet_size;       /* 0x27, never 0 */
    uint16_t server_keep_alive;         /* 0x13 */
    uint16_t receive_maximum;           /* 0x21, never 0 */
    uint16_t topic_alias_maximum;       /* 0x22 */
    uint16_t topic_alias;               /* 0x23, never 0 */
    uint8_t payload_format_indicator;   /* 0x01: 0 or 1 */
    uint8_t request_problem_information;  /* 0x17: 0 or 1 */
    uint8_t request_response_information; /* 0x19: 0 or 1 */
    uint8_t maximum_qos;                /* 0x24: 0 or 1 */
    uint8_t retain_available;           /* 0x25: 0 or 1 */
    uint8_t wildcard_subscription_available;       /* 0x28: 0 or 1 */
    uint8_t subscription_identifier_available;     /* 0x29: 0 or 1 */
    uint8_t shared_subscription_available;         /* 0x2A: 0 or 1 */
    mqtt_bytes content_type;            /* 0x03, UTF-8 */
    mqtt_bytes response_topic;          /* 0x08, UTF-8 topic name, no wildcards */
    mqtt_bytes correlation_data;        /* 0x09, binary */
    mqtt_bytes assigned_client_identifier; /* 0x12, UTF-8 */
    mqtt_bytes authentication_method;   /* 0x15, UTF-8 */
    mqtt_bytes authentication_data;     /* 0x16, binary */
    mqtt_bytes response_information;    /* 0x1A, UTF-8 */
    mqtt_bytes server_reference;        /* 0x1C, UTF-8 */
    mqtt_bytes reason_string;           /* 0x1F, UTF-8 */
    const mqtt_user_property *user_properties; /* 0x26, in wire order */
    size_t user_property_count;
    const uint32_t *subscription_identifiers;  /* 0x0B, each 1..268435455 */
    size_t subscription_identifier_count;
} mqtt_properties;

typedef struct {
    mqtt_bytes protocol_name;  /* "MQTT" (3.1.1, 5.0) or "MQIsdp" (3.1); encode: empty = the version's name */
    uint8_t protocol_level;    /* 3, 4 or 5; encode: 0 = the codec's version */
    bool clean_start;          /* Clean Session in 3.x */
    uint16_t keep_alive;
    mqtt_properties properties;
    mqtt_bytes client_id;
    bool will;                 /* Will Flag: the will_* fields are meaningful */
    uint8_t will_qos;
    bool will_retain;
    mqtt_properties will_properties;
    mqtt_bytes will_topic;
    mqtt_bytes will_payload;
    bool has_username;
    mqtt_bytes username;
    bool has_password;
    mqtt_bytes password;
} mqtt_connect;

typedef struct {
    bool session_present;
    uint8_t reason_code;       /* 3.x: the CONNACK return code 0..5 */
    mqtt_properties properties;
} mqtt_connack;

typedef struct {
    uint8_t qos;               /* 0, 1 or 2 */
    bool dup;
    bool retain;
    mqtt_bytes topic;          /* may be empty in 5.0 when a Topic Alias is present */
    uint16_t packet_id;        /* only when qos > 0 */
    mqtt_properties properties;
    mqtt_bytes payload;
} mqtt_publish;

/* PUBACK, PUBREC, PUBREL, PUBCOMP. reason_code 0 and no properties in 3.x. */
typedef struct {
    uint16_t packet_id;
    uint8_t reason_code;
    mqtt_properties properties;
} mqtt_ack;

/* One entry of a SUBSCRIBE (all fields) or of an UNSUBSCRIBE (topic_filter only). */
typedef struct {
    mqtt_bytes topic_filter;
    uint8_t qos;               /* Maximum QoS, 0..2 */
    bool no_local;             /* 5.0 */
    bool retain_as_published;  /* 5.0 */
    uint8_t retain_handling;   /* 5.0: 0..2 */
} mqtt_subscription;

/* SUBSCRIBE and UNSUBSCRIBE. */
typedef struct {
    uint16_t packet_id;
    mqtt_properties properties;
    const mqtt_subscription *subscriptions; /* decode: in mqtt_codec.subscriptions */
    size_t count;
} mqtt_subscribe;

/* SUBACK and UNSUBACK: one reason code byte per filter (none for a 3.x UNSUBACK). */
typedef struct {
    uint16_t packet_id;
    mqtt_properties properties;
    mqtt_bytes reason_codes;
} mqtt_suback;

/* DISCONNECT and AUTH: a reason code and properties in 5.0, nothing in 3.x. */
typedef struct {
    uint8_t reason_code;
    mqtt_properties properties;
} mqtt_disconnect;

/*
 * One packet. `type` selects the union member: connect, connack, publish,
 * ack (PUBACK/PUBREC/PUBREL/PUBCOMP), subscribe (SUBSCRIBE/UNSUBSCRIBE),
 * suback (SUBACK/UNSUBACK), disconnect (DISCONNECT/AUTH); PINGREQ and PINGRESP
 * have no body.
 */
typedef struct {
    mqtt_packet_type type;
    uint8_t flags;             /* low nibble of the first byte, as on the wire */
    uint32_t remaining_length; /* decode: as on the wire */
    size_t length;             /* decode: bytes of the whole packet (see mqtt_decode) */
    union {
        mqtt_connect connect;
        mqtt_connack connack;
        mqtt_publish publish;
        mqtt_ack ack;
        mqtt_subscribe subscribe;
        mqtt_suback suback;
        mqtt_disconnect disconnect;
    };
} mqtt_packet;

/* What went wrong, as classes a receiver acts on differently. */
typedef enum {
    MQTT_OK = 0,
    MQTT_NEED_MORE = 1,            /* every byte so far is a valid prefix: read more */
    MQTT_ERR_MALFORMED = 2,        /* the bytes break the wire format (reason 0x81) */
    MQTT_ERR_PROTOCOL = 3,         /* well-formed, but the spec forbids it here (0x82 or more specific) */
    MQTT_ERR_LIMIT = 4,            /* valid, but over a configured limit or a caller capacity */
    MQTT_ERR_UNSUPPORTED_VERSION = 5 /* CONNECT with a protocol name/level we do not speak (0x84) */
} mqtt_status;

/*
 * A rejection. `rule` is the normative statement id in the specification of
 * `version` ("MQTT-3.3.1-4"); the same id means different things in 3.1.1 and
 * 5.0. MQTT 3.1 has no numbered statements: 3.1 errors cite the 3.1.1 ids.
 * Where a requirement has no numbered statement, `rule` names its section
 * ("MQTT-2.2.3"); limits of this codec name the limit ("LIMIT-..."). All
 * strings are static.
 */
typedef struct {
    mqtt_status status;
    const char *rule;          /* never NULL for an error */
    mqtt_version version;      /* the spec `rule` refers to */
    size_t offset;             /* byte offset from the start of the buffer given to the codec */
    uint8_t reason_code;       /* MQTT 5 reason code the receiver sends (DISCONNECT/CONNACK) */
    const char *message;       /* short explanation for people, no trailing period */
} mqtt_error;

#ifdef __cplusplus
}
#endif
#endif
