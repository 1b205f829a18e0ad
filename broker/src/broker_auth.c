/*
 * broker_auth: the policy seam for authentication and authorization. Issue 8
 * (configuration, password file, ACLs) plugs in here; handlers only call
 * these two functions and never decide policy themselves.
 *
 * Today: anonymous clients are accepted when allow_anonymous is true (the
 * default, as mosquitto 2 without a configuration); with allow_anonymous
 * false there is no password backend yet, so every client is refused, as
 * mosquitto does without a password_file: 0x86 "Bad User Name or Password"
 * when credentials were given, else 0x87 "Not authorized". Nobody may
 * publish under $SYS.
 */
#include "broker/src/broker_internal.h"

uint8_t broker_auth_connect(broker_core *core, const mqtt_connect *p)
{
    if (core->opt.allow_anonymous) return 0;
    return p->has_username ? 0x86 : 0x87;
}

uint8_t broker_auth_publish(broker_core *core, const broker_conn *c, mqtt_bytes topic)
{
    (void)core;
    (void)c;
    if (topic.len >= 4 && topic.ptr[0] == '$' && topic.ptr[1] == 'S' && topic.ptr[2] == 'Y' && topic.ptr[3] == 'S' &&
        (topic.len == 4 || topic.ptr[4] == '/'))
        return 0x87;
    return 0;
}
