/* Broker profiles: address, credentials, capabilities and known deviations. */
#ifndef CONF_PROFILE_H
#define CONF_PROFILE_H

#include "conformance/src/conform.h"
#include "conformance/src/engine.h"

/* `deviation GLOB VERSIONS [rule=ID,ID...] [step=LINE] "reason"`: a known
 * failure of the scenarios matching GLOB in VERSIONS, keyed by what fails:
 * a failing run is expected only when the step that decided it checks one
 * of the rules (or is at that line of the scenario), so a new failure
 * inside a listed scenario is still a regression. Without a key (the old
 * syntax) any failure of the scenario is expected. */
typedef struct {
    char *glob;       /* scenario id pattern (fnmatch) */
    unsigned vmask;
    char *reason;
    int line;
    bool used;
    bool flaky;       /* `flaky`: may fail or pass (timing); failing is expected, passing is fine */
    char **rules;     /* key: statement ids (any of them), NULL: none */
    size_t nrules;
    int step_line;    /* key: the line of the deciding step, 0: none */
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
/* The first deviation covering (id, version), whatever its key, or NULL. */
conf_deviation *conf_profile_deviation(conf_profile *p, const char *id, int vi);

/* After the engine: checks every expected-failure against the keys of the
 * deviations of its scenario and version. One whose deciding step matches no
 * key becomes `fail` again (`error` for a precondition), its message saying
 * which deviation it is not; a matching one gets that deviation's reason.
 * Recomputes each deviation's `used`. */
void conf_profile_apply(conf_profile *p, conf_run *runs, size_t n);

/* Writes a profile to path from a finished run: the name, versions and
 * capabilities of p, and one keyed deviation per failure (fail, error,
 * expected-failure), versions merged, with its level, ids and reason;
 * warns as comments. Returns 0, or -1 with a message on stderr. */
int conf_profile_write(const char *path, const conf_profile *p, const conf_run *runs, size_t n, const char *target);
#endif
