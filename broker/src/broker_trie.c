/*
 * broker_trie: topic tries, one level per node, used for subscriptions
 * (filters, with '+' and '#' as ordinary segments) and retained messages
 * (topic names).
 *
 * A child is looked up in one map per trie keyed by (parent, segment), so a
 * level with thousands of children costs O(1) per lookup and each node only
 * pays for four sibling pointers; children are enumerated (for wildcard
 * matching over retained messages) through a doubly linked sibling list.
 * Invariant: a node other than the root exists only while it, or a
 * descendant, holds a subscription, a share group or a retained message
 * (broker_trie_prune restores it after a removal).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const broker_node *parent;
    mqtt_bytes seg;
} node_key;

static uint32_t node_hash(const broker_node *parent, mqtt_bytes seg)
{
    uintptr_t p = (uintptr_t)parent;
    return broker_hash(seg.ptr, seg.len, (uint32_t)(p ^ (p >> 32)));
}

static bool node_eq(const void *item, const void *key)
{
    const broker_node *n = item;
    const node_key *k = key;
    return n->parent == k->parent && n->seg_len == k->seg.len &&
           (k->seg.len == 0 || memcmp(n->seg, k->seg.ptr, k->seg.len) == 0);
}

static broker_node *node_new(broker_node *parent, mqtt_bytes seg)
{
    broker_node *n = broker_xcalloc(1, sizeof *n + seg.len + 1);
    n->parent = parent;
    n->seg_len = (uint32_t)seg.len;
    if (seg.len) memcpy(n->seg, seg.ptr, seg.len);
    n->hash = node_hash(parent, seg);
    return n;
}

void broker_trie_init(broker_trie *t)
{
    memset(t, 0, sizeof *t);
    t->root = node_new(NULL, (mqtt_bytes){NULL, 0});
}

broker_node *broker_trie_child(const broker_trie *t, const broker_node *parent, mqtt_bytes seg)
{
    node_key k = {parent, seg};
    return broker_map_get(&t->children, node_hash(parent, seg), &k, node_eq);
}

broker_node *broker_trie_find(const broker_trie *t, const broker_levels *lv)
{
    broker_node *n = t->root;
    for (size_t i = 0; i < lv->count && n; i++) n = broker_trie_child(t, n, lv->levels[i]);
    return n;
}

broker_node *broker_trie_get_or_add(broker_trie *t, const broker_levels *lv)
{
    broker_node *n = t->root;
    for (size_t i = 0; i < lv->count; i++) {
        broker_node *c = broker_trie_child(t, n, lv->levels[i]);
        if (!c) {
            c = node_new(n, lv->levels[i]);
            c->next_sibling = n->first_child;
            if (n->first_child) n->first_child->prev_sibling = c;
            n->first_child = c;
            broker_map_put(&t->children, c->hash, c);
            t->nodes++;
        }
        n = c;
    }
    return n;
}

static bool node_empty(const broker_node *n)
{
    return !n->first_child && n->nsubs == 0 && !n->shares && !n->retained;
}

void broker_trie_prune(broker_trie *t, broker_node *n)
{
    while (n && n != t->root && node_empty(n)) {
        broker_node *parent = n->parent;
        if (n->prev_sibling) n->prev_sibling->next_sibling = n->next_sibling;
        else parent->first_child = n->next_sibling;
        if (n->next_sibling) n->next_sibling->prev_sibling = n->prev_sibling;
        broker_map_remove(&t->children, n->hash, n);
        free(n->subs);
        free(n);
        t->nodes--;
        n = parent;
    }
}

/* Frees a subtree. Subscriptions and messages are owned elsewhere and must
 * already be released (broker_core_free ends sessions first). */
static void free_subtree(broker_node *n)
{
    broker_node *c = n->first_child;
    while (c) {
        broker_node *next = c->next_sibling;
        free_subtree(c);
        c = next;
    }
    broker_msg_unref(n->retained);
    free(n->subs);
    free(n);
}

void broker_trie_free(broker_trie *t)
{
    if (t->root) free_subtree(t->root);
    broker_map_free(&t->children);
    t->root = NULL;
    t->nodes = 0;
}
