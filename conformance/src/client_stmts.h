/* Client-side normative statements and the untestable ones (client_stmts.c). */
#ifndef CONF_CLIENT_STMTS_H
#define CONF_CLIENT_STMTS_H

#include "conformance/src/conform.h"

/* Who a statement binds: the server only, the client only, or either side. */
typedef enum { SIDE_SERVER, SIDE_CLIENT, SIDE_BOTH } conf_side;

/* The side statement (vi, id) binds (3.1 runs use the 3.1.1 ids). */
conf_side conf_stmt_side(int vi, const char *id);
/* Why the broker seat cannot test client statement (vi, id), or NULL
 * (testable, or not a client statement). Static text. */
const char *conf_client_untestable(int vi, const char *id);
/* The i-th listed client statement of version slot vi, NULL past the end (tests). */
const char *conf_client_stmt_at(int vi, size_t i);
#endif
