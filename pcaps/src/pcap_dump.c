/*
 * mqtt-pcap dump: one line per event, packets through the codec's formatter.
 *   TIME cN C>S PUBLISH q1 id=7 r=0 topic="a/b" 5B
 *   TIME cN --- open 127.0.0.1:40000 > 127.0.0.1:1883
 *   TIME cN C>S ! malformed MQTT-3.3.1-4 at 0: ... | bytes 36 0b ...
 * --json writes one JSON object per line with the same content. The output
 * depends only on the capture's contents (times are relative to its first
 * record), which is what the regression corpus compares.
 */
#include <stdlib.h>
#include <string.h>

#include "pcaps/src/pcap_cli.h"

typedef struct {
    const pcap_cli *cli;
    FILE *out;
    char *buf;
    size_t cap;
} dump_ctx;

static void text_event(dump_ctx *d, const pcap_event *ev)
{
    FILE *o = d->out;
    char t[64];
    pcap_cli_time(d->cli, ev, t, sizeof t);
    const char *dir = pcap_dir_name(ev->from);
    switch (ev->kind) {
    case PCAP_EV_OPEN:
        fprintf(o, "%s c%u --- open %s > %s", t, ev->conn->id, ev->conn->client,
                ev->conn->server);
        if (ev->note)
            fprintf(o, " (%s)", ev->note);
        putc('\n', o);
        break;
    case PCAP_EV_PACKET: {
        /* The hot path: no fprintf. */
        char id[16];
        size_t n = sizeof id;
        unsigned v = ev->conn->id;
        do {
            id[--n] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        fputs(t, o);
        fputs(" c", o);
        fwrite(id + n, 1, sizeof id - n, o);
        putc(' ', o);
        fputs(dir, o);
        putc(' ', o);
        fputs(pcap_format_line(ev->pkt, ev->version, &d->buf, &d->cap), o);
        putc('\n', o);
        break;
    }
    case PCAP_EV_BAD: {
        char e[400];
        mqtt_format_error(ev->err, e, sizeof e);
        fprintf(o, "%s c%u %s ! %s [stream offset %llu] bytes ", t, ev->conn->id, dir, e,
                (unsigned long long)ev->stream_offset);
        pcap_hex(o, ev->raw, ev->raw_len, 32, true);
        putc('\n', o);
        break;
    }
    case PCAP_EV_GAP:
        fprintf(o, "%s c%u %s ! gap: %llu bytes missing from the capture at stream offset %llu: %s\n",
                t, ev->conn->id, dir, (unsigned long long)ev->bytes,
                (unsigned long long)ev->stream_offset, ev->note);
        break;
    case PCAP_EV_RESYNC:
        fprintf(o, "%s c%u %s ! resync: skipped %llu bytes from stream offset %llu to a packet boundary (%s)\n",
                t, ev->conn->id, dir, (unsigned long long)ev->bytes,
                (unsigned long long)ev->stream_offset, ev->note);
        break;
    case PCAP_EV_NOTE:
        fprintf(o, "%s c%u %s ! note: %s\n", t, ev->conn->id, dir, ev->note);
        break;
    case PCAP_EV_CLOSE:
        fprintf(o, "%s c%u --- close: %s\n", t, ev->conn->id, ev->note);
        break;
    }
}

static void json_event(dump_ctx *d, const pcap_event *ev)
{
    FILE *o = d->out;
    char t[64];
    pcap_cli_time(d->cli, ev, t, sizeof t);
    fprintf(o, "{\"time\":");
    if (d->cli->abs_time)
        fprintf(o, "\"%s\"", t);
    else
        fputs(t, o);
    fprintf(o, ",\"conn\":%u", ev->conn->id);
    if (ev->kind != PCAP_EV_OPEN && ev->kind != PCAP_EV_CLOSE)
        fprintf(o, ",\"dir\":\"%s\"", pcap_dir_name(ev->from));
    switch (ev->kind) {
    case PCAP_EV_OPEN:
        fprintf(o, ",\"event\":\"open\",\"client\":\"%s\",\"server\":\"%s\",\"midstream\":%s",
                ev->conn->client, ev->conn->server, ev->conn->midstream ? "true" : "false");
        break;
    case PCAP_EV_PACKET:
        fprintf(o, ",\"event\":\"packet\",\"stream_offset\":%llu,\"packet\":%s",
                (unsigned long long)ev->stream_offset,
                pcap_format_json(ev->pkt, ev->version, &d->buf, &d->cap));
        break;
    case PCAP_EV_BAD:
        fprintf(o, ",\"event\":\"undecodable\",\"stream_offset\":%llu,\"status\":\"%s\",\"rule\":",
                (unsigned long long)ev->stream_offset, mqtt_status_name(ev->err->status));
        pcap_json_str(o, ev->err->rule, strlen(ev->err->rule));
        fprintf(o, ",\"version\":\"%s\",\"offset\":%zu,\"reason_code\":%u,\"message\":",
                mqtt_version_name(ev->err->version), ev->err->offset, ev->err->reason_code);
        pcap_json_str(o, ev->err->message, strlen(ev->err->message));
        fputs(",\"hex\":\"", o);
        pcap_hex(o, ev->raw, ev->raw_len, 256, false);
        putc('"', o);
        break;
    case PCAP_EV_GAP:
    case PCAP_EV_RESYNC:
        fprintf(o, ",\"event\":\"%s\",\"bytes\":%llu,\"stream_offset\":%llu,\"note\":",
                ev->kind == PCAP_EV_GAP ? "gap" : "resync", (unsigned long long)ev->bytes,
                (unsigned long long)ev->stream_offset);
        pcap_json_str(o, ev->note, strlen(ev->note));
        break;
    case PCAP_EV_NOTE:
    case PCAP_EV_CLOSE:
        fprintf(o, ",\"event\":\"%s\",\"note\":", ev->kind == PCAP_EV_NOTE ? "note" : "close");
        pcap_json_str(o, ev->note, strlen(ev->note));
        break;
    }
    fputs("}\n", o);
}

static void on_event(void *vctx, const pcap_event *ev)
{
    dump_ctx *d = vctx;
    if (d->cli->conn_filter && ev->conn->id != d->cli->conn_filter)
        return;
    if (d->cli->json)
        json_event(d, ev);
    else
        text_event(d, ev);
}

int pcap_cmd_dump(const pcap_cli *cli)
{
    dump_ctx d = {.cli = cli, .out = stdout};
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    int rc = pcap_cli_run(cli, on_event, &d, NULL);
    free(d.buf);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "mqtt-pcap dump: writing the output failed\n");
        rc = 1;
    }
    return rc;
}
