/*
 * Fuzz harness `acl`: the ACL file parser (broker/src/broker_acl.c,
 * mosquitto's format) and its decisions.
 *
 * Input: a selector byte, then the ACL text; the last 64 bytes of the text
 * (split at the first NUL: topic, user name, client id) also serve as the
 * question asked. Invariants: no crash or leak; a refused file gets a
 * "fuzz.acl:N: ..." message; for a valid topic, a client allowed to read
 * it has a subscription to that exact topic granted (the subscription check
 * never refuses what a delivery would allow); overlap and containment of
 * filters are consistent (a filter within another overlaps it).
 */
#include "broker/src/broker_acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t piece(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    while (k < n && p[k] && k + 1 < cap) {
        out[k] = (char)p[k];
        k++;
    }
    out[k] = '\0';
    return k < n ? k + 1 : k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    uint8_t sel = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[512] = "";
    broker_acl *acl = broker_acl_parse(text, len, "fuzz.acl", err, sizeof err);
    if (!acl) {
        if (strncmp(err, "fuzz.acl:", 9) != 0 || strchr(err, '\n')) {
            fprintf(stderr, "error message without FILE:LINE or on several lines: %s\n", err);
            abort();
        }
        return 0;
    }
    size_t q = len > 64 ? len - 64 : 0;
    char topic[65], user[65], id[65];
    size_t used = piece((const uint8_t *)text + q, len - q, topic, sizeof topic);
    q += used;
    used = piece((const uint8_t *)text + q, len - q, user, sizeof user);
    q += used;
    piece((const uint8_t *)text + q, len - q, id, sizeof id);
    const char *u = (sel & 1) ? NULL : user;
    mqtt_bytes t = {(const uint8_t *)topic, strlen(topic)};
    bool valid_topic = t.len && !mqtt_topic_name_check(MQTT_V5, t);
    bool r = broker_acl_allows(acl, u, id, t, BROKER_ACL_READ);
    (void)broker_acl_allows(acl, u, id, t, BROKER_ACL_WRITE);
    bool valid_filter = t.len && !mqtt_topic_filter_check(MQTT_V5, t);
    if (valid_filter) {
        bool s = broker_acl_filter_readable(acl, u, id, t);
        if (valid_topic && r && !s) {
            fprintf(stderr, "topic \"%s\" readable but a subscription to it refused\n", topic);
            abort();
        }
        mqtt_bytes other = {(const uint8_t *)user, strlen(user)};
        if (other.len && !mqtt_topic_filter_check(MQTT_V5, other) && broker_filter_within(t, other) &&
            !broker_filters_overlap(t, other)) {
            fprintf(stderr, "\"%s\" within \"%s\" but not overlapping it\n", topic, user);
            abort();
        }
    }
    broker_acl_free(acl);
    return 0;
}
