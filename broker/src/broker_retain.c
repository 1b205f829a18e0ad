/*
 * broker_retain: the retained message store, a trie of topic names holding
 * at most one message per topic.
 *
 * A PUBLISH with RETAIN replaces the topic's retained message (MQTT-3.3.1-5,
 * 3.1.1 MQTT-3.3.1-5/-7); an empty payload deletes it and is not stored
 * (5.0 MQTT-3.3.1-6/-7, 3.1.1 MQTT-3.3.1-10/-11). A new subscription gets
 * the retained messages matching its filter with RETAIN set (3.1.1
 * MQTT-3.3.1-6/-8), at the lower of the stored QoS and the granted QoS, and
 * never those whose Message Expiry Interval has passed (they are deleted
 * then). They are all due: they queue outside max_queued_messages and are
 * sent as the subscriber's connection drains. '+' and '#' in the first level never match '$' topics (MQTT-4.7.2-1).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

void broker_retain_store(broker_core *core, broker_msg *msg)
{
    broker_journal_retain(core, msg);
    broker_levels_split(&core->levels, msg->topic);
    if (msg->payload.len == 0) {
        broker_node *n = broker_trie_find(&core->retained, &core->levels);
        if (n && n->retained) {
            broker_msg_unref(n->retained);
            n->retained = NULL;
            core->nretained--;
            broker_trie_prune(&core->retained, n);
        }
        return;
    }
    broker_node *n = broker_trie_get_or_add(&core->retained, &core->levels);
    if (n->retained) broker_msg_unref(n->retained);
    else core->nretained++;
    n->retained = broker_msg_ref(msg);
}

typedef struct {
    broker_core *core;
    const broker_sub *sub;
    const broker_levels *lv;
    broker_node **expired;
    size_t nexpired;
} retain_ctx;

static void send_one(retain_ctx *rc, broker_node *n)
{
    broker_msg *m = n->retained;
    if (!m) return;
    if (broker_msg_expired(m, rc->core->now)) {
        rc->expired = broker_xrealloc(rc->expired, (rc->nexpired + 1) * sizeof *rc->expired);
        rc->expired[rc->nexpired++] = n;
        return;
    }
    const broker_sub *sub = rc->sub;
    if (!broker_auth_read(rc->core, sub->session, m->topic)) return;
    uint8_t qos = m->qos < sub->qos ? m->qos : sub->qos;
    broker_session_deliver_retained(rc->core, sub->session, m, qos, &sub->subid, sub->subid ? 1 : 0);
}

static bool is_dollar(const broker_node *n)
{
    return n->seg_len > 0 && n->seg[0] == '$';
}

static void send_subtree(retain_ctx *rc, broker_node *n, bool skip_dollar)
{
    send_one(rc, n);
    for (broker_node *c = n->first_child; c; c = c->next_sibling)
        if (!(skip_dollar && is_dollar(c))) send_subtree(rc, c, false);
}

static void walk(retain_ctx *rc, broker_node *n, size_t i)
{
    if (i == rc->lv->count) {
        send_one(rc, n);
        return;
    }
    mqtt_bytes seg = rc->lv->levels[i];
    bool root = i == 0;
    if (seg.len == 1 && seg.ptr[0] == '#') {
        /* '#' matches the parent level and everything below it. */
        if (!root) send_one(rc, n);
        for (broker_node *c = n->first_child; c; c = c->next_sibling)
            if (!(root && is_dollar(c))) send_subtree(rc, c, false);
        return;
    }
    if (seg.len == 1 && seg.ptr[0] == '+') {
        for (broker_node *c = n->first_child; c; c = c->next_sibling)
            if (!(root && is_dollar(c))) walk(rc, c, i + 1);
        return;
    }
    broker_node *c = broker_trie_child(&rc->core->retained, n, seg);
    if (c) walk(rc, c, i + 1);
}

void broker_retain_send(broker_core *core, broker_sub *sub)
{
    if (sub->share) return; /* not sent for shared subscriptions (5.0 4.8.2) */
    mqtt_bytes filter = {(const uint8_t *)sub->filter, sub->filter_len};
    broker_levels_split(&core->levels, filter);
    retain_ctx rc = {.core = core, .sub = sub, .lv = &core->levels};
    walk(&rc, core->retained.root, 0);
    for (size_t i = 0; i < rc.nexpired; i++) {
        broker_node *n = rc.expired[i];
        broker_msg_unref(n->retained);
        n->retained = NULL;
        core->nretained--;
        broker_trie_prune(&core->retained, n);
    }
    free(rc.expired);
}
