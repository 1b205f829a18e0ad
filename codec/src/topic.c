/*
 * UTF-8 strings, topic names and topic filters as MQTT defines them
 * (3.1.1 sections 1.5.3 and 4.7, 5.0 sections 1.5.4, 4.7 and 4.8.2), and
 * topic matching.
 *
 * Invariant: the checks read exactly s.len bytes of s.ptr and return NULL for
 * valid input, else the normative id broken. ASCII takes a fast path because
 * almost every real topic is ASCII.
 */
#include <string.h>

#include "internal.h"

const char *mqtt_utf8_check(mqtt_version version, mqtt_bytes s, size_t *bad_at)
{
    const char *ill_formed = RULE(version, "MQTT-1.5.3-1", "MQTT-1.5.4-1");
    const uint8_t *p = s.ptr;
    size_t n = s.len, i = 0;
    while (i < n) {
        /* Fast path: 8 ASCII bytes at a time (none with the top bit set), then check for NUL. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) break;
            /* A zero byte: (w - 0x01..) & ~w & 0x80.. is non-zero. */
            if ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0) {
                if (bad_at) *bad_at = i;
                return RULE(version, "MQTT-1.5.3-2", "MQTT-1.5.4-2");
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t need;
        uint32_t min;
        if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; cp = c & 0x07; min = 0x10000; }
        else goto bad; /* continuation byte, overlong lead 0xC0/0xC1, or above U+10FFFF */
        if (n - i <= need) goto bad; /* truncated sequence */
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = p[i + k];
            if ((cc & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += need + 1;
        continue;
    bad:
        if (bad_at) *bad_at = i;
        return ill_formed;
    }
    return NULL;
}

static bool has_wildcard(mqtt_bytes t)
{
    return memchr(t.ptr, '+', t.len) != NULL || memchr(t.ptr, '#', t.len) != NULL;
}

/* A topic name's problems; `wildcard_rule` is the statement a wildcard breaks where it is. */
static const char *topic_problem(mqtt_version v, mqtt_bytes topic, bool alias_present,
                                 const char *wildcard_rule, mqtt_status *status, uint8_t *reason,
                                 const char **message)
{
    *status = MQTT_ERR_PROTOCOL;
    *reason = RC_TOPIC_NAME_INVALID;
    if (topic.len == 0) {
        if (v == MQTT_V5 && alias_present) return NULL;
        *message = "topic name is empty";
        *reason = RC_PROTOCOL_ERROR;
        return "MQTT-4.7.3-1";
    }
    if (topic.len > 65535) {
        *message = "topic name is longer than 65535 bytes";
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        return "MQTT-4.7.3-3";
    }
    const char *rule = utf8_rule(v, topic, NULL);
    if (rule) {
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        *message = "topic name is not valid UTF-8 (or contains U+0000)";
        return rule;
    }
    if (has_wildcard(topic)) {
        *message = "topic name contains a wildcard character";
        return wildcard_rule;
    }
    return NULL;
}

const char *topic_name_problem(mqtt_version v, mqtt_bytes topic, bool alias_present,
                               mqtt_status *status, uint8_t *reason, const char **message)
{
    return topic_problem(v, topic, alias_present, "MQTT-3.3.2-2", status, reason, message);
}

const char *will_topic_problem(mqtt_version v, mqtt_bytes topic, mqtt_status *status,
                               uint8_t *reason, const char **message)
{
    /* The PUBLISH rule (MQTT-3.3.2-2) does not apply to a Will: the general one does. */
    return topic_problem(v, topic, false, RULE(v, "MQTT-4.7.1-1", "MQTT-4.7.0-1"), status, reason,
                         message);
}

const char *mqtt_topic_name_check(mqtt_version version, mqtt_bytes topic)
{
    mqtt_status s;
    uint8_t r;
    const char *m;
    return topic_name_problem(version, topic, false, &s, &r, &m);
}

bool mqtt_shared_split(mqtt_bytes filter, mqtt_bytes *share_name, mqtt_bytes *topic_filter)
{
    static const char prefix[] = "$share/";
    const size_t plen = sizeof prefix - 1;
    if (filter.len < plen || memcmp(filter.ptr, prefix, plen) != 0) return false;
    const uint8_t *name = filter.ptr + plen;
    size_t rest = filter.len - plen;
    const uint8_t *slash = memchr(name, '/', rest);
    size_t nlen = slash ? (size_t)(slash - name) : rest;
    if (share_name) *share_name = (mqtt_bytes){name, nlen};
    if (topic_filter)
        *topic_filter = slash ? (mqtt_bytes){slash + 1, rest - nlen - 1} : (mqtt_bytes){NULL, 0};
    return true;
}

/* '+' and '#' placement in a plain (non-shared) filter. */
static const char *wildcard_problem(mqtt_version v, mqtt_bytes f, const char **message)
{
    for (size_t i = 0; i < f.len; i++) {
        uint8_t c = f.ptr[i];
        if (c == '#') {
            if (i + 1 != f.len || (i > 0 && f.ptr[i - 1] != '/')) {
                *message = "'#' is not the last character or does not follow '/'";
                return RULE(v, "MQTT-4.7.1-2", "MQTT-4.7.1-1");
            }
        } else if (c == '+') {
            if ((i > 0 && f.ptr[i - 1] != '/') || (i + 1 < f.len && f.ptr[i + 1] != '/')) {
                *message = "'+' does not occupy a whole topic level";
                return RULE(v, "MQTT-4.7.1-3", "MQTT-4.7.1-2");
            }
        }
    }
    return NULL;
}

const char *topic_filter_problem(mqtt_version v, mqtt_bytes filter, mqtt_status *status,
                                 uint8_t *reason, const char **message)
{
    /* Most filters are plain ASCII without wildcards: valid unless a 5.0 shared one. */
    if (topic_name_plain(filter.ptr, filter.len) &&
        !(v == MQTT_V5 && filter.len >= 7 && memcmp(filter.ptr, "$share/", 7) == 0))
        return NULL;
    *status = MQTT_ERR_PROTOCOL;
    *reason = RC_TOPIC_FILTER_INVALID;
    if (filter.len == 0) {
        *message = "topic filter is empty";
        *reason = RC_PROTOCOL_ERROR;
        return "MQTT-4.7.3-1";
    }
    if (filter.len > 65535) {
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        *message = "topic filter is longer than 65535 bytes";
        return "MQTT-4.7.3-3";
    }
    const char *rule = utf8_rule(v, filter, NULL);
    if (rule) {
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        *message = "topic filter is not valid UTF-8 (or contains U+0000)";
        return rule;
    }
    mqtt_bytes name, rest;
    if (v == MQTT_V5 && mqtt_shared_split(filter, &name, &rest)) {
        if (name.len == 0) {
            *message = "shared subscription has an empty ShareName";
            return "MQTT-4.8.2-1";
        }
        if (memchr(name.ptr, '+', name.len) || memchr(name.ptr, '#', name.len) || rest.ptr == NULL ||
            rest.len == 0) {
            *message = "ShareName contains '+' or '#', or is not followed by '/' and a topic filter";
            return "MQTT-4.8.2-2";
        }
        return wildcard_problem(v, rest, message);
    }
    return wildcard_problem(v, filter, message);
}

const char *mqtt_topic_filter_check(mqtt_version version, mqtt_bytes filter)
{
    mqtt_status s;
    uint8_t r;
    const char *m;
    return topic_filter_problem(version, filter, &s, &r, &m);
}

bool mqtt_topic_matches(mqtt_bytes filter, mqtt_bytes topic)
{
    size_t f = 0, t = 0;
    /* MQTT-4.7.2-1: a wildcard in the first level does not match a topic starting with '$'. */
    if (topic.len > 0 && topic.ptr[0] == '$' && filter.len > 0 &&
        (filter.ptr[0] == '+' || filter.ptr[0] == '#'))
        return false;
    for (;;) {
        if (f < filter.len && filter.ptr[f] == '#') return true; /* matches parent and all below */
        if (f < filter.len && filter.ptr[f] == '+') {
            while (t < topic.len && topic.ptr[t] != '/') t++;
            f++;
        } else {
            while (f < filter.len && t < topic.len && filter.ptr[f] != '/' && topic.ptr[t] != '/') {
                if (filter.ptr[f] != topic.ptr[t]) return false;
                f++;
                t++;
            }
            if ((f < filter.len && filter.ptr[f] != '/') || (t < topic.len && topic.ptr[t] != '/'))
                return false;
        }
        /* Both at a level end. */
        bool fend = f == filter.len, tend = t == topic.len;
        if (fend && tend) return true;
        if (fend) return false;
        if (tend) {
            /* "a/#" matches "a": filter continues with "/#". */
            return filter.len - f == 2 && filter.ptr[f] == '/' && filter.ptr[f + 1] == '#';
        }
        f++; /* skip '/' in both */
        t++;
    }
}
