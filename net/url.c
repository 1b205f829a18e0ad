/*
 * url: parses broker URLs and HOST:PORT (see url.h).
 * Invariant: a field that does not fit is an error, never truncated.
 */
#include "net/url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"

static int copy_n(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* "user[:password]" before the '@'. */
static int parse_userinfo(net_url *u, const char *p, size_t n)
{
    const char *colon = memchr(p, ':', n);
    size_t ul = colon ? (size_t)(colon - p) : n;
    if (copy_n(u->user, sizeof u->user, p, ul)) return -1;
    u->has_user = true;
    if (colon) {
        if (copy_n(u->password, sizeof u->password, colon + 1, n - ul - 1)) return -1;
        u->has_password = true;
    }
    return 0;
}

static int scheme_of(net_url *u, const char *s, size_t n)
{
    static const struct { const char *name; bool tls, ws; uint16_t port; } schemes[] = {
        {"mqtt", false, false, 1883}, {"tcp", false, false, 1883}, {"mqtts", true, false, 8883},
        {"ssl", true, false, 8883},   {"ws", false, true, 80},      {"wss", true, true, 443}};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strlen(schemes[i].name) == n && !strncasecmp(s, schemes[i].name, n)) {
            u->tls = schemes[i].tls;
            u->ws = schemes[i].ws;
            u->port = schemes[i].port;
            return 0;
        }
    }
    return -1;
}

int net_url_parse(const char *text, net_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *sep = strstr(text, "://");
    const char *rest = text;
    if (sep) {
        if (scheme_of(u, text, (size_t)(sep - text))) {
            snprintf(err, errlen, "unsupported URL scheme \"%.*s\" in \"%s\" (expected mqtt, mqtts, ws or wss)",
                     (int)(sep - text), text, text);
            return -1;
        }
        u->has_scheme = true;
        rest = sep + 3;
    } else {
        u->port = 1883;
    }
    const char *slash = strchr(rest, '/');
    size_t alen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (slash && !sep) {
        snprintf(err, errlen, "\"%s\": a path needs a URL (ws://host:port/path)", text);
        return -1;
    }
    const char *at = memchr(rest, '@', alen);
    if (at) {
        if (parse_userinfo(u, rest, (size_t)(at - rest))) goto toolong;
        alen -= (size_t)(at + 1 - rest);
        rest = at + 1;
    }
    char hostport[300];
    if (copy_n(hostport, sizeof hostport, rest, alen)) goto toolong;
    uint16_t def = u->port;
    u->port = 0; /* stays 0 when no port is written */
    if (net_parse_hostport(hostport, u->host, sizeof u->host, &u->port) != 0) {
        snprintf(err, errlen, "bad host or port \"%s\" in \"%s\" (HOST, HOST:PORT or [IPV6]:PORT, port 1-65535)",
                 hostport, text);
        return -1;
    }
    u->has_port = u->port != 0;
    if (!u->has_port) u->port = def;
    if (u->ws) {
        if (copy_n(u->path, sizeof u->path, slash ? slash : "/", strlen(slash ? slash : "/"))) goto toolong;
    } else if (slash && copy_n(u->path, sizeof u->path, slash + 1, strlen(slash + 1))) {
        goto toolong;
    }
    return 0;
toolong:
    snprintf(err, errlen, "a part of \"%.80s\" is too long", text);
    return -1;
}
