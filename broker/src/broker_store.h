/*
 * broker_store: the files of `persistence true` (see broker_store.c):
 * DIR/NAME (snapshot) and DIR/NAME.journal, written so that a crash
 * (kill -9, power loss after fsync) loses nothing the broker acknowledged.
 */
#ifndef BROKER_STORE_H
#define BROKER_STORE_H

#include "broker/src/broker_core.h"

typedef struct broker_store broker_store;

/* Receives one log line of the store (as broker_log_fn). */
typedef void (*broker_store_log)(void *ctx, broker_log_level level, const char *line);

/*
 * Loads the snapshot and its journal into core (which has no connection
 * yet; a torn final journal record is truncated, with a log line), then
 * writes a fresh snapshot and starts a new journal. dir NULL = ".", name
 * NULL = "mqtt-broker.db". Returns NULL with err filled when a file is
 * damaged otherwise (file and byte offset named) or the files cannot be
 * written (missing directory, permissions).
 */
broker_store *broker_store_open(broker_core *core, const char *dir, const char *name, uint32_t autosave_s,
                                broker_store_log log, void *log_ctx, int64_t now, char *err, size_t errlen);

/* Appends the core's journal to the journal file and fdatasyncs it (the
 * loop's sync hook). Returns false when it could not: the bytes stay in the
 * core (a partial append is truncated away) and the caller holds every
 * acknowledgement until a later call succeeds; logged once per streak. */
bool broker_store_sync(broker_store *st, broker_core *core);

/* Writes a snapshot when the autosave interval passed or the journal grew
 * past 64 MiB; returns the time it wants to be called again. */
int64_t broker_store_tick(broker_store *st, broker_core *core, int64_t now);

/* Writes a final snapshot (clean shutdown), logs the figures, frees st. */
void broker_store_close(broker_store *st, broker_core *core);

/* Figures since open: journal syncs, bytes, time spent in write+fsync. */
typedef struct {
    uint64_t syncs, bytes, sync_us, snapshots, snapshot_us;
} broker_store_stats;
void broker_store_get_stats(const broker_store *st, broker_store_stats *out);

#endif
