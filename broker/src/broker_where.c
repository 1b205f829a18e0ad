/*
 * broker_where: the one "FILE:LINE: message" formatter of the broker's
 * line-oriented parsers (see broker_where.h).
 */
#include "broker/src/broker_where.h"

#include <stdarg.h>
#include <stdio.h>

int broker_where_fail(broker_where *w, const char *fmt, ...)
{
    int n = snprintf(w->err, w->errlen, "%s:%zu: ", w->name, w->line);
    if (n < 0) n = 0;
    if ((size_t)n < w->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}
