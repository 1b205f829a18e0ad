/*
 * fz_session_text: sessions as text (corpus files, each finding's
 * session.txt). Reading is strict: every line is checked and the first bad
 * one is reported with its number; a session is never half-loaded.
 */
#include "fuzz/live/src/fz_session.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int fz_session_write(const fz_session *s, FILE *fp)
{
    fprintf(fp, "# mqtt-fuzz session\nversion %s\nns %s\nclients %u\n",
            mqtt_version_name(s->version), s->ns, s->nclients);
    for (size_t i = 0; i < s->nsteps; i++) {
        const fz_step *st = &s->steps[i];
        if (st->kind == FZ_CLOSE) {
            fprintf(fp, "close %c\n", fz_client_name(st->client));
            continue;
        }
        fprintf(fp, "send %c ", fz_client_name(st->client));
        for (size_t j = 0; j < st->len; j++) fprintf(fp, "%02x", st->bytes[j]);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex text into buf; returns the byte count or -1. */
static long parse_hex(const char *t, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (t[0] && t[0] != '\n') {
        int hi = hexval((unsigned char)t[0]), lo = t[1] ? hexval((unsigned char)t[1]) : -1;
        if (hi < 0 || lo < 0 || n >= cap) return -1;
        buf[n++] = (uint8_t)(hi << 4 | lo);
        t += 2;
    }
    return (long)n;
}

static int client_index(const fz_session *s, char c)
{
    int i = c - 'a';
    return i >= 0 && i < s->nclients ? i : -1;
}

/* One step line ("send a HEX", "close b"). Returns 0 or -1 with err filled. */
static int parse_step(fz_session *s, const char *line, char *err, size_t errlen)
{
    static uint8_t buf[FZ_MAX_STEP_BYTES];
    char kind[8], who[4];
    int used = 0;
    if (sscanf(line, "%7s %3s %n", kind, who, &used) < 2 || strlen(who) != 1 ||
        client_index(s, who[0]) < 0) {
        snprintf(err, errlen, "expected 'send CLIENT HEX' or 'close CLIENT' (clients a..%c)",
                 fz_client_name((uint8_t)(s->nclients ? s->nclients - 1 : 0)));
        return -1;
    }
    uint8_t c = (uint8_t)client_index(s, who[0]);
    if (strcmp(kind, "close") == 0) return fz_session_add(s, FZ_CLOSE, c, NULL, 0);
    long n = strcmp(kind, "send") == 0 ? parse_hex(line + used, buf, sizeof buf) : -1;
    if (n < 0) {
        snprintf(err, errlen, "bad step (hex pairs, at most %d bytes)", FZ_MAX_STEP_BYTES);
        return -1;
    }
    if (fz_session_add(s, FZ_SEND, c, buf, (size_t)n) != 0) {
        snprintf(err, errlen, "more than %d steps", FZ_MAX_STEPS);
        return -1;
    }
    return 0;
}

/* A header line; returns 1 if it was one, 0 if not, -1 if bad. */
static int parse_header(fz_session *s, const char *line, char *err, size_t errlen)
{
    char val[32];
    unsigned n;
    if (sscanf(line, "version %31s", val) == 1) {
        s->version = fz_version_parse(val);
        if (!s->version) snprintf(err, errlen, "unknown version '%s'", val);
        return s->version ? 1 : -1;
    }
    if (sscanf(line, "ns %31s", val) == 1) {
        if (strlen(val) != FZ_NS_LEN) snprintf(err, errlen, "ns must have %d characters", FZ_NS_LEN);
        else memcpy(s->ns, val, FZ_NS_LEN + 1);
        return strlen(val) == FZ_NS_LEN ? 1 : -1;
    }
    if (sscanf(line, "clients %u", &n) == 1) {
        if (n < 1 || n > FZ_MAX_CLIENTS) snprintf(err, errlen, "clients must be 1..%d", FZ_MAX_CLIENTS);
        else s->nclients = (uint8_t)n;
        return n >= 1 && n <= FZ_MAX_CLIENTS ? 1 : -1;
    }
    return 0;
}

int fz_session_read(fz_session *s, FILE *fp, char *err, size_t errlen)
{
    char line[2 * FZ_MAX_STEP_BYTES + 64], msg[160];
    fz_session_init(s, MQTT_V311, "nsnsnsn", 1);
    for (int ln = 1; fgets(line, sizeof line, fp); ln++) {
        if (line[0] == '#' || line[0] == '\n') continue;
        int h = parse_header(s, line, msg, sizeof msg);
        if (h == 0 && parse_step(s, line, msg, sizeof msg) == 0) continue;
        if (h == 1) continue;
        snprintf(err, errlen, "line %d: %s", ln, msg);
        fz_session_free(s);
        return -1;
    }
    return 0;
}
