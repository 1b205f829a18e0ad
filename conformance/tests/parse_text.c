/* parse_text: see parse_text.h. */
#include "conformance/tests/parse_text.h"

#include <string.h>

conf_errors parse_errs;

conf_scenario *parse_text(const char *text)
{
    conf_errors_free(&parse_errs);
    return conf_parse_scenario("t.mqs", "area/01-t", text, &parse_errs);
}

bool parse_has_error(const char *needle)
{
    for (size_t i = 0; i < parse_errs.count; i++)
        if (strstr(parse_errs.msgs[i], needle)) return true;
    return false;
}
