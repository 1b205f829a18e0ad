/*
 * JSON parse and print with cJSON 1.7's rules (see client_json.h): what it
 * accepts (numbers as strtod reads a run of [0-9+-eE.], \u escapes with
 * surrogate pairs, nesting up to 1000, bytes <= 32 as whitespace) and how it
 * prints (%1.15g, or %1.17g when that does not read back the same double; control
 * characters as \u00xx; pretty output with tabs and ", " inside arrays).
 */
#include "tools/src/client_json.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NESTING_LIMIT 1000

static json_value *new_value(json_type type)
{
    json_value *v = calloc(1, sizeof *v);
    if (v) v->type = type;
    return v;
}

void client_json_free(json_value *v)
{
    while (v) {
        json_value *next = v->next;
        client_json_free(v->child);
        free(v->key);
        free(v->string);
        free(v);
        v = next;
    }
}

json_value *client_json_object(void) { return new_value(JSON_OBJECT); }
json_value *client_json_null(void) { return new_value(JSON_NULL); }

static void set_number(json_value *v, double d)
{
    v->number = d;
}

json_value *client_json_number(double d)
{
    json_value *v = new_value(JSON_NUMBER);
    if (v) set_number(v, d);
    return v;
}

json_value *client_json_string_n(const uint8_t *s, size_t len)
{
    json_value *v = new_value(JSON_STRING);
    if (!v) return NULL;
    const uint8_t *nul = s ? memchr(s, 0, len) : NULL;
    if (nul) len = (size_t)(nul - s);
    v->string = malloc(len + 1);
    if (!v->string) {
        free(v);
        return NULL;
    }
    if (len) memcpy(v->string, s, len);
    v->string[len] = '\0';
    return v;
}

static void append(json_value *parent, json_value *v)
{
    if (parent->last) parent->last->next = v;
    else parent->child = v;
    parent->last = v;
}

bool client_json_add(json_value *obj, const char *key, json_value *v)
{
    if (!obj || !v) {
        client_json_free(v);
        return false;
    }
    v->key = strdup(key);
    if (!v->key) {
        client_json_free(v);
        return false;
    }
    append(obj, v);
    return true;
}

/* ---- parsing ---- */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    int depth;
} parser;

static bool can(const parser *ps, size_t n) { return ps->off + n <= ps->len; }
static int at(const parser *ps) { return ps->off < ps->len ? ps->p[ps->off] : -1; }

/* cJSON treats every byte from 1 to 32 as whitespace. */
static void skip_ws(parser *ps)
{
    while (ps->off < ps->len && ps->p[ps->off] <= 32 && ps->p[ps->off] != 0) ps->off++;
}

static json_value *parse_value(parser *ps);

static unsigned hex4(const uint8_t *s, bool *ok)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else *ok = false;
    }
    return v;
}

static size_t put_utf8(uint8_t *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at the opening quote; returns a NUL-terminated decoded copy. */
static char *parse_string(parser *ps)
{
    if (at(ps) != '"') return NULL;
    size_t start = ps->off + 1, end = start;
    while (end < ps->len && ps->p[end] != '"') {
        if (ps->p[end] == '\\') end++;
        end++;
    }
    if (end >= ps->len) return NULL; /* unterminated */
    uint8_t *out = malloc(end - start + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = start; i < end;) {
        if (ps->p[i] != '\\') {
            out[o++] = ps->p[i++];
            continue;
        }
        if (i + 1 >= end) goto fail;
        switch (ps->p[i + 1]) {
        case 'b': out[o++] = '\b'; i += 2; break;
        case 'f': out[o++] = '\f'; i += 2; break;
        case 'n': out[o++] = '\n'; i += 2; break;
        case 'r': out[o++] = '\r'; i += 2; break;
        case 't': out[o++] = '\t'; i += 2; break;
        case '"': case '\\': case '/': out[o++] = ps->p[i + 1]; i += 2; break;
        case 'u': {
            bool ok = true;
            if (end - i < 6) goto fail;
            unsigned cp = hex4(ps->p + i + 2, &ok);
            size_t used = 6;
            if (!ok || (cp >= 0xDC00 && cp <= 0xDFFF)) goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - i < 12 || ps->p[i + 6] != '\\' || ps->p[i + 7] != 'u') goto fail;
                unsigned lo = hex4(ps->p + i + 8, &ok);
                if (!ok || lo < 0xDC00 || lo > 0xDFFF) goto fail;
                cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
                used = 12;
            }
            o += put_utf8(out + o, cp);
            i += used;
            break;
        }
        default: goto fail;
        }
    }
    out[o] = '\0';
    ps->off = end + 1;
    return (char *)out;
fail:
    free(out);
    return NULL;
}

static json_value *parse_number(parser *ps)
{
    char num[64];
    size_t n = 0;
    while (n < sizeof num - 1 && can(ps, n + 1)) {
        int c = ps->p[ps->off + n];
        if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.') num[n++] = (char)c;
        else break;
    }
    num[n] = '\0';
    char *endp;
    double d = strtod(num, &endp);
    if (endp == num) return NULL;
    json_value *v = new_value(JSON_NUMBER);
    if (!v) return NULL;
    set_number(v, d);
    ps->off += (size_t)(endp - num);
    return v;
}

static json_value *parse_container(parser *ps, bool object)
{
    if (++ps->depth > NESTING_LIMIT) return NULL;
    json_value *v = new_value(object ? JSON_OBJECT : JSON_ARRAY);
    if (!v) return NULL;
    ps->off++; /* [ or { */
    skip_ws(ps);
    if (at(ps) == (object ? '}' : ']')) {
        ps->off++;
        ps->depth--;
        return v;
    }
    for (;;) {
        skip_ws(ps);
        char *key = NULL;
        if (object) {
            key = parse_string(ps);
            if (!key) goto fail;
            skip_ws(ps);
            if (at(ps) != ':') {
                free(key);
                goto fail;
            }
            ps->off++;
            skip_ws(ps);
        }
        json_value *item = parse_value(ps);
        if (!item) {
            free(key);
            goto fail;
        }
        item->key = key;
        append(v, item);
        skip_ws(ps);
        int c = at(ps);
        if (c == ',') {
            ps->off++;
            continue;
        }
        if (c == (object ? '}' : ']')) {
            ps->off++;
            break;
        }
        goto fail;
    }
    ps->depth--;
    return v;
fail:
    client_json_free(v);
    return NULL;
}

static json_value *parse_value(parser *ps)
{
    if (can(ps, 4) && !memcmp(ps->p + ps->off, "null", 4)) {
        ps->off += 4;
        return new_value(JSON_NULL);
    }
    if (can(ps, 5) && !memcmp(ps->p + ps->off, "false", 5)) {
        ps->off += 5;
        return new_value(JSON_FALSE);
    }
    if (can(ps, 4) && !memcmp(ps->p + ps->off, "true", 4)) {
        ps->off += 4;
        return new_value(JSON_TRUE);
    }
    int c = at(ps);
    if (c == '"') {
        char *s = parse_string(ps);
        if (!s) return NULL;
        json_value *v = new_value(JSON_STRING);
        if (!v) {
            free(s);
            return NULL;
        }
        v->string = s;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps);
    if (c == '[') return parse_container(ps, false);
    if (c == '{') return parse_container(ps, true);
    return NULL;
}

json_value *client_json_parse(const uint8_t *buf, size_t len)
{
    if (!buf || len == 0) return NULL;
    /* mosquitto hands cJSON a C string and then checks that parsing ended at
     * the payload's end: an embedded NUL makes the payload invalid. */
    if (memchr(buf, 0, len)) return NULL;
    parser ps = {buf, len, 0, 0};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) ps.off = 3;
    skip_ws(&ps);
    json_value *v = parse_value(&ps);
    if (!v) return NULL;
    skip_ws(&ps);
    if (ps.off != len) {
        client_json_free(v);
        return NULL;
    }
    return v;
}

/* ---- printing ---- */

static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 32) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

static bool same_double(double a, double b)
{
    double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= max * DBL_EPSILON;
}

static void print_number(FILE *out, const json_value *v)
{
    double d = v->number;
    char buf[32];
    if (isnan(d) || isinf(d)) {
        fputs("null", out);
    } else {
        double test;
        snprintf(buf, sizeof buf, "%1.15g", d);
        if (sscanf(buf, "%lg", &test) != 1 || !same_double(test, d)) snprintf(buf, sizeof buf, "%1.17g", d);
        fputs(buf, out);
    }
}

static void tabs(FILE *out, size_t n)
{
    while (n--) fputc('\t', out);
}

static void print_value(FILE *out, const json_value *v, bool pretty, size_t depth);

static void print_array(FILE *out, const json_value *v, bool pretty, size_t depth)
{
    fputc('[', out);
    for (const json_value *c = v->child; c; c = c->next) {
        print_value(out, c, pretty, depth + 1);
        if (c->next) fputs(pretty ? ", " : ",", out);
    }
    fputc(']', out);
}

static void print_object(FILE *out, const json_value *v, bool pretty, size_t depth)
{
    depth++;
    fputc('{', out);
    if (pretty) fputc('\n', out);
    for (const json_value *c = v->child; c; c = c->next) {
        if (pretty) tabs(out, depth);
        print_string(out, c->key ? c->key : "");
        fputc(':', out);
        if (pretty) fputc('\t', out);
        print_value(out, c, pretty, depth);
        if (c->next) fputc(',', out);
        if (pretty) fputc('\n', out);
    }
    if (pretty) tabs(out, depth - 1);
    fputc('}', out);
}

static void print_value(FILE *out, const json_value *v, bool pretty, size_t depth)
{
    switch (v->type) {
    case JSON_NULL: fputs("null", out); break;
    case JSON_FALSE: fputs("false", out); break;
    case JSON_TRUE: fputs("true", out); break;
    case JSON_NUMBER: print_number(out, v); break;
    case JSON_STRING: print_string(out, v->string ? v->string : ""); break;
    case JSON_ARRAY: print_array(out, v, pretty, depth); break;
    case JSON_OBJECT: print_object(out, v, pretty, depth); break;
    }
}

void client_json_print(FILE *out, const json_value *v, bool pretty)
{
    if (v) print_value(out, v, pretty, 0);
}
