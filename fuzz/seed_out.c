/*
 * seed_out: the codec harnesses' seed formats (see seed_out.h). Names are
 * made of the caller's name only, so the same inputs give the same files.
 */
#include "fuzz/seed_out.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

uint8_t seed_out_selector(mqtt_version v, mqtt_side from)
{
    unsigned bits = v == MQTT_V31 ? 1 : v == MQTT_V311 ? 2 : v == MQTT_V5 ? 3 : 0;
    return (uint8_t)(bits | (from == MQTT_FROM_SERVER ? 4 : 0));
}

static int write_one(const char *outdir, const char *harness, const char *name, const uint8_t *head,
                     size_t nh, const uint8_t *bytes, size_t n)
{
    char path[1024];
    /* A fresh clone has no fuzz/corpus yet: make it and the harness's folder. */
    mkdir(outdir, 0777);
    snprintf(path, sizeof path, "%s/%s", outdir, harness);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, harness, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(head, 1, nh, f) == nh && (!n || fwrite(bytes, 1, n, f) == n);
    if (f && fclose(f) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "seeds: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int seed_out_write(const char *outdir, const char *name, uint8_t sel, const uint8_t *bytes, size_t n)
{
    const uint8_t head[5] = {sel, 3, 0, 6, 2}; /* stream: 3 piece sizes, 1, 7 and 3 bytes */
    char sname[512];
    snprintf(sname, sizeof sname, "%s.split", name);
    if (write_one(outdir, "decode", name, head, 1, bytes, n) != 0 ||
        write_one(outdir, "roundtrip", name, head, 1, bytes, n) != 0 ||
        write_one(outdir, "stream", sname, head, sizeof head, bytes, n) != 0)
        return -1;
    return 0;
}
