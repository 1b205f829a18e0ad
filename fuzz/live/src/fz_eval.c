/*
 * fz_eval: one session through every oracle (see fz_eval.h).
 */
#include "fuzz/live/src/fz_eval.h"

#include "fuzz/live/src/fz_deliver.h"
#include "fuzz/live/src/fz_diff.h"
#include "fuzz/live/src/fz_oracle.h"
#include "fuzz/live/src/fz_probe.h"

#include <stdio.h>
#include <string.h>

static void found(fz_finding *f, fz_class c, const char *rule, const char *what)
{
    memset(f, 0, sizeof *f);
    f->cls = c;
    f->conn = f->client = f->code = -1;
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    snprintf(f->what, sizeof f->what, "%.300s", what);
}

/* Grouping key of a sanitizer report: its first three "in FUNCTION" frames. */
static void stack_sig(const char *report, char *sig, size_t cap)
{
    size_t n = (size_t)snprintf(sig, cap, "crash stack");
    const char *p = report;
    for (int frames = 0; frames < 3 && (p = strstr(p, " in ")) && n + 2 < cap; frames++) {
        p += 4;
        size_t len = strcspn(p, " \n(");
        n += (size_t)snprintf(sig + n, cap - n, " %.*s", (int)(len < 60 ? len : 60), p);
    }
}

/* Key for a crash without a stack: the types of the last two packets sent. */
static void last_packets_sig(const fz_session *s, char *sig, size_t cap)
{
    const char *t[2] = {"-", "-"};
    int k = 0;
    for (size_t i = s->nsteps; i-- > 0 && k < 2;)
        if (s->steps[i].kind == FZ_SEND && s->steps[i].len)
            t[k++] = mqtt_packet_type_name((mqtt_packet_type)(s->steps[i].bytes[0] >> 4));
    snprintf(sig, cap, "crash after %s %s", t[1], t[0]);
}

static int crash(fz_ctx *x, const fz_session *s, fz_finding *f, const char *what)
{
    char report[4000] = "", died[128] = "";
    found(f, FZ_CRASH, "", what);
    if (fz_target_died(x->target, 3000, died, sizeof died))
        snprintf(f->what + strlen(f->what), sizeof f->what - strlen(f->what), " (%s)", died);
    if (fz_target_sanitizer(x->target, report, sizeof report)) {
        snprintf(f->detail, sizeof f->detail, "%s", report);
        stack_sig(report, f->sig, sizeof f->sig);
        const char *nl = strchr(report, '\n');
        snprintf(f->what + strlen(f->what), sizeof f->what - strlen(f->what), ": %.*s",
                 (int)(nl ? nl - report : 120), report);
    } else {
        last_packets_sig(s, f->sig, sizeof f->sig);
    }
    if (!x->target->spawn_cmd) x->target_lost = true;
    fz_target_stop(x->target); /* a sanitizer report without death (UBSan): restart anyway */
    return 1;
}

static int ensure_up(fz_target *t, fz_exec_opts *xo, int timeout_ms, fz_finding *f)
{
    char err[600];
    if (t->pid || !t->spawn_cmd) return 0;
    if (fz_target_start(t, timeout_ms, err, sizeof err) != 0) {
        found(f, FZ_CRASH, "", err);
        return -1;
    }
    xo->host = t->host;
    xo->port = t->port;
    return 0;
}

/* Crash and hang. The probe comes first: while it connects, the broker
 * handles the closes of the session (Wills ...), whose effects then show in
 * its process state and log. */
static int liveness(fz_ctx *x, const fz_session *s, const fz_run *run, fz_finding *f)
{
    char died[128], report[8], what[200];
    fz_target *t = x->target;
    fz_probe_result pr = fz_probe(x->xo.host, x->xo.port, x->xo.ws_path, x->o->hang_ms);
    if (t->spawn_cmd && fz_target_died(t, pr == FZ_PROBE_OK ? 0 : 1000, died, sizeof died)) {
        snprintf(what, sizeof what, "broker process died (%s)", died);
        return crash(x, s, f, what);
    }
    if (t->spawn_cmd && fz_target_sanitizer(t, report, sizeof report)) {
        t->log_seen = 0; /* read the whole report again in crash() */
        return crash(x, s, f, "sanitizer report");
    }
    if (pr == FZ_PROBE_REFUSED || pr == FZ_PROBE_CLOSED)
        return crash(x, s, f, pr == FZ_PROBE_REFUSED ? "connection refused after the broker was up"
                                                      : "fresh connection closed without CONNACK/PINGRESP");
    if (pr == FZ_PROBE_TIMEOUT || run->hang_conn >= 0) {
        snprintf(what, sizeof what, pr == FZ_PROBE_TIMEOUT ? "no CONNACK/PINGRESP to a fresh connection within %d ms"
                                                           : "no PINGRESP within %d ms on a live connection",
                 x->o->hang_ms);
        found(f, FZ_HANG, "MQTT-3.12.4-1", what);
        snprintf(f->sig, sizeof f->sig, "hang %s", pr == FZ_PROBE_TIMEOUT ? "broker" : "connection");
        if (pr == FZ_PROBE_OK) {
            f->conn = run->hang_conn;
            f->client = run->conn[run->hang_conn].client;
        }
        if (pr == FZ_PROBE_TIMEOUT) fz_target_stop(t);
        return 1;
    }
    return 0;
}

static int memory(fz_ctx *x, fz_finding *f)
{
    long kb = fz_target_rss_kb(x->target);
    if (kb < 0 || kb <= x->o->max_rss_kb) return 0;
    char what[128];
    snprintf(what, sizeof what, "resident memory %ld KiB, above the bound of %ld KiB", kb, x->o->max_rss_kb);
    found(f, FZ_MEMORY, "", what);
    snprintf(f->sig, sizeof f->sig, "memory");
    fz_target_stop(x->target);
    return 1;
}

static int differential(fz_ctx *x, const fz_session *s, const fz_run *run, fz_finding *f)
{
    fz_run ref;
    if (!x->ref || ensure_up(x->ref, &x->rxo, x->o->connect_ms * 5, f) != 0) return 0;
    fz_exec(s, &x->rxo, &ref);
    int rc = fz_diff(run, &ref, f);
    if (!rc) rc = fz_deliver_diff(run, &ref, s->ns, f);
    fz_run_free(&ref);
    return rc;
}

int fz_eval(fz_ctx *x, const fz_session *s, fz_run *run, fz_finding *f)
{
    memset(run, 0, sizeof *run);
    if (ensure_up(x->target, &x->xo, x->o->connect_ms * 5, f) != 0) return -1;
    x->execs++;
    fz_exec(s, &x->xo, run);
    if (liveness(x, s, run, f) || memory(x, f)) return 1;
    if (fz_oracle_spec(s, run, f)) return 1;
    return differential(x, s, run, f);
}

void fz_eval_plain(fz_ctx *x, const fz_session *s)
{
    fz_run run;
    fz_finding f;
    if (ensure_up(x->target, &x->xo, x->o->connect_ms * 5, &f) != 0) return;
    x->execs++;
    fz_exec(s, &x->xo, &run);
    fz_run_free(&run);
}
