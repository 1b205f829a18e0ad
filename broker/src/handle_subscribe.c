/*
 * handle_subscribe: SUBSCRIBE -> one subscription per filter, SUBACK with
 * one code per filter in order (MQTT-3.8.4-1, -5/-6, 3.9.3-1), then the
 * retained messages.
 *
 * A filter identical to an existing one of the session replaces it
 * (MQTT-3.8.4-3); retained messages are then re-sent (3.1.1, 5.0 Retain
 * Handling 0), sent only for a new subscription (Retain Handling 1,
 * MQTT-3.3.1-10) or never (2, MQTT-3.3.1-11), and never for a shared
 * subscription. The granted QoS is capped by max_qos (MQTT-3.2.2-10: still
 * accepted). Shared subscriptions are accepted from every protocol version,
 * as mosquitto does; No Local on one is a Protocol Error (MQTT-3.8.3-4).
 * Filters deeper than max_topic_levels or longer than max_filter_length
 * are refused with 0x97 Quota exceeded (3.x 0x80) before they reach the
 * trie, whose memory grows with every level.
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

static broker_sub *add_sub(broker_core *core, broker_session *s, const mqtt_subscription *r, bool shared,
                           mqtt_bytes share_name, mqtt_bytes inner)
{
    mqtt_bytes f = r->topic_filter;
    broker_sub *sub = broker_xcalloc(1, sizeof *sub + f.len + 1);
    sub->session = s;
    memcpy(sub->filter, f.ptr, f.len);
    sub->filter_len = f.len;
    broker_levels_split(&core->levels, shared ? inner : f);
    broker_node *node = broker_trie_get_or_add(&core->subs, &core->levels);
    sub->node = node;
    if (shared) {
        broker_share *sh = node->shares;
        while (sh && !(sh->name_len == share_name.len && memcmp(sh->name, share_name.ptr, share_name.len) == 0))
            sh = sh->next;
        if (!sh) {
            sh = broker_xcalloc(1, sizeof *sh + share_name.len + 1);
            memcpy(sh->name, share_name.ptr, share_name.len);
            sh->name_len = share_name.len;
            sh->next = node->shares;
            node->shares = sh;
        }
        if (sh->count == sh->cap) {
            sh->cap = sh->cap ? sh->cap * 2 : 4;
            sh->members = broker_xrealloc(sh->members, sh->cap * sizeof *sh->members);
        }
        sh->members[sh->count++] = sub;
        sub->share = sh;
    } else {
        if (node->nsubs == node->subs_cap) {
            node->subs_cap = node->subs_cap ? node->subs_cap * 2 : 2;
            node->subs = broker_xrealloc(node->subs, node->subs_cap * sizeof *node->subs);
        }
        node->subs[node->nsubs++] = sub;
    }
    if (s->nsubs == s->subs_cap) {
        s->subs_cap = s->subs_cap ? s->subs_cap * 2 : 4;
        s->subs = broker_xrealloc(s->subs, s->subs_cap * sizeof *s->subs);
    }
    s->subs[s->nsubs++] = sub;
    core->nsubscriptions++;
    return sub;
}

broker_sub *broker_sub_add(broker_core *core, broker_session *s, mqtt_bytes filter)
{
    mqtt_subscription r;
    memset(&r, 0, sizeof r);
    r.topic_filter = filter;
    mqtt_bytes share_name, inner;
    bool shared = mqtt_shared_split(filter, &share_name, &inner);
    return add_sub(core, s, &r, shared, share_name, inner);
}

void broker_handle_subscribe(broker_conn *c, const mqtt_subscribe *p)
{
    broker_core *core = c->core;
    broker_session *s = c->session;
    bool v5 = c->version == MQTT_V5;
    uint32_t subid = 0;
    if (v5 && p->properties.subscription_identifier_count) subid = p->properties.subscription_identifiers[0];
    uint8_t *codes = broker_xmalloc(p->count);
    broker_sub **retained = broker_xcalloc(p->count, sizeof *retained);
    for (size_t i = 0; i < p->count; i++) {
        const mqtt_subscription *r = &p->subscriptions[i];
        mqtt_bytes share_name, inner;
        bool shared = mqtt_shared_split(r->topic_filter, &share_name, &inner);
        const char *bad = mqtt_topic_filter_check(shared ? MQTT_V5 : c->version, r->topic_filter);
        if (bad) {
            broker_log_conn(c, BROKER_LOG_NOTICE, "%s: invalid topic filter \"%.*s\" refused", bad,
                            (int)r->topic_filter.len, (const char *)r->topic_filter.ptr);
            codes[i] = v5 ? 0x8F : 0x80;
            continue;
        }
        unsigned max_len = core->opt.max_filter_length ? core->opt.max_filter_length : 65535u;
        bool deep = broker_too_deep(core, r->topic_filter);
        if (deep || r->topic_filter.len > max_len) {
            /* An implementation limit, not an invalid filter: Quota exceeded. */
            broker_log_conn(c, BROKER_LOG_NOTICE, "topic filter of %zu bytes refused: above %s (%u)",
                            r->topic_filter.len, deep ? "max_topic_levels" : "max_filter_length",
                            deep ? (unsigned)core->opt.max_topic_levels : max_len);
            codes[i] = v5 ? 0x97 : 0x80;
            continue;
        }
        if (shared && r->no_local) {
            broker_conn_fail(c, 0x82, "MQTT-3.8.3-4", true, "No Local on shared subscription \"%.*s\"",
                             (int)r->topic_filter.len, (const char *)r->topic_filter.ptr);
            goto out;
        }
        uint8_t denied = broker_auth_subscribe(core, s, shared ? inner : r->topic_filter);
        if (denied) {
            broker_log_conn(c, BROKER_LOG_NOTICE, "SUBSCRIBE to \"%.*s\" refused by the ACL (0x%02X)",
                            (int)r->topic_filter.len, (const char *)r->topic_filter.ptr, denied);
            codes[i] = v5 ? denied : 0x80;
            continue;
        }
        uint8_t granted = r->qos < core->opt.max_qos ? r->qos : core->opt.max_qos;
        broker_sub *sub = broker_session_find_sub(s, r->topic_filter.ptr, r->topic_filter.len);
        bool existed = sub != NULL;
        if (!sub) sub = add_sub(core, s, r, shared, share_name, inner);
        sub->qos = granted;
        sub->no_local = v5 && r->no_local;
        sub->rap = v5 && r->retain_as_published;
        sub->rh = v5 ? r->retain_handling : 0;
        sub->subid = subid;
        codes[i] = granted;
        broker_journal_sub(core, s, sub);
        if (!shared && (sub->rh == 0 || (sub->rh == 1 && !existed))) retained[i] = sub;
    }
    mqtt_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = MQTT_SUBACK;
    ack.suback.packet_id = p->packet_id;
    ack.suback.reason_codes = (mqtt_bytes){codes, p->count};
    broker_send(c, &ack);
    for (size_t i = 0; i < p->count; i++)
        if (retained[i] && c->state == CONN_ACTIVE) broker_retain_send(core, retained[i]);
out:
    free(codes);
    free(retained);
}
