/* mqtt-conform --client / --client-listen: the client profile and target (seat_cli.c). */
#ifndef CONF_SEAT_CLI_H
#define CONF_SEAT_CLI_H

#include "conformance/src/cli.h"
#include "conformance/src/seat.h"

/* Chooses the client profile from o->client (NAME under
 * DEFDIR/../profiles/clients/, a .profile file, or a command line) and writes
 * the target line of the reports. Returns 0 (profile errors go to errs), or
 * 2 after a message on stderr. */
int conf_seat_prepare(const conf_cli *o, const char *defdir, seat_profile *p, conf_errors *errs, char *target,
                      size_t tcap);
/* --client-listen's address into host/port (nothing without it). 0 or -1. */
int conf_seat_listen_addr(const conf_cli *o, char *host, size_t hcap, uint16_t *port);
#endif
