/*
 * How mqtt-sub prints a received message: plain, -v, -N, and -F FORMAT with
 * mosquitto_sub's format specifiers (%t %p %x %j %J ... @ time fields,
 * \ escapes), byte for byte as mosquitto_sub 2.0 prints them.
 */
#ifndef TOOLS_CLIENT_OUTPUT_H
#define TOOLS_CLIENT_OUTPUT_H

#include <stdio.h>

#include "tools/src/client.h"

/* A received application message. props is NULL when the PUBLISH carried no
 * properties (always in 3.x). The topic is the resolved one (topic alias). */
typedef struct {
    mqtt_bytes topic;
    mqtt_bytes payload;
    uint8_t qos;
    bool retain;
    uint16_t mid;
    const mqtt_properties *props;
} client_message;

/* Checks a -F format as mosquitto_sub does; prints the error and returns 1 if bad. */
int client_format_check(const char *format);

/* Prints one message as cfg says (format, verbose, eol, random filter) and flushes. */
void client_print_message(FILE *out, const client_cfg *cfg, const client_message *msg);

#endif
