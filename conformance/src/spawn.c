/*
 * The embedded default: with no --broker, mqtt-conform starts the reference
 * broker on a free port (`mqtt-broker -c CONF -p 0`, which prints
 * "listening on 127.0.0.1:PORT"), runs against it, and stops it. The broker's
 * output goes to a log file, which is also where its port line is read from
 * (a pipe could fill up and block the broker once we stop reading it).
 * It runs with a small configuration file (next to the log, removed once the
 * broker listens): the broker's defaults plus a Maximum Packet Size, so that the limit can be
 * checked in both directions (5.0 MQTT-3.1.2-24 and MQTT-3.2.2-15).
 */
#include "conformance/src/spawn.h"

#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the suite expects of the reference broker beyond its defaults. */
#define REFERENCE_CONFIG \
    "# Written by mqtt-conform: the reference broker as the conformance suite runs it.\n" \
    "max_packet_size 1048576\n"

static void exit_text(int status, char *msg, size_t msglen)
{
    if (WIFEXITED(status)) snprintf(msg, msglen, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(msg, msglen, "killed by signal %d", WTERMSIG(status));
    else snprintf(msg, msglen, "stopped");
}

int conf_broker_start(const char *bin, const char *logpath, int timeout_ms, conf_broker_proc *b,
                      char *msg, size_t msglen)
{
    memset(b, 0, sizeof *b);
    if (access(bin, X_OK) != 0) {
        snprintf(msg, msglen, "the reference broker %s is not there (%s): build it with `make %s`, "
                 "or give --broker HOST:PORT", bin, strerror(errno), bin);
        return -1;
    }
    char confpath[4096];
    size_t ll = strlen(logpath);
    if (ll > 4 && strcmp(logpath + ll - 4, ".log") == 0) ll -= 4;
    /* per process, removed once the broker has read it: parallel runners never share one */
    snprintf(confpath, sizeof confpath, "%.*s-%ld.conf", (int)ll, logpath, (long)getpid());
    FILE *cf = fopen(confpath, "w");
    bool written = cf && fputs(REFERENCE_CONFIG, cf) >= 0;
    if (cf && fclose(cf) != 0) written = false;
    if (!written) {
        snprintf(msg, msglen, "cannot write %s: %s", confpath, strerror(errno));
        if (cf) unlink(confpath);
        return -1;
    }
    int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) {
        snprintf(msg, msglen, "cannot create %s: %s", logpath, strerror(errno));
        unlink(confpath);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        close(log);
        unlink(confpath);
        return -1;
    }
    if (pid == 0) {
        dup2(log, 1);
        dup2(log, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        execl(bin, bin, "-c", confpath, "-p", "0", (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(log);
    b->pid = pid;
    int64_t deadline = net_now_ms() + timeout_ms;
    char buf[8192];
    for (;;) {
        FILE *f = fopen(logpath, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = '\0';
        const char *l = strstr(buf, "listening on ");
        const char *eol = l ? strchr(l, '\n') : NULL;
        if (l && eol) {
            char hostport[128];
            size_t hl = (size_t)(eol - (l + 13));
            if (hl >= sizeof hostport) hl = sizeof hostport - 1;
            memcpy(hostport, l + 13, hl);
            hostport[hl] = '\0';
            uint16_t port = 0;
            if (net_parse_hostport(hostport, b->host, sizeof b->host, &port) == 0 && port) {
                b->port = port;
                unlink(confpath);
                return 0;
            }
            snprintf(msg, msglen, "%s printed \"listening on %s\": expected HOST:PORT", bin, hostport);
            break;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char how[64];
            exit_text(status, how, sizeof how);
            b->pid = 0;
            snprintf(msg, msglen, "the reference broker %s %s before listening (log: %s)", bin, how, logpath);
            unlink(confpath);
            return -1;
        }
        if (net_now_ms() >= deadline) {
            snprintf(msg, msglen, "the reference broker %s printed no \"listening on HOST:PORT\" within %d ms (log: %s)",
                     bin, timeout_ms, logpath);
            break;
        }
        poll(NULL, 0, 10); /* the log file cannot be polled for growth: check again shortly */
    }
    unlink(confpath);
    char ignored[64];
    conf_broker_stop(b, ignored, sizeof ignored);
    return -1;
}

void conf_broker_stop(conf_broker_proc *b, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "not running");
    if (b->pid <= 0) return;
    kill(b->pid, SIGTERM);
    int64_t deadline = net_now_ms() + 3000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(b->pid, &status, WNOHANG);
        if (r == b->pid) break;
        if (r < 0) { snprintf(msg, msglen, "waitpid: %s", strerror(errno)); b->pid = 0; return; }
        if (net_now_ms() >= deadline) {
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &status, 0);
            snprintf(msg, msglen, "did not stop on SIGTERM within 3 s: killed");
            b->pid = 0;
            return;
        }
        poll(NULL, 0, 10);
    }
    exit_text(status, msg, msglen);
    b->pid = 0;
}
