/*
 * seed_out: writes one byte stream as a seed of the codec harnesses, in the
 * input formats of fuzz_util.h (selector byte) and fuzz_stream.c (piece
 * sizes): OUTDIR/decode/NAME, OUTDIR/roundtrip/NAME, OUTDIR/stream/NAME.split
 * (pieces of 1, 7 and 3 bytes). Used by the seed programs that take streams
 * from other parts (seeds_pcap.c, seeds_scenario.c); gen_corpus.c has its own.
 */
#ifndef FUZZ_SEED_OUT_H
#define FUZZ_SEED_OUT_H

#include <mqtt/mqtt.h>

#include <stddef.h>
#include <stdint.h>

/* The selector byte of fz_decoder_init for a version and a sender. */
uint8_t seed_out_selector(mqtt_version v, mqtt_side from);

/* Writes the three seeds; returns 0, or -1 with a message on stderr. */
int seed_out_write(const char *outdir, const char *name, uint8_t sel, const uint8_t *bytes, size_t n);

#endif
