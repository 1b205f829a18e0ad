/*
 * mqtt-conform --inproc: the reference broker's sans-I/O core in the
 * runner's own process, on a virtual clock (inproc.c).
 */
#ifndef CONF_INPROC_H
#define CONF_INPROC_H

#include "conformance/src/engine.h"

#include <stddef.h>
#include <stdint.h>

typedef struct conf_inproc conf_inproc;

/* The core configured as the spawned reference broker is (CONF_REFERENCE_CONFIG,
 * spawn.h), its log lines (up to INFO, with their virtual time) to logpath
 * (NULL: none). NULL with msg filled when it cannot be set up. */
conf_inproc *conf_inproc_new(const char *logpath, char *msg, size_t msglen);

/* The engine's transport (engine.h) for it: valid until conf_inproc_free. */
const conf_transport *conf_inproc_transport(conf_inproc *ip);

/* Virtual milliseconds elapsed since conf_inproc_new (for the summary). */
int64_t conf_inproc_elapsed_ms(const conf_inproc *ip);

/* Closes every connection, frees the core and closes the log. */
void conf_inproc_free(conf_inproc *ip);

#endif
