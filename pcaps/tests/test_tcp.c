/*
 * pcap_tcp on its own: sequence arithmetic at the edges of the 2^32 space.
 * Reproduces the fuzz finding fuzz/regressions/pcap/tcp-seq-half-space-behind
 * (a segment exactly 2^31 before next_seq made -off overflow an int32_t).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "pcaps/src/pcap_tcp.h"

typedef struct {
    size_t delivered;
    uint64_t lost;
} tcp_log;

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    (void)p;
    ((tcp_log *)ctx)->delivered += n;
}

static void on_gap(void *ctx, uint64_t missing)
{
    ((tcp_log *)ctx)->lost += missing;
}

Test(tcp, segment_half_the_sequence_space_behind_is_old_not_delivered)
{
    static const uint8_t payload[4] = {0x30, 0x02, 0x00, 0x00};
    const pcap_tcp_sink sink = {on_data, on_gap};
    tcp_log log = {0, 0};
    pcap_tcp_half h;
    memset(&h, 0, sizeof h);
    /* Mid-stream start at 0x10: next_seq becomes 0x14. */
    cr_assert(pcap_tcp_segment(&h, 0x10, 0x18, payload, 4, 4, &sink, &log));
    cr_assert_eq(log.delivered, 4);
    /* 0x14 - 2^31: the signed distance is INT32_MIN, i.e. already seen. */
    cr_assert(pcap_tcp_segment(&h, 0x14u - 0x80000000u, 0x18, payload, 4, 4, &sink, &log));
    cr_expect_eq(log.delivered, 4, "an old segment was delivered again");
    cr_expect_eq(log.lost, 0);
    cr_expect_eq(h.retransmitted, 4);
    cr_expect_eq(h.next_seq, 0x14u);
    pcap_tcp_reset(&h);
}
