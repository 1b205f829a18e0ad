/*
 * broker_auth: the policy seam for authentication and authorization.
 * Handlers only call these functions and never decide policy themselves.
 *
 * Each connection belongs to one policy (its listener's, or policy 0 for
 * all without per_listener_settings), set by the driver; a session keeps
 * the policy and user name of its last connection, so the ACL still
 * applies to messages queued for it while it is offline. Decisions follow
 * mosquitto 2.0 (see broker_core.h, broker_acl.h): refusals of a CONNECT
 * are CONNACK 0x05 / 5.0 0x87 "Not authorized", a failed password is
 * logged with the user name but never the password, nobody may publish
 * under $SYS.
 */
#include "broker/src/broker_acl.h"
#include "broker/src/broker_internal.h"

#include <stdlib.h>

static char *dup_bytes(mqtt_bytes b)
{
    char *s = broker_xmalloc(b.len + 1);
    if (b.len) memcpy(s, b.ptr, b.len);
    s[b.len] = '\0';
    return s;
}

static const broker_policy *policy_of(const broker_core *core, unsigned index)
{
    return &core->policies[index < BROKER_MAX_POLICIES ? index : 0];
}

uint8_t broker_auth_connect(broker_core *core, broker_conn *c, const mqtt_connect *p, char **username)
{
    const broker_policy *pol = policy_of(core, c->policy);
    *username = NULL;
    if (pol->use_identity_as_username) {
        /* The certificate is the credential; CONNECT's user name and password
         * are ignored (mosquitto use_identity_as_username). */
        if (!c->identity) {
            broker_log_conn(c, BROKER_LOG_NOTICE, "refused: no verified client certificate (use_identity_as_username)");
            return 0x87;
        }
        *username = dup_bytes((mqtt_bytes){(const uint8_t *)c->identity, strlen(c->identity)});
        return 0;
    }
    if (!p->has_username) {
        if (pol->allow_anonymous) return 0;
        broker_log_conn(c, BROKER_LOG_NOTICE, "refused: anonymous clients are not allowed on this listener");
        return 0x87;
    }
    char *user = dup_bytes(p->username);
    if (strlen(user) != p->username.len) { /* cannot happen: the codec refuses U+0000 */
        free(user);
        return 0x87;
    }
    if (pol->check_password) {
        if (!p->has_password ||
            !pol->check_password(pol->password_ctx, user, p->password.ptr, p->password.len)) {
            broker_log_conn(c, BROKER_LOG_NOTICE, "login failed for user \"%.*s\": %s", (int)(p->username.len > 64 ? 64 : p->username.len),
                            user, p->has_password ? "wrong password or unknown user" : "no password given");
            free(user);
            return 0x87;
        }
    } else if (!pol->allow_anonymous) {
        /* No password file: a user name proves nothing (mosquitto refuses too). */
        broker_log_conn(c, BROKER_LOG_NOTICE, "refused user \"%.*s\": no password file and anonymous access is off",
                        (int)(p->username.len > 64 ? 64 : p->username.len), user);
        free(user);
        return 0x87;
    }
    *username = user;
    return 0;
}

static bool is_sys(mqtt_bytes topic)
{
    return topic.len >= 4 && memcmp(topic.ptr, "$SYS", 4) == 0 && (topic.len == 4 || topic.ptr[4] == '/');
}

uint8_t broker_auth_publish(broker_core *core, const broker_conn *c, mqtt_bytes topic)
{
    if (is_sys(topic)) return 0x87;
    const broker_session *s = c->session;
    const broker_acl *acl = policy_of(core, c->policy)->acl;
    if (acl && s && !broker_acl_allows(acl, s->username, s->client_id, topic, BROKER_ACL_WRITE)) return 0x87;
    return 0;
}

bool broker_auth_read(broker_core *core, const broker_session *s, mqtt_bytes topic)
{
    const broker_acl *acl = policy_of(core, s->policy)->acl;
    return !acl || broker_acl_allows(acl, s->username, s->client_id, topic, BROKER_ACL_READ);
}

uint8_t broker_auth_subscribe(broker_core *core, const broker_session *s, mqtt_bytes filter)
{
    const broker_acl *acl = policy_of(core, s->policy)->acl;
    if (!acl) return 0;
    return broker_acl_filter_readable(acl, s->username, s->client_id, filter) ? 0 : 0x87;
}

bool broker_auth_will(broker_core *core, const broker_session *s, mqtt_bytes topic)
{
    if (is_sys(topic)) return false;
    const broker_acl *acl = policy_of(core, s->policy)->acl;
    return !acl || broker_acl_allows(acl, s->username, s->client_id, topic, BROKER_ACL_WRITE);
}

void broker_core_set_policy(broker_core *core, unsigned index, const broker_policy *p)
{
    if (index < BROKER_MAX_POLICIES) core->policies[index] = *p;
}

void broker_conn_set_policy(broker_conn *c, unsigned index)
{
    c->policy = (uint8_t)(index < BROKER_MAX_POLICIES ? index : 0);
}

void broker_conn_set_identity(broker_conn *c, const char *cn)
{
    free(c->identity);
    c->identity = NULL;
    if (cn) c->identity = dup_bytes((mqtt_bytes){(const uint8_t *)cn, strlen(cn)});
}
