/*
 * broker_route: who receives an application message.
 *
 * The topic is walked down the subscription trie level by level, following
 * the exact segment, '+' and '#' (which also matches its parent level), but
 * never a wildcard in the first level of a topic starting with '$'
 * (MQTT-4.7.2-1).
 *
 * Overlapping subscriptions of one session (the choice the spec leaves open,
 * MQTT-3.3.4-2 / 3.1.1 MQTT-3.3.5-1) follow mosquitto 2.0: ONE copy, at the
 * highest QoS granted among the matching subscriptions (capped by the
 * message's QoS), carrying every matching Subscription Identifier
 * (MQTT-3.3.4-4), with RETAIN kept if any matching subscription has Retain
 * As Published. Subscriptions with No Local never receive the session's own
 * messages (MQTT-3.8.3-3). Each matching shared subscription
 * ($share/group/filter) delivers its own copy to one member, chosen round
 * robin among its connected members (or the next one if none is connected).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    broker_core *core;
    const broker_msg *msg;
    const broker_session *publisher;
    const broker_levels *lv;
} route_ctx;

static broker_target *new_target(broker_core *core)
{
    if (core->ntargets == core->targets_cap) {
        core->targets_cap = core->targets_cap ? core->targets_cap * 2 : 16;
        core->targets = broker_xrealloc(core->targets, core->targets_cap * sizeof *core->targets);
    }
    broker_target *t = &core->targets[core->ntargets++];
    memset(t, 0, sizeof *t);
    return t;
}

/* Subscription identifiers of the targets: a singly linked list per target
 * in core->route_subids, pairs (subid, next index + 1), since targets
 * interleave while matching. t->subid_start is the head (index + 1). */
static void add_subid(route_ctx *rc, broker_target *t, uint32_t subid)
{
    broker_core *core = rc->core;
    if (core->nroute_subids == core->route_subids_cap) {
        core->route_subids_cap = core->route_subids_cap ? core->route_subids_cap * 2 : 16;
        core->route_subids = broker_xrealloc(core->route_subids, core->route_subids_cap * 2 * sizeof *core->route_subids);
    }
    core->route_subids[2 * core->nroute_subids] = subid;
    core->route_subids[2 * core->nroute_subids + 1] = (uint32_t)t->subid_start;
    t->subid_start = ++core->nroute_subids;
    t->nsubids++;
}

static void add_match(route_ctx *rc, const broker_sub *sub)
{
    broker_core *core = rc->core;
    broker_session *s = sub->session;
    if (sub->no_local && s == rc->publisher) return;
    uint8_t qos = rc->msg->qos < sub->qos ? rc->msg->qos : sub->qos;
    /* RETAIN is 0 on live deliveries (3.1.1 MQTT-3.3.1-9, 5.0 MQTT-3.3.1-12)
     * unless Retain As Published (MQTT-3.3.1-13). */
    bool retain = sub->rap && rc->msg->retain;
    broker_target *t;
    if (s->match_gen == core->match_gen) {
        t = &core->targets[s->match_idx];
        if (qos > t->qos) t->qos = qos;
        t->retain = t->retain || retain;
    } else {
        s->match_gen = core->match_gen;
        s->match_idx = core->ntargets;
        t = new_target(core);
        t->session = s;
        t->qos = qos;
        t->retain = retain;
    }
    if (sub->subid) add_subid(rc, t, sub->subid);
}

static bool session_online(const broker_session *s)
{
    return s->conn && s->conn->state == CONN_ACTIVE;
}

static void add_share(route_ctx *rc, broker_share *sh)
{
    if (sh->count == 0) return;
    size_t pick = sh->next_pick % sh->count;
    for (size_t k = 0; k < sh->count; k++) {
        size_t i = (sh->next_pick + k) % sh->count;
        if (session_online(sh->members[i]->session)) {
            pick = i;
            break;
        }
    }
    sh->next_pick = (pick + 1) % sh->count;
    const broker_sub *sub = sh->members[pick];
    broker_target *t = new_target(rc->core);
    t->session = sub->session;
    t->qos = rc->msg->qos < sub->qos ? rc->msg->qos : sub->qos;
    t->retain = sub->rap && rc->msg->retain;
    if (sub->subid) add_subid(rc, t, sub->subid);
}

static void collect(route_ctx *rc, const broker_node *n)
{
    for (uint32_t i = 0; i < n->nsubs; i++) add_match(rc, n->subs[i]);
    for (broker_share *sh = n->shares; sh; sh = sh->next) add_share(rc, sh);
}

static const mqtt_bytes PLUS = {(const uint8_t *)"+", 1};
static const mqtt_bytes HASH = {(const uint8_t *)"#", 1};

static void match(route_ctx *rc, const broker_node *n, size_t i)
{
    const broker_trie *t = &rc->core->subs;
    if (i == rc->lv->count) {
        collect(rc, n);
        const broker_node *h = broker_trie_child(t, n, HASH); /* "a/#" matches "a" */
        if (h) collect(rc, h);
        return;
    }
    mqtt_bytes seg = rc->lv->levels[i];
    const broker_node *c = broker_trie_child(t, n, seg);
    if (c) match(rc, c, i + 1);
    if (i == 0 && seg.len > 0 && seg.ptr[0] == '$') return; /* MQTT-4.7.2-1 */
    c = broker_trie_child(t, n, PLUS);
    if (c) match(rc, c, i + 1);
    c = broker_trie_child(t, n, HASH);
    if (c) collect(rc, c);
}


size_t broker_route(broker_core *core, broker_msg *msg, const broker_session *publisher)
{
    /* Delivering never routes again (it only queues bytes and marks
     * connections), so the core's scratch arrays can be used throughout. */
    route_ctx rc = {.core = core, .msg = msg, .publisher = publisher, .lv = &core->levels};
    broker_levels_split(&core->levels, msg->topic);
    core->match_gen++;
    core->ntargets = 0;
    core->nroute_subids = 0;
    match(&rc, core->subs.root, 0);
    size_t n = core->ntargets;
    core->throttle_on = NULL;
    bool served = false; /* a connected recipient other than the publisher keeps up */
    uint32_t stack_ids[16];
    uint32_t *ids = stack_ids;
    size_t ids_cap = 16;
    for (size_t k = 0; k < n; k++) {
        broker_target *t = &core->targets[k];
        if (t->nsubids > ids_cap) {
            if (ids != stack_ids) free(ids);
            ids_cap = t->nsubids;
            ids = broker_xmalloc(ids_cap * sizeof *ids);
        }
        /* ACL read, once per recipient (mosquitto checks at delivery too). */
        if (!broker_auth_read(core, t->session, msg->topic)) continue;
        size_t m = 0;
        for (size_t l = t->subid_start; l; l = core->route_subids[2 * (l - 1) + 1])
            ids[m++] = core->route_subids[2 * (l - 1)];
        broker_session_deliver(core, t->session, msg, t->qos, t->retain, ids, m);
        broker_conn *c = t->session->conn;
        if (!c || c->state != CONN_ACTIVE || c == core->cur_publisher) continue;
        if (broker_conn_backlogged(c)) broker_conn_note_backlog(c);
        else served = true;
    }
    if (ids != stack_ids) free(ids);
    /* Backpressure slows only what feeds nobody but a slow subscriber
     * (issue 14): a message someone else keeps up with is not held back. */
    if (!served && core->throttle_on) broker_conn_throttle(core->throttle_on);
    core->throttle_on = NULL;
    core->ntargets = 0;
    return n;
}

size_t broker_publish_msg(broker_core *core, broker_msg *msg, const broker_session *publisher)
{
    if (msg->retain) broker_retain_store(core, msg);
    return broker_route(core, msg, publisher);
}
