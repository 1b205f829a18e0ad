/*
 * The core's data structures: the hash map (backward-shift deletion
 * against a reference), the topic trie pruning.
 */
#include "broker/src/broker_internal.h"

#include <criterion/criterion.h>
#include <stdlib.h>

typedef struct {
    uint32_t key;
} item;

static bool item_eq(const void *it, const void *key)
{
    return ((const item *)it)->key == *(const uint32_t *)key;
}

/* Deliberately poor hash: many collisions exercise the cluster handling. */
static uint32_t weak_hash(uint32_t k) { return k % 37; }

Test(broker_util, map_matches_reference_under_churn)
{
    enum { N = 2000 };
    item *items = calloc(N, sizeof *items);
    bool present[N] = {false};
    broker_map m = {0};
    srand(42);
    for (int step = 0; step < 20000; step++) {
        uint32_t k = (uint32_t)(rand() % N);
        items[k].key = k;
        if (present[k]) {
            broker_map_remove(&m, weak_hash(k), &items[k]);
            present[k] = false;
        } else {
            broker_map_put(&m, weak_hash(k), &items[k]);
            present[k] = true;
        }
        if (step % 997 == 0) {
            size_t count = 0;
            for (uint32_t i = 0; i < N; i++) {
                void *got = broker_map_get(&m, weak_hash(i), &i, item_eq);
                cr_assert_eq(got != NULL, present[i], "key %u at step %d", i, step);
                count += present[i];
            }
            cr_assert_eq(m.count, count);
        }
    }
    broker_map_free(&m);
    free(items);
}

Test(broker_util, trie_prunes_empty_nodes)
{
    broker_trie t;
    broker_trie_init(&t);
    broker_levels lv = {0};
    broker_levels_split(&lv, (mqtt_bytes){(const uint8_t *)"a/b/c", 5});
    cr_assert_eq(lv.count, 3);
    broker_node *n = broker_trie_get_or_add(&t, &lv);
    cr_assert_eq(t.nodes, 3);
    cr_assert_eq(broker_trie_find(&t, &lv), n);
    broker_trie_prune(&t, n);
    cr_assert_eq(t.nodes, 0);
    cr_assert_null(broker_trie_find(&t, &lv));
    broker_levels_split(&lv, (mqtt_bytes){(const uint8_t *)"/", 1});
    cr_assert_eq(lv.count, 2, "\"/\" has two empty levels");
    broker_levels_free(&lv);
    broker_trie_free(&t);
}
