/*
 * broker_driver_new (broker_driver.h): an in-process broker configured from
 * mqtt-broker configuration text, as the program would apply it (options,
 * and listener 0's security settings as its policy). Kept apart from the
 * driver so that users of the bare driver (the fuzzer) need no parser.
 */
#include "broker/src/broker_config.h"
#include "broker/src/broker_driver.h"

#include <stdio.h>
#include <string.h>

/* Files the driver does not load would be silently ignored: refused instead. */
static int check_config(const broker_config *cfg, const broker_security_config *sec, const char *name, char *err,
                        size_t errlen)
{
    const char *what = cfg->persistence ? "persistence" : sec->password_file ? "password_file"
                                                        : sec->acl_file ? "acl_file" : NULL;
    if (!what) return 0;
    snprintf(err, errlen, "%s: %s is not available to an in-process broker (it serves the core only)", name, what);
    return -1;
}

broker_driver *broker_driver_new(const char *config, const char *name, broker_log_fn log, void *log_ctx,
                                 int64_t now, char *err, size_t errlen)
{
    broker_config cfg;
    broker_config_init(&cfg);
    if (broker_config_parse(&cfg, config, strlen(config), name, err, errlen) != 0) {
        broker_config_free(&cfg);
        return NULL;
    }
    broker_listener l[BROKER_MAX_LISTENERS + 1];
    size_t nl = broker_config_listeners(&cfg, l, BROKER_MAX_LISTENERS + 1);
    broker_security_config sec = nl ? broker_config_security(&cfg, &l[0]) : cfg.sec;
    if (check_config(&cfg, &sec, name, err, errlen) != 0) {
        broker_config_free(&cfg);
        return NULL;
    }
    cfg.opts.log = log;
    cfg.opts.log_ctx = log_ctx;
    broker_driver *d = broker_driver_new_core(&cfg.opts, now);
    /* listener 0's policy, as mqtt-broker applies it (main.c apply_policy) */
    broker_policy bp = {.allow_anonymous = sec.allow_anonymous == 1,
                        .use_identity_as_username = nl && l[0].use_identity_as_username};
    broker_core_set_policy(broker_driver_core(d), 0, &bp);
    broker_config_free(&cfg);
    return d;
}
