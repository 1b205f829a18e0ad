/*
 * Regressions found by the fuzz harnesses (fuzz/): each test is the smallest
 * packet or byte string showing the bug, with the harness and the reproducer
 * it came from (the reproducer files are kept in fuzz/regressions/<harness>/
 * and replayed by `make check-fuzz`).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

/*
 * fuzz_encode, fuzz/regressions/encode/props-bit0-disconnect: a 5.0
 * DISCONNECT whose properties had only bit 0 of `present` set (no property
 * has identifier 0) was written in the long form "e0 02 00 00": the writer
 * ignored bit 0 but the "are there properties" test counted it, breaking the
 * encoder's promise of the shortest form. Bit 0 is now ignored by both.
 */
Test(fuzz_regressions, property_bit_0_does_not_lengthen_acks)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_DISCONNECT;
    p.disconnect.properties.present = 1;
    mqtt_codec c = TV_C5;
    TV_ENCODE_OK(&c, &p, "e0 00");

    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBACK;
    p.ack.packet_id = 1;
    p.ack.properties.present = 1;
    TV_ENCODE_OK(&c, &p, "40 02 00 01");
    /* Ignored in 3.1.1 too, rather than taken for a property that cannot exist there. */
    c = TV_C311;
    TV_ENCODE_OK(&c, &p, "40 02 00 01");
}
