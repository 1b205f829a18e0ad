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
 * journal older than the snapshot is already in it). A file that is
 * damaged (bad magic, checksum, truncated record, inconsistent record) is
 * reported with the byte offset where reading stopped; the broker keeps
 * what it read before that offset and renames the file to
 * NAME.corrupt-YYYYmmddTHHMMSS (or NAME.journal.corrupt-...) so nothing is
 * lost for a post-mortem. Then a new snapshot G+1 and an empty journal G+1
 * are written before any client is served.
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
    uint32_t autosave_ms;
    int64_t next_save;
    bool failed; /* last sync failed (logged once per failure streak) */
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

static void set_aside(broker_store *st, const char *path)
{
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, ".corrupt-%Y%m%dT%H%M%S", &tm);
    char *aside = concat(path, stamp);
    if (rename(path, aside) == 0) slog(st, BROKER_LOG_WARNING, "persistence: damaged file kept as %s", aside);
    else slog(st, BROKER_LOG_ERROR, "persistence: cannot rename %s to %s: %s", path, aside, strerror(errno));
    free(aside);
}

/* Applies one file. Returns its generation (0 if missing or unreadable). */
static uint64_t load(broker_store *st, broker_core *core, const char *path, int want_kind, int64_t now,
                     bool *damaged)
{
    size_t len = 0;
    uint8_t *data = slurp(path, &len);
    *damaged = false;
    if (!data) {
        if (errno != ENOENT) slog(st, BROKER_LOG_ERROR, "persistence: cannot read %s: %s", path, strerror(errno));
        return 0;
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
             "never acknowledged); using the %zu records before it", path, info.bad_offset, len, info.why,
             info.records);
        *damaged = true;
        set_aside(st, path);
    } else if (rc != 0) {
        slog(st, BROKER_LOG_ERROR,
             "persistence: %s is damaged at byte offset %zu of %zu: %s; starting with the %zu records before it",
             path, info.bad_offset, len, info.why, info.records);
        *damaged = true;
        set_aside(st, path);
    } else {
        slog(st, BROKER_LOG_NOTICE, "persistence: read %s (%s, generation %llu, %zu records, %zu bytes)", path,
             want_kind == 1 ? "snapshot" : "journal", (unsigned long long)info.generation, info.records, len);
    }
    return info.generation;
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

static int write_snapshot(broker_store *st, broker_core *core, char *err, size_t errlen)
{
    int64_t t0 = usec_now();
    uint64_t gen = st->generation + 1;
    uint8_t *data;
    size_t len;
    broker_core_snapshot(core, gen, &data, &len);
    int fd = open(st->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "persistence: cannot write %s: %s", st->tmp, strerror(errno));
        if (fd >= 0) close(fd);
        free(data);
        return -1;
    }
    close(fd);
    free(data);
    if (rename(st->tmp, st->db) != 0) {
        snprintf(err, errlen, "persistence: cannot rename %s to %s: %s", st->tmp, st->db, strerror(errno));
        return -1;
    }
    sync_dir(st->dir);
    /* The new journal starts empty with the new generation; the old one is
     * in the snapshot now (if this crashes before the journal is renamed,
     * the old journal's generation is older: it is ignored). */
    char *jtmp = concat(st->journal, ".tmp");
    int jfd = open(jtmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint8_t h[17];
    size_t hl = broker_core_journal_header(gen, h, sizeof h);
    if (jfd < 0 || write_all(jfd, h, hl) != 0 || fsync(jfd) != 0 || rename(jtmp, st->journal) != 0) {
        snprintf(err, errlen, "persistence: cannot write %s: %s", st->journal, strerror(errno));
        if (jfd >= 0) close(jfd);
        free(jtmp);
        return -1;
    }
    free(jtmp);
    sync_dir(st->dir);
    if (st->jfd >= 0) close(st->jfd);
    /* O_APPEND: after a failed partial write the next batch still lands at the end. */
    st->jfd = jfd;
    if (lseek(jfd, 0, SEEK_END) < 0 || fcntl(jfd, F_SETFL, O_APPEND) != 0) {
        snprintf(err, errlen, "persistence: %s: %s", st->journal, strerror(errno));
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
    st->autosave_ms = autosave_s * 1000u;
    struct stat sb;
    if (stat(st->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "persistence_location %s: %s", st->dir,
                 errno && stat(st->dir, &sb) != 0 ? strerror(errno) : "not a directory");
        broker_store_close(st, NULL);
        return NULL;
    }
    bool snap_damaged = false, journal_damaged = false;
    bool have_snap = access(st->db, F_OK) == 0;
    uint64_t sgen = have_snap ? load(st, core, st->db, 1, now, &snap_damaged) : 0;
    uint64_t jgen = journal_generation(st->journal);
    if (jgen && (jgen == sgen || jgen == UINT64_MAX || !have_snap || snap_damaged)) {
        uint64_t g = load(st, core, st->journal, 2, now, &journal_damaged);
        if (g > sgen && g != UINT64_MAX) sgen = g;
    } else if (jgen) {
        slog(st, BROKER_LOG_INFO, "persistence: %s (generation %llu) is older than the snapshot: ignored",
             st->journal, (unsigned long long)jgen);
        sgen = jgen > sgen ? jgen : sgen;
    }
    broker_core_restore_done(core);
    st->generation = sgen;
    if (write_snapshot(st, core, err, errlen) != 0) {
        broker_store_close(st, NULL);
        return NULL;
    }
    st->next_save = st->autosave_ms ? now + st->autosave_ms : INT64_MAX;
    return st;
}

void broker_store_sync(broker_store *st, broker_core *core)
{
    const uint8_t *data;
    size_t len = broker_core_journal(core, &data);
    if (!len) return;
    int64_t t0 = usec_now();
    if (st->jfd < 0 || write_all(st->jfd, data, len) != 0 || fdatasync(st->jfd) != 0) {
        /* Keep the bytes: the next sync retries. The acks wait with them only
         * as long as this iteration; say it loudly, once per streak. */
        if (!st->failed)
            slog(st, BROKER_LOG_ERROR, "persistence: cannot write %s: %s; messages acknowledged from now on may be lost "
                 "in a crash", st->journal, strerror(errno));
        st->failed = true;
        broker_core_journal_done(core);
        return;
    }
    if (st->failed) slog(st, BROKER_LOG_NOTICE, "persistence: %s writable again", st->journal);
    st->failed = false;
    st->journal_bytes += len;
    st->stats.syncs++;
    st->stats.bytes += len;
    st->stats.sync_us += (uint64_t)(usec_now() - t0);
    broker_core_journal_done(core);
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
