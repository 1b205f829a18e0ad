/*
 * A recursive-descent JSON reader (RFC 8259), enough for reading reports
 * back: strings with every escape (\uXXXX and surrogate pairs to UTF-8),
 * numbers as double, nesting bounded so hostile input cannot exhaust the
 * stack. Errors name the byte offset.
 */
#include "conformance/src/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *p, const char *what)
{
    if (p->err && !p->err[0]) snprintf(p->err, p->errlen, "at byte %zu: expected %s", p->pos, what);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos]) p->pos++;
}

static int value(parser *p, json *out, int depth);

static int hex4(parser *p, unsigned *out)
{
    if (p->pos + 4 > p->len) return fail(p, "4 hex digits after \\u");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(p, "a hex digit in \\u");
    }
    *out = v;
    return 0;
}

static size_t utf8(unsigned cp, char *o)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \u escape (p at the first hex digit): one code point, pairs joined. */
static int unicode_escape(parser *p, char *o, size_t *on)
{
    unsigned cp, lo;
    if (hex4(p, &cp) < 0) return -1;
    if (cp >= 0xD800 && cp < 0xDC00) {
        if (p->pos + 2 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') return fail(p, "a low surrogate");
        p->pos += 2;
        if (hex4(p, &lo) < 0) return -1;
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "a low surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp) *on += utf8(cp, o + *on);
    return 0;
}

static int string(parser *p, char **out)
{
    p->pos++; /* the opening quote */
    size_t end = p->pos;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    char *o = malloc(end - p->pos + 1); /* escapes never grow the text */
    size_t on = 0;
    if (!o) return fail(p, "memory");
    while (p->pos < p->len && p->s[p->pos] != '"') {
        char c = p->s[p->pos++];
        if ((unsigned char)c < 0x20) { free(o); return fail(p, "no control characters in a string"); }
        if (c != '\\') { o[on++] = c; continue; }
        if (p->pos >= p->len) break;
        char e = p->s[p->pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (e && k) o[on++] = to[k - from];
        else if (e != 'u' || unicode_escape(p, o, &on) < 0) { free(o); return fail(p, "a valid escape"); }
    }
    if (p->pos >= p->len) { free(o); return fail(p, "a closing '\"'"); }
    p->pos++;
    o[on] = '\0';
    *out = o;
    return 0;
}

static int number(parser *p, json *out)
{
    char buf[64];
    size_t n = 0;
    while (p->pos < p->len && n < sizeof buf - 1 && strchr("+-0123456789.eE", p->s[p->pos]) && p->s[p->pos])
        buf[n++] = p->s[p->pos++];
    buf[n] = '\0';
    char *end;
    out->num = strtod(buf, &end);
    if (!n || *end) return fail(p, "a value (object, array, string, number, true, false or null)");
    out->kind = J_NUM;
    return 0;
}

static int push(json *arr, char *key, const json *item)
{
    json *ni = realloc(arr->items, (arr->n + 1) * sizeof *ni);
    if (!ni) return -1;
    arr->items = ni;
    if (arr->kind == J_OBJ) {
        char **nk = realloc(arr->keys, (arr->n + 1) * sizeof *nk);
        if (!nk) return -1;
        arr->keys = nk;
        arr->keys[arr->n] = key;
    }
    arr->items[arr->n++] = *item;
    return 0;
}

/* [ ... ] or { "k": ... } with p at the opening bracket. */
static int container(parser *p, json *out, int depth, bool obj)
{
    out->kind = obj ? J_OBJ : J_ARR;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) { p->pos++; return 0; }
    for (;;) {
        char *key = NULL;
        json item = {0};
        skip_ws(p);
        if (obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"' || string(p, &key) < 0) return fail(p, "a member name");
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos++] != ':') { free(key); return fail(p, "':'"); }
        }
        if (value(p, &item, depth + 1) < 0 || push(out, key, &item) < 0) { free(key); json_free(&item); return -1; }
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) { p->pos++; return 0; }
        return fail(p, obj ? "',' or '}'" : "',' or ']'");
    }
}

static int value(parser *p, json *out, int depth)
{
    memset(out, 0, sizeof *out);
    if (depth > MAX_DEPTH) return fail(p, "at most 64 levels of nesting");
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "a value");
    const char *rest = p->s + p->pos;
    size_t left = p->len - p->pos;
    char c = *rest;
    if (c == '{' || c == '[') return container(p, out, depth, c == '{');
    if (c == '"') { out->kind = J_STR; return string(p, &out->str); }
    if (left >= 4 && memcmp(rest, "true", 4) == 0) { out->kind = J_BOOL; out->b = true; p->pos += 4; return 0; }
    if (left >= 5 && memcmp(rest, "false", 5) == 0) { out->kind = J_BOOL; p->pos += 5; return 0; }
    if (left >= 4 && memcmp(rest, "null", 4) == 0) { out->kind = J_NULL; p->pos += 4; return 0; }
    return number(p, out);
}

int json_parse(const char *text, size_t len, json *out, char *err, size_t errlen)
{
    parser p = {.s = text, .len = len, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    if (value(&p, out, 0) < 0) { json_free(out); return -1; }
    skip_ws(&p);
    if (p.pos != len) { json_free(out); return fail(&p, "the end of the document"); }
    return 0;
}

void json_free(json *j)
{
    for (size_t i = 0; i < j->n; i++) {
        json_free(&j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    memset(j, 0, sizeof *j);
}

const json *json_get(const json *j, const char *key)
{
    if (!j || j->kind != J_OBJ) return NULL;
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->keys[i], key) == 0) return &j->items[i];
    return NULL;
}

const char *json_str(const json *j, const char *key, const char *dflt)
{
    const json *v = json_get(j, key);
    return v && v->kind == J_STR ? v->str : dflt;
}
