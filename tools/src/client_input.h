/*
 * mqtt-pub's message sources: a whole file (-f), all of standard input (-s),
 * or standard input line by line (-l). Messages are bytes: NUL, CR and
 * invalid UTF-8 go through unchanged, and nothing read is dropped silently.
 */
#ifndef TOOLS_CLIENT_INPUT_H
#define TOOLS_CLIENT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/src/client.h"

/* Largest PUBLISH payload we accept from a file or stdin (the remaining length
 * limit minus room for the topic and header). */
#define CLIENT_MAX_PAYLOAD 268435455u

/* -f: reads the file (regular file, pipe, device) into cfg->message. Prints the
 * error and returns 1 on failure. An empty file is an empty message. */
int client_load_file(client_cfg *cfg, const char *path);
/* -s: reads all of standard input into cfg->message (empty input is an error, as mosquitto_pub). */
int client_load_stdin(client_cfg *cfg);

/* -l: standard input split into lines ('\n' removed, nothing else changed). */
typedef struct {
    int fd;
    uint8_t *buf;
    size_t start, len, cap; /* unread bytes are buf[start .. len) */
    bool eof;
    unsigned long lines;    /* lines returned so far (for messages) */
} client_lines;

void client_lines_init(client_lines *l, int fd);
/* Reads what is available (one read). Returns 1 at end of input, 0 after data,
 * -1 on error (errno set). */
int client_lines_fill(client_lines *l);
/* The next whole line (or, at end of input, the unterminated last one):
 * true and *line / *len (valid until the next call), false if none yet. */
bool client_lines_next(client_lines *l, const uint8_t **line, size_t *len);
/* True when a line longer than CLIENT_MAX_PAYLOAD is being read. */
bool client_lines_overlong(const client_lines *l);
void client_lines_free(client_lines *l);

#endif
