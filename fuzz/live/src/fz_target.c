/*
 * fz_target: starting, watching and restarting the broker (see fz_target.h).
 * The command runs through /bin/sh as `exec CMD`, so the pid we hold is the
 * broker's own (signals, /proc/PID/status and the exit status are its).
 */
#include "fuzz/live/src/fz_target.h"

#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint16_t free_port(void)
{
    char err[128];
    int fd = net_listen("127.0.0.1", 0, 1, err, sizeof err);
    if (fd < 0) return 0;
    uint16_t port = net_local_port(fd);
    close(fd);
    return port;
}

/* cmd with every {port} replaced. */
static void expand(const char *cmd, uint16_t port, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "exec ");
    for (const char *p = cmd; *p && n + 8 < cap; p++) {
        if (strncmp(p, "{port}", 6) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%u", port);
            p += 5;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static pid_t launch(const char *shcmd, const char *logpath)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", shcmd, (char *)NULL);
    _exit(127);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls host:port until it accepts, the process dies, or the deadline. */
static int wait_ready(fz_target *t, int timeout_ms, char *err, size_t errlen)
{
    int64_t end = net_now_ms() + timeout_ms;
    char what[128], e[256];
    while (net_now_ms() < end) {
        int fd = net_connect(t->host, t->port, 200, e, sizeof e);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (t->spawn_cmd && fz_target_died(t, 0, what, sizeof what)) {
            snprintf(err, errlen, "broker command exited before listening (%s); see %s", what, t->logpath);
            return -1;
        }
        sleep_ms(20);
    }
    snprintf(err, errlen, "%s:%u does not accept connections after %d ms%s%s", t->host, t->port,
             timeout_ms, t->spawn_cmd ? "; see " : "", t->spawn_cmd ? t->logpath : "");
    return -1;
}

int fz_target_start(fz_target *t, int timeout_ms, char *err, size_t errlen)
{
    if (!t->spawn_cmd) return wait_ready(t, timeout_ms, err, errlen);
    char shcmd[2048];
    snprintf(t->host, sizeof t->host, "127.0.0.1");
    t->port = free_port();
    expand(t->spawn_cmd, t->port, shcmd, sizeof shcmd);
    snprintf(t->logpath, sizeof t->logpath, "%s/broker-%d.log", t->logdir, ++t->starts);
    t->log_seen = 0;
    t->pid = launch(shcmd, t->logpath);
    if (t->pid < 0) {
        t->pid = 0;
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (wait_ready(t, timeout_ms, err, errlen) == 0) return 0;
    fz_target_stop(t);
    return -1;
}

void fz_target_stop(fz_target *t)
{
    char what[64];
    if (!t->pid) return;
    kill(t->pid, SIGTERM);
    if (!fz_target_died(t, 2000, what, sizeof what)) {
        kill(t->pid, SIGKILL);
        fz_target_died(t, 2000, what, sizeof what);
    }
    t->pid = 0;
}

bool fz_target_died(fz_target *t, int wait_ms, char *what, size_t cap)
{
    if (!t->pid) return false;
    int64_t end = net_now_ms() + wait_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(t->pid, &st, WNOHANG);
        if (r == t->pid) {
            t->exit_status = st;
            t->pid = 0;
            if (WIFSIGNALED(st)) snprintf(what, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
            else snprintf(what, cap, "exit status %d", WEXITSTATUS(st));
            return true;
        }
        if (net_now_ms() >= end) return false;
        sleep_ms(5);
    }
}
