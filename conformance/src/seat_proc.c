/*
 * The client under test as a child process of the broker seat. It gets its
 * own process group (so that everything it starts dies with it), its stdout
 * and stderr go into one pipe the run reads (the transcript keeps the first
 * 4 KiB), stdin is /dev/null. posix_spawn, not fork, because runs go in
 * parallel threads. A pidfd (Linux 5.3+) makes its exit pollable; without
 * one the run polls waitpid at its next wakeup. seat_proc_stop always kills
 * the group and reaps the child: nothing outlives its run.
 */
#include "conformance/src/seat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs spawn clients from parallel threads: a descriptor made between its
 * creation and its FD_CLOEXEC would leak into another run's client (a pipe
 * that then never reaches EOF, a connection that never closes). Creating
 * descriptors and spawning take this lock. */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;

void seat_fd_lock(void) { pthread_mutex_lock(&fd_lock); }
void seat_fd_unlock(void) { pthread_mutex_unlock(&fd_lock); }

/* The clients running now (their process group ids), for the signal guard:
 * they are in groups of their own, so a ^C at the terminal does not reach
 * them; the guard kills them before the runner dies of the signal. */
#define MAX_LIVE 64
static volatile sig_atomic_t live[MAX_LIVE];

static void track(pid_t pid, bool add)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (add ? live[i] == 0 : live[i] == pid) { live[i] = add ? pid : 0; return; }
}

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) kill(-(pid_t)live[i], SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

void seat_proc_guard(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

int seat_proc_start(seat_proc *p, char *const argv[], char *msg, size_t msglen)
{
    *p = (seat_proc){.pid = -1, .out = -1, .pidfd = -1};
    int pfd[2];
    seat_fd_lock();
    if (pipe(pfd) != 0) {
        seat_fd_unlock();
        snprintf(msg, msglen, "pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC); /* parallel runs spawn too: no pipe leaks into another child */
    fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pfd[1]);
    if (rc == 0) track(pid, true);
    seat_fd_unlock();
    if (rc != 0) {
        close(pfd[0]);
        snprintf(msg, msglen, "cannot start %s: %s", argv[0], strerror(rc));
        return -1;
    }
    fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
    p->pid = pid;
    p->out = pfd[0];
    p->pidfd = open_pidfd(pid);
    return 0;
}

void seat_proc_read(seat_proc *p)
{
    char tmp[4096];
    for (int i = 0; p->out >= 0 && i < 64; i++) {
        ssize_t n = read(p->out, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) { close(p->out); p->out = -1; return; }
        size_t room = sizeof p->buf - 1 - p->len, k = (size_t)n < room ? (size_t)n : room;
        memcpy(p->buf + p->len, tmp, k);
        p->len += k;
        p->buf[p->len] = '\0';
        p->dropped += (size_t)n - k;
    }
}

/* The child's exit is read without reaping it (WNOWAIT): a zombie leader
 * keeps its process group id reserved, so the group kill in seat_proc_stop
 * can never reach an unrelated group that reused the number. */
bool seat_proc_reap(seat_proc *p)
{
    if (p->exited || p->pid <= 0) return true;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
    if (si.si_pid != p->pid) return false;
    p->exited = true;
    p->code = si.si_code == CLD_EXITED ? si.si_status : -1;
    p->sig = si.si_code == CLD_EXITED ? 0 : si.si_status;
    return true;
}

void seat_proc_stop(seat_proc *p)
{
    if (p->pid <= 0 && !p->exited) return; /* never started: it owns no descriptor */
    if (p->pid > 0) {
        /* the whole group: a wrapper (node, a shell) and what it started */
        if (!seat_proc_reap(p)) p->killed = true;
        seat_fd_lock();
        track(p->pid, false); /* before the reap below frees its number */
        seat_fd_unlock();
        kill(-p->pid, SIGKILL);
        int st;
        while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {}
        if (p->killed) { p->exited = true; p->code = -1; p->sig = SIGKILL; }
    }
    seat_proc_read(p);
    if (p->out >= 0) { close(p->out); p->out = -1; }
    if (p->pidfd >= 0) { close(p->pidfd); p->pidfd = -1; }
    p->pid = 0;
}

void seat_proc_status_text(const seat_proc *p, char *buf, size_t cap)
{
    if (!p->exited) snprintf(buf, cap, p->pid > 0 ? "still running" : "not started");
    else if (p->killed) snprintf(buf, cap, "still running at the end of the run: killed");
    else if (p->sig) snprintf(buf, cap, "killed by signal %d (%s)", p->sig, strsignal(p->sig));
    else snprintf(buf, cap, "exited with status %d", p->code);
}
