/*
 * Which normative statements bind the client, per version, for the coverage
 * report's client/server split (issue 15), and which of those the broker
 * seat cannot test, with why. Keyed by (version, id): the same id means
 * different things in 3.1.1 and 5.0. A statement is listed when its sentence
 * puts the obligation on the Client ("The Client MUST ...") or on either side
 * ("the Client or Server", "the sender", "the receiver", which includes the
 * client); every other statement binds the Server only. The classification
 * follows the wording of the OASIS texts; ids not listed are server-side.
 */
#include "conformance/src/client_stmts.h"

#include <string.h>

typedef struct {
    const char *id;
    bool both;              /* binds the server too ("Client or Server", sender, receiver) */
    const char *untestable; /* why the broker seat cannot test it, NULL: testable */
} stmt_row;

#define WIRE_HIDDEN "what the client hands its application is not on the wire, and a command-line client shows only the payload"
#define INTERNAL "a client's internal session state: only its effects on the wire are testable, and other statements cover those"
#define TRANSPORT "a property of the network transport below MQTT, not of any packet"
#define WEBSOCKET "the broker seat listens on plain TCP only: MQTT over WebSocket is not offered to clients under test"
#define TRANSIENT "a Transient Error inside the client (e.g. it runs out of a resource) cannot be caused from the server's side of the connection"
#define REFUSE "applies after the client refused a QoS 2 message with PUBREC 0x80 or above; no statement requires a client to refuse any message (it is its application's choice), and a command-line client cannot be asked to"
#define META "a conformance claim of a product, not a behaviour on the wire"

static const stmt_row client_311[] = {
    {"MQTT-1.5.3-1", true, NULL}, {"MQTT-1.5.3-2", true, NULL}, {"MQTT-1.5.3-3", true, WIRE_HIDDEN},
    {"MQTT-2.2.2-1", true, NULL}, {"MQTT-2.2.2-2", true, NULL},
    {"MQTT-2.3.1-1", true, NULL}, {"MQTT-2.3.1-2", false, NULL}, {"MQTT-2.3.1-3", false, NULL},
    {"MQTT-2.3.1-5", true, NULL}, {"MQTT-2.3.1-6", true, NULL},
    {"MQTT-3.1.0-1", false, NULL}, {"MQTT-3.1.0-2", true, NULL},
    {"MQTT-3.1.2-6", true, NULL}, {"MQTT-3.1.2-9", false, NULL}, {"MQTT-3.1.2-11", false, NULL},
    {"MQTT-3.1.2-13", false, NULL}, {"MQTT-3.1.2-14", false, NULL}, {"MQTT-3.1.2-15", false, NULL},
    {"MQTT-3.1.2-18", false, NULL},
    {"MQTT-3.1.2-19", false, NULL}, {"MQTT-3.1.2-20", false, NULL}, {"MQTT-3.1.2-21", false, NULL},
    {"MQTT-3.1.2-22", false, NULL}, {"MQTT-3.1.2-23", false, NULL},
    {"MQTT-3.1.3-1", false, NULL}, {"MQTT-3.1.3-3", false, NULL}, {"MQTT-3.1.3-4", false, NULL},
    {"MQTT-3.1.3-7", false, NULL}, {"MQTT-3.1.3-10", false, NULL}, {"MQTT-3.1.3-11", false, NULL},
    {"MQTT-3.3.1-1", true, NULL}, {"MQTT-3.3.1-2", true, NULL}, {"MQTT-3.3.1-4", true, NULL},
    {"MQTT-3.3.2-1", true, NULL}, {"MQTT-3.3.2-2", true, NULL}, {"MQTT-3.3.4-1", true, NULL},
    {"MQTT-3.6.1-1", true, NULL}, {"MQTT-3.8.1-1", false, NULL}, {"MQTT-3.8.3-1", false, NULL},
    {"MQTT-3.8.3-3", false, NULL}, {"MQTT-3.10.1-1", false, NULL}, {"MQTT-3.10.3-1", false, NULL},
    {"MQTT-3.10.3-2", false, NULL}, {"MQTT-3.14.4-1", false, NULL}, {"MQTT-3.14.4-2", false, NULL},
    {"MQTT-4.1.0-1", true, INTERNAL}, {"MQTT-4.3.1-1", true, NULL}, {"MQTT-4.3.2-1", true, NULL},
    {"MQTT-4.3.2-2", true, NULL}, {"MQTT-4.3.3-1", true, NULL}, {"MQTT-4.3.3-2", true, NULL},
    {"MQTT-4.4.0-1", true, NULL}, {"MQTT-4.5.0-2", false, NULL}, {"MQTT-4.6.0-1", false, NULL},
    {"MQTT-4.6.0-2", false, NULL}, {"MQTT-4.6.0-3", false, NULL}, {"MQTT-4.6.0-4", false, NULL},
    {"MQTT-4.7.1-1", true, NULL}, {"MQTT-4.7.1-2", true, NULL}, {"MQTT-4.7.1-3", true, NULL},
    {"MQTT-4.7.3-1", true, NULL}, {"MQTT-4.7.3-2", true, NULL}, {"MQTT-4.7.3-3", true, NULL},
    {"MQTT-4.8.0-1", true, NULL}, {"MQTT-4.8.0-2", true, TRANSIENT},
    {"MQTT-6.0.0-1", true, WEBSOCKET}, {"MQTT-6.0.0-2", true, WEBSOCKET}, {"MQTT-6.0.0-3", true, WEBSOCKET},
    {"MQTT-6.0.0-4", true, WEBSOCKET}, {"MQTT-7.0.0-1", true, META}, {"MQTT-7.0.0-2", true, META},
    {"MQTT-7.1.2-1", false, META},
};

static const stmt_row client_5[] = {
    {"MQTT-1.5.4-1", true, NULL}, {"MQTT-1.5.4-2", true, NULL}, {"MQTT-1.5.4-3", true, WIRE_HIDDEN},
    {"MQTT-1.5.5-1", true, NULL}, {"MQTT-1.5.7-1", true, NULL},
    {"MQTT-2.1.3-1", true, NULL}, {"MQTT-2.2.1-2", true, NULL}, {"MQTT-2.2.1-3", false, NULL},
    {"MQTT-2.2.1-5", true, NULL}, {"MQTT-2.2.2-1", true, NULL},
    {"MQTT-3.1.0-1", false, NULL}, {"MQTT-3.1.0-2", true, NULL},
    {"MQTT-3.1.2-4", true, NULL}, {"MQTT-3.1.2-9", false, NULL},
    {"MQTT-3.1.2-11", false, NULL}, {"MQTT-3.1.2-13", false, NULL}, {"MQTT-3.1.2-16", false, NULL},
    {"MQTT-3.1.2-17", false, NULL}, {"MQTT-3.1.2-18", false, NULL}, {"MQTT-3.1.2-19", false, NULL},
    {"MQTT-3.1.2-20", false, NULL}, {"MQTT-3.1.2-21", false, NULL}, {"MQTT-3.1.2-23", true, INTERNAL},
    {"MQTT-3.1.2-30", false, NULL},
    {"MQTT-3.1.3-1", false, NULL}, {"MQTT-3.1.3-3", false, NULL}, {"MQTT-3.1.3-4", false, NULL},
    {"MQTT-3.1.3-11", false, NULL}, {"MQTT-3.1.3-12", false, NULL},
    {"MQTT-3.2.2-4", false, NULL}, {"MQTT-3.2.2-5", false, INTERNAL}, {"MQTT-3.2.2-11", false, NULL},
    {"MQTT-3.2.2-14", false, NULL}, {"MQTT-3.2.2-15", false, NULL}, {"MQTT-3.2.2-17", false, NULL},
    {"MQTT-3.2.2-18", false, NULL}, {"MQTT-3.2.2-21", false, NULL},
    {"MQTT-3.3.1-1", true, NULL}, {"MQTT-3.3.1-2", true, NULL}, {"MQTT-3.3.1-4", true, NULL},
    {"MQTT-3.3.2-1", true, NULL}, {"MQTT-3.3.2-2", true, NULL}, {"MQTT-3.3.2-7", true, NULL},
    {"MQTT-3.3.2-8", true, NULL}, {"MQTT-3.3.2-9", false, NULL}, {"MQTT-3.3.2-10", false, NULL},
    {"MQTT-3.3.2-13", true, NULL}, {"MQTT-3.3.2-14", true, NULL}, {"MQTT-3.3.2-19", true, NULL},
    {"MQTT-3.3.4-1", true, NULL}, {"MQTT-3.3.4-6", false, NULL}, {"MQTT-3.3.4-7", false, NULL},
    {"MQTT-3.3.4-8", false, NULL},
    {"MQTT-3.4.2-1", true, NULL}, {"MQTT-3.4.2-2", true, NULL}, {"MQTT-3.4.2-3", true, NULL},
    {"MQTT-3.5.2-1", true, NULL}, {"MQTT-3.5.2-2", true, NULL}, {"MQTT-3.5.2-3", true, NULL},
    {"MQTT-3.6.1-1", true, NULL}, {"MQTT-3.6.2-1", true, NULL}, {"MQTT-3.6.2-2", true, NULL},
    {"MQTT-3.6.2-3", true, NULL}, {"MQTT-3.7.2-1", true, NULL}, {"MQTT-3.7.2-2", true, NULL},
    {"MQTT-3.7.2-3", true, NULL},
    {"MQTT-3.8.1-1", false, NULL}, {"MQTT-3.8.3-1", false, NULL}, {"MQTT-3.8.3-2", false, NULL},
    {"MQTT-3.8.3-4", true, NULL}, {"MQTT-3.8.3-5", false, NULL},
    {"MQTT-3.10.1-1", false, NULL}, {"MQTT-3.10.3-1", false, NULL}, {"MQTT-3.10.3-2", false, NULL},
    {"MQTT-3.14.1-1", true, NULL}, {"MQTT-3.14.2-1", true, NULL}, {"MQTT-3.14.2-3", true, NULL},
    {"MQTT-3.14.2-4", true, NULL}, {"MQTT-3.14.4-1", true, NULL}, {"MQTT-3.14.4-2", true, NULL},
    {"MQTT-3.15.1-1", true, NULL}, {"MQTT-3.15.2-1", true, NULL}, {"MQTT-3.15.2-2", true, NULL},
    {"MQTT-3.15.2-3", true, NULL},
    {"MQTT-4.1.0-1", true, INTERNAL}, {"MQTT-4.2.0-1", true, TRANSPORT}, {"MQTT-4.3.1-1", true, NULL},
    {"MQTT-4.3.2-1", true, NULL}, {"MQTT-4.3.2-2", true, NULL}, {"MQTT-4.3.2-3", true, NULL},
    {"MQTT-4.3.2-4", true, NULL}, {"MQTT-4.3.2-5", true, NULL},
    {"MQTT-4.3.3-1", true, NULL}, {"MQTT-4.3.3-2", true, NULL}, {"MQTT-4.3.3-3", true, NULL},
    {"MQTT-4.3.3-4", true, NULL}, {"MQTT-4.3.3-5", true, NULL}, {"MQTT-4.3.3-6", true, NULL},
    {"MQTT-4.3.3-7", true, NULL}, {"MQTT-4.3.3-8", true, NULL}, {"MQTT-4.3.3-9", true, REFUSE},
    {"MQTT-4.3.3-10", true, NULL}, {"MQTT-4.3.3-11", true, NULL}, {"MQTT-4.3.3-12", true, NULL},
    {"MQTT-4.3.3-13", true, NULL},
    {"MQTT-4.4.0-1", true, NULL}, {"MQTT-4.4.0-2", true, NULL}, {"MQTT-4.5.0-2", false, NULL},
    {"MQTT-4.6.0-1", false, NULL}, {"MQTT-4.6.0-2", false, NULL}, {"MQTT-4.6.0-3", false, NULL},
    {"MQTT-4.6.0-4", false, NULL},
    {"MQTT-4.7.0-1", true, NULL}, {"MQTT-4.7.1-1", true, NULL}, {"MQTT-4.7.1-2", true, NULL},
    {"MQTT-4.7.3-1", true, NULL}, {"MQTT-4.7.3-2", true, NULL}, {"MQTT-4.7.3-3", true, NULL},
    {"MQTT-4.8.2-1", false, NULL}, {"MQTT-4.8.2-2", false, NULL},
    {"MQTT-4.9.0-1", true, NULL}, {"MQTT-4.9.0-2", true, NULL}, {"MQTT-4.9.0-3", true, NULL},
    {"MQTT-4.12.0-3", false, NULL}, {"MQTT-4.12.0-5", true, NULL}, {"MQTT-4.12.0-7", false, NULL},
    {"MQTT-4.12.1-1", false, NULL}, {"MQTT-4.13.1-1", true, NULL}, {"MQTT-4.13.2-1", true, NULL},
    {"MQTT-6.0.0-1", true, WEBSOCKET}, {"MQTT-6.0.0-2", true, WEBSOCKET}, {"MQTT-6.0.0-3", true, WEBSOCKET},
    {"MQTT-6.0.0-4", true, WEBSOCKET},
};

static const stmt_row *find(int vi, const char *id)
{
    const stmt_row *t = vi == CONF_VI_5 ? client_5 : client_311;
    size_t n = vi == CONF_VI_5 ? sizeof client_5 / sizeof client_5[0] : sizeof client_311 / sizeof client_311[0];
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].id, id)) return &t[i];
    return NULL;
}

conf_side conf_stmt_side(int vi, const char *id)
{
    const stmt_row *r = find(vi, id);
    return !r ? SIDE_SERVER : r->both ? SIDE_BOTH : SIDE_CLIENT;
}

const char *conf_client_untestable(int vi, const char *id)
{
    const stmt_row *r = find(vi, id);
    return r ? r->untestable : NULL;
}

const char *conf_client_stmt_at(int vi, size_t i)
{
    const stmt_row *t = vi == CONF_VI_5 ? client_5 : client_311;
    size_t n = vi == CONF_VI_5 ? sizeof client_5 / sizeof client_5[0] : sizeof client_311 / sizeof client_311[0];
    return i < n ? t[i].id : NULL;
}
