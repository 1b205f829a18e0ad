/*
 * broker_passwd: mosquitto-format password files (see broker_passwd.h).
 *
 * Invariants: a table holds decoded salts and hashes only, never a
 * password; checking costs one hash whatever the outcome (an unknown user
 * is checked against a dummy entry) and ends in CRYPTO_memcmp, so neither
 * the existence of a user nor the matching prefix of a hash shows in the
 * timing. Parsing is strict: every line is valid or the file is refused.
 */
#include "broker/src/broker_where.h"
#include "broker/src/broker_passwd.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *username;
    broker_pw_type type;
    int iterations;
    uint8_t salt[BROKER_PW_SALT_LEN];
    uint8_t hash[BROKER_PW_HASH_LEN];
} entry;

/* The entries in file order, and an open-addressing index over their user
 * names (slot = entry index + 1, 0 = empty; at most half full), so that
 * loading n users and each lookup cost O(1) per user, not O(n). */
struct broker_passwd {
    entry *entries;
    size_t n, cap;
    size_t *index;
    size_t index_cap; /* power of two, or 0 */
};

/* ---------------------------------------------------------------- base64 */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t broker_base64_encode(const uint8_t *d, size_t n, char *out, size_t cap)
{
    size_t need = (n + 2) / 3 * 4 + 1;
    if (cap < need) return 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n) v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

long broker_base64_decode(const char *t, size_t n, uint8_t *out, size_t cap)
{
    if (n == 0 || n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (t[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad) return -1; /* data after '=' */
                v[k] = b64_value(t[i + k]);
                if (v[k] < 0) return -1;
            }
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t bytes = 3 - (size_t)pad;
        /* Canonical only: the bits past the last byte must be zero. */
        if ((pad == 2 && (x & 0xFFFF)) || (pad == 1 && (x & 0xFF))) return -1;
        if (o + bytes > cap) return -1;
        out[o++] = (uint8_t)(x >> 16);
        if (bytes > 1) out[o++] = (uint8_t)(x >> 8);
        if (bytes > 2) out[o++] = (uint8_t)x;
    }
    return (long)o;
}

/* ------------------------------------------------------------------ hash */

static bool digest(broker_pw_type type, int iterations, const uint8_t *pw, size_t len, const uint8_t *salt,
                   uint8_t out[BROKER_PW_HASH_LEN])
{
    if (type == BROKER_PW_SHA512_PBKDF2) {
        /* PKCS5_PBKDF2_HMAC takes an int length; MQTT passwords are < 64 KiB. */
        if (len > 65535) return false;
        return PKCS5_PBKDF2_HMAC((const char *)pw, (int)len, salt, BROKER_PW_SALT_LEN, iterations, EVP_sha512(),
                                 BROKER_PW_HASH_LEN, out) == 1;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int olen = 0;
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 && EVP_DigestUpdate(md, pw, len) == 1 &&
              EVP_DigestUpdate(md, salt, BROKER_PW_SALT_LEN) == 1 && EVP_DigestFinal_ex(md, out, &olen) == 1 &&
              olen == BROKER_PW_HASH_LEN;
    EVP_MD_CTX_free(md);
    return ok;
}

int broker_passwd_hash(char *out, size_t cap, const char *password, broker_pw_type type, int iterations, char *err,
                       size_t errlen)
{
    uint8_t salt[BROKER_PW_SALT_LEN], hash[BROKER_PW_HASH_LEN];
    if (iterations <= 0) iterations = BROKER_PW_ITERATIONS;
    if (RAND_bytes(salt, sizeof salt) != 1) {
        snprintf(err, errlen, "no random bytes for the salt");
        return -1;
    }
    if (!digest(type, iterations, (const uint8_t *)password, strlen(password), salt, hash)) {
        snprintf(err, errlen, "hashing failed");
        return -1;
    }
    char s64[32], h64[100];
    broker_base64_encode(salt, sizeof salt, s64, sizeof s64);
    broker_base64_encode(hash, sizeof hash, h64, sizeof h64);
    int n = type == BROKER_PW_SHA512_PBKDF2 ? snprintf(out, cap, "$7$%d$%s$%s", iterations, s64, h64)
                                            : snprintf(out, cap, "$6$%s$%s", s64, h64);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "hash does not fit");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- parse */


void broker_passwd_free(broker_passwd *pw)
{
    if (!pw) return;
    for (size_t i = 0; i < pw->n; i++) free(pw->entries[i].username);
    free(pw->entries);
    free(pw->index);
    free(pw);
}

size_t broker_passwd_count(const broker_passwd *pw)
{
    return pw ? pw->n : 0;
}

static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static const entry *find(const broker_passwd *pw, const char *username)
{
    if (!pw->index_cap) return NULL;
    for (size_t i = name_hash(username) & (pw->index_cap - 1);; i = (i + 1) & (pw->index_cap - 1)) {
        size_t slot = pw->index[i];
        if (!slot) return NULL;
        if (strcmp(pw->entries[slot - 1].username, username) == 0) return &pw->entries[slot - 1];
    }
}

static void index_put(size_t *index, size_t cap, const char *username, size_t slot)
{
    size_t i = name_hash(username) & (cap - 1);
    while (index[i]) i = (i + 1) & (cap - 1);
    index[i] = slot;
}

/* Indexes the last entry, growing the index to keep it at most half full. */
static bool index_add(broker_passwd *pw)
{
    if (2 * pw->n > pw->index_cap) {
        size_t cap = pw->index_cap ? pw->index_cap * 2 : 16;
        size_t *index = calloc(cap, sizeof *index);
        if (!index) return false;
        for (size_t i = 0; i + 1 < pw->n; i++) index_put(index, cap, pw->entries[i].username, i + 1);
        free(pw->index);
        pw->index = index;
        pw->index_cap = cap;
    }
    index_put(pw->index, pw->index_cap, pw->entries[pw->n - 1].username, pw->n);
    return true;
}

/* Decodes one base64 field of exactly `want` bytes. */
static int field(broker_where *x, const char *what, const char *user, const char *t, size_t n, uint8_t *out, size_t want)
{
    uint8_t buf[BROKER_PW_HASH_LEN + 3];
    long got = n <= 4 * sizeof buf / 3 ? broker_base64_decode(t, n, buf, sizeof buf) : -1;
    if (got < 0) return broker_where_fail(x, "user '%s': the %s is not valid base64", user, what);
    if ((size_t)got != want)
        return broker_where_fail(x, "user '%s': the %s is %ld bytes, expected %zu", user, what, got, want);
    memcpy(out, buf, want);
    return 0;
}

static int parse_hash(broker_where *x, entry *e, char *h)
{
    /* $7$iterations$salt$hash or $6$salt$hash */
    char *parts[5];
    size_t np = 0;
    if (h[0] != '$') return broker_where_fail(x, "user '%s': expected a hash starting with $7$ or $6$ (a plain text password?)",
                                 e->username);
    char *p = h + 1;
    while (np < 5) {
        parts[np++] = p;
        char *d = strchr(p, '$');
        if (!d) break;
        *d = '\0';
        p = d + 1;
    }
    if (strcmp(parts[0], "7") == 0) {
        if (np != 4) return broker_where_fail(x, "user '%s': expected $7$ITERATIONS$SALT$HASH", e->username);
        char *end;
        errno = 0;
        long it = strtol(parts[1], &end, 10);
        if (!*parts[1] || *end || errno || it < 1 || it > 100000000)
            return broker_where_fail(x, "user '%s': iterations '%s' is not a number from 1 to 100000000", e->username, parts[1]);
        e->type = BROKER_PW_SHA512_PBKDF2;
        e->iterations = (int)it;
        if (field(x, "salt", e->username, parts[2], strlen(parts[2]), e->salt, BROKER_PW_SALT_LEN)) return -1;
        return field(x, "hash", e->username, parts[3], strlen(parts[3]), e->hash, BROKER_PW_HASH_LEN);
    }
    if (strcmp(parts[0], "6") == 0) {
        if (np != 3) return broker_where_fail(x, "user '%s': expected $6$SALT$HASH", e->username);
        e->type = BROKER_PW_SHA512;
        if (field(x, "salt", e->username, parts[1], strlen(parts[1]), e->salt, BROKER_PW_SALT_LEN)) return -1;
        return field(x, "hash", e->username, parts[2], strlen(parts[2]), e->hash, BROKER_PW_HASH_LEN);
    }
    return broker_where_fail(x, "user '%s': unknown hash type '$%s$' (expected $7$ or $6$)", e->username, parts[0]);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims blanks at both ends, in place. */
static char *trim(char *s)
{
    while (blank(*s)) s++;
    size_t n = strlen(s);
    while (n && blank(s[n - 1])) s[--n] = '\0';
    return s;
}

static int parse_line(broker_passwd *pw, broker_where *x, char *line)
{
    char *t = trim(line);
    if (!*t || t[0] == '#') return 0;
    char *colon = strchr(t, ':');
    if (!colon) return broker_where_fail(x, "expected USER:HASH");
    *colon = '\0';
    char *user = trim(t);
    char *hash = trim(colon + 1);
    if (!*user) return broker_where_fail(x, "empty user name");
    if (strlen(user) > 65535) return broker_where_fail(x, "user name longer than 65535 bytes");
    if (find(pw, user)) return broker_where_fail(x, "user '%s' is listed twice", user);
    entry e = {0};
    e.username = user; /* for messages; copied below */
    if (strchr(hash, ':')) return broker_where_fail(x, "user '%s': ':' in the hash", user);
    if (parse_hash(x, &e, hash)) return -1;
    if (pw->n == pw->cap) {
        pw->cap = pw->cap ? pw->cap * 2 : 8;
        entry *ne = realloc(pw->entries, pw->cap * sizeof *ne);
        if (!ne) return broker_where_fail(x, "out of memory");
        pw->entries = ne;
    }
    e.username = strdup(user);
    if (!e.username) return broker_where_fail(x, "out of memory");
    pw->entries[pw->n++] = e;
    if (!index_add(pw)) return broker_where_fail(x, "out of memory");
    return 0;
}

broker_passwd *broker_passwd_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    broker_where x = {name, 0, err, errlen};
    broker_passwd *pw = calloc(1, sizeof *pw);
    if (!pw) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    size_t pos = 0;
    while (pos < len) {
        x.line++;
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t n = end - pos;
        char *line = malloc(n + 1);
        int rc;
        if (!line) {
            rc = broker_where_fail(&x, "out of memory");
        } else {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            rc = memchr(line, '\0', n) ? broker_where_fail(&x, "NUL byte in line") : parse_line(pw, &x, line);
        }
        free(line);
        pos = end + 1;
        if (rc) {
            broker_passwd_free(pw);
            return NULL;
        }
    }
    return pw;
}

broker_passwd *broker_passwd_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            if (cap >= (64u << 20)) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: larger than 64 MiB, not a password file", path);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    broker_passwd *pw = broker_passwd_parse(buf, len, path, err, errlen);
    free(buf);
    return pw;
}

bool broker_passwd_check(void *table, const char *username, const uint8_t *password, size_t len)
{
    const broker_passwd *pw = table;
    static const entry dummy = {.username = "", .type = BROKER_PW_SHA512_PBKDF2, .iterations = BROKER_PW_ITERATIONS};
    const entry *e = pw && username ? find(pw, username) : NULL;
    const entry *use = e ? e : &dummy;
    uint8_t got[BROKER_PW_HASH_LEN];
    if (!digest(use->type, use->iterations, password ? password : (const uint8_t *)"", password ? len : 0,
                use->salt, got))
        return false;
    bool same = CRYPTO_memcmp(got, use->hash, sizeof got) == 0;
    return e != NULL && same;
}
