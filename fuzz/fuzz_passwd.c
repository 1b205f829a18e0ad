/*
 * Fuzz harness `passwd`: the password file parser
 * (broker/src/broker_passwd.c, mosquitto's $6$ / $7$ format) and its
 * base64 decoder on arbitrary text.
 *
 * Invariants: no crash or leak; a refused file gets a "fuzz.pw:N: ..."
 * message; base64 that decodes re-encodes to the same text (the decoder
 * accepts only canonical, padded base64). Passwords are not checked here:
 * a file may ask for 10^8 PBKDF2 iterations, which is slow by design.
 */
#include "broker/src/broker_passwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char err[512] = "";
    broker_passwd *pw = broker_passwd_parse((const char *)data, size, "fuzz.pw", err, sizeof err);
    if (!pw && (strncmp(err, "fuzz.pw:", 8) != 0 || strchr(err, '\n'))) {
        fprintf(stderr, "error message without FILE:LINE or on several lines: %s\n", err);
        abort();
    }
    broker_passwd_free(pw);
    if (size <= 1024) {
        uint8_t out[1024];
        long n = broker_base64_decode((const char *)data, size, out, sizeof out);
        if (n >= 0) {
            char enc[1400];
            size_t m = broker_base64_encode(out, (size_t)n, enc, sizeof enc);
            if (m != size || memcmp(enc, data, size) != 0) {
                fprintf(stderr, "base64 accepted a non-canonical form\n");
                abort();
            }
        }
    }
    return 0;
}
