/*
 * mqtt-passwd: manages password files for mqtt-broker (and mosquitto),
 * with mosquitto_passwd's options and file format.
 *
 *   mqtt-passwd [-H sha512 | -H sha512-pbkdf2] [-I N] [-c | -D] FILE USER
 *   mqtt-passwd [-H sha512 | -H sha512-pbkdf2] [-I N] [-c] -b FILE USER PASSWORD
 *   mqtt-passwd -U FILE
 *
 * Lines are `user:$7$iterations$salt$hash` (PBKDF2-SHA512, the default) or
 * `user:$6$salt$hash` (-H sha512), see broker/src/broker_passwd.h. The file
 * is rewritten through a temporary file in the same directory and renamed
 * over the old one, so an interrupted run never leaves half a file; other
 * lines (comments included) are kept as they were, in order. A new file is
 * created with mode 0600. Passwords are read from the terminal without
 * echo (twice), or one line each from standard input when it is not a
 * terminal. Exit status 0 on success, 1 on any error (with a message).
 */
#include "broker/src/broker_passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "mqtt-passwd: manages password files for mqtt-broker and mosquitto.\n\n"
            "usage: mqtt-passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] [-c | -D] passwordfile username\n"
            "       mqtt-passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] [-c] -b passwordfile username password\n"
            "       mqtt-passwd -U passwordfile\n"
            " -b : batch mode: the password is taken from the command line.\n"
            " -c : create a new password file (an existing one is overwritten).\n"
            " -D : delete the user rather than adding or updating its password.\n"
            " -H : hash: sha512-pbkdf2 (default, mosquitto 2) or sha512 (mosquitto 1.6 and earlier).\n"
            " -I : PBKDF2 iterations (default %d).\n"
            " -U : hash every plain text password of a file in place.\n",
            BROKER_PW_ITERATIONS);
}

typedef struct {
    char **lines;
    size_t n, cap;
} lines;

static void add_line(lines *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->lines = realloc(l->lines, l->cap * sizeof *l->lines);
        if (!l->lines) {
            fprintf(stderr, "mqtt-passwd: out of memory\n");
            exit(1);
        }
    }
    l->lines[l->n++] = s;
}

static void free_lines(lines *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->lines[i]);
    free(l->lines);
}

static int read_lines(const char *path, lines *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "mqtt-passwd: %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t no = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        no++;
        if (memchr(line, '\0', (size_t)n)) {
            fprintf(stderr, "mqtt-passwd: %s:%zu: NUL byte in line: not a password file\n", path, no);
            free(line);
            fclose(f);
            return -1;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        add_line(out, strdup(line));
    }
    free(line);
    fclose(f);
    return 0;
}

/* Writes lines to path through PATH.tmp + rename (mode of the old file, or 0600). */
static int write_lines(const char *path, const lines *l)
{
    size_t tl = strlen(path) + 8;
    char *tmpl = malloc(tl);
    if (!tmpl) return -1;
    snprintf(tmpl, tl, "%s.XXXXXX", path);
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        fprintf(stderr, "mqtt-passwd: cannot create a file next to %s: %s\n", path, strerror(errno));
        free(tmpl);
        return -1;
    }
    struct stat sb;
    fchmod(fd, stat(path, &sb) == 0 ? (sb.st_mode & 07777) : 0600);
    FILE *f = fdopen(fd, "w");
    bool ok = f != NULL;
    for (size_t i = 0; ok && i < l->n; i++) ok = fprintf(f, "%s\n", l->lines[i]) >= 0;
    if (f) ok = fflush(f) == 0 && fsync(fd) == 0 && ok;
    if (f) ok = fclose(f) == 0 && ok;
    else close(fd);
    if (!ok || rename(tmpl, path) != 0) {
        fprintf(stderr, "mqtt-passwd: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmpl);
        free(tmpl);
        return -1;
    }
    free(tmpl);
    return 0;
}

/* The user of a line ("user:..."), or NULL for comments and blanks. */
static bool line_user_is(const char *line, const char *user)
{
    if (line[0] == '#' || !strchr(line, ':')) return false;
    size_t n = strlen(user);
    return strncmp(line, user, n) == 0 && line[n] == ':';
}

static char *read_password_line(const char *prompt, bool tty)
{
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
    }
    struct termios old, quiet;
    bool echo_off = tty && tcgetattr(STDIN_FILENO, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return line;
}

static char *ask_password(void)
{
    bool tty = isatty(STDIN_FILENO);
    char *a = read_password_line("Password: ", tty);
    if (!a) {
        fprintf(stderr, "mqtt-passwd: no password given\n");
        return NULL;
    }
    char *b = read_password_line("Reenter password: ", tty);
    if (!b || strcmp(a, b) != 0) {
        fprintf(stderr, "mqtt-passwd: passwords do not match\n");
        free(a);
        free(b);
        return NULL;
    }
    free(b);
    return a;
}

static int check_user(const char *user)
{
    if (!*user) {
        fprintf(stderr, "mqtt-passwd: empty user name\n");
        return -1;
    }
    if (strchr(user, ':')) {
        fprintf(stderr, "mqtt-passwd: user name '%s' contains ':'\n", user);
        return -1;
    }
    if (strlen(user) > 65535) {
        fprintf(stderr, "mqtt-passwd: user name longer than 65535 bytes\n");
        return -1;
    }
    for (const char *p = user; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            fprintf(stderr, "mqtt-passwd: user name contains a control character\n");
            return -1;
        }
    }
    return 0;
}

static char *make_line(const char *user, const char *password, broker_pw_type type, int iterations)
{
    if (strlen(password) > 65535) {
        fprintf(stderr, "mqtt-passwd: password longer than 65535 bytes\n");
        return NULL;
    }
    char hash[256], err[128];
    if (broker_passwd_hash(hash, sizeof hash, password, type, iterations, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-passwd: %s\n", err);
        return NULL;
    }
    size_t n = strlen(user) + strlen(hash) + 2;
    char *line = malloc(n);
    if (line) snprintf(line, n, "%s:%s", user, hash);
    return line;
}

/* -U: hashes every line whose password is not a $6$ / $7$ hash yet. */
static int update_file(const char *path, broker_pw_type type, int iterations)
{
    lines l = {0};
    if (read_lines(path, &l) != 0) return 1;
    size_t hashed = 0;
    for (size_t i = 0; i < l.n; i++) {
        char *line = l.lines[i];
        char *colon = strchr(line, ':');
        if (line[0] == '#' || !colon) continue;
        const char *pw = colon + 1;
        if (strncmp(pw, "$6$", 3) == 0 || strncmp(pw, "$7$", 3) == 0) continue;
        *colon = '\0';
        char *nl = make_line(line, pw, type, iterations);
        if (!nl) {
            free_lines(&l);
            return 1;
        }
        free(l.lines[i]);
        l.lines[i] = nl;
        hashed++;
    }
    int rc = write_lines(path, &l) == 0 ? 0 : 1;
    if (rc == 0) fprintf(stderr, "mqtt-passwd: %s: %zu password%s hashed\n", path, hashed, hashed == 1 ? "" : "s");
    free_lines(&l);
    return rc;
}

int main(int argc, char **argv)
{
    bool batch = false, create = false, del = false, update = false;
    broker_pw_type type = BROKER_PW_SHA512_PBKDF2;
    int iterations = BROKER_PW_ITERATIONS;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-b") == 0) batch = true;
        else if (strcmp(a, "-c") == 0) create = true;
        else if (strcmp(a, "-D") == 0) del = true;
        else if (strcmp(a, "-U") == 0) update = true;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-H") == 0) {
            if (++i == argc) {
                fprintf(stderr, "mqtt-passwd: -H needs sha512 or sha512-pbkdf2\n");
                return 1;
            }
            if (strcmp(argv[i], "sha512-pbkdf2") == 0) type = BROKER_PW_SHA512_PBKDF2;
            else if (strcmp(argv[i], "sha512") == 0) type = BROKER_PW_SHA512;
            else {
                fprintf(stderr, "mqtt-passwd: -H: unknown hash '%s' (sha512 or sha512-pbkdf2)\n", argv[i]);
                return 1;
            }
        } else if (strcmp(a, "-I") == 0) {
            char *end;
            long n = ++i < argc ? strtol(argv[i], &end, 10) : 0;
            if (i >= argc || *end || n < 1 || n > 100000000) {
                fprintf(stderr, "mqtt-passwd: -I needs a number of iterations from 1 to 100000000\n");
                return 1;
            }
            iterations = (int)n;
        } else {
            fprintf(stderr, "mqtt-passwd: unknown option '%s'\n", a);
            usage(stderr);
            return 1;
        }
    }
    int nargs = argc - i;
    char **args = argv + i;
    if ((create && del) || (update && (create || del || batch))) {
        fprintf(stderr, "mqtt-passwd: -c, -D and -U cannot be combined (nor -U with -b)\n");
        return 1;
    }
    if (update) {
        if (nargs != 1) {
            usage(stderr);
            return 1;
        }
        return update_file(args[0], type, iterations);
    }
    if (nargs != (batch && !del ? 3 : 2)) {
        usage(stderr);
        return 1;
    }
    const char *path = args[0], *user = args[1];
    if (check_user(user) != 0) return 1;

    lines l = {0};
    if (!create && read_lines(path, &l) != 0) return 1;
    if (!create) {
        /* Refuse to edit what is not a password file, rather than keep garbage. */
        size_t total = 0;
        for (size_t k = 0; k < l.n; k++) total += strlen(l.lines[k]) + 1;
        char *text = malloc(total + 1);
        size_t o = 0;
        for (size_t k = 0; text && k < l.n; k++) o += (size_t)sprintf(text + o, "%s\n", l.lines[k]);
        char err[600];
        broker_passwd *pw = text ? broker_passwd_parse(text, o, path, err, sizeof err) : NULL;
        free(text);
        if (!pw) {
            fprintf(stderr, "mqtt-passwd: %s\n", text ? err : "out of memory");
            free_lines(&l);
            return 1;
        }
        broker_passwd_free(pw);
    }
    int rc = 1;
    if (del) {
        size_t w = 0;
        bool found = false;
        for (size_t k = 0; k < l.n; k++) {
            if (line_user_is(l.lines[k], user)) {
                free(l.lines[k]);
                found = true;
            } else {
                l.lines[w++] = l.lines[k];
            }
        }
        l.n = w;
        if (!found) fprintf(stderr, "mqtt-passwd: user %s not found in %s\n", user, path);
        else rc = write_lines(path, &l) == 0 ? 0 : 1;
        free_lines(&l);
        return rc;
    }
    char *password = batch ? strdup(args[2]) : ask_password();
    if (!password) {
        free_lines(&l);
        return 1;
    }
    char *line = make_line(user, password, type, iterations);
    free(password);
    if (!line) {
        free_lines(&l);
        return 1;
    }
    bool replaced = false;
    for (size_t k = 0; k < l.n; k++) {
        if (line_user_is(l.lines[k], user)) {
            free(l.lines[k]);
            l.lines[k] = line;
            replaced = true;
            break;
        }
    }
    if (!replaced) add_line(&l, line);
    rc = write_lines(path, &l) == 0 ? 0 : 1;
    free_lines(&l);
    return rc;
}
