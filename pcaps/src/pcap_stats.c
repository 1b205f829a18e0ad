/*
 * mqtt-pcap stats: totals of a capture: connections and their versions,
 * packets and bytes by type and direction, and everything that went wrong
 * (undecodable packets, gaps, resynchronisations, bad frames).
 */
#include <string.h>

#include "pcaps/src/pcap_cli.h"
#include "pcaps/src/pcap_link.h"

typedef struct {
    uint64_t conns, midstream, by_version[6], guessed;
    uint64_t packets[2], bytes[2];
    uint64_t type_count[16][2], type_bytes[16][2];
    uint64_t bad, gaps, gap_bytes, resyncs, resync_bytes;
    uint64_t payload_bytes;
    const pcap_cli *cli;
} stats_ctx;

static void on_event(void *vctx, const pcap_event *ev)
{
    stats_ctx *s = vctx;
    int d = ev->from == MQTT_FROM_CLIENT ? 0 : 1;
    switch (ev->kind) {
    case PCAP_EV_OPEN:
        s->conns++;
        if (ev->conn->midstream)
            s->midstream++;
        break;
    case PCAP_EV_PACKET:
        s->packets[d]++;
        s->bytes[d] += ev->raw_len;
        s->type_count[ev->pkt->type & 15][d]++;
        s->type_bytes[ev->pkt->type & 15][d] += ev->raw_len;
        if (ev->pkt->type == MQTT_PUBLISH)
            s->payload_bytes += ev->pkt->publish.payload.len;
        break;
    case PCAP_EV_BAD:
        s->bad++;
        break;
    case PCAP_EV_GAP:
        s->gaps++;
        s->gap_bytes += ev->bytes;
        break;
    case PCAP_EV_RESYNC:
        s->resyncs++;
        s->resync_bytes += ev->bytes;
        break;
    case PCAP_EV_NOTE:
        break;
    case PCAP_EV_CLOSE: {
        int v = ev->conn->version;
        s->by_version[v >= 0 && v <= 5 ? v : 0]++;
        if (ev->conn->version_guessed)
            s->guessed++;
        break;
    }
    }
}

int pcap_cmd_stats(const pcap_cli *cli)
{
    stats_ctx s = {.cli = cli};
    pcap_flow_summary sum;
    memset(&sum, 0, sizeof sum);
    int rc = pcap_cli_run(cli, on_event, &s, &sum);
    if (rc == 2)
        return rc;
    double dur = (double)(sum.last_sec - sum.first_sec) +
                 ((double)sum.last_nsec - (double)sum.first_nsec) / 1e9;
    if (sum.records == 0)
        dur = 0;
    FILE *o = stdout;
    if (cli->json) {
        fprintf(o, "{\"file\":");
        pcap_json_str(o, cli->file, strlen(cli->file));
        fprintf(o, ",\"complete\":%s,\"link_type\":\"%s\",\"records\":%llu,\"bad_frames\":%llu,"
                   "\"duration\":%.6f,\"connections\":%llu,\"midstream\":%llu,"
                   "\"versions\":{\"3.1\":%llu,\"3.1.1\":%llu,\"5.0\":%llu,\"unknown\":%llu},"
                   "\"packets\":{\"C>S\":%llu,\"S>C\":%llu},\"bytes\":{\"C>S\":%llu,\"S>C\":%llu},"
                   "\"publish_payload_bytes\":%llu,\"undecodable\":%llu,\"gaps\":%llu,"
                   "\"gap_bytes\":%llu,\"resyncs\":%llu,\"resync_bytes\":%llu,\"types\":{",
                rc == 0 ? "true" : "false", pcap_link_name(sum.linktype),
                (unsigned long long)sum.records, (unsigned long long)sum.bad_frames, dur,
                (unsigned long long)s.conns, (unsigned long long)s.midstream,
                (unsigned long long)s.by_version[3], (unsigned long long)s.by_version[4],
                (unsigned long long)s.by_version[5], (unsigned long long)s.by_version[0],
                (unsigned long long)s.packets[0], (unsigned long long)s.packets[1],
                (unsigned long long)s.bytes[0], (unsigned long long)s.bytes[1],
                (unsigned long long)s.payload_bytes, (unsigned long long)s.bad,
                (unsigned long long)s.gaps, (unsigned long long)s.gap_bytes,
                (unsigned long long)s.resyncs, (unsigned long long)s.resync_bytes);
        bool first = true;
        for (int t = 1; t < 16; t++) {
            if (!s.type_count[t][0] && !s.type_count[t][1])
                continue;
            fprintf(o, "%s\"%s\":{\"C>S\":%llu,\"S>C\":%llu,\"bytes\":%llu}", first ? "" : ",",
                    mqtt_packet_type_name((mqtt_packet_type)t),
                    (unsigned long long)s.type_count[t][0], (unsigned long long)s.type_count[t][1],
                    (unsigned long long)(s.type_bytes[t][0] + s.type_bytes[t][1]));
            first = false;
        }
        fputs("}}\n", o);
        return rc;
    }
    fprintf(o, "capture       %s (%s)%s\n", cli->file, pcap_link_name(sum.linktype),
            rc == 0 ? "" : " [read stopped early: see the error]");
    fprintf(o, "records       %llu (%llu bad frames)\n", (unsigned long long)sum.records,
            (unsigned long long)sum.bad_frames);
    if (sum.bad_frames)
        fprintf(o, "first bad     %s\n", sum.first_bad);
    fprintf(o, "duration      %.6f s\n", dur);
    fprintf(o, "connections   %llu (3.1: %llu, 3.1.1: %llu, 5.0: %llu, unknown: %llu; "
               "mid-stream: %llu, version guessed: %llu)\n",
            (unsigned long long)s.conns, (unsigned long long)s.by_version[3],
            (unsigned long long)s.by_version[4], (unsigned long long)s.by_version[5],
            (unsigned long long)s.by_version[0], (unsigned long long)s.midstream,
            (unsigned long long)s.guessed);
    fprintf(o, "packets       %llu C>S, %llu S>C\n", (unsigned long long)s.packets[0],
            (unsigned long long)s.packets[1]);
    fprintf(o, "bytes         %llu C>S, %llu S>C (MQTT packets), %llu of PUBLISH payload\n",
            (unsigned long long)s.bytes[0], (unsigned long long)s.bytes[1],
            (unsigned long long)s.payload_bytes);
    fprintf(o, "problems      %llu undecodable, %llu gaps (%llu bytes), %llu resyncs (%llu bytes skipped)\n",
            (unsigned long long)s.bad, (unsigned long long)s.gaps,
            (unsigned long long)s.gap_bytes, (unsigned long long)s.resyncs,
            (unsigned long long)s.resync_bytes);
    fprintf(o, "%-12s %10s %10s %12s\n", "type", "C>S", "S>C", "bytes");
    for (int t = 1; t < 16; t++) {
        if (!s.type_count[t][0] && !s.type_count[t][1])
            continue;
        fprintf(o, "%-12s %10llu %10llu %12llu\n", mqtt_packet_type_name((mqtt_packet_type)t),
                (unsigned long long)s.type_count[t][0], (unsigned long long)s.type_count[t][1],
                (unsigned long long)(s.type_bytes[t][0] + s.type_bytes[t][1]));
    }
    return rc;
}
