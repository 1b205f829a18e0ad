/* A small JSON reader for mqtt-conform's own report.json (compare reads them back). */
#ifndef CONF_JSON_H
#define CONF_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } json_kind;

typedef struct json json;
struct json {
    json_kind kind;
    bool b;
    double num;
    char *str;          /* J_STR: the decoded text (NUL-terminated; \u0000 stays out) */
    char **keys;        /* J_OBJ: keys[i] names items[i] */
    json *items;        /* J_ARR, J_OBJ */
    size_t n;
};

/* Parses text[0..len) into *out (nesting at most 64 deep). Returns 0, or -1
 * with err naming the byte offset and what was expected. Free with json_free. */
int json_parse(const char *text, size_t len, json *out, char *err, size_t errlen);
void json_free(json *j);
/* The member `key` of an object, or NULL (also when j is not an object). */
const json *json_get(const json *j, const char *key);
/* The string of member `key`, or dflt when absent or not a string. */
const char *json_str(const json *j, const char *key, const char *dflt);
#endif
