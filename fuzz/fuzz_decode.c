/*
 * Fuzz harness `decode`: arbitrary bytes through mqtt_decode as a stream.
 *
 * Input: one selector byte (version, sender, caller arrays, maximum packet
 * size: see fz_decoder_init), then the bytes one peer sends. Packets are
 * decoded one after another, as a connection would, until the bytes run out
 * (MQTT_NEED_MORE) or one is rejected. A server-side stream with an unknown
 * version switches to the level of the CONNECT it accepts.
 *
 * Invariants (fuzz_util.c): the decoder never reads outside the input (ASan:
 * libFuzzer hands us a heap copy of exactly `size` bytes), every error names
 * a rule ("MQTT-..." / "LIMIT-...") at an offset inside the input, NEED_MORE
 * keeps its length contract, and every view of a decoded packet lies inside
 * that packet's bytes. Kept lean: this harness is the one that must run fast.
 */
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    fz_decoder d;
    fz_decoder_init(&d, data[0]);
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    while (left > 0) {
        mqtt_packet pkt;
        mqtt_error err;
        err.rule = NULL;
        mqtt_status st = mqtt_decode(&d.codec, p, left, &pkt, &err);
        if (st == MQTT_NEED_MORE) {
            fz_check_need_more(&pkt, left);
            break;
        }
        if (st != MQTT_OK) {
            fz_check_error(st, &err, left);
            break;
        }
        fz_check_packet(&d, &pkt, p, left);
        fz_decoder_after(&d, &pkt);
        p += pkt.length;
        left -= pkt.length;
    }
    return 0;
}
