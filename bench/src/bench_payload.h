/*
 * bench_payload: the 40-byte header every mqtt-bench message starts with,
 * so the receiver knows who sent it, its place in the sequence and when it
 * was due and sent, without any shared state with the publisher.
 *
 *   0  "MQB1"                 magic
 *   4  u32 run id             random per process: messages of other runs
 *                             (retained, a concurrent instance) are told apart
 *   8  u32 publisher index
 *   12 u8  flags              bit 0: timestamps are CLOCK_REALTIME (pub and sub
 *                             in different processes), else CLOCK_MONOTONIC;
 *                             bit 1: sent during warm-up
 *   13 3 bytes zero
 *   16 u64 sequence number    0, 1, 2 ... per publisher
 *   24 u64 due time, ns       when the schedule wanted it sent (fixed rate)
 *   32 u64 send time, ns      when it was handed to the socket layer
 * All big-endian. The rest of the payload is filler up to the chosen size.
 */
#ifndef BENCH_PAYLOAD_H
#define BENCH_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_PAYLOAD_HEADER 40u
#define BENCH_PF_REALTIME 1u
#define BENCH_PF_WARMUP 2u

typedef struct {
    uint32_t run_id, pub;
    uint8_t flags;
    uint64_t seq;
    int64_t due, sent;
} bench_stamp;

/* Writes the header into buf (at least BENCH_PAYLOAD_HEADER bytes). */
void bench_stamp_write(uint8_t *buf, const bench_stamp *s);
/* Offset of the send time in the header, and a rewrite of it in place (the
 * sender sets it again just before the bytes go to the socket). */
#define BENCH_STAMP_SENT_AT 32u
void bench_stamp_set_sent(uint8_t *header, int64_t sent);
/* Reads a header; false when len is too short or the magic is wrong. */
bool bench_stamp_read(const uint8_t *buf, size_t len, bench_stamp *s);

#endif
