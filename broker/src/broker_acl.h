/*
 * broker_acl: access control lists in mosquitto's acl_file format, with
 * mosquitto 2.0's decisions.
 *
 *   # comment                          (only at the start of a line)
 *   topic [read|write|readwrite|deny] FILTER     before any `user` line:
 *                                      rules of anonymous clients
 *   user NAME                          the following `topic` lines are NAME's
 *   pattern [read|write|readwrite|deny] FILTER   every client; %c = client
 *                                      id, %u = username (a rule with %u
 *                                      never applies to anonymous clients)
 *
 * No access word means readwrite. Words are separated by spaces; the
 * filter is the rest of the line (trailing blanks removed) and must be a
 * valid topic filter. Anything else (an unknown keyword, a missing filter,
 * a bad access word, a NUL byte) is an error naming FILE:LINE.
 *
 * Decision for (client, topic, access), as mosquitto 2.0: the client's own
 * rules (its user's, or the anonymous ones), deny rules first, in order:
 * the first rule whose filter matches decides (deny: refused; otherwise
 * allowed if it grants the access, else the next rule). A topic starting
 * with '$' is only matched by rules starting with '$'. Then the patterns,
 * the same way, after %c/%u substitution; but when there are patterns, a
 * client whose id or username contains '+' or '#' is refused outright, so
 * it cannot widen a pattern (mosquitto's "dangerous client id" rule).
 * Nothing matched: refused. A username that has no `user` section gets
 * only the patterns.
 *
 * Subscriptions (mosquitto 2.0 grants them all and filters each message at
 * delivery): a subscription is refused when no topic it can match is
 * readable: it lies wholly inside a deny rule, or no rule granting read
 * overlaps it. Otherwise it is granted and every message is still checked
 * for read before it is delivered, so what a client receives is exactly
 * what mosquitto would deliver.
 */
#ifndef BROKER_ACL_H
#define BROKER_ACL_H

#include <mqtt/mqtt.h>
#include <stdbool.h>
#include <stddef.h>

#define BROKER_ACL_READ 1
#define BROKER_ACL_WRITE 2

typedef struct broker_acl broker_acl;

/*
 * Parses an ACL file's text (len bytes, need not be NUL-terminated); `name`
 * names it in errors. Returns a new ACL (free with broker_acl_free), or
 * NULL with "NAME:LINE: message" in err.
 */
broker_acl *broker_acl_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);

void broker_acl_free(broker_acl *acl);

/* Number of rules (topic and pattern lines), for log lines. */
size_t broker_acl_rule_count(const broker_acl *acl);

/*
 * Whether a client may read (receive) or write (publish) topic: access is
 * BROKER_ACL_READ or BROKER_ACL_WRITE. username NULL = anonymous;
 * client_id is NUL-terminated.
 */
bool broker_acl_allows(const broker_acl *acl, const char *username, const char *client_id, mqtt_bytes topic,
                       int access);

/* Whether a subscription to filter may deliver anything to this client
 * (see above): false = refuse it (SUBACK 0x80 / 5.0 0x87). */
bool broker_acl_filter_readable(const broker_acl *acl, const char *username, const char *client_id,
                                mqtt_bytes filter);

/* Filter relations used above, exported for tests: whether some topic
 * matches both filters, and whether every topic matching `inner` matches
 * `outer`. */
bool broker_filters_overlap(mqtt_bytes a, mqtt_bytes b);
bool broker_filter_within(mqtt_bytes inner, mqtt_bytes outer);

#endif
