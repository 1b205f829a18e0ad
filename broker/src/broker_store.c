/*
 * broker_store: writes the core's persistent state (broker_persist.c) to
 * disk and reads it back at start.
 *
 *   NAME          snapshot of generation G: written to NAME.tmp, fsynced,
 *                 renamed over NAME, directory fsynced (atomic: a crash
 *                 leaves the old or the new snapshot, never half of one)
 *   NAME.journal  the changes since snapshot G (header says G), appended
 *                 and fsynced by the loop before any output of the same
 *                 iteration is sent
 *
 * At start: snapshot, then the journal if its generation matches (a
 * journal older than the snapshot is already in it). Every record carries
 * its length and a CRC-32; a snapshot ends with an end record. A journal
 * whose last record is torn (a write cut by a crash, never synced, so
 * never acknowledged) is truncated there, with a log line naming the
 * offset. Any other damage (bad magic, checksum, a snapshot cut short, an
 * inconsistent record) is a start-up error naming the file and the byte
 * offset: starting without the rest would lose acknowledged messages
 * silently. Then a new snapshot G+1 and an empty journal G+1 are written
 * before any client is served.
 */
#include "broker/src/broker_store.h"

#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_MAX (64u << 20)

struct broker_store {
    char *dir, *db, *tmp, *journal;
    int jfd;
    uint64_t generation;
    uint64_t journal_bytes;
    int64_t autosave_ms;
    int64_t next_save;
    bool failed; /* last sync failed (logged once per failure streak) */
    bool broken; /* the journal on disk takes no more appends (a rotation or a
                    truncation failed half way): only a new snapshot repairs it */
    broker_store_log log;
    void *log_ctx;
    broker_store_stats stats;
};

static void slog(broker_store *st, broker_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void slog(broker_store *st, broker_log_level level, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (st->log) st->log(st->log_ctx, level, line);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = broker_xmalloc(n);
    snprintf(s, n, "%s%s%s", a, (*a && a[strlen(a) - 1] != '/') ? "/" : "", b);
    return s;
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = broker_xmalloc(n);
    snprintf(s, n, "%s%s", a, b);
    return s;
}

static int64_t usec_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Reads a whole file; NULL with errno ENOENT when it does not exist. */
static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    uint8_t *buf = broker_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = broker_xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* Applies one file. Returns its generation (0 if missing), or -1 with err
 * filled when it is damaged other than by a torn final journal record:
 * starting without what follows would be silent loss, so the broker does
 * not start (the message names the file and the offset). */
static int64_t load(broker_store *st, broker_core *core, const char *path, int want_kind, int64_t now, char *err,
                    size_t errlen)
{
    size_t len = 0;
    uint8_t *data = slurp(path, &len);
    if (!data) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "persistence: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    broker_restore_info info;
    int rc = broker_core_restore(core, data, len, now, &info);
    free(data);
    if (rc == 0 && info.kind != want_kind) {
        rc = -1;
        info.bad_offset = 8;
        snprintf(info.why, sizeof info.why, "a %s where a %s was expected", info.kind == 1 ? "snapshot" : "journal",
                 want_kind == 1 ? "snapshot" : "journal");
    }
    if (rc != 0 && want_kind == 2 && strstr(info.why, "truncated")) {
        /* The usual end of a journal after a crash: the last batch was being
         * written. It was not synced, so nothing in it was acknowledged. */
        slog(st, BROKER_LOG_WARNING,
             "persistence: %s ends with a partial record at byte offset %zu of %zu (%s; a write cut by a crash, "
             "never acknowledged): truncated there, using the %zu records before it", path, info.bad_offset, len,
             info.why, info.records);
        if (truncate(path, (off_t)info.bad_offset) != 0) {
            snprintf(err, errlen, "persistence: cannot truncate %s: %s", path, strerror(errno));
            return -1;
        }
    } else if (rc != 0) {
        snprintf(err, errlen,
                 "persistence: %s is damaged at byte offset %zu of %zu: %s (%zu records before it); not starting "
                 "without the rest: move the file aside to start without it", path, info.bad_offset, len, info.why,
                 info.records);
        return -1;
    } else {
        slog(st, BROKER_LOG_NOTICE, "persistence: read %s (%s, generation %llu, %zu records, %zu bytes)", path,
             want_kind == 1 ? "snapshot" : "journal", (unsigned long long)info.generation, info.records, len);
    }
    return (int64_t)info.generation;
}

/* Peeks at a journal's generation without applying it. */
static uint64_t journal_generation(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    uint8_t h[17];
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h, "MQBPERS1", 8) != 0) return UINT64_MAX; /* damaged: load it to report */
    uint64_t g = 0;
    for (int i = 9; i < 17; i++) g = g << 8 | h[i];
    return g;
}

/* Writes data to path (new, fsynced). Returns the open descriptor, or -1. */
static int write_new(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/*
 * Rotation, crash-safe at every step: the new journal (header G+1, empty)
 * and the new snapshot G+1 are both written and synced under temporary
 * names first; then the snapshot is renamed into place, then the journal.
 * A crash between the two renames leaves snapshot G+1 and journal G, which
 * restart ignores: everything in it is in the snapshot. Any failure
 * marks the store broken: the core's pending journal went into the
 * snapshot that was not stored, and appends to the old journal would be
 * ignored at restart once the new snapshot is in place; so every sync
 * fails (acks held) until a snapshot succeeds.
 */
static int write_snapshot(broker_store *st, broker_core *core, char *err, size_t errlen)
{
    int64_t t0 = usec_now();
    uint64_t gen = st->generation + 1;
    uint8_t h[17];
    size_t hl = broker_core_journal_header(gen, h, sizeof h);
    char *jtmp = concat(st->journal, ".tmp");
    int jfd = write_new(jtmp, h, hl);
    if (jfd < 0) {
        snprintf(err, errlen, "persistence: cannot write %s: %s", jtmp, strerror(errno));
        free(jtmp);
        return -1;
    }
    uint8_t *data;
    size_t len;
    broker_core_snapshot(core, gen, &data, &len);
    int fd = write_new(st->tmp, data, len);
    free(data);
    const char *failed = NULL;
    if (fd < 0) failed = st->tmp;
    else if (close(fd), rename(st->tmp, st->db) != 0) failed = st->db;
    else if (sync_dir(st->dir), rename(jtmp, st->journal) != 0) failed = st->journal;
    if (failed) {
        /* The core handed its pending journal over to the snapshot: only a
         * snapshot can store it now. */
        st->broken = true;
        snprintf(err, errlen, "persistence: cannot write %s: %s", failed, strerror(errno));
        close(jfd);
        unlink(jtmp);
        free(jtmp);
        return -1;
    }
    free(jtmp);
    sync_dir(st->dir);
    if (st->jfd >= 0) close(st->jfd);
    /* O_APPEND: every batch lands at the end. */
    st->jfd = jfd;
    st->broken = false;
    if (lseek(jfd, 0, SEEK_END) < 0 || fcntl(jfd, F_SETFL, O_APPEND) != 0) {
        snprintf(err, errlen, "persistence: %s: %s", st->journal, strerror(errno));
        st->broken = true;
        return -1;
    }
    st->generation = gen;
    st->journal_bytes = hl;
    st->stats.snapshots++;
    st->stats.snapshot_us += (uint64_t)(usec_now() - t0);
    return 0;
}

broker_store *broker_store_open(broker_core *core, const char *dir, const char *name, uint32_t autosave_s,
                                broker_store_log log, void *log_ctx, int64_t now, char *err, size_t errlen)
{
    broker_store *st = broker_xcalloc(1, sizeof *st);
    st->log = log;
    st->log_ctx = log_ctx;
    st->jfd = -1;
    st->dir = concat(dir && *dir ? dir : ".", "");
    st->db = join(st->dir, name && *name ? name : "mqtt-broker.db");
    st->tmp = concat(st->db, ".tmp");
    st->journal = concat(st->db, ".journal");
    st->autosave_ms = (int64_t)autosave_s * 1000; /* 64 bits: 4,294,968 s x 1000 wraps 32 */
    struct stat sb;
    if (stat(st->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "persistence_location %s: %s", st->dir,
                 errno && stat(st->dir, &sb) != 0 ? strerror(errno) : "not a directory");
        broker_store_close(st, NULL);
        return NULL;
    }
    bool have_snap = access(st->db, F_OK) == 0;
    int64_t sgen = have_snap ? load(st, core, st->db, 1, now, err, errlen) : 0;
    uint64_t jgen = sgen < 0 ? 0 : journal_generation(st->journal);
    if (jgen && (jgen == (uint64_t)sgen || jgen == UINT64_MAX || !have_snap)) {
        int64_t g = load(st, core, st->journal, 2, now, err, errlen);
        if (g < 0) sgen = -1;
        else if (g > sgen) sgen = g;
    } else if (jgen) {
        slog(st, BROKER_LOG_INFO, "persistence: %s (generation %llu) is older than the snapshot: ignored",
             st->journal, (unsigned long long)jgen);
        if ((int64_t)jgen > sgen) sgen = (int64_t)jgen;
    }
    if (sgen < 0) {
        broker_core_restore_done(core);
        broker_store_close(st, NULL);
        return NULL;
    }
    broker_core_restore_done(core);
    st->generation = (uint64_t)sgen;
    if (write_snapshot(st, core, err, errlen) != 0) {
        broker_store_close(st, NULL);
        return NULL;
    }
    st->next_save = st->autosave_ms ? now + st->autosave_ms : INT64_MAX;
    return st;
}

/* A failed sync: undo a partial append (a torn record in the middle of the
 * journal would hide everything after it), keep the bytes in the core for
 * the retry, say it once per streak. */
static bool sync_failed(broker_store *st, const char *why)
{
    if (!st->broken && st->jfd >= 0 && ftruncate(st->jfd, (off_t)st->journal_bytes) != 0) st->broken = true;
    if (!st->failed)
        slog(st, BROKER_LOG_ERROR, "persistence: cannot write %s: %s; acknowledgements are held until it can",
             st->journal, why);
    st->failed = true;
    return false;
}

bool broker_store_sync(broker_store *st, broker_core *core)
{
    const uint8_t *data;
    size_t len = broker_core_journal(core, &data);
    if (!len && !st->broken) return true;
    int64_t t0 = usec_now();
    if (st->broken) {
        /* A snapshot holds everything, the unsynced journal bytes included. */
        char err[600];
        if (write_snapshot(st, core, err, sizeof err) != 0) return sync_failed(st, err);
    } else if (st->jfd < 0 || write_all(st->jfd, data, len) != 0 || fdatasync(st->jfd) != 0) {
        return sync_failed(st, strerror(errno));
    } else {
        st->journal_bytes += len;
        st->stats.syncs++;
        st->stats.bytes += len;
        st->stats.sync_us += (uint64_t)(usec_now() - t0);
        broker_core_journal_done(core);
    }
    if (st->failed) slog(st, BROKER_LOG_NOTICE, "persistence: %s writable again", st->journal);
    st->failed = false;
    return true;
}

int64_t broker_store_tick(broker_store *st, broker_core *core, int64_t now)
{
    if (now >= st->next_save || st->journal_bytes > JOURNAL_MAX) {
        char err[600];
        broker_store_sync(st, core);
        if (write_snapshot(st, core, err, sizeof err) != 0) slog(st, BROKER_LOG_ERROR, "%s", err);
        st->next_save = st->autosave_ms ? now + st->autosave_ms : INT64_MAX;
    }
    return st->next_save;
}

void broker_store_get_stats(const broker_store *st, broker_store_stats *out)
{
    *out = st->stats;
}

void broker_store_close(broker_store *st, broker_core *core)
{
    if (!st) return;
    if (core && st->jfd >= 0) {
        char err[600];
        broker_store_sync(st, core);
        if (write_snapshot(st, core, err, sizeof err) != 0) slog(st, BROKER_LOG_ERROR, "%s", err);
        slog(st, BROKER_LOG_NOTICE,
             "persistence: %llu journal syncs (%llu bytes, %.1f us per sync on average), %llu snapshots", 
             (unsigned long long)st->stats.syncs, (unsigned long long)st->stats.bytes,
             st->stats.syncs ? (double)st->stats.sync_us / (double)st->stats.syncs : 0.0,
             (unsigned long long)st->stats.snapshots);
    }
    if (st->jfd >= 0) close(st->jfd);
    free(st->dir);
    free(st->db);
    free(st->tmp);
    free(st->journal);
    free(st);
}
