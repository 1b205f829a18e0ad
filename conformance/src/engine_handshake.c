/*
 * The shortcut steps that complete a handshake: `publish` (PUBACK, or
 * PUBREC -> PUBREL -> PUBCOMP) and `subscribe`/`unsubscribe` (SUBACK,
 * UNSUBACK).
 *
 * A SUBACK may grant a lower QoS than requested (3.1.1 section 3.8.4, 5.0
 * section 3.8.4: "The Server might grant a lower Maximum QoS than the
 * subscriber requested"), and a 5.0 broker may refuse what it does not
 * support (0x9E Shared Subscriptions, 0xA1 Subscription Identifiers, 0xA2
 * Wildcard Subscriptions not supported). Neither is a broken rule: the run is
 * `skip` with what the broker said, since the scenario needs what it asked
 * for. A real QoS 2 flow bug (a PUBACK to a QoS 2 PUBLISH, no PUBCOMP) is
 * still judged by the publish handshake.
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>
#include <string.h>

static bool step_qos0(const conf_step *st)
{
    for (size_t i = 0; i < st->nfields; i++)
        if (st->fields[i].id == F_QOS && strcmp(st->fields[i].text, "0") != 0) return false;
    return true;
}

/* Waits for the ack of type want with the packet id in flight. */
static int wait_ack(conf_run *r, const conf_step *st, int ci, mqtt_packet_type want, bool unordered, int64_t now,
                    const char *what)
{
    rt_state *rt = r->rt;
    char idv[16];
    snprintf(idv, sizeof idv, "%u", rt->pid);
    conf_field f = {.id = F_PACKET_ID, .kind = VK_WORD, .text = idv, .len = strlen(idv), .line = st->line};
    conf_step m = {.kind = ST_EXPECT, .fields = &f, .nfields = 1};
    return eng_wait_packet(r, &m, ci, want, unordered, now, what);
}

int eng_step_publish(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    if (rt->phase == 0) {
        if (eng_send_from_step(e, r, st, MQTT_PUBLISH, now) < 0) return S_END;
        rt->phase = 1;
        if (step_qos0(st)) return S_DONE; /* qos 0: nothing comes back */
    }
    /* QoS 1 is answered by PUBACK, QoS 2 by PUBREC then PUBCOMP (MQTT-3.3.4-1,
     * MQTT-4.3.2-4 / 3.1.1 MQTT-4.3.2-2, MQTT-4.3.3-8 / 3.1.1 MQTT-4.3.3-2) */
    mqtt_packet_type want = rt->phase == 2 ? MQTT_PUBCOMP : rt->pub_qos == 2 ? MQTT_PUBREC : MQTT_PUBACK;
    mqtt_packet_type wrong = rt->phase == 2 ? MQTT_PUBACK : rt->pub_qos == 2 ? MQTT_PUBACK : MQTT_PUBREC;
    for (size_t i = 0; i < c->nin; i++) {
        const mqtt_packet *p = &c->inbox[i]->pkt;
        if (p->type != wrong || p->ack.packet_id != rt->pid) continue;
        eng_finish(r, V_FAIL, now, "%s publish: the broker answered a QoS %u PUBLISH (packet_id=%u) with %s; "
                   "expected %s", r->sc->clients[ci], rt->pub_qos, rt->pid, mqtt_packet_type_name(wrong),
                   mqtt_packet_type_name(want));
        return S_END;
    }
    char what[128];
    snprintf(what, sizeof what, "%s packet_id=%u (QoS %u publish handshake)", mqtt_packet_type_name(want), rt->pid,
             rt->pub_qos);
    int w = wait_ack(r, st, ci, want, true, now, what);
    if (w != W_TAKEN) return w == W_WAIT ? S_WAIT : S_END;
    if (c->last->pkt.ack.reason_code >= 0x80) {
        char line[512];
        eng_fmt_packet(&c->last->pkt, r->vi, line, sizeof line);
        eng_finish(r, V_FAIL, now, "%s publish: the broker refused the message: %s", r->sc->clients[ci], line);
        return S_END;
    }
    if (want == MQTT_PUBREC) {
        if (eng_send_ack(e, r, ci, MQTT_PUBREL, rt->pid, now) < 0) return S_END;
        rt->phase = 2;
        rt->step_deadline = now + eng_scaled(e, DEFAULT_EXPECT_MS);
        return S_WAIT;
    }
    return S_DONE;
}

/* A 5.0 SUBACK code that says the broker lacks a feature, or NULL. */
static const char *unsupported(int vi, uint8_t code)
{
    if (vi != CONF_VI_5) return NULL;
    switch (code) {
    case 0x9E: return "Shared Subscriptions not supported (0x9E)";
    case 0xA1: return "Subscription Identifiers not supported (0xA1)";
    case 0xA2: return "Wildcard Subscriptions not supported (0xA2)";
    default: return NULL;
    }
}

/* Compares the SUBACK's codes with the requested QoS: S_DONE when equal,
 * S_END (run skipped or judged) otherwise. */
static int judge_suback(conf_run *r, int ci, const mqtt_packet *p, int64_t now)
{
    rt_state *rt = r->rt;
    mqtt_bytes got = p->suback.reason_codes;
    char line[512];
    eng_fmt_packet(p, r->vi, line, sizeof line);
    if (got.len == rt->nwant && memcmp(got.ptr, rt->want_codes, rt->nwant) == 0) return S_DONE;
    for (size_t i = 0; got.len == rt->nwant && i < got.len; i++) {
        const char *why = unsupported(r->vi, got.ptr[i]);
        if (why) {
            eng_finish(r, V_SKIP, now, "broker announced %s in its SUBACK: %s", why, line);
            return S_END;
        }
    }
    for (size_t i = 0; got.len == rt->nwant && i < got.len; i++) {
        if (got.ptr[i] < rt->want_codes[i]) {
            eng_finish(r, V_SKIP, now, "broker granted QoS %u to a QoS %u subscription (a server may grant less: "
                       "section 3.8.4); this scenario needs the QoS it asked for: %s",
                       got.ptr[i], rt->want_codes[i], line);
            return S_END;
        }
    }
    eng_finish(r, V_FAIL, now, "%s subscribe: expected the SUBACK to grant the requested QoS, got %s",
               r->sc->clients[ci], line);
    return S_END;
}

int eng_step_subscribe(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    if (rt->phase == 0) {
        if (eng_send_from_step(e, r, st, st->ptype, now) < 0) return S_END;
        rt->phase = 1;
    }
    mqtt_packet_type want = st->kind == ST_SUBSCRIBE ? MQTT_SUBACK : MQTT_UNSUBACK;
    char what[64];
    snprintf(what, sizeof what, "%s packet_id=%u", mqtt_packet_type_name(want), rt->pid);
    int w = wait_ack(r, st, ci, want, false, now, what);
    if (w != W_TAKEN) return w == W_WAIT ? S_WAIT : S_END;
    return want == MQTT_SUBACK ? judge_suback(r, ci, &c->last->pkt, now) : S_DONE;
}
