/*
 * bench_result: the end-of-run analysis (bench_result.h). Runs on the main
 * thread after every worker has stopped, so it reads their state freely.
 *
 * Subscriptions are grouped: a plain subscriber is a group of one; the
 * members of one shared subscription ($share/G/F, MQTT 5.0 4.8.2) form one
 * group, which is owed each matching message once (the broker hands it to one
 * member). A pair is (publisher, group) where the group's filter matches the
 * publisher's topic (mqtt_topic_matches): only those pairs owe messages;
 * messages that arrive from any other publisher of the run are `unexpected`.
 */
#include "bench/src/bench_result.h"

#include <stdlib.h>
#include <string.h>

#include "bench/src/bench_track.h"
#include "mqtt/topic.h"

typedef struct {
    const char *filter;   /* without the $share/G/ prefix */
    bench_conn **members;
    int n;
    uint8_t qos;          /* lowest granted */
} group;

static mqtt_bytes view(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, strlen(s)};
}

/* The filter a subscriber's topic stands for, and whether it is shared. */
static const char *plain_filter(const char *topic)
{
    mqtt_bytes name, f;
    if (mqtt_shared_split(view(topic), &name, &f)) return (const char *)f.ptr;
    return topic;
}

static int build_groups(const bench_run *r, group **out, int *n)
{
    group *g = calloc((size_t)r->o->subscribers + 1, sizeof *g);
    *out = g;
    *n = 0;
    if (!g) return -1;
    int ng = 0;
    for (int i = 0; i < r->nconns; i++) {
        bench_conn *c = &r->conns[i];
        if (c->role != ROLE_SUB || c->state == CS_WAIT || c->slow) continue;
        int k = 0;
        if (r->o->share_group)
            for (; k < ng && strcmp(g[k].filter, plain_filter(c->topic)) != 0; k++) {}
        else k = ng;
        if (k == ng) {
            g[ng].filter = plain_filter(c->topic);
            g[ng].qos = 2;
            g[ng].members = calloc((size_t)r->o->subscribers, sizeof *g[ng].members);
            *n = ++ng;
            if (!g[ng - 1].members) return -1;
        }
        g[k].members[g[k].n++] = c;
        if (c->granted < g[k].qos) g[k].qos = c->granted;
    }
    return 0;
}

static uint64_t popcount_union(const bench_pair *const *ps, int n)
{
    size_t words = 0;
    for (int i = 0; i < n; i++) if (ps[i] && ps[i]->words > words) words = ps[i]->words;
    uint64_t count = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t u = 0;
        for (int i = 0; i < n; i++) if (ps[i] && w < ps[i]->words) u |= ps[i]->bits[w];
        count += (uint64_t)__builtin_popcountll(u);
    }
    return count;
}

/* Judges one (publisher, group) pair. */
static void judge_pair(const bench_run *r, const bench_conn *p, const group *g, bench_result *res)
{
    const bench_pair *ps[g->n];
    uint64_t distinct = 0, dups = 0, ooo = 0;
    for (int i = 0; i < g->n; i++) {
        ps[i] = bench_track_get(g->members[i]->track, r->run_id, (uint32_t)p->index);
        if (!ps[i]) continue;
        distinct += ps[i]->distinct;
        dups += ps[i]->dups;
        ooo += ps[i]->ooo;
    }
    uint64_t got = g->n == 1 ? distinct : popcount_union(ps, g->n);
    dups += distinct - got; /* the same message to two members of a shared group */
    uint64_t lost = p->sent > got ? p->sent - got : 0;
    uint8_t qos = (uint8_t)(r->o->qos < g->qos ? r->o->qos : g->qos);
    res->lost += lost;
    res->duplicates += dups;
    res->out_of_order += ooo;
    if (qos >= 1) res->lost_violations += lost;
    if (qos != 1) res->dup_violations += dups;
    res->order_violations += ooo;
}

/* Messages of this run from publishers a subscriber's group does not match. */
static void count_unexpected(const bench_run *r, const group *g, bench_result *res)
{
    for (int m = 0; m < g->n; m++) {
        const bench_track *t = g->members[m]->track;
        for (size_t s = 0; s < t->cap; s++) {
            const bench_pair *pr = &t->slots[s];
            if (!pr->key) continue;
            uint64_t key = pr->key - 1u;
            int pub = (int)(uint32_t)key;
            if ((uint32_t)(key >> 32) != r->run_id || pub >= r->o->publishers ||
                !mqtt_topic_matches(view(g->filter), view(r->conns[pub].topic)))
                res->unexpected += pr->distinct + pr->dups;
        }
    }
}

/*
 * Sub mode: publishers are elsewhere. A gap in a sequence is a loss; with
 * --publishers P --count N the tail is known too: each subscriber is owed N
 * from each of P publishers, and a publisher never heard from is N lost.
 */
static void judge_gaps(const bench_run *r, bench_result *res)
{
    const bench_opts *o = r->o;
    for (int i = 0; i < r->nconns; i++) {
        const bench_conn *c = &r->conns[i];
        if (c->role != ROLE_SUB || !c->track) continue;
        uint8_t qos = (uint8_t)(o->sub_qos < c->granted ? o->sub_qos : c->granted);
        uint64_t lost = 0, seen = 0;
        for (size_t s = 0; s < c->track->cap; s++) {
            const bench_pair *pr = &c->track->slots[s];
            if (!pr->key) continue;
            seen++;
            uint64_t owed = o->expect_pubs && o->count > pr->next ? o->count : pr->next;
            lost += owed - pr->distinct;
            res->duplicates += pr->dups;
            res->out_of_order += pr->ooo;
            if (qos != 1) res->dup_violations += pr->dups;
            res->order_violations += pr->ooo;
        }
        if (o->expect_pubs && seen < (uint64_t)o->expect_pubs) lost += ((uint64_t)o->expect_pubs - seen) * o->count;
        res->lost += lost;
        if (qos >= 1) res->lost_violations += lost;
    }
    if (o->expect_pubs) res->expected = (uint64_t)o->expect_pubs * o->count * (uint64_t)o->subscribers;
    res->gaps_only = !o->expect_pubs;
}

static int judge(const bench_run *r, bench_result *res)
{
    if (r->o->mode == BENCH_SUB) {
        judge_gaps(r, res);
        return 0;
    }
    if (r->o->mode != BENCH_PUBSUB) return 0;
    group *g = NULL;
    int ng = 0;
    int rc = build_groups(r, &g, &ng);
    for (int k = 0; rc == 0 && k < ng; k++) {
        for (int i = 0; i < r->o->publishers; i++)
            if (mqtt_topic_matches(view(g[k].filter), view(r->conns[i].topic)))
                judge_pair(r, &r->conns[i], &g[k], res);
        count_unexpected(r, &g[k], res);
    }
    for (int k = 0; k < ng; k++) free(g[k].members);
    free(g);
    return rc;
}

int bench_result_collect(const bench_run *r, bench_result *res)
{
    bench_hist_init(&res->lat);
    bench_hist_init(&res->lat_sent);
    bench_hist_init(&res->to_wire);
    bench_hist_init(&res->conn_lat);
    for (int i = 0; i < r->nworkers; i++) {
        const bench_worker *w = &r->workers[i];
        bench_hist_merge(&res->lat, &w->lat);
        bench_hist_merge(&res->lat_sent, &w->lat_sent);
        bench_hist_merge(&res->to_wire, &w->to_wire);
        bench_hist_merge(&res->conn_lat, &w->conn_lat);
        res->sent_measured += w->sent_measured;
        res->received_measured += w->received_measured;
        res->foreign += w->foreign;
        for (int k = 0; k < BE_KINDS; k++) {
            res->errors[k] += w->errors[k];
            if (!res->first_error[k][0]) memcpy(res->first_error[k], w->first_error[k], 160);
        }
    }
    for (int i = 0; i < r->nconns; i++) {
        const bench_conn *c = &r->conns[i];
        res->sent += c->sent;
        res->acked += c->acked;
        res->expected += (uint64_t)c->sent * c->fanout;
        res->received += c->received;
        res->redelivered += c->redelivered;
        res->reconnects += c->reconnects;
        if (c->role == ROLE_PUB && !c->flushed && c->seq > c->confirmed) res->unread += c->seq - c->confirmed;
        res->stall_total += c->stall_total;
        if (c->stall_max > res->stall_max) res->stall_max = c->stall_max;
        if (c->t_ready) res->ready++;
        else res->failed++;
    }
    res->corrected = r->o->rate > 0;
    return judge(r, res);
}

uint64_t bench_result_errors(const bench_result *res)
{
    uint64_t n = res->merged_errors;
    for (int k = 0; k < BE_KINDS; k++) n += res->errors[k];
    return n;
}

int bench_result_status(const bench_result *res)
{
    if (res->lost_violations || res->dup_violations || res->order_violations || res->unexpected) return 1;
    return bench_result_errors(res) ? 3 : 0;
}
