/*
 * broker_where: "FILE:LINE: message" errors for the line-oriented parsers
 * (configuration, password file, ACL file), written into a caller buffer.
 */
#ifndef BROKER_WHERE_H
#define BROKER_WHERE_H

#include <stddef.h>

/* Where a parser is: the file's name (for messages), the 1-based line being read,
 * and the caller's buffer for the first error. */
typedef struct {
    const char *name;
    size_t line;
    char *err;
    size_t errlen;
} broker_where;

/* Writes "NAME:LINE: " and the formatted message into w->err (truncated to fit).
 * Returns -1, so parsers can `return broker_where_fail(...)`. */
int broker_where_fail(broker_where *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
