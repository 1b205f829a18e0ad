/*
 * fz_session: what mqtt-fuzz sends to a broker, as data. A session is a
 * protocol version, a namespace (7 characters in every client id and topic,
 * the length of the conformance runner's ${ns}, so a finding becomes a
 * scenario without changing any length field) and a list of steps: bytes
 * one client sends in one TCP write (opening its connection first if it
 * has none), or a client closing its connection abruptly.
 *
 * Steps own their bytes (heap). Sessions are also saved as text (the corpus
 * and every finding's session.txt), one step per line:
 *   version 5.0 / ns k3j9a0q / clients 3 / send a 1012... / close b
 */
#ifndef FZ_SESSION_H
#define FZ_SESSION_H

#include <mqtt/codec.h>
#include <stdio.h>

#define FZ_MAX_CLIENTS 4
#define FZ_MAX_STEPS 160
#define FZ_MAX_STEP_BYTES 4096
#define FZ_NS_LEN 7

typedef enum { FZ_SEND = 0, FZ_CLOSE = 1 } fz_step_kind;

typedef struct {
    uint8_t kind;     /* fz_step_kind */
    uint8_t client;   /* 0..nclients-1 */
    uint16_t len;     /* bytes of a FZ_SEND */
    uint8_t *bytes;   /* owned */
} fz_step;

typedef struct {
    mqtt_version version;
    uint8_t nclients;
    char ns[FZ_NS_LEN + 1];
    size_t nsteps;
    fz_step steps[FZ_MAX_STEPS];
} fz_session;

void fz_session_init(fz_session *s, mqtt_version v, const char *ns, uint8_t nclients);
void fz_session_free(fz_session *s);
/* Deep copy into *dst (which must be free or initialised). Returns 0, -1 on out of memory. */
int fz_session_copy(fz_session *dst, const fz_session *src);
/* Appends a step (bytes copied, len capped at FZ_MAX_STEP_BYTES). Returns 0, -1 if full. */
int fz_session_add(fz_session *s, fz_step_kind kind, uint8_t client, const uint8_t *b, size_t len);
/* Inserts a step before position at. Returns 0, -1 if full. */
int fz_session_insert(fz_session *s, size_t at, fz_step_kind kind, uint8_t client,
                      const uint8_t *b, size_t len);
void fz_session_remove(fz_session *s, size_t at);
/* Replaces the bytes of step i (copied). Returns 0 or -1. */
int fz_step_set(fz_step *st, const uint8_t *b, size_t len);
/* Appends src's steps to dst after closing every client of dst: sessions that
 * ran one after the other as one (a finding that needs earlier sessions'
 * state). Namespaces of src stay as they are. Returns 0, -1 if too long. */
int fz_session_append(fz_session *dst, const fz_session *src);
/* A namespace of FZ_NS_LEN lowercase letters and digits (a letter first) from h. */
void fz_make_ns(uint64_t h, char *ns);
/* Gives s the namespace ns: every occurrence of the old one in its bytes is
 * replaced (same length, so no length field changes). */
void fz_session_rename(fz_session *s, const char *ns);
/* FNV-1a over everything that is sent, the namespace masked: equal sessions
 * (up to their namespace), equal hashes. */
uint64_t fz_session_hash(const fz_session *s);
/* Total bytes sent. */
size_t fz_session_bytes(const fz_session *s);

/* Text form. write returns 0 or -1; read returns 0, or -1 with err filled
 * ("line 4: bad hex"). */
int fz_session_write(const fz_session *s, FILE *fp);
int fz_session_read(fz_session *s, FILE *fp, char *err, size_t errlen);

/* "a".."d": the client's name in sessions and scenarios. */
char fz_client_name(uint8_t client);
/* "3.1", "3.1.1", "5.0" <-> version; 0 when unknown. */
mqtt_version fz_version_parse(const char *text);

#endif
