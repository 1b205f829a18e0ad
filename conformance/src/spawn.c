/*
 * The embedded default: with no --broker, mqtt-conform starts the reference
 * broker on a free port (`mqtt-broker -c CONF -p 0`, which prints
 * "listening on 127.0.0.1:PORT"), runs against it, and stops it. The broker's
 * output goes to a log file, which is also where its port line is read from
 * (a pipe could fill up and block the broker once we stop reading it).
 * It runs with a small configuration file (next to the log, removed once the
 * broker listens): the broker's defaults plus a Maximum Packet Size, so that the limit can be
 * checked in both directions (5.0 MQTT-3.1.2-24 and MQTT-3.2.2-15).
 *
 * The child is never left behind: it is reaped (waitpid, so a zombie is not
 * mistaken for a live broker), it dies with us (PR_SET_PDEATHSIG on Linux),
 * and SIGINT/SIGTERM/SIGHUP stop it before the runner goes. A broker that died
 * before we stopped it, did not exit 0 on SIGTERM, or wrote a sanitizer
 * report into its log is a finding the runner reports (exit 1).
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
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>


static void exit_text(int status, char *msg, size_t msglen)
{
    if (WIFEXITED(status)) snprintf(msg, msglen, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(msg, msglen, "killed by signal %d", WTERMSIG(status));
    else snprintf(msg, msglen, "stopped");
}

/* The config file next to the log: per process, removed once the broker has
 * read it, so parallel runners never share one. 0, or -1 with msg. */
static int write_config(const char *logpath, char *confpath, size_t cap, char *msg, size_t msglen)
{
    size_t ll = strlen(logpath);
    if (ll > 4 && strcmp(logpath + ll - 4, ".log") == 0) ll -= 4;
    snprintf(confpath, cap, "%.*s-%ld.conf", (int)ll, logpath, (long)getpid());
    FILE *cf = fopen(confpath, "w");
    bool written = cf && fputs(CONF_REFERENCE_CONFIG, cf) >= 0;
    if (cf && fclose(cf) != 0) written = false;
    if (!written) {
        snprintf(msg, msglen, "cannot write %s: %s", confpath, strerror(errno));
        if (cf) unlink(confpath);
        return -1;
    }
    return 0;
}

/* In the child: output to the log, dies with its parent, becomes the broker. */
static void exec_broker(const char *bin, const char *confpath, int log, pid_t parent)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != parent) _exit(1); /* the parent died before prctl: nobody to serve */
    dup2(log, 1);
    dup2(log, 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execl(bin, bin, "-c", confpath, "-p", "0", (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
    _exit(127);
}

/* Reads the port from the log's "listening on HOST:PORT" line. 1 found, 0 not
 * yet, -1 malformed (msg filled). */
static int listening_line(conf_broker_proc *b, const char *bin, char *msg, size_t msglen)
{
    char buf[8192];
    FILE *f = fopen(b->log, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    const char *l = strstr(buf, "listening on ");
    const char *eol = l ? strchr(l, '\n') : NULL;
    if (!l || !eol) return 0;
    char hostport[128];
    size_t hl = (size_t)(eol - (l + 13));
    if (hl >= sizeof hostport) hl = sizeof hostport - 1;
    memcpy(hostport, l + 13, hl);
    hostport[hl] = '\0';
    uint16_t port = 0;
    if (net_parse_hostport(hostport, b->host, sizeof b->host, &port) == 0 && port) {
        b->port = port;
        return 1;
    }
    snprintf(msg, msglen, "%s printed \"listening on %s\": expected HOST:PORT", bin, hostport);
    return -1;
}

/* Polls the log until the broker listens, dies or the deadline passes. */
static int wait_listening(conf_broker_proc *b, const char *bin, int timeout_ms, char *msg, size_t msglen)
{
    int64_t deadline = net_now_ms() + timeout_ms;
    for (;;) {
        int got = listening_line(b, bin, msg, msglen);
        if (got) return got > 0 ? 0 : -1;
        if (!conf_broker_alive(b)) {
            snprintf(msg, msglen, "the reference broker %s %s before listening (log: %s)", bin, b->died_how, b->log);
            return -1;
        }
        if (net_now_ms() >= deadline) {
            snprintf(msg, msglen, "the reference broker %s printed no \"listening on HOST:PORT\" within %d ms (log: %s)",
                     bin, timeout_ms, b->log);
            return -1;
        }
        poll(NULL, 0, 10); /* the log file cannot be polled for growth: check again shortly */
    }
}

int conf_broker_start(const char *bin, const char *logpath, int timeout_ms, conf_broker_proc *b,
                      char *msg, size_t msglen)
{
    memset(b, 0, sizeof *b);
    snprintf(b->log, sizeof b->log, "%s", logpath);
    if (access(bin, X_OK) != 0) {
        snprintf(msg, msglen, "the reference broker %s is not there (%s): build it with `make %s`, "
                 "or give --broker HOST:PORT", bin, strerror(errno), bin);
        return -1;
    }
    char confpath[4200];
    if (write_config(logpath, confpath, sizeof confpath, msg, msglen) < 0) return -1;
    int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) {
        snprintf(msg, msglen, "cannot create %s: %s", logpath, strerror(errno));
        unlink(confpath);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) exec_broker(bin, confpath, log, parent);
    close(log);
    if (pid < 0) {
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        unlink(confpath);
        return -1;
    }
    b->pid = pid;
    int rc = wait_listening(b, bin, timeout_ms, msg, msglen);
    unlink(confpath);
    if (rc < 0) {
        char ignored[64];
        conf_broker_stop(b, ignored, sizeof ignored);
        b->died = false;
    }
    return rc;
}

bool conf_broker_alive(conf_broker_proc *b)
{
    if (b->pid <= 0) return false;
    int status;
    pid_t r = waitpid(b->pid, &status, WNOHANG);
    if (r == 0) return true;
    if (r == b->pid) exit_text(status, b->died_how, sizeof b->died_how);
    else snprintf(b->died_how, sizeof b->died_how, "vanished (waitpid: %s)", strerror(errno));
    b->died = true;
    b->pid = 0;
    return false;
}

int conf_broker_stop(conf_broker_proc *b, char *msg, size_t msglen)
{
    if (b->pid <= 0 || !conf_broker_alive(b)) {
        if (b->died) snprintf(msg, msglen, "died during the run (%s)", b->died_how);
        else snprintf(msg, msglen, "not running");
        return b->died ? -1 : 0;
    }
    kill(b->pid, SIGTERM);
    int64_t deadline = net_now_ms() + 3000;
    int status = 0;
    pid_t r;
    while ((r = waitpid(b->pid, &status, WNOHANG)) == 0 && net_now_ms() < deadline) poll(NULL, 0, 10);
    if (r == 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, &status, 0);
        snprintf(msg, msglen, "did not stop on SIGTERM within 3 s: killed");
        b->pid = 0;
        return -1;
    }
    b->pid = 0;
    if (r < 0) {
        snprintf(msg, msglen, "waitpid: %s", strerror(errno));
        return -1;
    }
    exit_text(status, msg, msglen);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

bool conf_broker_sanitizer_report(const conf_broker_proc *b, char *msg, size_t msglen)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                                        "SUMMARY: UndefinedBehaviorSanitizer", "WARNING: ThreadSanitizer"};
    FILE *f = b->log[0] ? fopen(b->log, "r") : NULL;
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        for (size_t i = 0; i < sizeof marks / sizeof marks[0] && !found; i++) {
            if (!strstr(line, marks[i])) continue;
            line[strcspn(line, "\n")] = '\0';
            snprintf(msg, msglen, "%s", line);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* ---- signals: stop the broker, then die of the signal ---- */

static conf_broker_proc *volatile guarded;

static void on_fatal_signal(int sig)
{
    pid_t pid = guarded ? guarded->pid : 0;
    if (pid > 0) {
        kill(pid, SIGTERM);
        struct timespec ts = {0, 10 * 1000 * 1000};
        int i = 0;
        while (waitpid(pid, NULL, WNOHANG) == 0 && i++ < 200) nanosleep(&ts, NULL);
        if (i > 200) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void conf_broker_guard(conf_broker_proc *b)
{
    guarded = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}
