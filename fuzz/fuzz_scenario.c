/*
 * Fuzz harness `scenario`: the conformance runner's scenario parser
 * (conformance/src/parse.c with the field table of fields.c and the rule
 * ids of spec_ids.c) on arbitrary text, as `mqtt-conform` parses a .mqs file.
 *
 * Input: the text of one scenario file (bytes after a NUL are not seen, as
 * for a file read into a C string). Seeds: every .mqs file under conformance/scenarios.
 *
 * Invariants: no crash, leak or hang; the parser either returns a scenario
 * and adds no error, or returns NULL and adds at least one error, and every
 * error names the file and a line ("fuzz.mqs:LINE:COL: ...", LINE >= 1,
 * one line of text); a parsed scenario has a title, versions, clients and
 * steps, and each step's line lies within the input.
 */
#include "conformance/src/conform.h"
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "fuzz.mqs:LINE:COL: text" with LINE and COL >= 1; returns LINE (0 if malformed). */
static long error_line(const char *msg)
{
    static const char prefix[] = "fuzz.mqs:";
    if (strncmp(msg, prefix, sizeof prefix - 1) != 0) return 0;
    char *end;
    long line = strtol(msg + sizeof prefix - 1, &end, 10);
    if (end == msg + sizeof prefix - 1 || *end != ':') return 0;
    const char *colp = end + 1;
    long col = strtol(colp, &end, 10);
    if (end == colp || col < 1 || strncmp(end, ": ", 2) != 0 || end[2] == '\0') return 0;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    long nlines = 1;
    for (const char *p = text; *p; p++) nlines += *p == '\n';

    conf_errors errs = {0};
    conf_scenario *sc = conf_parse_scenario("fuzz.mqs", "fuzz/01-input", text, &errs);
    if (sc) {
        FZ_ASSERT(errs.count == 0, "scenario parsed with %zu error(s): %s", errs.count, errs.msgs[0]);
        FZ_ASSERT(sc->title && sc->vmask && sc->nclients && sc->nsteps,
                  "parsed scenario without title, versions, clients or steps");
        for (size_t i = 0; i < sc->nsteps; i++)
            FZ_ASSERT(sc->steps[i].line >= 1 && sc->steps[i].line <= nlines, "step %zu on line %d of %ld", i,
                      sc->steps[i].line, nlines);
        conf_scenario_free(sc);
    } else {
        FZ_ASSERT(errs.count > 0, "scenario rejected without an error");
    }
    for (size_t i = 0; i < errs.count; i++) {
        long line = error_line(errs.msgs[i]);
        FZ_ASSERT(line >= 1 && line <= nlines + 1, "error without a line number in 1..%ld: %s", nlines,
                  errs.msgs[i]);
        FZ_ASSERT(!strchr(errs.msgs[i], '\n'), "error on several lines: %s", errs.msgs[i]);
    }
    conf_errors_free(&errs);
    free(text);
    return 0;
}
