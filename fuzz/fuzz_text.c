/*
 * Independent oracles for text and topic matching (see fuzz_text.h).
 *
 * The JSON checker is a small recursive-descent recogniser of RFC 8259 with
 * a depth limit; the topic matcher splits both strings into levels, the way
 * section 4.7 describes matching, rather than scanning bytes like the codec.
 */
#include "fuzz/fuzz_text.h"

#include <string.h>

size_t fz_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned char b = s[0];
    size_t len;
    unsigned long c;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if ((b & 0xE0) == 0xC0) { len = 2; c = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { len = 3; c = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { len = 4; c = b & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

const char *fz_line_problem(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t k = fz_utf8_seq(s + i, n - i, &cp);
        if (!k) return "invalid UTF-8";
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return "raw control character";
        if (cp == 0x2028 || cp == 0x2029) return "raw line/paragraph separator";
        if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return "raw bidi override";
        i += k;
    }
    return NULL;
}

/* ---------------------------------------------------------------- JSON */

typedef struct {
    const unsigned char *s;
    size_t n, i;
    const char *why;
} js;

static bool bad(js *j, const char *why)
{
    if (!j->why) j->why = why;
    return false;
}

static void ws(js *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

static bool lit(js *j, const char *w)
{
    for (; *w; w++, j->i++)
        if (j->i >= j->n || j->s[j->i] != (unsigned char)*w) return bad(j, "bad literal");
    return true;
}

static bool hex4(js *j)
{
    for (int k = 0; k < 4; k++, j->i++) {
        if (j->i >= j->n) return bad(j, "short \\u escape");
        unsigned char c = j->s[j->i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return bad(j, "bad \\u escape");
    }
    return true;
}

static bool string(js *j)
{
    j->i++; /* opening quote */
    while (j->i < j->n) {
        unsigned char c = j->s[j->i];
        if (c == '"') {
            j->i++;
            return true;
        }
        if (c < 0x20) return bad(j, "raw control character in a string");
        if (c == '\\') {
            if (++j->i >= j->n) return bad(j, "escape at end");
            c = j->s[j->i++];
            if (c == 'u') {
                if (!hex4(j)) return false;
            } else if (!(c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
                         c == 't')) {
                return bad(j, "bad escape");
            }
            continue;
        }
        unsigned long cp;
        size_t k = fz_utf8_seq(j->s + j->i, j->n - j->i, &cp);
        if (!k) return bad(j, "invalid UTF-8 in a string");
        j->i += k;
    }
    return bad(j, "unterminated string");
}

static bool digits(js *j)
{
    size_t start = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') j->i++;
    return j->i > start || bad(j, "digit expected");
}

static bool number(js *j)
{
    if (j->s[j->i] == '-') j->i++;
    if (j->i < j->n && j->s[j->i] == '0') j->i++;
    else if (!digits(j)) return false;
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!digits(j)) return false;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) j->i++;
        if (!digits(j)) return false;
    }
    return true;
}

static bool value(js *j, int depth)
{
    if (depth > 64) return bad(j, "nested too deep");
    ws(j);
    if (j->i >= j->n) return bad(j, "value expected");
    unsigned char c = j->s[j->i];
    if (c == '"') return string(j);
    if (c == 't') return lit(j, "true");
    if (c == 'f') return lit(j, "false");
    if (c == 'n') return lit(j, "null");
    if (c == '-' || (c >= '0' && c <= '9')) return number(j);
    if (c != '{' && c != '[') return bad(j, "unexpected character");
    bool obj = c == '{';
    unsigned char close = obj ? '}' : ']';
    j->i++;
    ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        return true;
    }
    for (;;) {
        if (obj) {
            ws(j);
            if (j->i >= j->n || j->s[j->i] != '"') return bad(j, "member name expected");
            if (!string(j)) return false;
            ws(j);
            if (j->i >= j->n || j->s[j->i] != ':') return bad(j, "':' expected");
            j->i++;
        }
        if (!value(j, depth + 1)) return false;
        ws(j);
        if (j->i >= j->n) return bad(j, "unterminated object or array");
        if (j->s[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->s[j->i] == close) {
            j->i++;
            return true;
        }
        return bad(j, "',' or close expected");
    }
}

const char *fz_json_problem(const char *s, size_t n)
{
    js j = {(const unsigned char *)s, n, 0, NULL};
    if (!value(&j, 0)) return j.why;
    ws(&j);
    if (j.i != n) return "trailing characters after the JSON value";
    return NULL;
}

/* ---------------------------------------------------------------- topics */

/* The level of s starting at *at (up to '/' or the end); *at moves past the '/'. */
static mqtt_bytes level(mqtt_bytes s, size_t *at, bool *more)
{
    size_t start = *at, i = start;
    while (i < s.len && s.ptr[i] != '/') i++;
    mqtt_bytes l = {s.ptr + start, i - start};
    *more = i < s.len;
    *at = i + 1;
    return l;
}

bool fz_topic_matches(mqtt_bytes filter, mqtt_bytes topic)
{
    bool fmore = true, tmore = true, first = true;
    size_t fa = 0, ta = 0;
    for (;;) {
        mqtt_bytes f = level(filter, &fa, &fmore);
        bool is_hash = f.len == 1 && f.ptr[0] == '#';
        bool is_plus = f.len == 1 && f.ptr[0] == '+';
        if (first && (is_hash || is_plus) && topic.len && topic.ptr[0] == '$') return false;
        first = false;
        if (is_hash) return true; /* the parent level and everything below */
        mqtt_bytes t = level(topic, &ta, &tmore);
        if (!is_plus && !(f.len == t.len && (f.len == 0 || memcmp(f.ptr, t.ptr, f.len) == 0)))
            return false;
        if (!fmore && !tmore) return true;
        if (!fmore) return false;
        if (!tmore) {
            mqtt_bytes rest = {filter.ptr + fa, filter.len - fa};
            return rest.len == 1 && rest.ptr[0] == '#';
        }
    }
}
