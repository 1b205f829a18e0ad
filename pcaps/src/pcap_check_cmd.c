/*
 * mqtt-pcap check: runs pcap_check over a capture and lists violations,
 *   TIME cN S>C PUBLISH MQTT-2.2.1-4 [5.0] by server: packet id 1 reused ...
 * then one summary line. Exit 1 if any violation (or the capture is
 * truncated or corrupt), 0 if none, 2 if it cannot be opened.
 */
#include <stdlib.h>
#include <string.h>

#include "pcaps/src/pcap_check.h"
#include "pcaps/src/pcap_cli.h"

typedef struct {
    const pcap_cli *cli;
    pcap_checker *k;
    uint64_t violations, conns_with, gaps;
    unsigned char *seen;   /* by connection id: has a violation */
    size_t nseen;
} check_ctx;

static void on_violation(void *vctx, const pcap_violation *v)
{
    check_ctx *c = vctx;
    c->violations++;
    unsigned id = v->ev->conn->id;
    if (id >= c->nseen) {
        size_t n = (size_t)id * 2 + 16;
        unsigned char *s = realloc(c->seen, n);
        if (s) {
            memset(s + c->nseen, 0, n - c->nseen);
            c->seen = s;
            c->nseen = n;
        }
    }
    if (id < c->nseen && !c->seen[id]) {
        c->seen[id] = 1;
        c->conns_with++;
    }
    if (c->cli->quiet)
        return;
    char t[64];
    pcap_cli_time(c->cli, v->ev, t, sizeof t);
    const char *by = v->by == MQTT_FROM_CLIENT ? "client" : "server";
    if (c->cli->json) {
        printf("{\"time\":%s%s%s,\"conn\":%u,\"dir\":\"%s\",\"by\":\"%s\",\"packet\":\"%s\","
               "\"rule\":",
               c->cli->abs_time ? "\"" : "", t, c->cli->abs_time ? "\"" : "", v->ev->conn->id,
               pcap_dir_name(v->ev->from), by, v->what);
        pcap_json_str(stdout, v->rule, strlen(v->rule));
        printf(",\"version\":\"%s\",\"stream_offset\":%llu,\"message\":",
               mqtt_version_name(v->version), (unsigned long long)v->ev->stream_offset);
        pcap_json_str(stdout, v->message, strlen(v->message));
        puts("}");
        return;
    }
    printf("%s c%u %s %s %s [%s] by %s: %s\n", t, v->ev->conn->id, pcap_dir_name(v->ev->from),
           v->what, v->rule, mqtt_version_name(v->version), by, v->message);
}

static void on_event(void *vctx, const pcap_event *ev)
{
    check_ctx *c = vctx;
    if (c->cli->conn_filter && ev->conn->id != c->cli->conn_filter)
        return;
    if (ev->kind == PCAP_EV_GAP || (ev->kind == PCAP_EV_RESYNC && ev->bytes > 0))
        c->gaps++;
    pcap_checker_event(c->k, ev);
}

int pcap_cmd_check(const pcap_cli *cli)
{
    check_ctx c = {.cli = cli};
    c.k = pcap_checker_new(on_violation, &c);
    if (!c.k) {
        fprintf(stderr, "mqtt-pcap check: out of memory\n");
        return 2;
    }
    pcap_flow_summary sum;
    int rc = pcap_cli_run(cli, on_event, &c, &sum);
    uint64_t packets = pcap_checker_packets(c.k);
    pcap_checker_free(c.k);
    free(c.seen);
    if (rc == 2)
        return 2;
    if (!cli->json) {
        printf("%s: %llu violation%s in %llu of %llu connection%s (%llu packets checked)",
               cli->file, (unsigned long long)c.violations, c.violations == 1 ? "" : "s",
               (unsigned long long)c.conns_with, (unsigned long long)sum.connections,
               sum.connections == 1 ? "" : "s", (unsigned long long)packets);
        if (c.gaps)
            printf("; %llu gaps or resyncs limited what could be checked",
                   (unsigned long long)c.gaps);
        if (rc)
            printf("; the capture is incomplete (see the error)");
        putchar('\n');
    }
    fflush(stdout);
    return (rc || c.violations) ? 1 : 0;
}
