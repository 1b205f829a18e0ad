/*
 * fz_client_play: one client-fuzzing session (see fz_client.h). Starts the
 * client in its own process group, accepts its connection, then plays the
 * hostile broker (live: decisions from the rng as the client speaks, each
 * recorded with the client bytes seen so far; replay: the recorded writes,
 * each once the client has sent that much, or after --answer-ms). Stops at
 * the client's close or exit, after a short idle, or when the client has
 * had --hang-ms to react to a protocol violation of ours; then judges.
 */
#include "fuzz/live/src/fz_client.h"
#include "fuzz/live/src/fz_codec.h"

#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE_TICKS 3

typedef struct {
    fz_cctx *x;
    fz_rng *r;             /* NULL: replay */
    fz_cscript *script;
    fz_run *run;
    fz_finding *f;
    int fd;
    pid_t pid;
    int status;            /* wait status once exited */
    bool exited, closed;   /* the client exited / the connection is closed */
    fz_cpeer peer;
    size_t cparsed;        /* client bytes decoded */
    bool cbroken;          /* the client's bytes stopped decoding */
    size_t sparsed;        /* our bytes decoded */
    size_t next;           /* writes sent */
    int64_t violated_ms;   /* when our bytes first broke the protocol, 0: never */
    char violation[100];
    bool has_spec;
    int actions, idle;
} play;

static pid_t spawn(const fz_cctx *x)
{
    char cmd[2048], port[8];
    snprintf(port, sizeof port, "%u", x->port);
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "exec ");
    for (const char *c = x->o->client; *c && n + 16 < sizeof cmd;) {
        const char *rep = !strncmp(c, "{host}", 6) ? "127.0.0.1" : !strncmp(c, "{port}", 6) ? port : NULL;
        if (rep) n += (size_t)snprintf(cmd + n, sizeof cmd - n, "%s", rep), c += 6;
        else cmd[n++] = *c++;
    }
    cmd[n] = 0;
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int log = open(x->logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_RDONLY);
        if (log >= 0) dup2(log, 1), dup2(log, 2);
        if (nul >= 0) dup2(nul, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (pid > 0) setpgid(pid, pid);
    return pid;
}

static bool reap(play *p, int wait_ms)
{
    for (int64_t end = net_now_ms() + wait_ms; !p->exited;) {
        if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) p->exited = true;
        else if (net_now_ms() >= end) break;
        else poll(NULL, 0, 10);
    }
    return p->exited;
}

/* The client's end: it exits on its own after we close, or is stopped.
 * Returns whether we sent it a signal. */
static bool stop(play *p)
{
    if (reap(p, 300)) return false;
    kill(-p->pid, SIGTERM);
    if (reap(p, 1500)) return true;
    kill(-p->pid, SIGKILL);
    waitpid(p->pid, &p->status, 0);
    p->exited = true;
    return true;
}

static void spec_finding(play *p, const char *rule, uint8_t type, const char *what)
{
    if (p->has_spec) return;
    p->has_spec = true;
    memset(p->f, 0, sizeof *p->f);
    p->f->cls = FZ_SPEC;
    p->f->conn = p->f->client = 0;
    p->f->code = -1;
    p->f->packet_type = type;
    snprintf(p->f->rule, sizeof p->f->rule, "%s", rule);
    snprintf(p->f->what, sizeof p->f->what, "client sent %s", what);
    snprintf(p->f->sig, sizeof p->f->sig, "client spec %s %s", rule, mqtt_packet_type_name((mqtt_packet_type)type));
}

/* Our bytes since the last whole packet: the first that do not decode as
 * what a server may send this client (its version, its Maximum Packet Size)
 * start the clock of the hang oracle. */
static void check_ours(play *p)
{
    const fz_buf *in = &p->run->conn[0].in;
    while (!p->violated_ms && p->sparsed < in->len) {
        fz_arrays a;
        mqtt_codec codec = fz_codec_for(p->peer.version, MQTT_FROM_SERVER, &a, p->peer.max_packet_size);
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&codec, in->p + p->sparsed, in->len - p->sparsed, &pkt, &err);
        if (st == MQTT_NEED_MORE) return;
        if (st != MQTT_OK) {
            p->violated_ms = net_now_ms();
            snprintf(p->violation, sizeof p->violation, "%s", err.rule);
            return;
        }
        p->sparsed += pkt.length;
    }
}

static void end_conn(play *p)
{
    if (p->fd < 0) return;
    close(p->fd);
    p->fd = -1;
    p->closed = true;
}

/* Sends the writes from p->next on, those due (replay: their anchor reached, or `force`). */
static void send_due(play *p, bool force)
{
    fz_conn *k = &p->run->conn[0];
    while (p->fd >= 0 && p->next < p->script->n && !p->violated_ms) {
        const fz_cwrite *w = &p->script->w[p->next];
        if (!p->r && w->anchor > k->out.len && !force) return;
        force = false;
        p->next++;
        if (w->close) {
            fz_run_record(p->run, 0, FZ_EV_CLOSE_BROKER, NULL, 0);
            end_conn(p);
            return;
        }
        if (net_send_all(p->fd, w->bytes, w->len, 1000) != (ssize_t)w->len) {
            end_conn(p);
            return;
        }
        fz_run_record(p->run, 0, FZ_EV_RECV, w->bytes, w->len);
        check_ours(p);
    }
}

/* Decodes what the client sent since the last call; live, answers it. */
static void parse_client(play *p)
{
    const fz_buf *out = &p->run->conn[0].out;
    while (!p->cbroken && p->cparsed < out->len) {
        fz_arrays a;
        mqtt_codec codec = fz_codec_for(p->peer.version, MQTT_FROM_CLIENT, &a, 0);
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&codec, out->p + p->cparsed, out->len - p->cparsed, &pkt, &err);
        if (st == MQTT_NEED_MORE) return;
        if (st != MQTT_OK) {
            char line[200];
            snprintf(line, sizeof line, "bytes that do not decode at offset %zu (%s)", p->cparsed, err.rule);
            spec_finding(p, err.rule, out->p[p->cparsed] >> 4, line);
            p->cbroken = true;
            return;
        }
        bool first = p->cparsed == 0;
        if (first != (pkt.type == MQTT_CONNECT))
            spec_finding(p, first ? "MQTT-3.1.0-1" : "MQTT-3.1.0-2", (uint8_t)pkt.type,
                         first ? "a first packet that is not CONNECT" : "a second CONNECT");
        if (pkt.type == MQTT_CONNECT) p->peer.version = (mqtt_version)pkt.connect.protocol_level;
        p->cparsed += pkt.length;
        if (p->r && !p->violated_ms) fz_hostile_answer(p->r, &p->peer, &pkt, (uint32_t)out->len, p->script);
    }
}

static void on_readable(play *p)
{
    uint8_t buf[16384];
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        fz_run_record(p->run, 0, FZ_EV_CLOSE_CLIENT, NULL, 0);
        end_conn(p);
        return;
    }
    fz_run_record(p->run, 0, FZ_EV_SEND, buf, (size_t)n);
    p->idle = 0;
    parse_client(p);
    send_due(p, false);
}

/* Nothing came for a tick: the next move, or idle. */
static void on_tick(play *p)
{
    if (p->r && p->peer.connected && p->actions > 0) {
        p->actions--;
        fz_hostile_inject(p->r, &p->peer, (uint32_t)p->run->conn[0].out.len, p->script);
        send_due(p, false);
        return;
    }
    if (!p->r && p->next < p->script->n) {
        send_due(p, true);
        return;
    }
    p->idle++;
}

/* Returns true when the client had hang_ms after our protocol violation
 * and neither closed nor exited (the hang oracle). */
static bool loop(play *p)
{
    int tick = p->x->o->answer_ms / 4 > 10 ? p->x->o->answer_ms / 4 : 10;
    while (p->fd >= 0 && !reap(p, 0)) {
        int64_t now = net_now_ms();
        if (p->violated_ms && now - p->violated_ms >= p->x->o->hang_ms) return true;
        if (!p->violated_ms && p->idle >= IDLE_TICKS) return false;
        int wait = p->violated_ms ? (int)(p->violated_ms + p->x->o->hang_ms - now) : tick;
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, wait < tick ? wait : tick);
        if (rc > 0) on_readable(p);
        else if (rc == 0 && !p->violated_ms) on_tick(p);
    }
    return false;
}

/* Accepts the client's connection, up to connect_ms (or until it exits). */
static int accept_client(play *p)
{
    for (int64_t end = net_now_ms() + p->x->o->connect_ms; net_now_ms() < end && !reap(p, 0);) {
        struct pollfd pfd = {.fd = p->x->listen_fd, .events = POLLIN};
        if (poll(&pfd, 1, 20) <= 0) continue;
        int fd = accept(p->x->listen_fd, NULL, NULL);
        if (fd < 0) continue;
        fz_conn *k = &p->run->conn[0];
        socklen_t ll = sizeof k->local, pl = sizeof k->peer;
        /* In the record the client is the local end: its bytes go C>S in the pcap. */
        getpeername(fd, (struct sockaddr *)&k->local, &ll);
        getsockname(fd, (struct sockaddr *)&k->peer, &pl);
        net_set_nonblocking(fd);
        p->fd = fd;
        fz_run_record(p->run, 0, FZ_EV_OPEN, NULL, 0);
        return 0;
    }
    return -1;
}

/* Crash first (a signal we did not send, a sanitizer report), then hang, then spec. */
static int judge(play *p, bool stopped_by_us, bool hung)
{
    char report[4096] = "";
    FILE *fp = fopen(p->x->logpath, "r");
    if (fp) {
        static char log[65536];
        /* The report is at the end: a client that printed much before it is read from its last 64 KiB. */
        if (fseek(fp, 0, SEEK_END) == 0 && ftell(fp) > (long)sizeof log - 1) fseek(fp, -(long)(sizeof log - 1), SEEK_END);
        else rewind(fp);
        size_t n = fread(log, 1, sizeof log - 1, fp);
        log[n] = 0;
        fclose(fp);
        const char *hit = strstr(log, "ERROR: AddressSanitizer");
        if (!hit) hit = strstr(log, "ERROR: LeakSanitizer");
        if (!hit) hit = strstr(log, "runtime error:");
        if (hit) snprintf(report, sizeof report, "%s", hit);
    }
    int sig = WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
    bool died = sig && !(stopped_by_us && (sig == SIGTERM || sig == SIGKILL));
    if (died || report[0]) {
        memset(p->f, 0, sizeof *p->f);
        p->f->cls = FZ_CRASH;
        p->f->conn = p->f->client = p->f->code = -1;
        const char *nl = strchr(report, '\n');
        snprintf(p->f->what, sizeof p->f->what, "client %s%s%.*s", died ? "killed by signal " : "printed a sanitizer report",
                 died ? strsignal(sig) : ": ", died ? 0 : (int)(nl ? nl - report : 120), report);
        snprintf(p->f->detail, sizeof p->f->detail, "%s", report);
        const char *in = strstr(report, " in ");
        snprintf(p->f->sig, sizeof p->f->sig, "client crash %.60s", in ? in + 4 : died ? strsignal(sig) : "report");
        char *cut = strchr(p->f->sig, '\n');
        if (cut) *cut = 0;
        return 1;
    }
    if (hung) {
        bool v5 = p->peer.version == MQTT_V5;
        memset(p->f, 0, sizeof *p->f);
        p->f->cls = FZ_HANG;
        p->f->conn = p->f->client = 0;
        p->f->code = -1;
        snprintf(p->f->rule, sizeof p->f->rule, "%s", v5 ? "MQTT-4.13.1-1" : "MQTT-4.8.0-1");
        snprintf(p->f->what, sizeof p->f->what, "client neither closed the connection nor exited within %d ms of a protocol violation (%s)",
                 p->x->o->hang_ms, p->violation);
        snprintf(p->f->sig, sizeof p->f->sig, "client hang"); /* one defect: not closing on violations */
        return 1;
    }
    return p->has_spec;
}

int fz_client_session(fz_cctx *x, fz_rng *r, fz_cscript *script, fz_run *run, fz_finding *f)
{
    play p = {.x = x, .r = r, .script = script, .run = run, .f = f, .fd = -1};
    memset(run, 0, sizeof *run);
    run->nconn = 1;
    run->conn[0] = (fz_conn){.fd = -1, .version = MQTT_V311, .out_ok = true};
    run->t0_us = fz_now_us();
    p.peer.version = MQTT_V311;
    if (r) {
        fz_cscript_free(script);
        p.actions = 1 + (int)fz_rng_below(r, (uint32_t)x->o->max_steps / 3 + 1);
    }
    x->execs++;
    if ((p.pid = spawn(x)) < 0) {
        snprintf(f->what, sizeof f->what, "fork: %s", strerror(errno));
        return -1;
    }
    bool hung = false;
    if (accept_client(&p) == 0) {
        send_due(&p, false);
        hung = loop(&p);
    }
    x->writes += (long)p.next;
    x->violations += p.violated_ms != 0;
    x->closed_in_time += p.violated_ms && !hung;
    if (p.fd >= 0) fz_run_record(run, 0, FZ_EV_CLOSE_BROKER, NULL, 0);
    run->sync_ev = run->end_ev = run->nev;
    end_conn(&p);
    return judge(&p, stop(&p), hung);
}
