/*
 * broker_acl: parser and decisions of mosquitto-format ACL files (see
 * broker_acl.h for the format and the decision order).
 *
 * Invariants: rules are stored as parsed, deny rules moved in front of the
 * others of their list (as mosquitto, so a deny always wins over a grant);
 * the parser is strict and never keeps a half-read file; decisions never
 * allocate except to substitute %c/%u into a pattern longer than 512 bytes.
 */
#include "broker/src/broker_where.h"
#include "broker/src/broker_acl.h"

#include "broker/src/broker_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_DENY 0

typedef struct {
    char *filter;
    size_t len;
    int access; /* BROKER_ACL_READ | BROKER_ACL_WRITE, or ACCESS_DENY */
    bool subst; /* contains %c or %u */
    bool has_u; /* contains %u: never applies to anonymous clients */
} rule;

typedef struct {
    rule *rules;
    size_t n, cap;
} rule_list;

typedef struct {
    char *username; /* NULL: the anonymous section */
    rule_list rules;
} user_section;

struct broker_acl {
    user_section *users;
    size_t nusers;
    rule_list patterns;
    size_t nrules;
};

static void list_add(rule_list *l, const rule *r)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->rules = broker_xrealloc(l->rules, l->cap * sizeof *l->rules);
    }
    if (r->access == ACCESS_DENY) {
        memmove(&l->rules[1], &l->rules[0], l->n * sizeof *l->rules);
        l->rules[0] = *r;
    } else {
        l->rules[l->n] = *r;
    }
    l->n++;
}

static void list_free(rule_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->rules[i].filter);
    free(l->rules);
}

void broker_acl_free(broker_acl *acl)
{
    if (!acl) return;
    for (size_t i = 0; i < acl->nusers; i++) {
        free(acl->users[i].username);
        list_free(&acl->users[i].rules);
    }
    free(acl->users);
    list_free(&acl->patterns);
    free(acl);
}

size_t broker_acl_rule_count(const broker_acl *acl)
{
    return acl ? acl->nrules : 0;
}

static user_section *section(broker_acl *acl, const char *username)
{
    for (size_t i = 0; i < acl->nusers; i++) {
        user_section *u = &acl->users[i];
        if ((!u->username && !username) || (u->username && username && strcmp(u->username, username) == 0)) return u;
    }
    acl->users = broker_xrealloc(acl->users, (acl->nusers + 1) * sizeof *acl->users);
    user_section *u = &acl->users[acl->nusers++];
    memset(u, 0, sizeof *u);
    if (username) {
        u->username = broker_xmalloc(strlen(username) + 1);
        strcpy(u->username, username);
    }
    return u;
}

static const user_section *find_section(const broker_acl *acl, const char *username)
{
    for (size_t i = 0; i < acl->nusers; i++) {
        const user_section *u = &acl->users[i];
        if ((!u->username && !username) || (u->username && username && strcmp(u->username, username) == 0)) return u;
    }
    return NULL;
}


static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next space-separated word of *p (mosquitto splits on spaces only). */
static char *word(char **p)
{
    char *s = *p;
    while (*s == ' ') s++;
    if (!*s) {
        *p = s;
        return NULL;
    }
    char *w = s;
    while (*s && *s != ' ') s++;
    if (*s) *s++ = '\0';
    *p = s;
    return w;
}

static int parse_line(broker_acl *acl, broker_where *x, char *line, char **user)
{
    char *p = line;
    char *kw = word(&p);
    if (!kw) return 0;
    if (strcmp(kw, "user") == 0) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) {
            broker_where_fail(x, "user: missing user name");
            return -1;
        }
        free(*user);
        *user = broker_xmalloc(strlen(p) + 1);
        strcpy(*user, p);
        return 0;
    }
    bool pattern = strcmp(kw, "pattern") == 0;
    if (!pattern && strcmp(kw, "topic") != 0) {
        broker_where_fail(x, "unknown keyword '%s' (expected topic, pattern or user)", kw);
        return -1;
    }
    char *access_s = word(&p);
    if (!access_s) {
        broker_where_fail(x, "%s: missing topic filter", kw);
        return -1;
    }
    while (*p == ' ') p++;
    char *filter = p;
    int access;
    if (!*filter) { /* "topic FILTER": readwrite */
        filter = access_s;
        access = BROKER_ACL_READ | BROKER_ACL_WRITE;
    } else if (strcmp(access_s, "read") == 0) {
        access = BROKER_ACL_READ;
    } else if (strcmp(access_s, "write") == 0) {
        access = BROKER_ACL_WRITE;
    } else if (strcmp(access_s, "readwrite") == 0) {
        access = BROKER_ACL_READ | BROKER_ACL_WRITE;
    } else if (strcmp(access_s, "deny") == 0) {
        access = ACCESS_DENY;
    } else {
        broker_where_fail(x, "%s: access '%s' is not read, write, readwrite or deny", kw, access_s);
        return -1;
    }
    size_t flen = strlen(filter);
    mqtt_bytes fb = {(const uint8_t *)filter, flen};
    const char *bad = mqtt_topic_filter_check(MQTT_V311, fb);
    if (bad) {
        broker_where_fail(x, "%s: \"%s\" is not a valid topic filter (%s)", kw, filter, bad);
        return -1;
    }
    rule r = {0};
    r.filter = broker_xmalloc(flen + 1);
    memcpy(r.filter, filter, flen + 1);
    r.len = flen;
    r.access = access;
    r.has_u = strstr(filter, "%u") != NULL;
    r.subst = r.has_u || strstr(filter, "%c") != NULL;
    list_add(pattern ? &acl->patterns : &section(acl, *user)->rules, &r);
    acl->nrules++;
    return 0;
}

broker_acl *broker_acl_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    broker_where x = {name, 0, err, errlen};
    broker_acl *acl = broker_xcalloc(1, sizeof *acl);
    char *user = NULL;
    size_t pos = 0;
    while (pos < len) {
        x.line++;
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t n = end - pos;
        char *line = broker_xmalloc(n + 1);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        int rc = 0;
        if (memchr(line, '\0', n)) {
            broker_where_fail(&x, "NUL byte in line");
            rc = -1;
        } else {
            while (n && is_blank(line[n - 1])) line[--n] = '\0';
            if (line[0] != '#') rc = parse_line(acl, &x, line, &user);
        }
        free(line);
        if (rc) {
            free(user);
            broker_acl_free(acl);
            return NULL;
        }
    }
    free(user);
    return acl;
}

/* -------------------------------------------------------------- filters */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    bool done;
} levels;

static levels levels_of(mqtt_bytes f)
{
    return (levels){f.ptr, f.len, 0, false};
}

/* Next level of the filter, false once every level was returned. */
static bool next_level(levels *l, mqtt_bytes *out)
{
    if (l->done) return false;
    size_t s = l->off;
    size_t e = s;
    while (e < l->len && l->p[e] != '/') e++;
    *out = (mqtt_bytes){l->p + s, e - s};
    if (e >= l->len) l->done = true;
    else l->off = e + 1;
    return true;
}

static bool is_wild(mqtt_bytes s, char w)
{
    return s.len == 1 && s.ptr[0] == (uint8_t)w;
}

static bool seg_eq(mqtt_bytes a, mqtt_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Whether the filter can match a topic starting with '$' / only such topics. */
static bool starts_dollar(mqtt_bytes f)
{
    return f.len > 0 && f.ptr[0] == '$';
}

static bool starts_wild(mqtt_bytes f)
{
    return f.len > 0 && (f.ptr[0] == '+' || f.ptr[0] == '#');
}

bool broker_filters_overlap(mqtt_bytes a, mqtt_bytes b)
{
    /* '$' topics: only matched by filters whose first level is literal. */
    if ((starts_dollar(a) && starts_wild(b)) || (starts_dollar(b) && starts_wild(a))) return false;
    levels la = levels_of(a), lb = levels_of(b);
    for (;;) {
        mqtt_bytes x = {NULL, 0}, y = {NULL, 0};
        bool hx = next_level(&la, &x), hy = next_level(&lb, &y);
        if (!hx && !hy) return true;
        if (hx && is_wild(x, '#')) return true;
        if (hy && is_wild(y, '#')) return true;
        if (!hx) return false; /* a ended, b goes on without "#" */
        if (!hy) return false;
        if (is_wild(x, '+') || is_wild(y, '+')) continue;
        if (!seg_eq(x, y)) return false;
    }
}

bool broker_filter_within(mqtt_bytes inner, mqtt_bytes outer)
{
    if (starts_wild(inner) && !starts_wild(outer)) return false;
    if (starts_dollar(inner) && starts_wild(outer)) return false; /* wildcards never match '$' topics first */
    levels li = levels_of(inner), lo = levels_of(outer);
    for (;;) {
        mqtt_bytes x = {NULL, 0}, y = {NULL, 0};
        bool hx = next_level(&li, &x), hy = next_level(&lo, &y);
        if (hy && is_wild(y, '#')) return true;
        if (!hx && !hy) return true;
        if (!hx || !hy) return false;
        if (is_wild(x, '#')) return false;
        if (is_wild(y, '+')) continue;
        if (is_wild(x, '+') || !seg_eq(x, y)) return false;
    }
}

/* ------------------------------------------------------------ decisions */

/* A rule's filter with %c and %u replaced, in buf (or a new allocation,
 * returned in *heap, when it does not fit). */
static mqtt_bytes substitute(const rule *r, const char *username, const char *client_id, char *buf, size_t cap,
                             char **heap)
{
    *heap = NULL;
    if (!r->subst) return (mqtt_bytes){(const uint8_t *)r->filter, r->len};
    size_t clen = strlen(client_id), ulen = username ? strlen(username) : 0;
    size_t need = r->len + 1;
    for (size_t i = 0; i + 1 < r->len; i++)
        if (r->filter[i] == '%' && (r->filter[i + 1] == 'c' || r->filter[i + 1] == 'u')) need += clen + ulen;
    char *out = buf;
    if (need > cap) out = *heap = broker_xmalloc(need);
    size_t o = 0;
    for (size_t i = 0; i < r->len; i++) {
        if (i + 1 < r->len && r->filter[i] == '%') {
            if (r->filter[i + 1] == 'c') {
                memcpy(out + o, client_id, clen);
                o += clen;
                i++;
                continue;
            }
            if (r->filter[i + 1] == 'u' && username) {
                memcpy(out + o, username, ulen);
                o += ulen;
                i++;
                continue;
            }
        }
        out[o++] = r->filter[i];
    }
    return (mqtt_bytes){(const uint8_t *)out, o};
}

/* 1 allowed, 0 refused, -1 no rule decided. */
typedef int (*rule_test)(mqtt_bytes filter, int rule_access, const void *arg);

static int run_list(const rule_list *l, bool patterns, const char *username, const char *client_id, rule_test test,
                    const void *arg)
{
    char buf[512];
    for (size_t i = 0; i < l->n; i++) {
        const rule *r = &l->rules[i];
        if (patterns && r->has_u && !username) continue;
        char *heap;
        mqtt_bytes f = patterns ? substitute(r, username, client_id, buf, sizeof buf, &heap)
                                : (mqtt_bytes){(const uint8_t *)r->filter, r->len};
        int d = test(f, r->access, arg);
        if (patterns) free(heap);
        if (d >= 0) return d;
    }
    return -1;
}

static int decide(const broker_acl *acl, const char *username, const char *client_id, rule_test test,
                  const void *arg)
{
    const user_section *u = find_section(acl, username);
    if (u) {
        int d = run_list(&u->rules, false, username, client_id, test, arg);
        if (d >= 0) return d;
    }
    if (acl->patterns.n) {
        /* An id or a username with a wildcard would widen the patterns. */
        if ((username && strpbrk(username, "+#")) || strpbrk(client_id, "+#")) return 0;
        int d = run_list(&acl->patterns, true, username, client_id, test, arg);
        if (d >= 0) return d;
    }
    return 0;
}

typedef struct {
    mqtt_bytes topic;
    int access;
} topic_arg;

static int test_topic(mqtt_bytes filter, int rule_access, const void *arg)
{
    const topic_arg *a = arg;
    /* A '$' topic is only matched by rules starting with '$'. */
    if (starts_dollar(a->topic) && !starts_dollar(filter)) return -1;
    if (!mqtt_topic_matches(filter, a->topic)) return -1;
    if (rule_access == ACCESS_DENY) return 0;
    return (rule_access & a->access) ? 1 : -1;
}

bool broker_acl_allows(const broker_acl *acl, const char *username, const char *client_id, mqtt_bytes topic,
                       int access)
{
    if (!acl) return true;
    topic_arg a = {topic, access};
    return decide(acl, username, client_id, test_topic, &a) == 1;
}

static int test_filter(mqtt_bytes filter, int rule_access, const void *arg)
{
    mqtt_bytes sub = *(const mqtt_bytes *)arg;
    if (starts_dollar(sub) && !starts_dollar(filter)) return -1;
    if (rule_access == ACCESS_DENY) return broker_filter_within(sub, filter) ? 0 : -1;
    if ((rule_access & BROKER_ACL_READ) && broker_filters_overlap(sub, filter)) return 1;
    return -1;
}

bool broker_acl_filter_readable(const broker_acl *acl, const char *username, const char *client_id,
                                mqtt_bytes filter)
{
    if (!acl) return true;
    return decide(acl, username, client_id, test_filter, &filter) == 1;
}
