/*
 * The cJSON-compatible JSON used by -F %J: what it accepts and how it prints.
 * Expected texts are cJSON 1.7.15's (Debian 12's libcjson, which
 * mosquitto_sub uses) for the same input.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/src/client_json.h"

static char *out;

static const char *reformat(const char *in, bool pretty)
{
    free(out);
    out = NULL;
    json_value *v = client_json_parse((const uint8_t *)in, strlen(in));
    if (!v) return NULL;
    size_t len;
    FILE *f = open_memstream(&out, &len);
    client_json_print(f, v, pretty);
    fclose(f);
    client_json_free(v);
    return out;
}

static void cleanup(void)
{
    free(out);
    out = NULL;
}

TestSuite(client_json, .fini = cleanup);

Test(client_json, numbers_print_as_cjson)
{
    /* Recorded from mosquitto_sub -F %J (Debian 12, cJSON 1.7.15) */
    cr_assert_str_eq(reformat("[1, 1.0, -0, 0.1, 2.5, 1e10, 123456789012, 2147483647, -2147483648, 1e400, 01, "
                              "3.141592653589793, 1e-7, 0.30000000000000004]",
                              false),
                     "[1,1,-0,0.1,2.5,10000000000,123456789012,2147483647,-2147483648,null,1,3.1415926535897931,"
                     "1e-07,0.3]");
}

Test(client_json, strings_are_decoded_and_reescaped)
{
    cr_assert_str_eq(reformat("\"a\\/b\\u00e9\\ud83d\\ude00\\u0001\\t\"", false),
                     "\"a/b\xc3\xa9\xf0\x9f\x98\x80\\u0001\\t\"");
    /* \u0000 ends the C string cJSON stores */
    cr_assert_str_eq(reformat("\"ab\\u0000cd\"", false), "\"ab\"");
}

Test(client_json, whitespace_bom_and_literals)
{
    cr_assert_str_eq(reformat("\xEF\xBB\xBF \t\r\n {\"a\" : true , \"b\":false,\"c\" :null } \n", false),
                     "{\"a\":true,\"b\":false,\"c\":null}");
}

Test(client_json, duplicate_keys_are_kept)
{
    cr_assert_str_eq(reformat("{\"k\":1,\"k\":2}", false), "{\"k\":1,\"k\":2}");
}

Test(client_json, pretty_layout)
{
    cr_assert_str_eq(reformat("{\"a\":[1,{\"b\":[]},{}],\"c\":{}}", true),
                     "{\n\t\"a\":\t[1, {\n\t\t\t\"b\":\t[]\n\t\t}, {\n\t\t}],\n\t\"c\":\t{\n\t}\n}");
    cr_assert_str_eq(reformat("[]", true), "[]");
    cr_assert_str_eq(reformat("{}", true), "{\n}");
}

Test(client_json, invalid_inputs_are_refused)
{
    const char *bad[] = {"", "{", "{\"a\":1,}", "[1,]", "[1 2]", "\"abc", "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"",
                         "nul", "True", "+1", "-", ".5", "1.5.3", "0x10", "{1:2}", "[1]]", "1 2", "'a'"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(reformat(bad[i], false), "accepted %s", bad[i]);
}

Test(client_json, embedded_nul_is_invalid)
{
    static const uint8_t in[] = {'[', '1', ']', 0, ' '};
    cr_assert_null(client_json_parse(in, sizeof in));
}

Test(client_json, nesting_limit)
{
    char deep[2 * 1001 + 1];
    memset(deep, '[', 1001);
    memset(deep + 1001, ']', 1001);
    deep[2002] = '\0';
    cr_assert_null(reformat(deep, false));
    char ok[2001];
    memset(ok, '[', 1000);
    memset(ok + 1000, ']', 1000);
    ok[2000] = '\0';
    cr_assert_not_null(reformat(ok, false));
}

Test(client_json, builders)
{
    json_value *o = client_json_object();
    cr_assert(client_json_add(o, "s", client_json_string_n((const uint8_t *)"x\0y", 3)));
    cr_assert(client_json_add(o, "n", client_json_number(5)));
    cr_assert(client_json_add(o, "z", client_json_null()));
    size_t len;
    FILE *f = open_memstream(&out, &len);
    client_json_print(f, o, false);
    fclose(f);
    client_json_free(o);
    cr_assert_str_eq(out, "{\"s\":\"x\",\"n\":5,\"z\":null}");
}
