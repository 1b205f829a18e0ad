/*
 * Building and sending packets from steps: values substituted, fields
 * applied with the codec, defaults (client id, packet ids) filled in; and
 * `send raw` bytes, which are bytes by definition.
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building and sending packets ---- */

/* Substitutes a field's value; on error finishes the run. */
char *eng_value_of(conf_run *r, const conf_field *f, size_t *len, int64_t now)
{
    rt_state *rt = r->rt;
    char err[256];
    if (f->kind == VK_FILL && f->len > 0) {
        /* fill:${var}: the variable holds the byte count; expand it here */
        size_t nl;
        char *n = conf_subst(f->text, f->len, r->ns, r->vi, &rt->vars, &nl, err, sizeof err);
        if (!n) { eng_finish(r, V_ERROR, now, "line %d: %s", f->line, err); return NULL; }
        char *end;
        unsigned long count = strtoul(n, &end, 10);
        bool ok = nl > 0 && !*end && count <= 268435455ul;
        free(n);
        if (!ok) { eng_finish(r, V_ERROR, now, "line %d: fill: expected a byte count in the variable", f->line); return NULL; }
        char *c = malloc(count + 1);
        if (!c) { eng_finish(r, V_ERROR, now, "out of memory"); return NULL; }
        memset(c, 'x', count);
        c[count] = '\0';
        *len = count;
        return c;
    }
    if (f->kind == VK_HEX || f->kind == VK_FILL) {
        char *c = malloc(f->len + 1);
        if (c) { memcpy(c, f->text, f->len); c[f->len] = '\0'; }
        *len = f->len;
        return c;
    }
    char *v = conf_subst(f->text, f->len, r->ns, r->vi, &rt->vars, len, err, sizeof err);
    if (!v) eng_finish(r, V_ERROR, now, "line %d: %s", f->line, err);
    return v;
}

int eng_apply_fields(conf_run *r, conf_build *b, const conf_step *st, int64_t now)
{
    for (size_t i = 0; i < st->nfields; i++) {
        size_t len;
        char *v = eng_value_of(r, &st->fields[i], &len, now);
        if (!v) return -1;
        const char *bad = conf_build_set(b, r->vi, &st->fields[i], v, len);
        if (bad) {
            eng_finish(r, V_ERROR, now, "line %d: %s: expected %s, found \"%s\"", st->fields[i].line,
                   conf_field_name(st->fields[i].id, st->fields[i].prop), bad, v);
            free(v);
            return -1;
        }
        free(v);
    }
    return 0;
}

bool eng_has_field(const conf_step *st, conf_field_id id)
{
    for (size_t i = 0; i < st->nfields; i++)
        if (st->fields[i].id == id) return true;
    return false;
}

uint16_t eng_next_pid(client *c)
{
    if (++c->next_pid == 0) c->next_pid = 1;
    return c->next_pid;
}

/* Sending failed. If the broker had closed the connection, that is no
 * verdict of the sending step (it checks nothing): the transcript says so and
 * the run goes on, so the next step that checks this client judges the close
 * by its own rules. Otherwise (never connected, or closed by the scenario)
 * the scenario cannot run as written. Returns 0 to go on, -1 when it ended. */
static int not_sent(conf_run *r, client *c, int ci, const char *what, int64_t now)
{
    rt_state *rt = r->rt;
    if (c->peer_closed && !c->self_closed) {
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s not sent: %s", what,
                       c->why[0] ? c->why : "the broker closed the connection");
        return 0;
    }
    eng_finish(r, V_ERROR, now, "%s cannot send %s: %s", r->sc->clients[ci], what,
               c->why[0] ? c->why : "connection closed");
    return -1;
}

/* Encodes and queues b->pkt for client ci. Returns 0, or -1 with the run finished. */
int eng_send_packet(engine *e, conf_run *r, int ci, conf_build *b, int64_t now)
{
    (void)e;
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    mqtt_codec codec = {.version = conf_vi_version(r->vi), .from = MQTT_FROM_CLIENT};
    uint8_t stackbuf[4096];
    uint8_t *buf = stackbuf;
    size_t size = 0;
    mqtt_error err = {0};
    char line[1024];
    eng_fmt_packet(&b->pkt, r->vi, line, sizeof line);
    mqtt_status s = mqtt_encoded_size(&codec, &b->pkt, &size, &err);
    if (s == MQTT_OK && size > sizeof stackbuf) buf = malloc(size);
    if (s == MQTT_OK && buf) s = mqtt_encode(&codec, &b->pkt, buf, size, &size, &err);
    if (s != MQTT_OK || !buf) {
        char es[256] = "out of memory";
        if (buf) mqtt_format_error(&err, es, sizeof es);
        if (buf != stackbuf) free(buf);
        eng_finish(r, V_ERROR, now, "the codec refuses to build %s: %s (use `send raw` for packets the spec forbids)",
               line, es);
        return -1;
    }
    conf_run_event(r, ci, EV_SENT, (int)rt->step, eng_rel(rt, now), "%s", line);
    int q = eng_queue(r, c, ci, buf, size, now);
    if (buf != stackbuf) free(buf);
    return q < 0 ? not_sent(r, c, ci, mqtt_packet_type_name(b->pkt.type), now) : 0;
}

/* Builds and sends a packet of type t from a step's fields (plus defaults). */
int eng_send_from_step(engine *e, conf_run *r, const conf_step *st, mqtt_packet_type t, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[st->client];
    conf_build *b = calloc(1, sizeof *b);
    if (!b) return -1;
    b->pkt.type = t;
    char idbuf[64];
    if (t == MQTT_CONNECT) {
        snprintf(idbuf, sizeof idbuf, "%s-%s", r->ns, r->sc->clients[st->client]);
        b->pkt.connect.client_id = (mqtt_bytes){(const uint8_t *)idbuf, strlen(idbuf)};
        b->pkt.connect.clean_start = true;
        b->pkt.connect.keep_alive = 60;
        if (e->cfg->username) {
            b->pkt.connect.has_username = true;
            b->pkt.connect.username = (mqtt_bytes){(const uint8_t *)e->cfg->username, strlen(e->cfg->username)};
        }
        if (e->cfg->password) {
            b->pkt.connect.has_password = true;
            b->pkt.connect.password = (mqtt_bytes){(const uint8_t *)e->cfg->password, strlen(e->cfg->password)};
        }
    }
    int rc = eng_apply_fields(r, b, st, now);
    if (rc == 0) {
        if (t == MQTT_PUBLISH && b->pkt.publish.qos > 0 && !eng_has_field(st, F_PACKET_ID))
            b->pkt.publish.packet_id = eng_next_pid(c);
        if ((t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE) && !eng_has_field(st, F_PACKET_ID))
            b->pkt.subscribe.packet_id = eng_next_pid(c);
        if (t == MQTT_PUBLISH) {
            rt->pid = b->pkt.publish.packet_id;
            rt->pub_qos = b->pkt.publish.qos;
        }
        if (t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE) {
            rt->pid = b->pkt.subscribe.packet_id;
            rt->nwant = 0;
            for (size_t i = 0; i < b->pkt.subscribe.count && i < 32; i++)
                rt->want_codes[rt->nwant++] = b->subs[i].qos;
        }
        if (t == MQTT_CONNECT && (c->state == CS_IDLE || c->state == CS_CLOSED))
            eng_start_connect(e, r, c, st->client, now);
        if (t == MQTT_CONNECT) {
            const mqtt_properties *cp = &b->pkt.connect.properties;
            c->alias_max = r->vi == CONF_VI_5 && MQTT_HAS_PROP(cp, MQTT_PROP_TOPIC_ALIAS_MAXIMUM)
                               ? cp->topic_alias_maximum : 0;
            c->max_packet = r->vi == CONF_VI_5 && MQTT_HAS_PROP(cp, MQTT_PROP_MAXIMUM_PACKET_SIZE)
                                ? cp->maximum_packet_size : 0;
        }
        if (c->state == CS_CLOSED && t == MQTT_CONNECT) {
            eng_finish(r, V_ERROR, now, "%s: %s", r->sc->clients[st->client], c->why);
            rc = -1;
        } else {
            rc = eng_send_packet(e, r, st->client, b, now);
            if (rc == 0 && t == MQTT_CONNECT) c->connack_pending = true;
        }
    }
    conf_build_free(b);
    free(b);
    return rc;
}

/* An ack (PUBACK/PUBREC/PUBREL/PUBCOMP) for packet id pid. */
int eng_send_ack(engine *e, conf_run *r, int ci, mqtt_packet_type t, uint16_t pid, int64_t now)
{
    conf_build b = {0};
    b.pkt.type = t;
    b.pkt.ack.packet_id = pid;
    int rc = eng_send_packet(e, r, ci, &b, now);
    conf_build_free(&b);
    return rc;
}

/* The protocol level of a raw CONNECT, or -1 when buf holds none: the
 * codec reads the level before any rule the packet may break later. */
static int raw_connect_level(const uint8_t *buf, size_t n)
{
    mqtt_codec codec = {.version = MQTT_VERSION_UNKNOWN, .from = MQTT_FROM_CLIENT};
    mqtt_packet pkt;
    mqtt_status st = mqtt_decode(&codec, buf, n, &pkt, NULL);
    if (st == MQTT_NEED_MORE || pkt.type != MQTT_CONNECT || !pkt.connect.protocol_level) return -1;
    return pkt.connect.protocol_level;
}

int eng_send_raw(engine *e, conf_run *r, const conf_step *st, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[st->client];
    size_t n = 0;
    char err[256];
    uint8_t *buf = conf_raw_bytes(st, r->ns, r->vi, &rt->vars, &n, err, sizeof err);
    if (!buf) { eng_finish(r, V_ERROR, now, "line %d: %s", st->line, err); return -1; }
    if (st->frame) { /* a WebSocket frame around the bytes (engine_ws.c) */
        int fr = eng_ws_send_frame(r, st, c, st->client, buf, n, now);
        free(buf);
        return fr < 0 && c->state == CS_CLOSED ? not_sent(r, c, st->client, "the frame", now) : fr;
    }
    if (c->state == CS_IDLE) eng_start_connect(e, r, c, st->client, now);
    int level = raw_connect_level(buf, n);
    if (level >= 0 && level != (int)conf_vi_version(r->vi)) c->any_form = true;
    char hx[200];
    eng_hexdump(hx, sizeof hx, buf, n);
    conf_run_event(r, st->client, EV_SENT, (int)rt->step, eng_rel(rt, now), "raw %zu bytes [%s]", n, hx);
    int q = eng_queue(r, c, st->client, buf, n, now);
    free(buf);
    return q < 0 ? not_sent(r, c, st->client, "raw bytes", now) : 0;
}

