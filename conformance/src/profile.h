/* Broker profiles: address, credentials, capabilities and known deviations. */
#ifndef CONF_PROFILE_H
#define CONF_PROFILE_H

#include "conformance/src/conform.h"

typedef struct {
    char *glob;       /* scenario id pattern (fnmatch) */
    unsigned vmask;
    char *reason;
    int line;
    bool used;
    bool flaky;       /* `flaky`: may fail or pass (timing); failing is expected, passing is fine */
} conf_deviation;

typedef struct {
    char *path;
    char *name;
    char *broker;     /* HOST:PORT or NULL */
    char *username, *password;
    /* TLS (`cafile`, `cert`, `key`, `insecure`): paths as written, made
     * absolute against the profile's directory when relative; NULL: not given. */
    char *cafile, *certfile, *keyfile;
    bool insecure;
    unsigned vmask;   /* versions the broker speaks */
    uint32_t lacks;   /* CAP bits */
    conf_deviation *devs;
    size_t ndevs;
} conf_profile;

/* Reads a profile file. Returns 0, or -1 with errors added. */
int conf_profile_load(const char *path, conf_profile *p, conf_errors *errs);
/* The built-in profile when none is given: everything supported, no deviations. */
void conf_profile_default(conf_profile *p);
void conf_profile_free(conf_profile *p);
/* The deviation covering (id, version), or NULL. */
conf_deviation *conf_profile_deviation(conf_profile *p, const char *id, int vi);
#endif
