/* `mqtt-conform compare A.json B.json ...`: one matrix of verdicts per scenario and broker. */
#ifndef CONF_COMPARE_H
#define CONF_COMPARE_H

/* argv[0] is "compare". Prints the matrix on stdout (and --markdown F,
 * --html F). Returns the exit status: 0, or 2 for usage errors and reports
 * that cannot be read (named, with the reason). */
int conf_compare_main(int argc, char **argv);
#endif
