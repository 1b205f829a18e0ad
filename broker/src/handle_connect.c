/*
 * handle_connect: CONNECT -> checks, session takeover, clean start or
 * resume, Will, CONNACK, then the re-send of what was in flight.
 *
 * Order matters: every refusal happens before anything changes (a refused
 * CONNECT touches no session, MQTT-3.1.4-5 in 5.0 / 3.1.4 in 3.1.1); the old
 * connection of the same client is closed before the session is looked at
 * again (its Will and the end of a non-persistent session happen first);
 * CONNACK goes out before any PUBLISH (5.0 MQTT-3.2.0-1).
 *
 * Client identifiers: 3.1 allows 1 to 23 bytes only (0x02 otherwise); an
 * empty identifier gets one assigned ("auto-" and 16 hex digits, unique
 * among sessions) with Clean Session in 3.1.1 (MQTT-3.1.3-6) and always in
 * 5.0, where CONNACK returns it (MQTT-3.1.3-7, MQTT-3.2.2-16); 3.1.1 without
 * Clean Session is refused with 0x02 (MQTT-3.1.3-8). Longer identifiers and
 * any characters are accepted (MQTT-3.1.3-5 allows it), as mosquitto does.
 */
#include "broker/src/broker_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 3.x return codes for a 5.0 reason code of a refusal. */
static uint8_t return_code_3x(uint8_t reason)
{
    switch (reason) {
    case 0x84: return 0x01; /* unacceptable protocol version */
    case 0x85: return 0x02; /* identifier rejected */
    case 0x88:
    case 0x97: return 0x03; /* server unavailable */
    case 0x86: return 0x04; /* bad user name or password */
    default: return 0x05;   /* not authorized */
    }
}

static void refuse(broker_conn *c, uint8_t reason, const char *rule, const char *why, mqtt_bytes id)
{
    uint8_t code = c->version == MQTT_V5 ? reason : return_code_3x(reason);
    broker_conn_refuse(c, code, rule, "CONNECT from \"%.*s\": %s", (int)(id.len > 64 ? 64 : id.len),
                       id.ptr ? (const char *)id.ptr : "", why);
}

static bool same_user(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static size_t assign_id(broker_core *core, char *buf, size_t cap)
{
    for (;;) {
        uint64_t n = ++core->assigned_ids;
        /* Mixed with the start time so ids differ across broker restarts. */
        uint64_t v = (n * 0x9E3779B97F4A7C15ull) ^ (uint64_t)core->started_at;
        int len = snprintf(buf, cap, "auto-%016" PRIX64, v);
        if (!broker_session_find(core, (const uint8_t *)buf, (size_t)len)) return (size_t)len;
    }
}

/* The checks of a CONNECT before anything changes; false if it was refused
 * (c is closing). *keepalive gets the Keep Alive in force. */
static bool connect_acceptable(broker_conn *c, const mqtt_connect *p, uint16_t *keepalive_out,
                               bool *server_keepalive_out)
{
    const broker_options *o = &c->core->opt;
    bool v5 = c->version == MQTT_V5;
    const mqtt_properties *pr = &p->properties;
    mqtt_bytes id = p->client_id;
    /* ---- checks: nothing has changed yet ---- */
    if (c->version == MQTT_V31 && (id.len == 0 || id.len > 23)) {
        refuse(c, 0x85, "MQTT-3.1.3-5", "MQTT 3.1 client identifiers are 1 to 23 bytes", id);
        return false;
    }
    if (id.len == 0 && !v5 && !p->clean_start) {
        refuse(c, 0x85, "MQTT-3.1.3-8", "empty client identifier without Clean Session", id);
        return false;
    }
    uint16_t keepalive = p->keep_alive;
    bool server_keepalive = false;
    if (keepalive > o->max_keepalive || (keepalive == 0 && o->max_keepalive < 65535)) {
        if (!v5) {
            /* 3.x has no way to say so: refused, as mosquitto does. */
            if (keepalive > o->max_keepalive) {
                refuse(c, 0x85, "MQTT-3.1.2-24", "keep alive above max_keepalive", id);
                return false;
            }
        } else {
            keepalive = o->max_keepalive; /* Server Keep Alive (5.0 MQTT-3.2.2-21) */
            server_keepalive = true;
        }
    }
    if (p->will && p->will_qos > o->max_qos) {
        if (v5) refuse(c, 0x9B, "MQTT-3.2.2-12", "Will QoS above the maximum QoS", id);
        else broker_conn_fail(c, 0, "MQTT-3.2.2-12", false, "Will QoS %u above max_qos %u", p->will_qos, o->max_qos);
        return false;
    }
    if (p->will && p->will_retain && !o->retain_available) {
        if (v5) refuse(c, 0x9A, "MQTT-3.2.2-13", "retained Will but retain is not available", id);
        else broker_conn_fail(c, 0, "MQTT-3.2.2-13", false, "retained Will but retain is not available");
        return false;
    }
    if (broker_mem_over(c->core, 1)) {
        /* memory_limit reached: new clients are refused until memory is
         * freed (mosquitto refuses their allocations). */
        refuse(c, 0x97, "LIMIT-memory_limit", "the broker is at its memory_limit", id);
        return false;
    }
    if (v5 && MQTT_HAS_PROP(pr, MQTT_PROP_AUTHENTICATION_METHOD)) {
        refuse(c, 0x8C, "MQTT-4.12.0-1", "enhanced authentication is not supported", id);
        return false;
    }
    *keepalive_out = keepalive;
    *server_keepalive_out = server_keepalive;
    return true;
}

/* The session the new connection c of `username` continues: the one of
 * its client id if any and if it may (taken over from a live connection,
 * ended on Clean Start or for another user), else NULL; *present says it
 * is resumed. */
static broker_session *existing_session(broker_conn *c, const mqtt_connect *p, mqtt_bytes id,
                                        const char *username, bool *present)
{
    broker_core *core = c->core;
    /* ---- takeover: the same client id is connected elsewhere ---- */
    broker_session *s = broker_session_find(core, id.ptr, id.len);
    if (s && s->conn) {
        broker_conn *old = s->conn;
        broker_conn_fail(old, 0x8E, old->version == MQTT_V5 ? "MQTT-3.1.4-3" : "MQTT-3.1.4-2", true,
                         "session taken over by a new connection from %s", c->peer);
        s = broker_session_find(core, id.ptr, id.len); /* ended if not persistent */
    }

    /* ---- a session belongs to the user who made it ---- */
    if (s && !same_user(s->username, username)) {
        /* Another user's client id: that session (subscriptions, queued and
         * in-flight messages) is never handed over. It is ended, as with
         * Clean Start, and the new user starts afresh (Session Present 0).
         * mosquitto 2.0.11 resumes it but filters every message through the
         * new user's ACL; ending it also hides which filters it held. */
        broker_log_conn(c, BROKER_LOG_NOTICE, "client id used by %s%s%s: session of user \"%s\" discarded",
                        username ? "user \"" : "an anonymous client", username ? username : "",
                        username ? "\"" : "", s->username ? s->username : "(anonymous)");
        broker_session_end(core, s); /* publishes a pending delayed Will */
        s = NULL;
    }

    /* ---- clean start / resume (3.1.1 MQTT-3.1.2-4/6, 5.0 MQTT-3.1.2-4/5/6) ---- */
    if (s && p->clean_start) {
        broker_session_end(core, s); /* publishes a pending delayed Will */
        s = NULL;
    } else if (s) {
        *present = true;
        if (s->will) { /* reconnected within the Will Delay (5.0 MQTT-3.1.3-9) */
            broker_msg_unref(s->will);
            s->will = NULL;
            s->will_at = 0;
        }
    }
    return s;
}

/* The 5.0 CONNACK properties announcing this broker's limits. */
static void connack_properties(const broker_options *o, mqtt_properties *ap, mqtt_bytes id, bool assigned_id,
                               uint16_t keepalive, bool server_keepalive)
{
    if (assigned_id) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER);
        ap->assigned_client_identifier = id;
    }
    if (server_keepalive) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_SERVER_KEEP_ALIVE);
        ap->server_keep_alive = keepalive;
    }
    if (o->max_inflight_messages && o->max_inflight_messages < 65535) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
        ap->receive_maximum = o->max_inflight_messages;
    }
    if (o->max_qos < 2) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS);
        ap->maximum_qos = o->max_qos;
    }
    if (!o->retain_available) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_RETAIN_AVAILABLE);
        ap->retain_available = 0;
    }
    /* Announced only below the protocol maximum (which a 5.0 client assumes
     * when it is absent, 3.2.2.3.6; mosquitto does not announce it either). */
    if (o->max_packet_size && o->max_packet_size < MQTT_MAX_PACKET_SIZE) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
        ap->maximum_packet_size = o->max_packet_size;
    }
    if (o->max_topic_alias) {
        ap->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
        ap->topic_alias_maximum = o->max_topic_alias;
    }
}

void broker_handle_connect(broker_conn *c, const mqtt_connect *p)
{
    broker_core *core = c->core;
    const broker_options *o = &core->opt;
    c->version = (mqtt_version)p->protocol_level;
    bool v5 = c->version == MQTT_V5;
    const mqtt_properties *pr = &p->properties;
    mqtt_bytes id = p->client_id;
    /* Known before any check: even a refusing CONNACK must fit the client's Maximum
     * Packet Size (5.0 MQTT-3.1.2-24; its Reason String is dropped first, MQTT-3.2.2-19). */
    if (v5) c->client_max_packet = MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE) ? pr->maximum_packet_size : 0;

    uint16_t keepalive;
    bool server_keepalive;
    if (!connect_acceptable(c, p, &keepalive, &server_keepalive)) return;
    char *username = NULL;
    uint8_t auth = broker_auth_connect(core, c, p, &username);
    if (auth) {
        refuse(c, auth, v5 ? "MQTT-3.1.4-2" : "MQTT-3.1.4", "not authorized", id);
        return;
    }

    char assigned[32];
    bool assigned_id = false;
    if (id.len == 0) {
        size_t n = assign_id(core, assigned, sizeof assigned);
        id = (mqtt_bytes){(const uint8_t *)assigned, n};
        assigned_id = true;
    }

    bool present = false;
    broker_session *s = existing_session(c, p, id, username, &present);
    if (!s) s = broker_session_new(core, id.ptr, id.len);
    s->conn = c;
    c->session = s;
    free(s->username);
    s->username = username; /* ACL checks, also while it is offline */
    s->policy = c->policy;
    if (v5) {
        s->expiry_interval = MQTT_HAS_PROP(pr, MQTT_PROP_SESSION_EXPIRY_INTERVAL) ? pr->session_expiry_interval : 0;
        c->client_receive_max = MQTT_HAS_PROP(pr, MQTT_PROP_RECEIVE_MAXIMUM) ? pr->receive_maximum : 65535;
        c->client_max_packet = MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE) ? pr->maximum_packet_size : 0;
        c->client_alias_max = MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM) ? pr->topic_alias_maximum : 0;
        c->request_problem_info = MQTT_HAS_PROP(pr, MQTT_PROP_REQUEST_PROBLEM_INFORMATION)
                                      ? pr->request_problem_information != 0 : true;
    } else {
        s->expiry_interval = p->clean_start ? 0 : UINT32_MAX;
    }
    bool was_persistent = s->persistent;
    s->persistent = s->expiry_interval > 0;
    s->expires_at = 0;
    if (s->persistent) broker_journal_session(core, s);
    else if (was_persistent) broker_journal_session_end(core, s);
    if (p->will) { /* stored with the session (MQTT-3.1.2-7) */
        s->will = broker_msg_new(p->will_topic, p->will_payload, p->will_qos, p->will_retain,
                                 v5 ? &p->will_properties : NULL, core->now);
        /* Its Message Expiry Interval runs from publication: relative until then. */
        if (s->will->has_expiry) s->will->expiry_at -= core->now;
        s->will_delay = v5 && MQTT_HAS_PROP(&p->will_properties, MQTT_PROP_WILL_DELAY_INTERVAL)
                            ? p->will_properties.will_delay_interval : 0;
    }

    /* ---- CONNACK ---- */
    mqtt_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = MQTT_CONNACK;
    /* 3.1 has no Session Present flag. */
    ack.connack.session_present = present && c->version != MQTT_V31; /* MQTT-3.2.2-1..3 */
    ack.connack.reason_code = 0;
    if (v5) connack_properties(o, &ack.connack.properties, id, assigned_id, keepalive, server_keepalive);
    c->state = CONN_ACTIVE;
    c->keepalive = keepalive;
    c->last_rx = core->now;
    core->nconnected++;
    if (core->nconnected > core->stats.clients_maximum) core->stats.clients_maximum = core->nconnected;
    if (keepalive) broker_note_deadline(core, core->now + (int64_t)keepalive * 1500);
    if (!broker_send(c, &ack)) {
        /* Even stripped of its optional properties the CONNACK exceeds the
         * client's Maximum Packet Size (5.0 MQTT-3.1.2-24): nothing else may
         * go first (MQTT-3.2.0-1), so close without a DISCONNECT. */
        broker_conn_fail(c, 0, "MQTT-3.1.2-24", false, "CONNACK larger than the client's Maximum Packet Size %u",
                         (unsigned)c->client_max_packet);
        return;
    }
    broker_log_conn(c, BROKER_LOG_INFO, "connected, MQTT %s, %s, keep alive %u s%s",
                    mqtt_version_name(c->version), present ? "session resumed" : "new session",
                    (unsigned)keepalive, p->will ? ", with a Will" : "");
    if (present) {
        broker_session_resend(core, s); /* MQTT-4.4.0-1 */
        broker_session_pump(core, s);
    }
}
