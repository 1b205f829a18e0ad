/*
 * decode_count: bytes handed to the codec's decoder by the objects of a test
 * binary linked with -Wl,--wrap=mqtt_decode (and scripts/decode_count.c), so
 * that a test asserts how much work a stream costs by a count, not a clock
 * (issue 14: a packet arriving in pieces is decoded once, not from its first
 * byte on every read). A test-only shim: no switch in the shipped code.
 */
#ifndef SCRIPTS_DECODE_COUNT_H
#define SCRIPTS_DECODE_COUNT_H

#include <stddef.h>

extern size_t test_decoded_bytes;
/* mqtt_decode calls made. */
extern size_t test_decode_calls;

#endif
