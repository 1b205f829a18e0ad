/*
 * mqtt-pub's message sources (see client_input.h). Files are read with
 * read(2) to the end rather than sized with ftell, so pipes and /dev/stdin
 * work and the bytes sent are exactly the bytes read.
 */
#include "tools/src/client_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads fd to its end into a new buffer. Returns 0, -1 (errno set) or -2 (too large). */
static int read_all(int fd, uint8_t **out, size_t *outlen)
{
    size_t len = 0, cap = 65536;
    uint8_t *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        if (len == cap) {
            if (cap > CLIENT_MAX_PAYLOAD) {
                free(buf);
                return -2;
            }
            uint8_t *n = realloc(buf, cap * 2);
            if (!n) {
                free(buf);
                return -1;
            }
            buf = n;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    if (len > CLIENT_MAX_PAYLOAD) {
        free(buf);
        return -2;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int client_load_file(client_cfg *cfg, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        client_err(cfg, "Error: Unable to open file \"%s\": %s.\n", path, strerror(errno));
        return 1;
    }
    uint8_t *buf;
    size_t len;
    int rc = read_all(fd, &buf, &len);
    int e = errno;
    close(fd);
    if (rc == -2) {
        client_err(cfg, "Error: File must be less than %u bytes.\n\n", CLIENT_MAX_PAYLOAD);
        return 1;
    }
    if (rc) {
        client_err(cfg, "Error: Unable to read file \"%s\": %s.\n", path, strerror(e));
        return 1;
    }
    free(cfg->message);
    cfg->message = buf;
    cfg->msglen = len;
    return 0;
}

int client_load_stdin(client_cfg *cfg)
{
    uint8_t *buf;
    size_t len;
    int rc = read_all(STDIN_FILENO, &buf, &len);
    if (rc == -2) {
        client_err(cfg, "Error: Message length must be less than %u bytes.\n\n", CLIENT_MAX_PAYLOAD);
        return 1;
    }
    if (rc) {
        client_err(cfg, "Error: Unable to read standard input: %s.\n", strerror(errno));
        return 1;
    }
    if (len == 0) {
        free(buf);
        client_err(cfg, "Error: Zero length input.\n");
        return 1;
    }
    free(cfg->message);
    cfg->message = buf;
    cfg->msglen = len;
    return 0;
}

void client_lines_init(client_lines *l, int fd)
{
    memset(l, 0, sizeof *l);
    l->fd = fd;
}

int client_lines_fill(client_lines *l)
{
    if (l->eof) return 1;
    if (l->start > 0 && l->start == l->len) l->start = l->len = 0;
    if (l->start > l->cap / 2) { /* reclaim what was consumed */
        memmove(l->buf, l->buf + l->start, l->len - l->start);
        l->len -= l->start;
        l->start = 0;
    }
    if (l->cap - l->len < 4096) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        uint8_t *n = realloc(l->buf, cap);
        if (!n) return -1;
        l->buf = n;
        l->cap = cap;
    }
    for (;;) {
        ssize_t n = read(l->fd, l->buf + l->len, l->cap - l->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) {
            l->eof = true;
            return 1;
        }
        l->len += (size_t)n;
        return 0;
    }
}

bool client_lines_next(client_lines *l, const uint8_t **line, size_t *len)
{
    if (l->start == l->len) return false;
    uint8_t *from = l->buf + l->start;
    uint8_t *nl = memchr(from, '\n', l->len - l->start);
    if (nl) {
        *line = from;
        *len = (size_t)(nl - from);
        l->start += *len + 1;
    } else if (l->eof) {
        *line = from;
        *len = l->len - l->start;
        l->start = l->len;
    } else {
        return false;
    }
    l->lines++;
    return true;
}

bool client_lines_overlong(const client_lines *l)
{
    return l->len - l->start > CLIENT_MAX_PAYLOAD;
}

void client_lines_free(client_lines *l)
{
    free(l->buf);
    memset(l, 0, sizeof *l);
}
