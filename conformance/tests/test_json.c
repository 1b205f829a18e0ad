/* The JSON reader `compare` uses: values, escapes, errors with offsets, depth bound. */
#include <criterion/criterion.h>
#include <string.h>

#include "conformance/src/json.h"

static int parse(const char *text, json *j, char *err)
{
    return json_parse(text, strlen(text), j, err, 200);
}

Test(conform_json, reads_objects_arrays_and_escapes)
{
    json j;
    char err[200];
    cr_assert_eq(parse(" {\"a\": [1, -2.5e1, true, null], \"s\": \"x\\\"\\u00e9\\ud83d\\ude00\\n\"} ", &j, err), 0, "%s", err);
    const json *a = json_get(&j, "a");
    cr_assert(a && a->kind == J_ARR && a->n == 4);
    cr_assert_float_eq(a->items[1].num, -25.0, 1e-9);
    cr_assert(a->items[2].kind == J_BOOL && a->items[2].b);
    cr_assert_str_eq(json_str(&j, "s", NULL), "x\"\xc3\xa9\xf0\x9f\x98\x80\n");
    cr_assert_str_eq(json_str(&j, "missing", "d"), "d");
    json_free(&j);
}

Test(conform_json, errors_name_the_offset)
{
    json j;
    char err[200];
    cr_assert_eq(parse("{\"a\": 1,}", &j, err), -1);
    cr_assert(strstr(err, "at byte 8: expected a member name"), "%s", err);
    cr_assert_eq(parse("[1 2]", &j, err), -1);
    cr_assert(strstr(err, "at byte 3: expected ',' or ']'"), "%s", err);
    cr_assert_eq(parse("\"abc", &j, err), -1);
    cr_assert(strstr(err, "a closing '\"'"), "%s", err);
    cr_assert_eq(parse("{} x", &j, err), -1);
    cr_assert(strstr(err, "the end of the document"), "%s", err);
}

Test(conform_json, nesting_is_bounded)
{
    char deep[400];
    memset(deep, '[', 300);
    deep[300] = '\0';
    json j;
    char err[200];
    cr_assert_eq(parse(deep, &j, err), -1);
    cr_assert(strstr(err, "at most 64 levels"), "%s", err);
}
