/*
 * Fuzz harness `pcap`: mqtt-pcap's capture reader (pcap, pcapng, gzip
 * through zlib), link-layer decoding, TCP reassembly and MQTT framing
 * (pcaps/src/pcap_reader.c, pcap_link.c, pcap_tcp.c, pcap_flow.c) on
 * arbitrary bytes, exactly as `mqtt-pcap dump` reads a file.
 *
 * Input: the bytes of a capture file (the seeds are the regression captures
 * of pcaps/corpus and a gzip-compressed copy of one).
 *
 * Invariants: no crash, leak or hang; a capture that cannot be opened or
 * stops early is reported as text (a non-empty error message), never an
 * abort; every event carries its connection and, per kind, what it promises
 * (a packet and its bytes, a rejected stretch with the rule it breaks, a
 * note); every connection that opens is closed exactly once.
 */
#include "pcaps/src/pcap_flow.h"
#include "pcaps/src/pcap_reader.h"
#include "fuzz/fuzz_util.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    unsigned opened, closed;
} fz_pcap_ctx;

static void on_event(void *ctx, const pcap_event *ev)
{
    fz_pcap_ctx *c = ctx;
    FZ_ASSERT(ev->conn != NULL, "event %d without a connection", (int)ev->kind);
    switch (ev->kind) {
    case PCAP_EV_OPEN:
        c->opened++;
        break;
    case PCAP_EV_PACKET:
        FZ_ASSERT(ev->pkt && ev->raw && ev->raw_len == ev->pkt->length, "packet event: raw %zu bytes, packet %zu",
                  ev->raw_len, ev->pkt ? (size_t)ev->pkt->length : 0);
        break;
    case PCAP_EV_BAD:
        FZ_ASSERT(ev->err && ev->err->rule && ev->err->rule[0], "rejected bytes without a rule id");
        fz_check_error(ev->err->status, ev->err, (size_t)-1); /* offsets are into the reassembled stream */
        break;
    case PCAP_EV_GAP:
    case PCAP_EV_RESYNC:
    case PCAP_EV_NOTE:
        FZ_ASSERT(ev->note && ev->note[0], "event %d without a note", (int)ev->kind);
        break;
    case PCAP_EV_CLOSE:
        FZ_ASSERT(ev->note && ev->note[0], "close without saying how");
        c->closed++;
        break;
    default:
        FZ_ASSERT(0, "unknown event kind %d", (int)ev->kind);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    pcap_reader *r = pcap_reader_open_memory(data, size, "fuzz", err, sizeof err);
    if (!r) {
        FZ_ASSERT(err[0] != '\0', "open refused without a message");
        return 0;
    }
    fz_pcap_ctx c = {0, 0};
    pcap_flow_options o = {.ports = (const uint16_t[]){1883}, .nports = 1};
    pcap_flow_summary sum;
    memset(&sum, 0, sizeof sum);
    err[0] = '\0';
    int rc = pcap_flow_run(r, &o, on_event, &c, &sum, err, sizeof err);
    FZ_ASSERT(rc == 0 || rc == -1, "pcap_flow_run returned %d", rc);
    if (rc != 0) FZ_ASSERT(err[0] != '\0', "reading stopped without a message");
    FZ_ASSERT(c.opened == c.closed, "%u connections opened, %u closed", c.opened, c.closed);
    FZ_ASSERT(sum.connections == c.opened, "summary counts %llu connections, %u opened",
              (unsigned long long)sum.connections, c.opened);
    pcap_reader_close(r);
    return 0;
}
