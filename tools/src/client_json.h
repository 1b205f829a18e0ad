/*
 * A small JSON tree that parses and prints exactly as cJSON 1.7 (the library
 * mosquitto_sub's -F %j / %J output goes through), so mqtt-sub prints the
 * same bytes: same escapes, same number forms, same --pretty layout.
 *
 * Invariants: strings are NUL-terminated copies and print up to their first
 * NUL, as cJSON's C strings do; keys may repeat (cJSON keeps duplicates).
 */
#ifndef TOOLS_CLIENT_JSON_H
#define TOOLS_CLIENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    char *key;      /* name inside an object, else NULL */
    char *string;   /* JSON_STRING */
    double number;  /* JSON_NUMBER */
    struct json_value *child, *last, *next; /* JSON_ARRAY, JSON_OBJECT */
} json_value;

/* Parses buf[0..len) as cJSON_ParseWithOpts(require_null_terminated) does,
 * and as mosquitto checks it: the whole buffer must be one JSON value
 * (UTF-8 BOM and whitespace around it allowed). NULL if invalid or out of memory. */
json_value *client_json_parse(const uint8_t *buf, size_t len);

/* Builders (NULL when out of memory; add functions take ownership and accept NULL). */
json_value *client_json_object(void);
json_value *client_json_string_n(const uint8_t *s, size_t len); /* copies up to the first NUL */
json_value *client_json_number(double v);
json_value *client_json_null(void);
/* Appends v to the object obj under key; returns false (and frees v) on failure. */
bool client_json_add(json_value *obj, const char *key, json_value *v);

/* cJSON_PrintUnformatted (pretty false) or cJSON_Print (pretty true). */
void client_json_print(FILE *out, const json_value *v, bool pretty);
void client_json_free(json_value *v);

#endif
