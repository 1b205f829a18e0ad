/*
 * fz_target_watch: what a spawned broker reveals besides its sockets: a
 * sanitizer report in its log, and its resident memory.
 */
#include "fuzz/live/src/fz_target.h"

#include <stdio.h>
#include <string.h>

static const char *const markers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                      "runtime error:", "ERROR: ThreadSanitizer",
                                      "WARNING: MemorySanitizer"};

/* The first marker in text, or NULL. */
static const char *find_marker(const char *text)
{
    const char *best = NULL;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        const char *m = strstr(text, markers[i]);
        if (m && (!best || m < best)) best = m;
    }
    return best;
}

int fz_target_sanitizer(fz_target *t, char *report, size_t cap)
{
    if (!t->spawn_cmd || !t->logpath[0]) return 0;
    FILE *fp = fopen(t->logpath, "r");
    if (!fp) return 0;
    static char text[65536];
    fseek(fp, t->log_seen, SEEK_SET);
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    const char *m = find_marker(text);
    if (!m) {
        /* Keep the tail unscanned: a marker may be cut in the middle. */
        if (n > 64) t->log_seen += (long)(n - 64);
        return 0;
    }
    /* Start at the line the marker is on (UBSan puts file:line first). */
    while (m > text && m[-1] != '\n') m--;
    snprintf(report, cap, "%s", m);
    t->log_seen += (long)n;
    return 1;
}

long fz_target_rss_kb(const fz_target *t)
{
    if (!t->pid) return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)t->pid);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(fp);
    return kb;
}
