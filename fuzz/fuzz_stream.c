/*
 * Fuzz harness `stream`: framing must not depend on how bytes arrive.
 *
 * Input: selector byte (see fz_decoder_init), a count byte k (low 4 bits),
 * k piece-size bytes, then the stream. The stream is decoded twice in
 * lockstep: whole (each call sees every byte left) and as a connection sees
 * it, fed in pieces of (size byte + 1) bytes, cycling through the k sizes
 * (k = 0: one byte at a time), into an accumulating buffer that is compacted
 * after each packet. Both must give identical packets (field by field, same
 * lengths) and the identical first error (status, rule, offset, reason).
 *
 * The accumulating buffer is exactly as large as the stream and the part not
 * yet filled is ASan-poisoned, so a decoder read past the bytes received so
 * far is caught even though the memory exists.
 */
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef POISON
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_error(mqtt_status si, const mqtt_error *ei, mqtt_status sw, const mqtt_error *ew)
{
    FZ_ASSERT(si == sw, "pieces: %s (%s at %zu), whole: %s (%s)", mqtt_status_name(si), ei->rule, ei->offset,
              mqtt_status_name(sw), sw >= MQTT_ERR_MALFORMED ? ew->rule : "-");
    FZ_ASSERT(strcmp(ei->rule, ew->rule) == 0, "pieces: rule %s, whole: rule %s", ei->rule, ew->rule);
    FZ_ASSERT(ei->offset == ew->offset, "rule %s: pieces at offset %zu, whole at %zu", ei->rule, ei->offset,
              ew->offset);
    FZ_ASSERT(ei->reason_code == ew->reason_code, "rule %s: reason 0x%02x vs 0x%02x", ei->rule, ei->reason_code,
              ew->reason_code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t k = data[1] & 15;
    if (k > size - 2) k = size - 2;
    const uint8_t *sizes = data + 2;
    const uint8_t *stream = data + 2 + k;
    size_t n = size - 2 - k;
    if (n == 0) return 0;

    fz_decoder whole, inc;
    fz_decoder_init(&whole, data[0]);
    fz_decoder_init(&inc, data[0]);
    uint8_t *acc = malloc(n);
    if (!acc) return 0;
    POISON(acc, n);
    size_t acc_len = 0, fed = 0, off = 0, piece = 0, need_len = 0;
    bool stopped = false;

    while (!stopped && fed < n) {
        size_t sz = k ? (size_t)sizes[piece++ % k] + 1 : 1;
        if (sz > n - fed) sz = n - fed;
        UNPOISON(acc + acc_len, sz);
        memcpy(acc + acc_len, stream + fed, sz);
        acc_len += sz;
        fed += sz;
        for (;;) {
            mqtt_packet pi, pw;
            mqtt_error ei = {0}, ew = {0};
            mqtt_status si = mqtt_decode(&inc.codec, acc, acc_len, &pi, &ei);
            if (si == MQTT_NEED_MORE) {
                fz_check_need_more(&pi, acc_len);
                if (need_len) FZ_ASSERT(pi.length == need_len, "NEED_MORE length changed from %zu to %zu", need_len, pi.length);
                need_len = pi.length;
                break;
            }
            mqtt_status sw = mqtt_decode(&whole.codec, stream + off, n - off, &pw, &ew);
            if (si != MQTT_OK) {
                fz_check_error(si, &ei, acc_len);
                same_error(si, &ei, sw, &ew);
                stopped = true;
                break;
            }
            FZ_ASSERT(sw == MQTT_OK, "pieces decoded %s of %zu bytes, whole: %s (%s at %zu)",
                      mqtt_packet_type_name(pi.type), pi.length, mqtt_status_name(sw),
                      sw >= MQTT_ERR_MALFORMED ? ew.rule : "-", ew.offset);
            fz_check_packet(&inc, &pi, acc, acc_len);
            if (need_len)
                FZ_ASSERT(pi.length == need_len, "NEED_MORE announced %zu bytes, packet has %zu", need_len, pi.length);
            fz_assert_equal(&pi, &pw, fz_packet_version(&inc, &pi), true, "pieces vs whole");
            fz_decoder_after(&inc, &pi);
            fz_decoder_after(&whole, &pw);
            /* Compact as a connection buffer would; the freed tail becomes unreadable again. */
            memmove(acc, acc + pi.length, acc_len - pi.length);
            acc_len -= pi.length;
            POISON(acc + acc_len, n - acc_len);
            off += pi.length;
            need_len = 0;
            if (acc_len == 0) break;
        }
    }
    if (!stopped) FZ_ASSERT(off + acc_len == n, "lost bytes: %zu consumed + %zu buffered of %zu", off, acc_len, n);
    UNPOISON(acc, n);
    free(acc);
    return 0;
}
