/*
 * seeds-pcap: seeds for the codec harnesses from the regression captures.
 *
 *   seeds-pcap OUTDIR CAPTURE...
 *
 * Reads each capture with mqtt-pcap's own reader and reassembly (pcap_flow)
 * and writes, per connection and direction, the bytes of its MQTT packets
 * (the first 8 KiB) as one stream seed (seed_out.h) with the selector of the
 * connection's version and sender: CAPTURE.cN.client, CAPTURE.cN.server.
 * Exits non-zero if a capture cannot be read or a seed written.
 */
#include "fuzz/seed_out.h"
#include "pcaps/src/pcap_flow.h"
#include "pcaps/src/pcap_reader.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CAP 8192
#define MAX_CONNS 64

typedef struct {
    uint8_t bytes[2][STREAM_CAP];
    size_t n[2];
    mqtt_version version;
    bool used;
} conn_bytes;

static conn_bytes conns[MAX_CONNS];

static void on_event(void *ctx, const pcap_event *ev)
{
    (void)ctx;
    if (ev->kind != PCAP_EV_PACKET && ev->kind != PCAP_EV_BAD) return;
    if (!ev->conn || ev->conn->id == 0 || ev->conn->id > MAX_CONNS || !ev->raw) return;
    conn_bytes *c = &conns[ev->conn->id - 1];
    c->used = true;
    c->version = ev->conn->version;
    int d = ev->from == MQTT_FROM_SERVER;
    if (c->n[d] + ev->raw_len > STREAM_CAP) return;
    memcpy(c->bytes[d] + c->n[d], ev->raw, ev->raw_len);
    c->n[d] += ev->raw_len;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: seeds-pcap OUTDIR CAPTURE...\n");
        return 2;
    }
    unsigned written = 0;
    for (int i = 2; i < argc; i++) {
        char err[512] = "";
        pcap_reader *r = pcap_reader_open_file(argv[i], err, sizeof err);
        if (!r) {
            fprintf(stderr, "seeds-pcap: %s\n", err);
            return 1;
        }
        memset(conns, 0, sizeof conns);
        pcap_flow_options o = {.ports = (const uint16_t[]){1883}, .nports = 1};
        int rc = pcap_flow_run(r, &o, on_event, NULL, NULL, err, sizeof err);
        pcap_reader_close(r);
        if (rc != 0) {
            fprintf(stderr, "seeds-pcap: %s\n", err);
            return 1;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s", argv[i]);
        const char *base = basename(path);
        for (unsigned k = 0; k < MAX_CONNS; k++) {
            if (!conns[k].used) continue;
            for (int d = 0; d < 2; d++) {
                if (!conns[k].n[d]) continue;
                char name[600];
                snprintf(name, sizeof name, "%s.c%u.%s", base, k + 1, d ? "server" : "client");
                uint8_t sel = seed_out_selector(conns[k].version, d ? MQTT_FROM_SERVER : MQTT_FROM_CLIENT);
                if (seed_out_write(argv[1], name, sel, conns[k].bytes[d], conns[k].n[d]) != 0) return 1;
                written++;
            }
        }
    }
    printf("seeds-pcap: %u streams from %d captures in %s/{decode,roundtrip,stream}\n", written, argc - 2,
           argv[1]);
    return 0;
}
