/*
 * The numbered statements of 3.1.1 and 5.0 that no scenario checks against a
 * broker, each with the reason, so that coverage reports show why an id is
 * unchecked instead of a bare gap. Three kinds:
 * - it binds only the Client (the runner is the client here; the client
 *   suite, issue 15, checks those against client libraries);
 * - it is a statement about the whole implementation or the transport, which
 *   every run shows and no single exchange can fail;
 * - it applies only to a server configured or built in a way no scenario can
 *   require (an authentication method, an absent feature, an internal error).
 * An id listed here that a scenario does check is reported as checked (the
 * scenario wins); test_levels.c checks every listed id is a statement of its
 * version, listed once, with a reason.
 */
#include "conformance/src/spec_ids.h"

#include <string.h>

typedef struct {
    const char *id;
    const char *why;
} untestable_row;

#define CLIENT "binds only the Client (the client suite checks it, issue 15)"
#define WHOLE "a statement about the whole implementation or its transport: every run shows it, no exchange can fail it"
#define AUTH "needs an authentication method the broker supports; the specification defines none, so no scenario can " \
             "run the exchange against any broker"

static const untestable_row rows_311[] = {
    {"MQTT-2.3.1-2", CLIENT},
    {"MQTT-2.3.1-3", CLIENT},
    {"MQTT-3.1.3-1", CLIENT " (the order of the CONNECT payload fields the Client writes)"},
    {"MQTT-3.1.3-7", CLIENT " (the server's side, refusing a zero-byte ClientId with CleanSession 0, is MQTT-3.1.3-8)"},
    {"MQTT-3.1.3-9", "applies when the Server rejects a ClientId, which it MAY do for any id; the only rejection it "
                     "MUST make is MQTT-3.1.3-8 (checked), so nothing can make a broker reject one"},
    {"MQTT-3.3.5-2", "applies when the Server does not authorize a PUBLISH: needs an access control list configured "
                     "in the broker, which no scenario can require"},
    {"MQTT-3.8.3-2", "applies only to a Server that does not support wildcard Topic Filters; wildcard support "
                     "cannot be switched off from the client side"},
    {"MQTT-3.14.4-1", CLIENT},
    {"MQTT-3.14.4-2", CLIENT},
    {"MQTT-4.5.0-2", CLIENT},
    {"MQTT-4.6.0-1", CLIENT " (in 3.1.1 the ordering rules of section 4.6 are the Client's)"},
    {"MQTT-4.6.0-2", CLIENT},
    {"MQTT-4.6.0-3", CLIENT},
    {"MQTT-4.6.0-4", CLIENT},
    {"MQTT-4.7.3-3", "the 2-byte length prefix of every string cannot express more than 65535 bytes: no packet can "
                     "break it"},
    {"MQTT-4.8.0-2", "a Transient Error (e.g. the server running out of a resource) cannot be caused from outside "
                     "the server"},
    {"MQTT-7.0.0-1", WHOLE},
    {"MQTT-7.0.0-2", WHOLE},
    {"MQTT-7.1.1-1", WHOLE " (it is what the whole suite checks)"},
    {"MQTT-7.1.2-1", CLIENT},
};

static const untestable_row rows_5[] = {
    {"MQTT-3.1.2-21", CLIENT},
    {"MQTT-3.1.2-30", CLIENT},
    {"MQTT-3.1.3-1", CLIENT " (the order of the CONNECT payload fields the Client writes)"},
    {"MQTT-3.1.3-8", "applies when the Server rejects a ClientId, which 5.0 never requires (it may assign one), so "
                     "nothing can make a broker reject one"},
    {"MQTT-3.2.2-4", CLIENT},
    {"MQTT-3.2.2-5", CLIENT},
    {"MQTT-3.2.2-9", "applies only to a Server without QoS 1 or QoS 2, which no scenario can require (the probe reads "
                     "Maximum QoS, and scenarios needing QoS 2 are skipped on such a broker)"},
    {"MQTT-3.2.2-10", "applies only to a Server without QoS 1 or QoS 2, which no scenario can require"},
    {"MQTT-3.2.2-11", CLIENT},
    {"MQTT-3.2.2-12", "applies only to a Server without QoS 1 or QoS 2 (a Will QoS beyond its capabilities), which no "
                      "scenario can require"},
    {"MQTT-3.2.2-13", "applies only to a Server without retained messages (Will Retain 1), which no scenario can "
                      "require"},
    {"MQTT-3.2.2-14", CLIENT},
    {"MQTT-3.2.2-17", CLIENT},
    {"MQTT-3.2.2-18", CLIENT},
    {"MQTT-3.2.2-21", CLIENT},
    {"MQTT-3.3.2-10", CLIENT},
    {"MQTT-3.3.4-7", CLIENT " (mqtt5/33 breaks it on purpose; the server is judged by MQTT-4.13.1-1)"},
    {"MQTT-3.3.4-8", CLIENT},
    {"MQTT-3.15.2-1", AUTH},
    {"MQTT-3.15.2-2", AUTH},
    {"MQTT-3.15.2-3", AUTH},
    {"MQTT-4.2.0-1", WHOLE},
    {"MQTT-4.3.3-9", "applies after the Server refused a QoS 2 PUBLISH with PUBREC 0x80 or above, a refusal no "
                     "statement requires of any server for any message, so no scenario can cause one"},
    {"MQTT-4.5.0-2", CLIENT},
    {"MQTT-4.6.0-1", CLIENT " (the re-send order rules of section 4.6 are the Client's)"},
    {"MQTT-4.6.0-2", CLIENT},
    {"MQTT-4.6.0-3", CLIENT},
    {"MQTT-4.6.0-4", CLIENT},
    {"MQTT-4.7.3-3", "the 2-byte length prefix of every string cannot express more than 65535 bytes: no packet can "
                     "break it"},
    {"MQTT-4.12.0-2", AUTH},
    {"MQTT-4.12.0-3", CLIENT},
    {"MQTT-4.12.0-4", AUTH},
    {"MQTT-4.12.0-5", AUTH},
    {"MQTT-4.12.1-1", CLIENT},
    {"MQTT-4.12.1-2", AUTH},
};

const char *conf_untestable_reason(int vi, const char *id)
{
    const untestable_row *rows = vi == 2 ? rows_5 : rows_311;
    size_t n = vi == 2 ? sizeof rows_5 / sizeof rows_5[0] : sizeof rows_311 / sizeof rows_311[0];
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].id, id) == 0) return rows[i].why;
    return NULL;
}

size_t conf_untestable_count(int vi)
{
    return vi == 2 ? sizeof rows_5 / sizeof rows_5[0] : sizeof rows_311 / sizeof rows_311[0];
}

const char *conf_untestable_at(int vi, size_t i, const char **why)
{
    const untestable_row *rows = vi == 2 ? rows_5 : rows_311;
    if (i >= conf_untestable_count(vi)) return NULL;
    *why = rows[i].why;
    return rows[i].id;
}
