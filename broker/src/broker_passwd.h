/*
 * broker_passwd: password files in mosquitto's format, shared by the broker
 * and mqtt-passwd. One `user:hash` line per user; `#` comment lines and
 * blank lines are skipped. Hashes (mosquitto_passwd's):
 *
 *   $7$ITERATIONS$SALT$HASH   PBKDF2-HMAC-SHA512 (mosquitto 2's default,
 *                             101 iterations), 12-byte salt, 64-byte hash
 *   $6$SALT$HASH              SHA-512 of password then salt (mosquitto 1.x)
 *
 * SALT and HASH in base64 (standard alphabet, padded). A line that is not
 * one of these (no ':', an unknown hash type, bad base64, wrong lengths,
 * iterations not a positive number, a NUL byte, a user listed twice) is an
 * error naming FILE:LINE: the broker refuses to start (or, on SIGHUP, keeps
 * the file it had) rather than silently locking a user out.
 *
 * Uses OpenSSL's libcrypto; not part of the sans-I/O core (the core checks
 * passwords through a callback, broker_core.h).
 */
#ifndef BROKER_PASSWD_H
#define BROKER_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_PW_SALT_LEN 12
#define BROKER_PW_HASH_LEN 64
#define BROKER_PW_ITERATIONS 101 /* mosquitto_passwd's default */

typedef enum { BROKER_PW_SHA512 = 6, BROKER_PW_SHA512_PBKDF2 = 7 } broker_pw_type;

typedef struct broker_passwd broker_passwd;

/* Parses a password file's text; `name` names it in errors. Returns a new
 * table or NULL with "NAME:LINE: message" in err. */
broker_passwd *broker_passwd_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* Reads and parses the file at path. NULL with a message on failure. */
broker_passwd *broker_passwd_load(const char *path, char *err, size_t errlen);

void broker_passwd_free(broker_passwd *pw);

size_t broker_passwd_count(const broker_passwd *pw);

/*
 * Whether password (len bytes, any bytes) is the one of username. The
 * comparison takes the same time whatever matches: the hashes are compared
 * with CRYPTO_memcmp, and an unknown user costs one hash too. Suits
 * broker_password_fn (ctx = the table).
 */
bool broker_passwd_check(void *table, const char *username, const uint8_t *password, size_t len);

/*
 * Formats the hash part of a line ("$7$101$salt$hash") for password with a
 * fresh random salt. iterations is used for PBKDF2 only (0 = default).
 * Returns 0, or -1 with a message (no randomness, out of space).
 */
int broker_passwd_hash(char *out, size_t cap, const char *password, broker_pw_type type, int iterations, char *err,
                       size_t errlen);

/* Base64 (standard alphabet, padded), exported for tests and mqtt-passwd.
 * encode: returns the length written (cap must hold 4*ceil(n/3)+1).
 * decode: returns the byte count, or -1 if text is not valid base64. */
size_t broker_base64_encode(const uint8_t *data, size_t n, char *out, size_t cap);
long broker_base64_decode(const char *text, size_t n, uint8_t *out, size_t cap);

#endif
