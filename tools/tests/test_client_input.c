/*
 * mqtt-pub's message sources: files read byte-exact, standard input split
 * into lines without losing or changing a byte (except the '\n').
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/src/client_input.h"

TestSuite(client_input, .init = cr_redirect_stderr);

Test(client_input, file_is_read_byte_exact)
{
    char path[] = "/tmp/test-client-input-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    uint8_t bytes[70000];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 7 + 3);
    cr_assert_eq(write(fd, bytes, sizeof bytes), (ssize_t)sizeof bytes);
    close(fd);
    client_cfg cfg = {0};
    cr_assert_eq(client_load_file(&cfg, path), 0);
    cr_assert_eq(cfg.msglen, sizeof bytes);
    cr_assert_eq(memcmp(cfg.message, bytes, sizeof bytes), 0);
    free(cfg.message);
    unlink(path);
}

Test(client_input, empty_file_is_an_empty_message)
{
    client_cfg cfg = {0};
    cr_assert_eq(client_load_file(&cfg, "/dev/null"), 0);
    cr_assert_eq(cfg.msglen, 0);
    free(cfg.message);
}

Test(client_input, missing_or_unreadable_file_fails)
{
    client_cfg cfg = {0};
    cfg.quiet = true;
    cr_assert_eq(client_load_file(&cfg, "/nonexistent/file"), 1);
    cr_assert_eq(client_load_file(&cfg, "/tmp"), 1); /* a directory */
    cr_assert_null(cfg.message);
}

/* Feeds text through a pipe and collects the lines. */
static int split(const char *text, size_t textlen, char lines[][64], size_t *lens)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], text, textlen), (ssize_t)textlen);
    close(p[1]);
    client_lines l;
    client_lines_init(&l, p[0]);
    int n = 0;
    for (;;) {
        const uint8_t *line;
        size_t len;
        while (client_lines_next(&l, &line, &len)) {
            memcpy(lines[n], line, len);
            lens[n++] = len;
        }
        int rc = client_lines_fill(&l);
        cr_assert_geq(rc, 0);
        if (rc == 1 && l.start == l.len) break;
    }
    client_lines_free(&l);
    close(p[0]);
    return n;
}

Test(client_input, lines_keep_every_byte_but_the_newline)
{
    static const char text[] = "one\n\ntwo\r\nnul\0byte\nlast";
    char lines[8][64];
    size_t lens[8];
    int n = split(text, sizeof text - 1, lines, lens);
    cr_assert_eq(n, 5);
    cr_assert_eq(lens[0], 3);
    cr_assert_eq(memcmp(lines[0], "one", 3), 0);
    cr_assert_eq(lens[1], 0); /* the caller decides to skip empty lines */
    cr_assert_eq(lens[2], 4);
    cr_assert_eq(memcmp(lines[2], "two\r", 4), 0);
    cr_assert_eq(lens[3], 8);
    cr_assert_eq(memcmp(lines[3], "nul\0byte", 8), 0);
    cr_assert_eq(lens[4], 4);
    cr_assert_eq(memcmp(lines[4], "last", 4), 0);
}

Test(client_input, trailing_newline_gives_no_extra_line)
{
    char lines[4][64];
    size_t lens[4];
    cr_assert_eq(split("a\nb\n", 4, lines, lens), 2);
}

Test(client_input, long_lines_span_reads)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    size_t big = 200000;
    char *text = malloc(big + 1);
    memset(text, 'x', big);
    text[big] = '\n';
    client_lines l;
    client_lines_init(&l, p[0]);
    size_t off = 0;
    int got = 0;
    while (!got) {
        if (off < big + 1) {
            ssize_t w = write(p[1], text + off, (big + 1 - off) < 30000 ? (big + 1 - off) : 30000);
            cr_assert_gt(w, 0);
            off += (size_t)w;
            if (off == big + 1) close(p[1]);
        }
        cr_assert_geq(client_lines_fill(&l), 0);
        const uint8_t *line;
        size_t len;
        if (client_lines_next(&l, &line, &len)) {
            cr_assert_eq(len, big);
            cr_assert_eq(line[0], 'x');
            cr_assert_eq(line[big - 1], 'x');
            got = 1;
        }
    }
    client_lines_free(&l);
    close(p[0]);
    free(text);
}
