/*
 * pcap_collect: keeps a capture's events in order, with copies of their bytes
 * and notes (see pcap_collect.h). Invariant: items[0..n) are complete; an
 * allocation failure sets oom and drops that event, never a half-filled item;
 * reaching the bound (max_held) sets over and keeps nothing more.
 */
#include "pcaps/src/pcap_collect.h"

#include <stdlib.h>
#include <string.h>

void pcap_collect_event(void *ctx, const pcap_event *ev)
{
    pcap_collection *c = ctx;
    if (c->over || (c->cli && c->cli->conn_filter && ev->conn->id != c->cli->conn_filter))
        return;
    size_t cost = sizeof(pcap_item) + ev->raw_len + (ev->note ? strlen(ev->note) + 1 : 0);
    size_t max = c->max_held ? c->max_held : PCAP_COLLECT_MAX_BYTES;
    if (c->held + cost > max) {
        c->over = true; /* nothing after is kept: the command says so and fails */
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        pcap_item *ni = realloc(c->items, cap * sizeof *ni);
        if (!ni) {
            c->oom = true;
            return;
        }
        c->items = ni;
        c->cap = cap;
    }
    pcap_item *it = &c->items[c->n];
    memset(it, 0, sizeof *it);
    it->kind = ev->kind;
    it->conn = ev->conn->id;
    it->dir = ev->from;
    it->ns = ev->ts_sec * 1000000000 + ev->ts_nsec;
    it->version = ev->kind == PCAP_EV_PACKET || ev->kind == PCAP_EV_BAD ? ev->version : ev->conn->version;
    it->closer = ev->kind == PCAP_EV_CLOSE ? ev->closer : ev->kind == PCAP_EV_OPEN ? ev->conn->midstream : -1;
    if (ev->raw && ev->raw_len) {
        it->raw = malloc(ev->raw_len);
        if (!it->raw) {
            c->oom = true;
            return;
        }
        memcpy(it->raw, ev->raw, ev->raw_len);
        it->len = ev->raw_len;
    }
    if (ev->note && !(it->note = strdup(ev->note))) {
        free(it->raw);
        c->oom = true;
        return;
    }
    c->held += cost;
    c->n++;
}

void pcap_collection_free(pcap_collection *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].raw);
        free(c->items[i].note);
    }
    free(c->items);
    c->items = NULL;
    c->n = c->cap = 0;
    c->held = 0;
}
