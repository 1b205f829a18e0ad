/* count: bytes passed to mqtt_decode in the pcap test binary (count.c). */
#ifndef PCAP_TEST_COUNT_H
#define PCAP_TEST_COUNT_H

#include <mqtt/mqtt.h>
#include <stddef.h>

extern size_t pcap_test_decoded_bytes;

#endif
