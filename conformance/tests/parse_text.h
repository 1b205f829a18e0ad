/*
 * parse_text: the scenario parser run on a text in memory, for the tests of
 * the parser, of levels and of the broker seat. The errors of the last parse
 * stay in parse_errs.
 */
#ifndef CONFORMANCE_TESTS_PARSE_TEXT_H
#define CONFORMANCE_TESTS_PARSE_TEXT_H

#include "conformance/src/conform.h"

#include <stdbool.h>

extern conf_errors parse_errs;

/* Parses text as the scenario "area/01-t" (file t.mqs); NULL on errors. */
conf_scenario *parse_text(const char *text);
/* True if some error message of the last parse contains needle. */
bool parse_has_error(const char *needle);

#endif
