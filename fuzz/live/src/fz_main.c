/*
 * mqtt-fuzz: stateful network fuzzing of a live MQTT broker. Parses the
 * command line, runs the campaign in this process (-j 1) or in N worker
 * processes sharing their numbers through shared memory (-j N), shows the
 * progress line and writes the summary. Exit 0: nothing found; 1: findings;
 * 2: usage error or a broker that cannot be reached.
 */
#include "fuzz/live/src/fz_campaign.h"
#include "fuzz/live/src/fz_client.h"
#include "fuzz/live/src/fz_corpus.h"
#include "fuzz/live/src/fz_report.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig)
{
    (void)sig;
    fz_stop_requested = 1;
}

/* --list-sessions: the session sequence of a seed, without a broker. */
static int list_sessions(const fz_opts *o)
{
    char dir[600], err[600];
    fz_corpus corpus = {0};
    snprintf(dir, sizeof dir, "%s/corpus", o->out);
    if (fz_corpus_load(&corpus, dir, err, sizeof err) != 0) fprintf(stderr, "mqtt-fuzz: corpus: %s\n", err);
    for (long i = 0; i < o->runs; i++) {
        fz_session s;
        fz_campaign_session(o, i, &s, &corpus);
        printf("%ld %016llx %s %u clients %zu steps %zu bytes\n", i, (unsigned long long)fz_session_hash(&s),
               mqtt_version_name(s.version), s.nclients, s.nsteps, fz_session_bytes(&s));
        fz_session_free(&s);
    }
    fz_corpus_free(&corpus);
    return 0;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* -j N: N worker processes; returns the worst worker status. */
static int run_workers(const fz_opts *o, fz_stats *shared)
{
    pid_t pid[64];
    for (int w = 0; w < o->jobs; w++) {
        pid[w] = fork();
        if (pid[w] == 0) _exit(fz_campaign_run(o, w, &shared[w], shared));
    }
    int rc = 0, left = o->jobs;
    while (left > 0) {
        for (int w = 0; w < o->jobs; w++) {
            int st;
            if (pid[w] > 0 && waitpid(pid[w], &st, WNOHANG) == pid[w]) {
                pid[w] = 0;
                left--;
                int code = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
                if (code > rc) rc = code;
            }
        }
        if (!o->quiet) fz_report_progress(shared, o->jobs, stderr);
        pause_ms(250);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static fz_opts o;
    int rc = fz_opts_parse(&o, argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    if (o.list_sessions) return list_sessions(&o);
    if (fz_mkdirs(o.out) != 0) {
        fprintf(stderr, "mqtt-fuzz: cannot create the output directory %s\n", o.out);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    size_t size = sizeof(fz_stats) * (size_t)o.jobs;
    fz_stats *shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return perror("mqtt-fuzz: mmap"), 2;
    memset(shared, 0, size);
    rc = o.client ? fz_client_campaign(&o, shared)
         : o.jobs == 1 ? fz_campaign_run(&o, 0, shared, shared) : run_workers(&o, shared);
    if (!o.quiet) {
        fz_report_progress(shared, o.jobs, stderr);
        if (isatty(2)) fputc('\n', stderr);
    }
    static fz_stats sum;
    fz_stats_sum(&sum, shared, o.jobs);
    if (rc == 2 && sum.sessions == 0) return 2;
    fz_report_summary(&o, &sum);
    long found = 0;
    for (int c = 0; c < FZ_NCLASS; c++) found += sum.findings[c];
    munmap(shared, size);
    return found ? 1 : rc == 2 ? 2 : 0;
}
