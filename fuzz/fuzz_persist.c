/*
 * Fuzz harness `persist`: the persistence reader of the broker core
 * (broker_core_restore, broker/src/broker_persist.c) on arbitrary files.
 *
 * Input: a snapshot or journal file. Invariants: no crash, leak or hang,
 * whatever the bytes (lengths, counts, ids, references to sessions or
 * messages that do not exist); a refused file names an offset inside it;
 * whatever state was restored snapshots and restores again completely, to
 * a snapshot of the same size (the writer and the reader agree).
 */
#include "broker/src/broker_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static broker_core *new_core(void)
{
    broker_options o;
    broker_options_default(&o);
    o.sys_interval = 0;
    o.persistence = true;
    return broker_core_new(&o, 1000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20) return 0;
    broker_core *core = new_core();
    broker_restore_info info;
    int rc = broker_core_restore(core, data, size, 1000000, &info);
    if (rc != 0 && info.bad_offset > size) {
        fprintf(stderr, "bad offset %zu beyond the %zu bytes\n", info.bad_offset, size);
        abort();
    }
    broker_core_restore_done(core);
    uint8_t *snap;
    size_t slen;
    broker_core_snapshot(core, 7, &snap, &slen);
    broker_core *again = new_core();
    if (broker_core_restore(again, snap, slen, 1000000, &info) != 0) {
        fprintf(stderr, "own snapshot refused at %zu: %s\n", info.bad_offset, info.why);
        abort();
    }
    broker_core_restore_done(again);
    uint8_t *snap2;
    size_t slen2;
    broker_core_snapshot(again, 8, &snap2, &slen2);
    if (slen2 != slen) {
        fprintf(stderr, "snapshot of a restored snapshot: %zu bytes, was %zu\n", slen2, slen);
        abort();
    }
    free(snap);
    free(snap2);
    broker_core_free(again);
    broker_core_free(core);
    return 0;
}
