/*
 * ws_http: the HTTP/1.1 upgrade that opens a WebSocket (RFC 6455 section 4)
 * for MQTT, both sides, on caller buffers (see ws.h).
 *
 * Invariants: a header is looked at only once complete (CRLF CRLF) and only
 * within NET_WS_HTTP_MAX bytes, so a peer that never ends it costs at most
 * that much. Header names are case-insensitive, token lists (Connection,
 * Sec-WebSocket-Protocol) are comma-separated and may span repeated headers
 * (RFC 7230 3.2.2). The key's SHA-1 and base64 come from libcrypto.
 */
#include "net/ws.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

/* RFC 6455 1.3: the GUID appended to the key before hashing. */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* The facts of one header that matter here. */
typedef struct {
    char first[256]; /* request line or status line */
    bool upgrade_ws, conn_upgrade, proto_mqtt, has_proto, version13, has_version;
    char key[64];
    char accept[64];
    char proto[64];  /* the selected subprotocol (response) */
} http_head;

/* Whether the comma-separated list val contains token (case-insensitive). */
static bool has_token(const char *val, const char *token, bool nocase)
{
    size_t tl = strlen(token);
    const char *p = val;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - p) == tl && (nocase ? !strncasecmp(p, token, tl) : !strncmp(p, token, tl))) return true;
        p = e;
    }
    return false;
}

static void copy_trim(char *dst, size_t cap, const char *src)
{
    while (*src == ' ' || *src == '\t') src++;
    size_t n = strlen(src);
    while (n && (src[n - 1] == ' ' || src[n - 1] == '\t')) n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void header_line(http_head *h, char *line)
{
    char *colon = strchr(line, ':');
    if (!colon) return;
    *colon = '\0';
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    if (!strcasecmp(line, "Upgrade")) h->upgrade_ws |= has_token(v, "websocket", true);
    else if (!strcasecmp(line, "Connection")) h->conn_upgrade |= has_token(v, "upgrade", true);
    else if (!strcasecmp(line, "Sec-WebSocket-Key")) copy_trim(h->key, sizeof h->key, v);
    else if (!strcasecmp(line, "Sec-WebSocket-Accept")) copy_trim(h->accept, sizeof h->accept, v);
    else if (!strcasecmp(line, "Sec-WebSocket-Version")) {
        h->has_version = true;
        h->version13 |= has_token(v, "13", false);
    } else if (!strcasecmp(line, "Sec-WebSocket-Protocol")) {
        h->has_proto = true;
        /* Subprotocol names are case-sensitive (RFC 6455 4.1): "MQTT" is not "mqtt". */
        h->proto_mqtt |= has_token(v, "mqtt", false);
        copy_trim(h->proto, sizeof h->proto, v);
    }
}

/*
 * Finds the end of the header in buf and parses it into h. Returns the
 * header's length, 0 when incomplete, -1 when too long (err filled).
 */
static ssize_t parse_head(const uint8_t *buf, size_t len, http_head *h, char *err, size_t errlen)
{
    size_t scan = len < NET_WS_HTTP_MAX ? len : NET_WS_HTTP_MAX;
    size_t end = 0;
    for (size_t i = 3; i < scan && !end; i++)
        if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n') end = i + 1;
    if (!end) {
        if (len < NET_WS_HTTP_MAX) return 0;
        snprintf(err, errlen, "WebSocket upgrade: HTTP header longer than %d bytes", NET_WS_HTTP_MAX);
        return -1;
    }
    char text[NET_WS_HTTP_MAX + 1];
    memcpy(text, buf, end);
    text[end] = '\0';
    memset(h, 0, sizeof *h);
    char *save = NULL;
    bool first = true;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        for (char *c = line; *c; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t') *c = '?'; /* keep messages printable */
        if (first) copy_trim(h->first, sizeof h->first, line);
        else header_line(h, line);
        first = false;
    }
    return (ssize_t)end;
}

/* The Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)), 28 chars. */
static void accept_for(const char *key, char out[29])
{
    char joined[128];
    int n = snprintf(joined, sizeof joined, "%s%s", key, WS_GUID);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)joined, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

static bool path_ok(const char *path)
{
    if (path[0] != '/') return false;
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) return false;
    return true;
}

int net_ws_request(char *out, size_t cap, const char *host, uint16_t port, const char *path,
                   char key[NET_WS_KEY_LEN + 1])
{
    if (!path || !*path) path = "/";
    if (!path_ok(path) || strlen(path) > 2048) return -1;
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
        if (r < 0) return -1;
        got += (size_t)r;
    }
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    bool v6 = strchr(host, ':') != NULL;
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
                     path, v6 ? "[" : "", host, v6 ? "]" : "", port, key);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

ssize_t net_ws_parse_response(const uint8_t *buf, size_t len, const char *key, char *err, size_t errlen)
{
    http_head h;
    ssize_t end = parse_head(buf, len, &h, err, errlen);
    if (end <= 0) return end;
    char want[29];
    accept_for(key, want);
    const char *why = NULL;
    if (strncmp(h.first, "HTTP/1.1 101", 12) != 0) why = "the server did not switch protocols";
    else if (!h.upgrade_ws) why = "no \"Upgrade: websocket\" in the answer";
    else if (!h.conn_upgrade) why = "no \"Connection: Upgrade\" in the answer";
    else if (strcmp(h.accept, want) != 0) why = "Sec-WebSocket-Accept does not match our key (RFC 6455 4.1)";
    else if (!h.has_proto) why = "the server selected no subprotocol; MQTT-6.0.0-4 (MUST) says it selects \"mqtt\"";
    else if (strcmp(h.proto, "mqtt") != 0) why = "the server selected another subprotocol than \"mqtt\" (MQTT-6.0.0-4)";
    if (why) {
        snprintf(err, errlen, "WebSocket upgrade: %s (server said \"%s\")", why, h.first);
        return -1;
    }
    return end;
}

/* A key is base64 of 16 bytes: 22 characters of the alphabet and "==". */
static bool key_ok(const char *k)
{
    if (strlen(k) != NET_WS_KEY_LEN || strcmp(k + 22, "==") != 0) return false;
    for (int i = 0; i < 22; i++)
        if (!isalnum((unsigned char)k[i]) && k[i] != '+' && k[i] != '/') return false;
    return true;
}

static void refuse(char *resp, size_t cap, size_t *resplen, int status, const char *text, const char *why)
{
    bool v = status == 426;
    int n = snprintf(resp, cap,
                     "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                     status, text, v ? "Sec-WebSocket-Version: 13\r\n" : "", strlen(why) + 1, why);
    *resplen = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

ssize_t net_ws_parse_request(const uint8_t *buf, size_t len, char *resp, size_t respcap, size_t *resplen,
                             char *err, size_t errlen)
{
    *resplen = 0;
    http_head h;
    ssize_t end = parse_head(buf, len, &h, err, errlen);
    if (end == 0) return 0;
    const char *why = NULL;
    int status = 400;
    if (end < 0) why = "HTTP header too long";
    else if (strncmp(h.first, "GET /", 5) != 0 || strlen(h.first) < 14 ||
             strcmp(h.first + strlen(h.first) - 9, " HTTP/1.1") != 0)
        why = "not a GET request in HTTP/1.1";
    else if (!h.upgrade_ws || !h.conn_upgrade) why = "not a WebSocket upgrade (Upgrade: websocket, Connection: Upgrade)";
    else if (!h.version13) status = 426, why = "Sec-WebSocket-Version must be 13";
    else if (!key_ok(h.key)) why = "missing or malformed Sec-WebSocket-Key";
    else if (!h.proto_mqtt)
        why = h.has_proto ? "the subprotocol \"mqtt\" is not offered (MQTT-6.0.0-3, MQTT-6.0.0-4)"
                          : "no Sec-WebSocket-Protocol; MQTT-6.0.0-3 (MUST) asks for \"mqtt\"";
    if (why) {
        refuse(resp, respcap, resplen, status, status == 426 ? "Upgrade Required" : "Bad Request", why);
        if (end > 0) snprintf(err, errlen, "WebSocket upgrade refused: %s (request \"%s\")", why, h.first);
        return -1;
    }
    char acc[29];
    accept_for(h.key, acc);
    int n = snprintf(resp, respcap,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
                     acc);
    if (n < 0 || (size_t)n >= respcap) {
        snprintf(err, errlen, "WebSocket upgrade: answer buffer too small");
        return -1;
    }
    *resplen = (size_t)n;
    return end;
}
