/*
 * The scenario parser: .mqs text -> conf_scenario (SCENARIOS.md is the
 * grammar). Line-oriented: each line is split into words (quotes keep
 * spaces, `#` at a word start begins a comment, a final `\` joins the next
 * line), then the first word says what the line is. Every error names
 * file:line:col and what was expected; parsing goes on after an error so that
 * all errors of all files are reported before anything runs.
 */
#include "conformance/src/conform.h"
#include "conformance/src/spec_ids.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors and small helpers ---- */

void conf_error_add(conf_errors *e, const char *file, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *full = malloc(strlen(file) + strlen(msg) + 32);
    if (!full) return;
    sprintf(full, "%s:%d:%d: %s", file, line, col, msg);
    char **m = realloc(e->msgs, (e->count + 1) * sizeof *m);
    if (!m) { free(full); return; }
    e->msgs = m;
    e->msgs[e->count++] = full;
}

void conf_errors_free(conf_errors *e)
{
    for (size_t i = 0; i < e->count; i++) free(e->msgs[i]);
    free(e->msgs);
    e->msgs = NULL;
    e->count = 0;
}

static const char *const vnames[CONF_NVERSIONS] = {"3.1", "3.1.1", "5.0"};

mqtt_version conf_vi_version(int vi)
{
    return vi == CONF_VI_31 ? MQTT_V31 : vi == CONF_VI_311 ? MQTT_V311 : MQTT_V5;
}

const char *conf_vi_name(int vi)
{
    return vi >= 0 && vi < CONF_NVERSIONS ? vnames[vi] : "?";
}

int conf_vi_parse(const char *s, size_t n)
{
    for (int i = 0; i < CONF_NVERSIONS; i++)
        if (strlen(vnames[i]) == n && memcmp(vnames[i], s, n) == 0) return i;
    if (n == 1 && s[0] == '5') return CONF_VI_5;
    return -1;
}

const char *const conf_cap_names[CAP_COUNT] = {
    "qos1", "qos2", "retain", "wildcards", "will", "session", "shared_subscriptions",
    "subscription_identifiers", "topic_alias", "dollar_topics", "assigned_client_id", "auth",
    "request_response", "max_packet_size", "client_keep_alive", "grants_qos2"};

int conf_cap_parse(const char *s, size_t n)
{
    for (int i = 0; i < CAP_COUNT; i++)
        if (strlen(conf_cap_names[i]) == n && memcmp(conf_cap_names[i], s, n) == 0) return i;
    return -1;
}

const char *const *conf_id_list(int vi, size_t *count)
{
    if (vi == CONF_VI_5) { *count = conf_ids_5_count; return conf_ids_5; }
    *count = conf_ids_311_count;
    return conf_ids_311;
}

int conf_id_index(int vi, const char *id)
{
    size_t n;
    const char *const *l = conf_id_list(vi, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i], id) == 0) return (int)i;
    return -1;
}

/* ---- words ---- */

typedef struct {
    const char *s;  /* points into the line copy */
    size_t n;
    int line, col;
} word;

typedef struct {
    const char *file;
    conf_errors *errs;
    int nerr_at_start;
    conf_scenario *sc;
    bool in_steps;
} pctx;

#define ERR(c, w, ...) conf_error_add((c)->errs, (c)->file, (w)->line, (w)->col, __VA_ARGS__)

static bool weq(const word *w, const char *lit)
{
    return strlen(lit) == w->n && memcmp(w->s, lit, w->n) == 0;
}

/* Splits one physical line into words. Returns count, -1 on an unterminated quote
 * (error reported). *cont is set when the line ends with a lone `\`. */
static int split(pctx *c, const char *line, size_t len, int lineno, word *out, int cap, bool *cont)
{
    int n = 0;
    size_t i = 0;
    *cont = false;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
        if (i >= len || line[i] == '#') break;
        size_t start = i;
        bool inq = false;
        while (i < len) {
            char ch = line[i];
            if (inq) {
                if (ch == '\\' && i + 1 < len) { i += 2; continue; }
                if (ch == '"') inq = false;
                i++;
                continue;
            }
            if (ch == ' ' || ch == '\t' || ch == '\r') break;
            if (ch == '"') inq = true;
            i++;
        }
        if (inq) {
            conf_error_add(c->errs, c->file, lineno, (int)start + 1,
                           "expected a closing '\"' before the end of the line");
            return -1;
        }
        if (n >= cap) {
            conf_error_add(c->errs, c->file, lineno, (int)start + 1, "too many words on one line (at most %d)", cap);
            return -1;
        }
        out[n++] = (word){line + start, i - start, lineno, (int)start + 1};
    }
    if (n > 0 && out[n - 1].n == 1 && out[n - 1].s[0] == '\\') {
        *cont = true;
        n--;
    }
    return n;
}

/* Resolves the escapes of a quoted string ("..." including quotes) into a
 * malloc'd buffer. Returns NULL on a bad escape (error reported). */
static char *unquote(pctx *c, const word *w, const char *s, size_t n, size_t *outlen)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
        ERR(c, w, "expected a quoted string ending with '\"'");
        return NULL;
    }
    char *out = malloc(n);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] != '\\') { out[o++] = s[i]; continue; }
        i++;
        switch (s[i]) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case '0': out[o++] = '\0'; break;
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case 'x':
            if (i + 2 < n - 1 && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
                char h[3] = {s[i + 1], s[i + 2], 0};
                out[o++] = (char)strtol(h, NULL, 16);
                i += 2;
                break;
            }
            /* fall through */
        default:
            conf_error_add(c->errs, c->file, w->line, w->col + (int)(s - w->s) + (int)i,
                           "expected an escape \\n \\t \\r \\0 \\\" \\\\ or \\xHH");
            free(out);
            return NULL;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Hex digits (even count) to bytes. Returns NULL if not hex. */
static char *hexbytes(const char *s, size_t n, size_t *outlen)
{
    if (n % 2) return NULL;
    char *out = malloc(n / 2 + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval(s[i]), b = hexval(s[i + 1]);
        if (a < 0 || b < 0) { free(out); return NULL; }
        out[i / 2] = (char)(a * 16 + b);
    }
    out[n / 2] = '\0';
    *outlen = n / 2;
    return out;
}

/* Parses a duration word: 250ms, 2s, 1.5s. Returns ms or -1. */
static int64_t parse_duration(const word *w)
{
    size_t n = w->n;
    int64_t mult;
    if (n > 2 && w->s[n - 2] == 'm' && w->s[n - 1] == 's') { mult = 1; n -= 2; }
    else if (n > 1 && w->s[n - 1] == 's') { mult = 1000; n -= 1; }
    else return -1;
    char tmp[32];
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, w->s, n);
    tmp[n] = '\0';
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (tmp[i] == '.') dots++;
        else if (!isdigit((unsigned char)tmp[i])) return -1;
    }
    if (dots > 1 || tmp[0] == '.' || tmp[n - 1] == '.') return -1;
    double v = strtod(tmp, NULL);
    if (v * (double)mult > 3600.0 * 1000) return -1;
    return (int64_t)(v * (double)mult + 0.5);
}

static char *wdup(const word *w)
{
    return strndup(w->s, w->n);
}

static void push_str(char ***arr, size_t *n, char *s)
{
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) { free(s); return; }
    a[*n] = s;
    *arr = a;
    (*n)++;
}

/* ---- header statements ---- */

static unsigned parse_versions(pctx *c, const word *w, int n, bool allow_all)
{
    unsigned mask = 0;
    for (int i = 0; i < n; i++) {
        if (allow_all && weq(&w[i], "all")) { mask |= CONF_VALL; continue; }
        /* also accept comma lists: 3.1.1,5.0 */
        const char *s = w[i].s;
        size_t left = w[i].n;
        while (left > 0) {
            const char *comma = memchr(s, ',', left);
            size_t part = comma ? (size_t)(comma - s) : left;
            int vi = conf_vi_parse(s, part);
            if (vi < 0) {
                word at = w[i];
                at.col += (int)(s - w[i].s);
                ERR(c, &at, "expected a protocol version (3.1, 3.1.1, 5.0%s), found '%.*s'",
                    allow_all ? " or all" : "", (int)part, s);
                return 0;
            }
            mask |= CONF_VBIT(vi);
            s += part + (comma ? 1 : 0);
            left -= part + (comma ? 1 : 0);
        }
    }
    return mask;
}

static void header_rules(pctx *c, const word *w, int n)
{
    conf_scenario *sc = c->sc;
    int first = 1;
    unsigned mask = 0;
    if (n > 1 && (isdigit((unsigned char)w[1].s[0]) || weq(&w[1], "all"))) {
        mask = parse_versions(c, &w[1], 1, true);
        if (!mask) return;
        first = 2;
        if (sc->vmask && (mask & ~sc->vmask)) {
            ERR(c, &w[1], "this version is not in the scenario's `versions` line");
            return;
        }
    }
    if (first >= n) {
        ERR(c, &w[0], "expected one or more normative ids like MQTT-3.1.0-1 after `rules`");
        return;
    }
    if (!mask) {
        if (!sc->vmask) {
            ERR(c, &w[0], "expected `versions` before a `rules` line without a version");
            return;
        }
        mask = sc->vmask;
    }
    for (int i = first; i < n; i++) {
        char *id = wdup(&w[i]);
        if (!id) return;
        if (strncmp(id, "MQTT-", 5) != 0) {
            ERR(c, &w[i], "expected a normative id like MQTT-3.1.0-1, found '%s'", id);
            free(id);
            continue;
        }
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!(mask & CONF_VBIT(vi))) continue;
            if (conf_id_index(vi, id) < 0) {
                ERR(c, &w[i], "%s is not a normative statement of MQTT %s", id,
                    vi == CONF_VI_5 ? "5.0" : "3.1.1");
                continue;
            }
            bool dup = false;
            for (size_t k = 0; k < sc->nrules[vi]; k++)
                if (strcmp(sc->rules[vi][k], id) == 0) dup = true;
            if (!dup) push_str(&sc->rules[vi], &sc->nrules[vi], strdup(id));
        }
        free(id);
    }
}

/* `seat broker` and `action pub|sub KEY=VALUE...`: a scenario played from
 * the broker's seat against a client the runner starts (seat_*.c). */
static void header_seat(pctx *c, const word *w, int n)
{
    conf_scenario *sc = c->sc;
    if (weq(&w[0], "seat")) {
        if (n != 2 || (!weq(&w[1], "broker") && !weq(&w[1], "client")))
            ERR(c, &w[0], "expected `seat broker` (the runner plays the server) or `seat client`");
        else sc->broker_seat = weq(&w[1], "broker");
        return;
    }
    if (n < 2 || (!weq(&w[1], "pub") && !weq(&w[1], "sub"))) {
        ERR(c, n > 1 ? &w[1] : &w[0], "expected `action pub` or `action sub` (what the client under test is asked to do)");
        return;
    }
    free(sc->action);
    sc->action = wdup(&w[1]);
    for (int i = 2; i < n; i++) {
        const char *eq = memchr(w[i].s, '=', w[i].n);
        size_t kl = eq ? (size_t)(eq - w[i].s) : 0;
        if (!eq || !kl) { ERR(c, &w[i], "expected KEY=VALUE after `action %s`", sc->action); continue; }
        word v = {eq + 1, w[i].n - kl - 1, w[i].line, w[i].col + (int)kl + 1};
        size_t vl = v.n;
        char *val = v.n && v.s[0] == '"' ? unquote(c, &v, v.s, v.n, &vl) : wdup(&v);
        if (!val) continue;
        char **nk = realloc(sc->opt_keys, (sc->nopts + 1) * sizeof *nk);
        if (nk) sc->opt_keys = nk;
        char **nv = realloc(sc->opt_vals, (sc->nopts + 1) * sizeof *nv);
        if (nv) sc->opt_vals = nv;
        if (!nk || !nv) { free(val); return; }
        sc->opt_keys[sc->nopts] = strndup(w[i].s, kl);
        sc->opt_vals[sc->nopts++] = val;
    }
}

static bool header(pctx *c, const word *w, int n)
{
    conf_scenario *sc = c->sc;
    if (weq(&w[0], "title")) {
        if (n < 2) { ERR(c, &w[0], "expected a title after `title`"); return true; }
        const char *start = w[1].s;
        const char *end = w[n - 1].s + w[n - 1].n;
        free(sc->title);
        sc->title = strndup(start, (size_t)(end - start));
    } else if (weq(&w[0], "versions")) {
        if (n < 2) { ERR(c, &w[0], "expected versions (3.1 3.1.1 5.0 or all) after `versions`"); return true; }
        sc->vmask = parse_versions(c, &w[1], n - 1, true);
    } else if (weq(&w[0], "rules")) {
        header_rules(c, w, n);
    } else if (weq(&w[0], "needs")) {
        for (int i = 1; i < n; i++) {
            int cap = conf_cap_parse(w[i].s, w[i].n);
            if (weq(&w[i], "websocket")) { /* a transport, not a broker capability */
                sc->websocket = true;
                continue;
            }
            if (cap < 0) {
                char list[512] = "";
                for (int k = 0; k < CAP_COUNT; k++) {
                    strcat(list, k ? ", " : "");
                    strcat(list, conf_cap_names[k]);
                }
                ERR(c, &w[i], "expected a capability (%s) or websocket, found '%.*s'", list, (int)w[i].n, w[i].s);
            } else {
                sc->needs |= 1u << cap;
            }
        }
    } else if (weq(&w[0], "tags")) {
        for (int i = 1; i < n; i++) push_str(&sc->tags, &sc->ntags, wdup(&w[i]));
    } else if (weq(&w[0], "clients")) {
        if (n < 2) { ERR(c, &w[0], "expected client names after `clients`"); return true; }
        for (int i = 1; i < n; i++) {
            bool ok = w[i].n <= 8 && w[i].n > 0;
            for (size_t k = 0; k < w[i].n; k++)
                if (!isalnum((unsigned char)w[i].s[k]) && w[i].s[k] != '_') ok = false;
            if (!ok || weq(&w[i], "wait")) {
                ERR(c, &w[i], "expected a client name (letters, digits, _; at most 8), found '%.*s'",
                    (int)w[i].n, w[i].s);
                continue;
            }
            for (size_t k = 0; k < sc->nclients; k++)
                if (weq(&w[i], sc->clients[k])) ERR(c, &w[i], "client '%s' is declared twice", sc->clients[k]);
            push_str(&sc->clients, &sc->nclients, wdup(&w[i]));
        }
    } else if (weq(&w[0], "deadline")) {
        int64_t ms = n == 2 ? parse_duration(&w[1]) : -1;
        if (ms <= 0) ERR(c, n == 2 ? &w[1] : &w[0], "expected one duration like 10s after `deadline`");
        else sc->deadline_ms = ms;
    } else if (weq(&w[0], "serial")) {
        sc->serial = true;
    } else if (weq(&w[0], "seat") || weq(&w[0], "action")) {
        header_seat(c, w, n);
    } else {
        return false;
    }
    return true;
}

/* ---- steps ---- */

static const struct { const char *name; mqtt_packet_type t; } ptypes[] = {
    {"CONNECT", MQTT_CONNECT}, {"CONNACK", MQTT_CONNACK}, {"PUBLISH", MQTT_PUBLISH},
    {"PUBACK", MQTT_PUBACK}, {"PUBREC", MQTT_PUBREC}, {"PUBREL", MQTT_PUBREL},
    {"PUBCOMP", MQTT_PUBCOMP}, {"SUBSCRIBE", MQTT_SUBSCRIBE}, {"SUBACK", MQTT_SUBACK},
    {"UNSUBSCRIBE", MQTT_UNSUBSCRIBE}, {"UNSUBACK", MQTT_UNSUBACK}, {"PINGREQ", MQTT_PINGREQ},
    {"PINGRESP", MQTT_PINGRESP}, {"DISCONNECT", MQTT_DISCONNECT}, {"AUTH", MQTT_AUTH}};

static int ptype_of(const word *w)
{
    for (size_t i = 0; i < sizeof ptypes / sizeof ptypes[0]; i++)
        if (weq(w, ptypes[i].name)) return (int)ptypes[i].t;
    return -1;
}

static bool is_client_sent(int t)
{
    return t == MQTT_CONNECT || t == MQTT_PUBLISH || (t >= MQTT_PUBACK && t <= MQTT_PUBCOMP) ||
           t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE || t == MQTT_PINGREQ ||
           t == MQTT_DISCONNECT || t == MQTT_AUTH;
}

static bool is_server_sent(int t)
{
    return t == MQTT_CONNACK || t == MQTT_PUBLISH || (t >= MQTT_PUBACK && t <= MQTT_PUBCOMP) ||
           t == MQTT_SUBACK || t == MQTT_UNSUBACK || t == MQTT_PINGRESP ||
           t == MQTT_DISCONNECT || t == MQTT_AUTH;
}

/* Parses `name=value` (or another operator) into *f. */
static bool parse_field(pctx *c, const word *w, mqtt_packet_type pt, bool expect, conf_field *f)
{
    size_t k = 0;
    while (k < w->n && (isalnum((unsigned char)w->s[k]) || w->s[k] == '_')) k++;
    size_t namelen = k;
    conf_op op = OP_EQ;
    if (k < w->n && w->s[k] == '=') { k += 1; }
    else if (k + 1 < w->n && w->s[k] == '!' && w->s[k + 1] == '=') { op = OP_NE; k += 2; }
    else if (k + 1 < w->n && w->s[k] == '<' && w->s[k + 1] == '=') { op = OP_LE; k += 2; }
    else if (k + 1 < w->n && w->s[k] == '>' && w->s[k + 1] == '=') { op = OP_GE; k += 2; }
    else if (k < w->n && w->s[k] == '<') { op = OP_LT; k += 1; }
    else if (k < w->n && w->s[k] == '>') { op = OP_GT; k += 1; }
    else {
        ERR(c, w, "expected a field name=value, found '%.*s'", (int)w->n, w->s);
        return false;
    }
    if (namelen == 0) {
        ERR(c, w, "expected a field name before '='");
        return false;
    }
    if (op != OP_EQ && !expect) {
        ERR(c, w, "expected '=' (comparisons are for expect steps)");
        return false;
    }
    *f = (conf_field){.op = op, .line = w->line, .col = w->col};
    if (conf_field_lookup(w->s, namelen, pt, expect, &f->id, &f->prop) < 0) {
        ERR(c, w, "'%.*s' is not a field of %s %s (see SCENARIOS.md)", (int)namelen, w->s,
            expect ? "an expected" : "a sent", mqtt_packet_type_name(pt));
        return false;
    }
    const char *v = w->s + k;
    size_t vn = w->n - k;
    word vw = *w;
    vw.col += (int)k;
    if (vn > 0 && v[0] == '"') {
        f->kind = VK_QUOTED;
        f->text = unquote(c, &vw, v, vn, &f->len);
        if (!f->text) return false;
    } else if (vn >= 4 && memcmp(v, "hex:", 4) == 0) {
        f->kind = VK_HEX;
        f->text = hexbytes(v + 4, vn - 4, &f->len);
        if (!f->text) {
            ERR(c, &vw, "expected an even number of hex digits after hex:");
            return false;
        }
    } else if (vn >= 5 && memcmp(v, "fill:", 5) == 0) {
        f->kind = VK_FILL;
        if (vn > 8 && memcmp(v + 5, "${", 2) == 0 && v[vn - 1] == '}') {
            /* fill:${var}: the count comes from a captured variable, at run time */
            f->text = strndup(v + 5, vn - 5);
            f->len = vn - 5;
        } else {
            char *end;
            char tmp[16] = "";
            if (vn - 5 < sizeof tmp) memcpy(tmp, v + 5, vn - 5);
            unsigned long nfill = strtoul(tmp, &end, 10);
            if (vn == 5 || vn - 5 >= sizeof tmp || *end || nfill > 268435455ul) {
                ERR(c, &vw, "expected a byte count or ${variable} after fill: (at most 268435455)");
                return false;
            }
            f->num = nfill;
            f->text = strdup("");
        }
    } else if (vn == 7 && memcmp(v, "present", 7) == 0 && expect) {
        f->kind = VK_PRESENT;
        f->text = strdup("present");
        f->len = 7;
    } else if (vn == 6 && memcmp(v, "absent", 6) == 0 && expect) {
        f->kind = VK_ABSENT;
        f->text = strdup("absent");
        f->len = 6;
    } else {
        f->kind = VK_WORD;
        f->text = strndup(v, vn);
        f->len = vn;
        if (vn == 0) {
            ERR(c, &vw, "expected a value after '=' (use \"\" for an empty string)");
            free(f->text);
            f->text = NULL;
            return false;
        }
    }
    if (!f->text) return false;
    const char *bad = conf_field_check(f);
    if (bad) {
        ERR(c, &vw, "%s: expected %s, found '%.*s'", conf_field_name(f->id, f->prop), bad, (int)vn, v);
        free(f->text);
        f->text = NULL;
        return false;
    }
    return true;
}

static void add_field(conf_step *st, const conf_field *f)
{
    conf_field *a = realloc(st->fields, (st->nfields + 1) * sizeof *a);
    if (!a) return;
    a[st->nfields++] = *f;
    st->fields = a;
}

/* Fields plus the keywords `within D`, `for D`, `unordered`, `or close`, `silent` (where allowed). */
static void parse_fields(pctx *c, conf_step *st, const word *w, int i, int n, mqtt_packet_type pt,
                         bool expect, const char *timing)
{
    for (; i < n; i++) {
        if (timing && weq(&w[i], timing)) {
            if (i + 1 >= n || (st->ms = parse_duration(&w[i + 1])) < 0) {
                ERR(c, i + 1 < n ? &w[i + 1] : &w[i], "expected a duration like 500ms or 2s after `%s`", timing);
                st->ms = -1;
                return;
            }
            i++;
            continue;
        }
        if (expect && st->kind == ST_EXPECT && weq(&w[i], "unordered")) {
            st->unordered = true;
            continue;
        }
        if (expect && st->kind == ST_EXPECT && !st->group && weq(&w[i], "or") && i + 1 < n &&
            weq(&w[i + 1], "skip")) {
            st->or_skip = true;
            i++;
            continue;
        }
        if (expect && st->kind == ST_EXPECT && weq(&w[i], "or") && i + 1 < n && weq(&w[i + 1], "close")) {
            st->or_close = true;
            i++;
            continue;
        }
        if (expect && st->kind == ST_EXPECT_CLOSE && weq(&w[i], "silent")) {
            st->silent = true;
            continue;
        }
        conf_field f;
        if (parse_field(c, &w[i], pt, expect, &f)) {
            if (expect && (f.id == F_PROP || f.id == F_USER_PROPERTY_COUNT || f.id == F_SUBID_COUNT) &&
                (st->vmask & c->sc->vmask & (CONF_VBIT(CONF_VI_31) | CONF_VBIT(CONF_VI_311)))) {
                ERR(c, &w[i], "%s is a 5.0 property: expected a [5.0] guard on this step "
                    "(the scenario also runs in 3.x)", conf_field_name(f.id, f.prop));
                free(f.text);
                continue;
            }
            add_field(st, &f);
        }
    }
}

static void parse_raw(pctx *c, conf_step *st, const word *w, int i, int n)
{
    bool star = false;
    if (i >= n) {
        ERR(c, &w[i - 1], "expected bytes after `raw` (hex, *, \"text\" or s\"text\")");
        return;
    }
    for (; i < n; i++) {
        conf_raw_tok t = {0};
        if (weq(&w[i], "*")) {
            if (star) { ERR(c, &w[i], "expected at most one '*' (remaining length) per raw line"); continue; }
            star = true;
            t.kind = RT_STAR;
        } else if (w[i].s[0] == '"' || (w[i].n > 1 && w[i].s[0] == 's' && w[i].s[1] == '"')) {
            bool mstr = w[i].s[0] == 's';
            t.kind = mstr ? RT_MQTTSTR : RT_TEXT;
            t.text = unquote(c, &w[i], w[i].s + mstr, w[i].n - mstr, &t.len);
            if (!t.text) continue;
        } else {
            t.kind = RT_BYTES;
            t.text = hexbytes(w[i].s, w[i].n, &t.len);
            if (!t.text) {
                ERR(c, &w[i], "expected hex bytes (pairs of hex digits), '*', \"text\" or s\"text\", found '%.*s'",
                    (int)w[i].n, w[i].s);
                continue;
            }
        }
        conf_raw_tok *a = realloc(st->raw, (st->nraw + 1) * sizeof *a);
        if (!a) { free(t.text); return; }
        a[st->nraw++] = t;
        st->raw = a;
    }
}

/* `a|b|c`: a group of two or more declared clients, for "exactly one of
 * them receives this" (shared subscriptions). Sets st->group and, as
 * st->client, the first member (for reports). */
static bool parse_group(pctx *c, const word *w, conf_step *st)
{
    const conf_scenario *sc = c->sc;
    size_t start = 0;
    int members = 0;
    while (start <= w->n) {
        size_t end = start;
        while (end < w->n && w->s[end] != '|') end++;
        word part = {w->s + start, end - start, w->line, w->col + (int)start};
        int found = -1;
        for (size_t k = 0; k < sc->nclients; k++)
            if (weq(&part, sc->clients[k])) found = (int)k;
        if (found < 0 || found >= 32) {
            ERR(c, &part, found < 0 ? "expected a client name declared in `clients` in the group, found '%.*s'"
                                    : "expected one of the first 32 clients in a group, found '%.*s'",
                (int)part.n, part.s);
            return false;
        }
        if (st->group & (1u << found)) {
            ERR(c, &part, "client '%s' appears twice in the group", sc->clients[found]);
            return false;
        }
        st->group |= 1u << found;
        if (st->client < 0) st->client = found;
        members++;
        start = end + 1;
    }
    if (members < 2) {
        ERR(c, w, "expected two or more clients in a group like a|b");
        return false;
    }
    return true;
}

/* The rule list of version slot vi as the steps see it (3.1 shares 3.1.1's
 * until the end of the parse copies them). */
static char **slot_rules(const conf_scenario *sc, int vi, size_t *n)
{
    if (vi == CONF_VI_31 && !sc->nrules[vi]) vi = CONF_VI_311;
    *n = sc->nrules[vi];
    return sc->rules[vi];
}

/* `checks ID...` at the end of a step: the rules this step checks. Each id
 * must be one of the scenario's `rules`; the step gets it in every version
 * slot where the scenario lists it. Returns the word count before `checks`. */
static int step_checks(pctx *c, conf_step *st, const word *w, int n)
{
    int k = 0;
    while (k < n && !weq(&w[k], "checks")) k++;
    if (k >= n) return n;
    if (k + 1 >= n) ERR(c, &w[k], "expected one or more of the scenario's rule ids after `checks`");
    for (int i = k + 1; i < n; i++) {
        bool found = false;
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            size_t nr;
            char **r = slot_rules(c->sc, vi, &nr);
            for (size_t j = 0; j < nr; j++) {
                if (!weq(&w[i], r[j])) continue;
                push_str(&st->rules[vi], &st->nrules[vi], strdup(r[j]));
                found = true;
            }
        }
        if (!found) ERR(c, &w[i], "expected an id from the scenario's `rules` lines after `checks`, found '%.*s'",
                        (int)w[i].n, w[i].s);
    }
    st->explicit_rules = true;
    return k;
}

/* `timer`, `late D` and `else skip` anywhere after the verb: copies the
 * other words to out and sets the step's fields. Returns the new count. */
static int step_timer(pctx *c, conf_step *st, const word *w, int n, word *out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (weq(&w[i], "timer")) { st->timer = true; continue; }
        if (weq(&w[i], "else") && i + 1 < n && (weq(&w[i + 1], "skip") || weq(&w[i + 1], "warn"))) {
            if (weq(&w[i + 1], "skip")) st->else_skip = true;
            else st->else_warn = true;
            i++;
            continue;
        }
        if (weq(&w[i], "late") && i + 1 < n && (st->late_ms = parse_duration(&w[i + 1])) >= 0) {
            st->timer = true;
            i++;
            continue;
        }
        if (weq(&w[i], "late")) ERR(c, &w[i], "expected a duration like 5s after `late`");
        out[m++] = w[i];
    }
    return m;
}

static const char *const verbs =
    "connect, open, send, publish, subscribe, unsubscribe, ack, expect, capture, disconnect or drop";

/* `open protocols=none|"LIST"`: the WebSocket upgrade offers LIST (or no
 * subprotocol) instead of "mqtt"; the scenario then needs WebSockets. */
static void parse_protocols(pctx *c, conf_step *st, const word *w)
{
    const char *v = w->s + 10;
    size_t n = w->n - 10;
    if (n == 4 && !strncmp(v, "none", 4)) st->ws_protocols = strdup("");
    else if (n >= 2 && v[0] == '"') st->ws_protocols = unquote(c, w, v, n, &n);
    else ERR(c, w, "expected protocols=none or protocols=\"LIST\" (the subprotocols offered)");
    for (size_t i = 0; st->ws_protocols && st->ws_protocols[i]; i++)
        if ((unsigned char)st->ws_protocols[i] < 0x20) {
            ERR(c, w, "expected no control characters in protocols=");
            break;
        }
    c->sc->websocket = true;
}

/* `send frame OPCODE [nofin] [rsv1|rsv2|rsv3] [unmasked] [TOKENS]`: a hand-made WebSocket frame. */
static void parse_frame(pctx *c, conf_step *st, const word *w, int i, int n)
{
    static const char *const ops[] = {"continuation", "text", "binary", NULL, NULL, NULL, NULL, NULL,
                                      "close", "ping", "pong"};
    st->kind = ST_SEND_RAW;
    st->frame = true;
    c->sc->malformed = true;
    c->sc->websocket = true;
    int op = -1;
    for (int k = 0; i < n && k < (int)(sizeof ops / sizeof ops[0]); k++)
        if (ops[k] && weq(&w[i], ops[k])) op = k;
    if (op < 0 && i < n && w[i].n <= 2 && isdigit((unsigned char)w[i].s[0])) {
        op = atoi(w[i].s);
        if (op > 15 || (w[i].n == 2 && !isdigit((unsigned char)w[i].s[1]))) op = -1;
    }
    if (op < 0) {
        ERR(c, &w[i < n ? i : i - 1], "expected a frame opcode after `frame` (binary, text, continuation, close, "
            "ping, pong or 0 to 15)");
        return;
    }
    st->frame_first = (uint8_t)(0x80 | op);
    for (i++; i < n; i++) {
        if (weq(&w[i], "nofin")) st->frame_first &= 0x7f;
        else if (weq(&w[i], "rsv1")) st->frame_first |= 0x40;
        else if (weq(&w[i], "rsv2")) st->frame_first |= 0x20;
        else if (weq(&w[i], "rsv3")) st->frame_first |= 0x10;
        else if (weq(&w[i], "unmasked")) st->frame_unmasked = true;
        else break;
    }
    if (i < n) parse_raw(c, st, w, i, n); /* no bytes: an empty payload */
}

/* `C send TYPE FIELDS` or `C send raw TOKENS`. Returns false on an error that drops the step. */
static bool step_send(pctx *c, conf_step *st, const word *verb, const word *w, int i, int n)
{
    conf_scenario *sc = c->sc;
    if (i >= n) { ERR(c, verb, "expected a packet type or `raw` after `send`"); return false; }
    if (weq(&w[i], "raw")) {
        st->kind = ST_SEND_RAW;
        sc->malformed = true;
        parse_raw(c, st, w, i + 1, n);
    } else if (weq(&w[i], "frame")) {
        parse_frame(c, st, w, i + 1, n);
    } else {
        int t = ptype_of(&w[i]);
        if (sc->broker_seat && (t < 0 || !is_server_sent(t))) {
            ERR(c, &w[i], "expected a packet type a broker sends (CONNACK PUBLISH PUBACK PUBREC PUBREL PUBCOMP "
                "SUBACK UNSUBACK PINGRESP DISCONNECT AUTH) or raw, found '%.*s'", (int)w[i].n, w[i].s);
            return false;
        }
        if (!sc->broker_seat && (t < 0 || !is_client_sent(t))) {
            ERR(c, &w[i], "expected a packet type a client sends (CONNECT PUBLISH PUBACK PUBREC PUBREL "
                "PUBCOMP SUBSCRIBE UNSUBSCRIBE PINGREQ DISCONNECT AUTH) or raw, found '%.*s'",
                (int)w[i].n, w[i].s);
            return false;
        }
        st->kind = ST_SEND;
        st->ptype = (mqtt_packet_type)t;
        parse_fields(c, st, w, i + 1, n, st->ptype, false, NULL);
        if ((t >= MQTT_PUBACK && t <= MQTT_PUBCOMP) || t == MQTT_SUBACK || t == MQTT_UNSUBACK) {
            bool has_id = false;
            for (size_t k = 0; k < st->nfields; k++) has_id |= st->fields[k].id == F_PACKET_ID;
            if (!has_id) ERR(c, &w[i], "expected packet_id=... on a sent %.*s", (int)w[i].n, w[i].s);
        }
        if (t == MQTT_AUTH && (sc->vmask & st->vmask & ~CONF_VBIT(CONF_VI_5)))
            ERR(c, &w[i], "AUTH exists only in 5.0: expected a [5.0] guard");
    }
    return true;
}

/* Broker seat: `C expect exit 0|N|nonzero|any [within D]`: the client
 * process ends with that status (the runner started it). */
static bool step_expect_exit(pctx *c, conf_step *st, const word *w, int i, int n)
{
    st->kind = ST_EXPECT_EXIT;
    char *end = NULL;
    long v = i < n ? strtol(w[i].s, &end, 10) : -1;
    if (i < n && weq(&w[i], "nonzero")) st->exit_want = CONF_EXIT_NONZERO;
    else if (i < n && weq(&w[i], "any")) st->exit_want = CONF_EXIT_ANY;
    else if (i < n && end == w[i].s + w[i].n && v >= 0 && v <= 255) st->exit_want = (int)v;
    else {
        ERR(c, i < n ? &w[i] : &w[i - 1], "expected an exit status (0..255), `nonzero` or `any` after `expect exit`");
        return false;
    }
    if (i + 1 < n) {
        if (n != i + 3 || !weq(&w[i + 1], "within") || (st->ms = parse_duration(&w[i + 2])) < 0) {
            ERR(c, &w[i + 1], "expected `within DURATION` after `expect exit STATUS`");
            return false;
        }
    }
    return true;
}

/* Broker seat: `C expect output TEXT [within D]`: the client prints TEXT
 * (what it delivered to its application, e.g. a payload). */
static bool step_expect_output(pctx *c, conf_step *st, const word *w, int i, int n)
{
    st->kind = ST_EXPECT_OUTPUT;
    size_t len = 0;
    if (i < n) st->output = w[i].s[0] == '"' ? unquote(c, &w[i], w[i].s, w[i].n, &len) : wdup(&w[i]);
    if (!st->output || (i + 1 < n && (n != i + 3 || !weq(&w[i + 1], "within") ||
                                      (st->ms = parse_duration(&w[i + 2])) < 0))) {
        ERR(c, i < n ? &w[i] : &w[i - 1], "expected `expect output TEXT [within DURATION]`");
        return false;
    }
    return true;
}

/* `C expect TYPE|nothing|close ...`. Returns false on an error that drops the step. */
static bool step_expect(pctx *c, conf_step *st, const word *verb, const word *w, int i, int n)
{
    if (i >= n) { ERR(c, verb, "expected a packet type, `nothing` or `close` after `expect`"); return false; }
    if (weq(&w[i], "nothing")) {
        st->kind = ST_EXPECT_NOTHING;
        parse_fields(c, st, w, i + 1, n, MQTT_PINGRESP, true, "for");
        if (st->nfields) ERR(c, &w[i], "expected only `for DURATION` after `expect nothing`");
    } else if (weq(&w[i], "close")) {
        st->kind = ST_EXPECT_CLOSE;
        parse_fields(c, st, w, i + 1, n, MQTT_DISCONNECT, true, "within");
        for (size_t k = 0; k < st->nfields; k++)
            if (st->fields[k].id != F_REASON_CODE)
                ERR(c, &w[i], "expected only reason_code=... and `within DURATION` after `expect close`");
    } else if (c->sc->broker_seat && weq(&w[i], "exit")) {
        return step_expect_exit(c, st, w, i + 1, n);
    } else if (c->sc->broker_seat && weq(&w[i], "output")) {
        return step_expect_output(c, st, w, i + 1, n);
    } else {
        int t = ptype_of(&w[i]);
        if (c->sc->broker_seat && (t < 0 || !is_client_sent(t))) {
            ERR(c, &w[i], "expected a packet type a client sends (CONNECT PUBLISH PUBACK PUBREC PUBREL PUBCOMP "
                "SUBSCRIBE UNSUBSCRIBE PINGREQ DISCONNECT AUTH), `nothing`, `close` or `exit`, found '%.*s'",
                (int)w[i].n, w[i].s);
            return false;
        }
        if (!c->sc->broker_seat && (t < 0 || !is_server_sent(t))) {
            ERR(c, &w[i], "expected a packet type a broker sends (CONNACK PUBLISH PUBACK PUBREC PUBREL "
                "PUBCOMP SUBACK UNSUBACK PINGRESP DISCONNECT AUTH), `nothing` or `close`, found '%.*s'",
                (int)w[i].n, w[i].s);
            return false;
        }
        st->kind = ST_EXPECT;
        st->ptype = (mqtt_packet_type)t;
        parse_fields(c, st, w, i + 1, n, st->ptype, true, "within");
        if (st->group && st->or_close) ERR(c, &w[i], "expected no `or close` after a client group (a|b)");
    }
    return true;
}

/* `C capture FIELD as NAME`. Returns false on an error that drops the step. */
static bool step_capture(pctx *c, conf_step *st, const word *verb, const word *w, int i, int n)
{
    st->kind = ST_CAPTURE;
    if (n - i != 3 || !weq(&w[i + 1], "as")) {
        ERR(c, verb, "expected `capture FIELD as NAME`");
        return false;
    }
    /* any expectable field of any packet type */
    bool found = false;
    for (int t = MQTT_CONNACK; t <= MQTT_AUTH && !found; t++)
        found = conf_field_lookup(w[i].s, w[i].n, (mqtt_packet_type)t, true, &st->cap_field, &st->cap_prop) == 0;
    if (!found) {
        ERR(c, &w[i], "expected a field of a received packet (packet_id, topic, payload, reason_code ...), "
            "found '%.*s'", (int)w[i].n, w[i].s);
        return false;
    }
    for (size_t k = 0; k < w[i + 2].n; k++)
        if (!isalnum((unsigned char)w[i + 2].s[k]) && w[i + 2].s[k] != '_') {
            ERR(c, &w[i + 2], "expected a variable name (letters, digits, _)");
            return false;
        }
    if (weq(&w[i + 2], "ns") || weq(&w[i + 2], "version")) {
        ERR(c, &w[i + 2], "expected a variable name other than the built-in ns and version");
        return false;
    }
    st->cap_var = wdup(&w[i + 2]);
    return true;
}

/* Broker seat: only send, expect, capture and the connection verbs apply
 * (accept, close = drop). Returns false on an error that drops the step. */
static bool step_seat_verb(pctx *c, conf_step *st, const word *verb, const word *w, int i, int n)
{
    if (weq(verb, "accept")) {
        st->kind = ST_ACCEPT;
        if (i < n && (n != i + 2 || !weq(&w[i], "within") || (st->ms = parse_duration(&w[i + 1])) < 0)) {
            ERR(c, &w[i], "expected nothing or `within DURATION` after `accept`");
            return false;
        }
        return true;
    }
    if (weq(verb, "close") || weq(verb, "drop")) {
        st->kind = ST_DROP;
        if (i < n) { ERR(c, &w[i], "expected nothing after `%.*s`", (int)verb->n, verb->s); return false; }
        return true;
    }
    if (weq(verb, "send") || weq(verb, "expect") || weq(verb, "capture")) return true;
    ERR(c, verb, "expected a broker-seat step (send, expect, capture, accept, close), found '%.*s'",
        (int)verb->n, verb->s);
    return false;
}

/* Parses one step into *st and adds it. Returns false when it was not added
 * (errors reported): the caller frees what *st holds. */
static bool step_parse(pctx *c, conf_step *st, const word *w0, int n0, const char *linetext)
{
    conf_scenario *sc = c->sc;
    word w[256];
    int n = step_timer(c, st, w0, step_checks(c, st, w0, n0), w);
    if (n == 0) return false;
    int i = 0;
    if (w[0].s[0] == '[') {
        if (w[0].s[w[0].n - 1] != ']' || w[0].n < 3) {
            ERR(c, &w[0], "expected a version guard like [5.0] or [3.1.1,5.0]");
            return false;
        }
        word inner = {w[0].s + 1, w[0].n - 2, w[0].line, w[0].col + 1};
        st->vmask = parse_versions(c, &inner, 1, false);
        if (!st->vmask) return false;
        if (!(st->vmask & sc->vmask)) {
            ERR(c, &w[0], "this guard excludes every version of the scenario");
            return false;
        }
        i = 1;
        if (n < 2) { ERR(c, &w[0], "expected a step after the version guard"); return false; }
    }
    if (weq(&w[i], "wait")) {
        st->kind = ST_WAIT;
        if (n != i + 2 || (st->ms = parse_duration(&w[i + 1])) < 0) {
            ERR(c, n > i + 1 ? &w[i + 1] : &w[i], "expected one duration like 500ms or 2s after `wait`");
            return false;
        }
        goto add;
    }
    if (memchr(w[i].s, '|', w[i].n)) {
        if (!parse_group(c, &w[i], st)) return false;
    } else {
        for (size_t k = 0; k < sc->nclients; k++)
            if (weq(&w[i], sc->clients[k])) st->client = (int)k;
    }
    if (st->client < 0) {
        if (!sc->nclients)
            ERR(c, &w[i], "expected a header statement (title, versions, rules, needs, tags, clients, "
                "deadline, serial) or a step; declare clients before steps");
        else
            ERR(c, &w[i], "expected a client name declared in `clients` or `wait`, found '%.*s'",
                (int)w[i].n, w[i].s);
        return false;
    }
    i++;
    if (i >= n) { ERR(c, &w[i - 1], "expected a step (%s) after the client name", verbs); return false; }
    const word *verb = &w[i++];
    if (st->group && !weq(verb, "ack") && !weq(verb, "capture") &&
        !(weq(verb, "expect") && i < n && !weq(&w[i], "nothing") && !weq(&w[i], "close"))) {
        ERR(c, verb, "expected `expect TYPE`, `ack` or `capture` after a client group (a|b); "
            "write other steps once per client");
        return false;
    }
    if (sc->broker_seat && !step_seat_verb(c, st, verb, w, i, n)) return false;
    if (sc->broker_seat && (st->kind == ST_ACCEPT || st->kind == ST_DROP)) goto add;
    if (weq(verb, "connect")) {
        st->kind = ST_CONNECT;
        st->ptype = MQTT_CONNECT;
        parse_fields(c, st, w, i, n, MQTT_CONNECT, false, NULL);
    } else if (weq(verb, "open")) {
        st->kind = ST_OPEN;
        if (i < n && w[i].n > 10 && !strncmp(w[i].s, "protocols=", 10)) parse_protocols(c, st, &w[i++]);
        if (i < n) ERR(c, &w[i], "expected nothing after `open` (or protocols=... over WebSockets)");
    } else if (weq(verb, "send")) {
        if (!step_send(c, st, verb, w, i, n)) return false;
    } else if (weq(verb, "publish") || weq(verb, "subscribe") || weq(verb, "unsubscribe")) {
        st->kind = weq(verb, "publish") ? ST_PUBLISH : weq(verb, "subscribe") ? ST_SUBSCRIBE : ST_UNSUBSCRIBE;
        st->ptype = st->kind == ST_PUBLISH ? MQTT_PUBLISH : st->kind == ST_SUBSCRIBE ? MQTT_SUBSCRIBE : MQTT_UNSUBSCRIBE;
        parse_fields(c, st, w, i, n, st->ptype, false, NULL);
        bool has = false;
        for (size_t k = 0; k < st->nfields; k++)
            has |= st->fields[k].id == (st->kind == ST_PUBLISH ? F_TOPIC : F_FILTER);
        if (!has) ERR(c, verb, "expected %s=... in `%.*s`", st->kind == ST_PUBLISH ? "topic" : "filter",
                      (int)verb->n, verb->s);
    } else if (weq(verb, "ack")) {
        st->kind = ST_ACK;
        if (i < n) ERR(c, &w[i], "expected nothing after `ack`");
    } else if (weq(verb, "expect")) {
        if (!step_expect(c, st, verb, w, i, n)) return false;
    } else if (weq(verb, "capture")) {
        if (!step_capture(c, st, verb, w, i, n)) return false;
    } else if (weq(verb, "disconnect")) {
        st->kind = ST_DISCONNECT;
        st->ptype = MQTT_DISCONNECT;
        parse_fields(c, st, w, i, n, MQTT_DISCONNECT, false, NULL);
    } else if (weq(verb, "drop")) {
        st->kind = ST_DROP;
        if (i < n) ERR(c, &w[i], "expected nothing after `drop`");
    } else {
        ERR(c, verb, "expected a step (%s), found '%.*s'", verbs, (int)verb->n, verb->s);
        return false;
    }
add:
    st->src = strdup(linetext);
    conf_step *a = realloc(sc->steps, (sc->nsteps + 1) * sizeof *a);
    if (!a) return false;
    a[sc->nsteps++] = *st;
    sc->steps = a;
    return true;
}

static void free_step(conf_step *st);

static void step(pctx *c, const word *w, int n, const char *linetext)
{
    conf_step st = {.client = -1, .vmask = CONF_VALL, .ms = -1, .late_ms = -1, .line = w[0].line};
    if (!step_parse(c, &st, w, n, linetext)) free_step(&st);
}

/* ---- files ---- */

static void free_step(conf_step *st)
{
    for (int v = 0; v < CONF_NVERSIONS; v++) {
        for (size_t k = 0; k < st->nrules[v]; k++) free(st->rules[v][k]);
        free(st->rules[v]);
    }
    for (size_t k = 0; k < st->nfields; k++) free(st->fields[k].text);
    free(st->fields);
    for (size_t k = 0; k < st->nraw; k++) free(st->raw[k].text);
    free(st->raw);
    free(st->ws_protocols);
    free(st->cap_var);
    free(st->output);
    free(st->src);
}

void conf_scenario_free(conf_scenario *s)
{
    if (!s) return;
    free(s->path);
    free(s->id);
    free(s->area);
    free(s->title);
    for (int v = 0; v < CONF_NVERSIONS; v++) {
        for (size_t k = 0; k < s->nrules[v]; k++) free(s->rules[v][k]);
        free(s->rules[v]);
    }
    for (size_t k = 0; k < s->ntags; k++) free(s->tags[k]);
    free(s->tags);
    for (size_t k = 0; k < s->nclients; k++) free(s->clients[k]);
    free(s->clients);
    for (size_t k = 0; k < s->nsteps; k++) free_step(&s->steps[k]);
    free(s->steps);
    for (size_t k = 0; k < s->nopts; k++) {
        free(s->opt_keys[k]);
        free(s->opt_vals[k]);
    }
    free(s->opt_keys);
    free(s->opt_vals);
    free(s->action);
    free(s);
}

#define MAXWORDS 256

/* Steps that check something by default (when no step names its rules with
 * `checks`): what they wait for is what the scenario's rules say. */
static bool checking_kind(conf_step_kind k)
{
    return k == ST_EXPECT || k == ST_EXPECT_NOTHING || k == ST_EXPECT_CLOSE || k == ST_EXPECT_OUTPUT || k == ST_PUBLISH ||
           k == ST_SUBSCRIBE || k == ST_UNSUBSCRIBE || k == ST_CAPTURE;
}

/* Gives every checking step its rules (the scenario's, unless some step
 * names its own with `checks`) and its level per version: the highest level
 * of its rules (levels.c). A step left with none is a precondition. */
static void attribute_rules(conf_scenario *sc)
{
    bool any_explicit = false;
    for (size_t i = 0; i < sc->nsteps; i++) any_explicit |= sc->steps[i].explicit_rules;
    for (size_t i = 0; i < sc->nsteps; i++) {
        conf_step *st = &sc->steps[i];
        for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
            if (!any_explicit && checking_kind(st->kind) && !st->else_skip && (st->vmask & CONF_VBIT(vi)))
                for (size_t k = 0; k < sc->nrules[vi]; k++)
                    push_str(&st->rules[vi], &st->nrules[vi], strdup(sc->rules[vi][k]));
            st->level[vi] = LVL_NONE;
            for (size_t k = 0; k < st->nrules[vi]; k++) {
                conf_level l = conf_rule_level(vi, st->rules[vi][k]);
                if (l > st->level[vi]) st->level[vi] = l;
            }
        }
    }
}

conf_scenario *conf_parse_scenario(const char *file, const char *id, const char *text, conf_errors *errs)
{
    conf_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) return NULL;
    sc->path = strdup(file);
    sc->id = strdup(id);
    const char *slash = strchr(id, '/');
    sc->area = slash ? strndup(id, (size_t)(slash - id)) : strdup("");
    sc->deadline_ms = 10000;
    pctx c = {.file = file, .errs = errs, .nerr_at_start = (int)errs->count, .sc = sc};

    word w[MAXWORDS];
    int nw = 0;
    int lineno = 0;
    const char *p = text;
    char *joined = NULL; /* the statement's source text, for reports */
    /* Lines are copied so words can point into them until the statement is parsed. */
    char *lines[64];
    int nlines = 0;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        lineno++;
        char *copy = strndup(p, len);
        p += len + (eol ? 1 : 0);
        if (!copy) break;
        if (nlines < 64) lines[nlines++] = copy;
        else { free(copy); conf_error_add(errs, file, lineno, 1, "expected at most 64 continued lines"); continue; }
        bool cont;
        int got = split(&c, copy, len, lineno, w + nw, MAXWORDS - nw, &cont);
        if (got > 0) nw += got;
        /* source text for reports: the trimmed line(s) */
        const char *t = copy;
        while (*t == ' ' || *t == '\t') t++;
        size_t tl = strlen(t);
        while (tl && (t[tl - 1] == '\r' || t[tl - 1] == ' ')) tl--;
        size_t jl = joined ? strlen(joined) : 0;
        char *nj = realloc(joined, jl + tl + 2);
        if (nj) {
            joined = nj;
            if (jl) joined[jl++] = ' ';
            memcpy(joined + jl, t, tl);
            joined[jl + tl] = '\0';
            if (cont && jl + tl > 0 && joined[jl + tl - 1] == '\\') joined[jl + tl - 1] = '\0';
        }
        if (cont && got >= 0) continue;
        if (nw > 0 && got >= 0) {
            if (!c.in_steps && header(&c, w, nw)) {
                /* header statement */
            } else {
                bool is_header_word = weq(&w[0], "title") || weq(&w[0], "versions") || weq(&w[0], "rules") ||
                                      weq(&w[0], "needs") || weq(&w[0], "tags") || weq(&w[0], "clients") ||
                                      weq(&w[0], "deadline") || weq(&w[0], "serial") || weq(&w[0], "seat") ||
                                      weq(&w[0], "action");
                if (c.in_steps && is_header_word && nw > 0) {
                    ERR(&c, &w[0], "expected a step: header statements (`%.*s`) go before the first step",
                        (int)w[0].n, w[0].s);
                } else {
                    if (!c.in_steps) {
                        if (!sc->vmask) ERR(&c, &w[0], "expected `versions` before the first step");
                        c.in_steps = true;
                    }
                    step(&c, w, nw, joined ? joined : "");
                }
            }
        }
        for (int k = 0; k < nlines; k++) free(lines[k]);
        nlines = 0;
        nw = 0;
        free(joined);
        joined = NULL;
    }
    for (int k = 0; k < nlines; k++) free(lines[k]);
    free(joined);

    int endline = lineno > 0 ? lineno : 1;
    if (!sc->title) conf_error_add(errs, file, 1, 1, "expected a `title` line");
    if (!sc->vmask) conf_error_add(errs, file, 1, 1, "expected a `versions` line");
    if (!sc->nclients) conf_error_add(errs, file, 1, 1, "expected a `clients` line");
    size_t nr = 0;
    for (int v = 0; v < CONF_NVERSIONS; v++) {
        nr += sc->nrules[v];
        /* 3.1 runs cite the 3.1.1 ids */
    }
    if (!nr) conf_error_add(errs, file, 1, 1, "expected a `rules` line naming the normative ids checked");
    for (int v = 0; v < CONF_NVERSIONS; v++) {
        if ((sc->vmask & CONF_VBIT(v)) && v != CONF_VI_31 && !sc->nrules[v] && nr)
            conf_error_add(errs, file, 1, 1, "expected `rules` for version %s (the scenario runs in it)",
                           conf_vi_name(v));
    }
    /* 3.1 runs share the 3.1.1 ids */
    if ((sc->vmask & CONF_VBIT(CONF_VI_31)) && !sc->nrules[CONF_VI_31]) {
        for (size_t k = 0; k < sc->nrules[CONF_VI_311]; k++)
            push_str(&sc->rules[CONF_VI_31], &sc->nrules[CONF_VI_31], strdup(sc->rules[CONF_VI_311][k]));
    }
    if (!sc->nsteps && sc->nclients) conf_error_add(errs, file, endline, 1, "expected at least one step");
    if (sc->broker_seat && !sc->action)
        conf_error_add(errs, file, 1, 1, "expected an `action pub|sub ...` line (what the client under test does)");
    if (!sc->broker_seat && sc->action) conf_error_add(errs, file, 1, 1, "expected `seat broker` before `action`");
    attribute_rules(sc);
    if ((int)errs->count > c.nerr_at_start) {
        conf_scenario_free(sc);
        return NULL;
    }
    return sc;
}
