/*
 * The texts users of mosquitto's clients read in errors: libmosquitto's
 * error strings, MQTT 3.x CONNACK return codes and MQTT 5 reason codes,
 * worded exactly as libmosquitto 2.0 words them so scripts that match on
 * them keep working. Also the strict number parser the options share.
 */
#include "tools/src/client.h"

#include <errno.h>
#include <stdlib.h>

const char *client_strerror(int err)
{
    switch (err) {
    case CERR_SUCCESS: return "No error.";
    case CERR_NOMEM: return "Out of memory.";
    case CERR_PROTOCOL: return "A network protocol error occurred when communicating with the broker.";
    case CERR_INVAL: return "Invalid arguments provided.";
    case CERR_NO_CONN: return "The client is not currently connected.";
    case CERR_CONN_REFUSED: return "The connection was refused.";
    case CERR_CONN_LOST: return "The connection was lost.";
    case CERR_TLS: return "A TLS error occurred.";
    case CERR_PAYLOAD_SIZE: return "Payload too large.";
    case CERR_NOT_SUPPORTED: return "This feature is not supported.";
    case CERR_EAI: return "Lookup error.";
    case CERR_MALFORMED_UTF8: return "Malformed UTF-8";
    case CERR_KEEPALIVE: return "Keepalive ping timeout.";
    case CERR_MALFORMED_PACKET: return "Malformed packet.";
    case CERR_DUPLICATE_PROPERTY: return "Duplicate property in property list";
    case CERR_QOS_NOT_SUPPORTED: return "Requested QoS not supported on server.";
    case CERR_OVERSIZE_PACKET: return "Packet larger than supported by the server.";
    case CERR_TIMEOUT: return "Timed out";
    case CERR_RETAIN_NOT_SUPPORTED: return "Retain not supported on server.";
    default: return "Unknown error.";
    }
}

const char *client_connack_string(int code)
{
    switch (code) {
    case 0: return "Connection Accepted.";
    case 1: return "Connection Refused: unacceptable protocol version.";
    case 2: return "Connection Refused: identifier rejected.";
    case 3: return "Connection Refused: broker unavailable.";
    case 4: return "Connection Refused: bad user name or password.";
    case 5: return "Connection Refused: not authorised.";
    default: return "Connection Refused: unknown reason.";
    }
}

const char *client_reason_string(int code)
{
    switch (code) {
    case 0x00: return "Success";
    case 0x01: return "Granted QoS 1";
    case 0x02: return "Granted QoS 2";
    case 0x04: return "Disconnect with Will Message";
    case 0x10: return "No matching subscribers";
    case 0x11: return "No subscription existed";
    case 0x18: return "Continue authentication";
    case 0x19: return "Re-authenticate";
    case 0x80: return "Unspecified error";
    case 0x81: return "Malformed Packet";
    case 0x82: return "Protocol Error";
    case 0x83: return "Implementation specific error";
    case 0x84: return "Unsupported Protocol Version";
    case 0x85: return "Client Identifier not valid";
    case 0x86: return "Bad User Name or Password";
    case 0x87: return "Not authorized";
    case 0x88: return "Server unavailable";
    case 0x89: return "Server busy";
    case 0x8A: return "Banned";
    case 0x8B: return "Server shutting down";
    case 0x8C: return "Bad authentication method";
    case 0x8D: return "Keep Alive timeout";
    case 0x8E: return "Session taken over";
    case 0x8F: return "Topic Filter invalid";
    case 0x90: return "Topic Name invalid";
    case 0x91: return "Packet Identifier in use";
    case 0x92: return "Packet Identifier not found";
    case 0x93: return "Receive Maximum exceeded";
    case 0x94: return "Topic Alias invalid";
    case 0x95: return "Packet too large";
    case 0x96: return "Message rate too high";
    case 0x97: return "Quota exceeded";
    case 0x98: return "Administrative action";
    case 0x99: return "Payload format invalid";
    case 0x9A: return "Retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "Use another server";
    case 0x9D: return "Server moved";
    case 0x9E: return "Shared Subscriptions not supported";
    case 0x9F: return "Connection rate exceeded";
    case 0xA0: return "Maximum connect time";
    case 0xA1: return "Subscription identifiers not supported";
    case 0xA2: return "Wildcard Subscriptions not supported";
    default: return "Unknown reason";
    }
}

int client_parse_long(const char *text, long long min, long long max, long long *out)
{
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}
