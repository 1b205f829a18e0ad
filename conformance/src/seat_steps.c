/*
 * The broker seat's steps, one handler each: expect a packet from the client
 * (the same matcher and messages as the broker side), expect nothing, expect
 * the client to close, expect the client process to exit, send a packet
 * (built by the codec as a server sends it) or raw bytes, capture, close,
 * accept the next connection, wait. Timer steps (`timer`, `late D`) are
 * judged as on the broker side: on time up to the bound plus the tolerance,
 * late within the lenient bound is a finding with the measured time
 * (eng_check_late), later still is a failure.
 */
#include "conformance/src/seat_int.h"

#include "net/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sets the step's clocks: on-time and hard deadlines. Returns the hard one. */
static int64_t step_clock(seat_ctx *x, const conf_step *st, int64_t def_ms)
{
    rt_state *rt = &x->rt;
    int64_t now = net_now_ms();
    int64_t ms = st->ms >= 0 ? st->ms : def_ms;
    rt->step_started = now;
    if (st->timer) {
        rt->ontime_deadline = now + ms + seat_scaled(x, TIMER_TOLERANCE_MS);
        rt->step_deadline = st->late_ms >= 0 ? now + st->late_ms + seat_scaled(x, TIMER_TOLERANCE_MS)
                                             : rt->ontime_deadline;
    } else {
        rt->step_deadline = rt->ontime_deadline = now + seat_scaled(x, ms);
    }
    return rt->step_deadline;
}

static double waited_s(const seat_ctx *x)
{
    return (double)(x->rt.step_deadline - x->rt.step_started) / 1000.0;
}

static int deadline_passed(seat_ctx *x)
{
    eng_finish(x->r, V_ERROR, net_now_ms(), "the run's deadline (%.1fs) passed",
               (double)(x->run_deadline - x->rt.t0) / 1000.0);
    return S_END;
}

static int step_expect(seat_ctx *x, const conf_step *st)
{
    char what[512], buf[512], line[1024];
    eng_describe_expect(st, what, sizeof what);
    int64_t hard = step_clock(x, st, DEFAULT_EXPECT_MS);
    rx *p = NULL;
    int w = seat_next_packet(x, hard, st->ptype != MQTT_PINGREQ, &p);
    int64_t now = net_now_ms();
    if (w == SW_END) return deadline_passed(x);
    if (w == SW_CLOSED && st->or_close) return S_DONE;
    if (w == SW_TIMEOUT && st->or_skip) {
        eng_finish(x->r, V_SKIP, now, "%s did not come within %.1fs (`or skip`)", what, waited_s(x));
        return S_END;
    }
    if (w != SW_PACKET) {
        snprintf(buf, sizeof buf, "nothing came within %.1fs", waited_s(x));
        eng_finish(x->r, V_FAIL, now, "expected %s%s; %s", what, st->timer ? " (timer)" : "",
                   w == SW_CLOSED ? x->why : buf);
        return S_END;
    }
    /* `or close`: a client that ends the connection instead. Its DISCONNECT
     * is how a client closes (section 3.14), so it counts as the close. */
    if (st->or_close && st->ptype != MQTT_DISCONNECT && p->pkt.type == MQTT_DISCONNECT) {
        eng_rx_free(x->last);
        x->last = p;
        return S_DONE;
    }
    eng_fmt_packet(&p->pkt, x->r->vi, line, sizeof line);
    bool fatal = false;
    const char *m = p->pkt.type != st->ptype ? "another packet type" : eng_match_all(x->r, st, p, buf, sizeof buf, now, &fatal);
    if (m || fatal) {
        if (!fatal) eng_finish(x->r, V_FAIL, now, "expected %s; got %s: %s", what, line, m);
        eng_rx_free(p);
        return S_END;
    }
    if (x->server_mps && p->len > x->server_mps) {
        /* 5.0 MQTT-3.2.2-15: no packet above the server's Maximum Packet Size,
         * whatever it is (and the Reason String / User Property statements of
         * each packet type, which the step names with `checks`). */
        eng_finish(x->r, V_FAIL, now, "expected %s; got %s of %zu bytes, larger than the Maximum Packet Size %u the "
                   "server announced in CONNACK (5.0 MQTT-3.2.2-15)", what, line, p->len, (unsigned)x->server_mps);
        eng_rx_free(p);
        return S_END;
    }
    eng_check_late(&x->eng, x->r, st, now);
    eng_rx_free(x->last);
    x->last = p;
    return S_DONE;
}

static int step_nothing(seat_ctx *x, const conf_step *st)
{
    int64_t until = step_clock(x, st, DEFAULT_NOTHING_MS);
    if (st->timer) until = x->rt.step_started + (st->ms >= 0 ? st->ms : DEFAULT_NOTHING_MS);
    rx *p = NULL;
    int w = seat_next_packet(x, until, false, &p);
    if (w == SW_END) return deadline_passed(x);
    if (w == SW_TIMEOUT) return S_DONE;
    char line[1024];
    if (p) eng_fmt_packet(&p->pkt, x->r->vi, line, sizeof line);
    eng_finish(x->r, V_FAIL, net_now_ms(), "expected nothing for %.1fs; %s%s",
               (double)(until - x->rt.step_started) / 1000.0, p ? "got " : "", p ? line : x->why);
    eng_rx_free(p);
    return S_END;
}

/* A DISCONNECT before the close: its reason code, when the step names one,
 * is SHOULD-level detail (the close itself is the MUST). */
static void judge_disconnect(seat_ctx *x, const conf_step *st, const rx *p)
{
    char buf[512];
    bool fatal;
    if (p->pkt.type != MQTT_DISCONNECT || !st->nfields) return;
    const char *m = eng_match_all(x->r, st, p, buf, sizeof buf, net_now_ms(), &fatal);
    if (m && !fatal) eng_note(x->r, net_now_ms(), LVL_SHOULD, -1, "line %d: the client closed after a DISCONNECT "
                              "that differs: %s", st->line, m);
}

static int step_close(seat_ctx *x, const conf_step *st)
{
    int64_t hard = step_clock(x, st, DEFAULT_EXPECT_MS);
    for (;;) {
        rx *p = NULL;
        int w = seat_next_packet(x, hard, true, &p);
        int64_t now = net_now_ms();
        if (w == SW_END) return deadline_passed(x);
        if (w == SW_TIMEOUT) {
            eng_finish(x->r, V_FAIL, now, "expected the client to close the connection within %.1fs; it kept it open",
                       waited_s(x));
            return S_END;
        }
        if (w == SW_CLOSED) {
            if (x->garbage) { eng_finish(x->r, V_FAIL, now, "expected the close; %s", x->why); return S_END; }
            eng_check_late(&x->eng, x->r, st, now);
            return S_DONE;
        }
        char line[1024];
        eng_fmt_packet(&p->pkt, x->r->vi, line, sizeof line);
        if (st->silent) {
            eng_finish(x->r, V_FAIL, now, "expected the client to close the connection and send nothing more; got %s", line);
            eng_rx_free(p);
            return S_END;
        }
        judge_disconnect(x, st, p);
        eng_rx_free(p);
    }
}

static int step_exit(seat_ctx *x, const conf_step *st)
{
    int64_t hard = step_clock(x, st, SEAT_EXIT_MS);
    const char *cannot = seat_cannot(x->cfg->prof, x->r->sc->action, "exit", "1");
    if ((x->proc.pid <= 0 && !x->proc.exited) || (cannot && st->exit_want != CONF_EXIT_ANY)) {
        /* only a precondition gets here with `cannot` (a checked one skips the run: seat_argv) */
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, net_now_ms()), "exit status not checked: %s",
                       cannot ? cannot : "the runner did not start this client (--client-listen)");
        return S_DONE;
    }
    while (!seat_proc_reap(&x->proc) && net_now_ms() < hard && net_now_ms() < x->run_deadline) seat_pump(x, hard);
    int64_t now = net_now_ms();
    char how[128];
    seat_proc_status_text(&x->proc, how, sizeof how);
    if (!x->proc.exited) {
        if (now >= x->run_deadline) return deadline_passed(x);
        eng_finish(x->r, V_FAIL, now, "expected the client to exit within %.1fs; it still runs (hangs)", waited_s(x));
        return S_END;
    }
    int want = st->exit_want;
    bool ok = !x->proc.sig && (want == CONF_EXIT_ANY || (want == CONF_EXIT_NONZERO ? x->proc.code != 0
                                                                                   : x->proc.code == want));
    if (!ok) {
        char ws[32];
        snprintf(ws, sizeof ws, "%d", want);
        eng_finish(x->r, V_FAIL, now, "expected the client to exit with %s; it %s",
                   want == CONF_EXIT_ANY ? "any status" : want == CONF_EXIT_NONZERO ? "a non-zero status" : ws, how);
        return S_END;
    }
    return S_DONE;
}

/* The client printed the text (its stdout and stderr, as far as kept). */
static int step_output(seat_ctx *x, const conf_step *st)
{
    int64_t hard = step_clock(x, st, DEFAULT_EXPECT_MS);
    char err[256];
    size_t len;
    char *want = conf_subst(st->output, strlen(st->output), x->r->ns, x->r->vi, &x->rt.vars, &len, err, sizeof err);
    if (!want) { eng_finish(x->r, V_ERROR, net_now_ms(), "line %d: %s", st->line, err); return S_END; }
    if (x->proc.pid <= 0 && !x->proc.exited) {
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, net_now_ms()),
                       "output not checked: the runner did not start this client (--client-listen)");
        free(want);
        return S_DONE;
    }
    while (!strstr(x->proc.buf, want) && x->proc.out >= 0 && net_now_ms() < hard && net_now_ms() < x->run_deadline)
        seat_pump(x, hard);
    bool ok = strstr(x->proc.buf, want) != NULL;
    if (!ok) eng_finish(x->r, V_FAIL, net_now_ms(), "expected the client to print \"%s\" within %.1fs; it printed "
                        "\"%.300s\"", want, waited_s(x), x->proc.buf);
    free(want);
    return ok ? S_DONE : S_END;
}

static int step_send(seat_ctx *x, const conf_step *st)
{
    int64_t now = net_now_ms();
    conf_build *b = calloc(1, sizeof *b);
    if (!b) return S_END;
    b->pkt.type = st->ptype;
    int rc = S_DONE;
    if (eng_apply_fields(x->r, b, st, now) < 0) rc = S_END;
    mqtt_codec codec = {.version = conf_vi_version(x->r->vi), .from = MQTT_FROM_SERVER};
    uint8_t buf[65536];
    size_t size = 0;
    mqtt_error err = {0};
    char line[1024];
    eng_fmt_packet(&b->pkt, x->r->vi, line, sizeof line);
    if (rc == S_DONE && mqtt_encode(&codec, &b->pkt, buf, sizeof buf, &size, &err) != MQTT_OK) {
        char es[256];
        mqtt_format_error(&err, es, sizeof es);
        eng_finish(x->r, V_ERROR, now, "the codec refuses to build %s: %s (use `send raw` for packets the spec "
                   "forbids)", line, es);
        rc = S_END;
    }
    if (rc == S_DONE && b->pkt.type == MQTT_CONNACK) /* what binds the client's packets from now on */
        x->server_mps = MQTT_HAS_PROP(&b->pkt.connack.properties, MQTT_PROP_MAXIMUM_PACKET_SIZE)
                            ? b->pkt.connack.properties.maximum_packet_size : 0;
    conf_build_free(b);
    free(b);
    if (rc != S_DONE) return rc;
    conf_run_event(x->r, 0, EV_RECV, (int)x->rt.step, eng_rel(&x->rt, now), "%s", line);
    if (seat_write(x, buf, size) < 0)
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, now), "not sent: %s", x->why);
    return S_DONE;
}

static int step_raw(seat_ctx *x, const conf_step *st)
{
    int64_t now = net_now_ms();
    size_t n = 0;
    char err[256], hx[200];
    uint8_t *b = conf_raw_bytes(st, x->r->ns, x->r->vi, &x->rt.vars, &n, err, sizeof err);
    if (!b) { eng_finish(x->r, V_ERROR, now, "line %d: %s", st->line, err); return S_END; }
    eng_hexdump(hx, sizeof hx, b, n);
    conf_run_event(x->r, 0, EV_RECV, (int)x->rt.step, eng_rel(&x->rt, now), "raw %zu bytes [%s]", n, hx);
    if (seat_write(x, b, n) < 0)
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, now), "not sent: %s", x->why);
    free(b);
    return S_DONE;
}

static int step_capture(seat_ctx *x, const conf_step *st)
{
    char buf[4096];
    if (!x->last || !conf_field_text(&x->last->pkt, st->cap_field, st->cap_prop, buf, sizeof buf)) {
        eng_finish(x->r, V_FAIL, net_now_ms(), "line %d: capture %s: %s", st->line,
                   conf_field_name(st->cap_field, st->cap_prop),
                   x->last ? "the packet has no such field" : "no packet was matched before");
        return S_END;
    }
    conf_vars_set(&x->rt.vars, st->cap_var, buf, strlen(buf));
    return S_DONE;
}

static int step_accept(seat_ctx *x, const conf_step *st)
{
    int64_t hard = step_clock(x, st, SEAT_ACCEPT_MS);
    if (seat_accept(x, hard)) return S_DONE;
    if (net_now_ms() >= x->run_deadline) return deadline_passed(x);
    eng_finish(x->r, V_FAIL, net_now_ms(), "the client did not connect again within %.1fs%s", waited_s(x),
               x->proc.exited ? " (it exited)" : "");
    return S_END;
}

int seat_step(seat_ctx *x, const conf_step *st)
{
    switch (st->kind) {
    case ST_EXPECT: return step_expect(x, st);
    case ST_EXPECT_NOTHING: return step_nothing(x, st);
    case ST_EXPECT_CLOSE: return step_close(x, st);
    case ST_EXPECT_EXIT: return step_exit(x, st);
    case ST_EXPECT_OUTPUT: return step_output(x, st);
    case ST_SEND: return step_send(x, st);
    case ST_SEND_RAW: return step_raw(x, st);
    case ST_CAPTURE: return step_capture(x, st);
    case ST_ACCEPT: return step_accept(x, st);
    case ST_DROP: seat_close(x); return S_DONE;
    case ST_WAIT: {
        int64_t until = net_now_ms() + (st->timer ? st->ms : seat_scaled(x, st->ms));
        while (net_now_ms() < until && net_now_ms() < x->run_deadline) seat_pump(x, until);
        return net_now_ms() >= x->run_deadline ? deadline_passed(x) : S_DONE;
    }
    default:
        eng_finish(x->r, V_ERROR, net_now_ms(), "line %d: this step is not one of the broker seat's", st->line);
        return S_END;
    }
}
