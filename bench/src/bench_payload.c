/* bench_payload: the message header of bench_payload.h (big-endian fields). */
#include "bench/src/bench_payload.h"

#include <string.h>

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8u * (n - 1u - i)));
}

static uint64_t get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

void bench_stamp_write(uint8_t *buf, const bench_stamp *s)
{
    memcpy(buf, "MQB1", 4);
    put(buf + 4, s->run_id, 4);
    put(buf + 8, s->pub, 4);
    buf[12] = s->flags;
    buf[13] = buf[14] = buf[15] = 0;
    put(buf + 16, s->seq, 8);
    put(buf + 24, (uint64_t)s->due, 8);
    put(buf + BENCH_STAMP_SENT_AT, (uint64_t)s->sent, 8);
}

void bench_stamp_set_sent(uint8_t *header, int64_t sent)
{
    put(header + BENCH_STAMP_SENT_AT, (uint64_t)sent, 8);
}

bool bench_stamp_read(const uint8_t *buf, size_t len, bench_stamp *s)
{
    if (len < BENCH_PAYLOAD_HEADER || memcmp(buf, "MQB1", 4) != 0) return false;
    s->run_id = (uint32_t)get(buf + 4, 4);
    s->pub = (uint32_t)get(buf + 8, 4);
    s->flags = buf[12];
    s->seq = get(buf + 16, 8);
    s->due = (int64_t)get(buf + 24, 8);
    s->sent = (int64_t)get(buf + 32, 8);
    return true;
}
