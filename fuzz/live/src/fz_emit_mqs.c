/*
 * fz_emit_mqs: a finding as a runnable conformance scenario (see fz_emit.h
 * and conformance/SCENARIOS.md). The scenario follows the recorded run, not
 * the session: what was really sent on which connection, so a step the
 * executor skipped (a client the broker had closed) is not in it.
 */
#include "fuzz/live/src/fz_emit.h"

#include "conformance/src/spec_ids.h"

#include <string.h>

/* Whether id is a normative statement of version v (3.1 uses the 3.1.1 list). */
static bool known_id(mqtt_version v, const char *id)
{
    const char *const *l = v == MQTT_V5 ? conf_ids_5 : conf_ids_311;
    size_t n = v == MQTT_V5 ? conf_ids_5_count : conf_ids_311_count;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i], id) == 0) return true;
    return false;
}

const char *fz_emit_rule(const fz_finding *f, mqtt_version v)
{
    if (f->rule[0] && known_id(v, f->rule)) return f->rule;
    /* A crash or hang where a close was due: the robustness rule of the version. */
    return v == MQTT_V5 ? "MQTT-4.13.1-1" : "MQTT-4.8.0-1";
}

/* Bytes as raw tokens: hex pairs, the namespace as "${ns}". */
static void raw(FILE *fp, const uint8_t *b, size_t n, const char *ns)
{
    size_t nl = strlen(ns);
    bool hex = false;
    for (size_t i = 0; i < n;) {
        if (i + nl <= n && memcmp(b + i, ns, nl) == 0) {
            fputs(" \"${ns}\"", fp);
            hex = false;
            i += nl;
            continue;
        }
        fprintf(fp, hex ? "%02x" : " %02x", b[i++]);
        hex = true;
    }
}

/* "a expect TYPE" for every packet in b[0..n) (sync points), up to `limit` for
 * the finding's client; PUBLISH left out with no_publish (a delivery finding
 * checks them by content at the end, unordered). */
static void expects(FILE *fp, const fz_conn *k, size_t from, size_t to, int *count, int limit, bool no_publish)
{
    for (size_t off = from; off < to;) {
        long n = fz_frame_size(k->in.p, to, off);
        if (n <= 0 || (limit >= 0 && *count >= limit)) return;
        int t = k->in.p[off] >> 4;
        if (t >= 1 && t <= 15 && !(no_publish && t == MQTT_PUBLISH)) fprintf(fp, "%c expect %s within 2s\n", 'a' + k->client, mqtt_packet_type_name((mqtt_packet_type)t));
        (*count)++;
        off += (size_t)n;
    }
}

static void header(FILE *fp, const fz_session *s, const fz_finding *f, const char *origin)
{
    const char *v = mqtt_version_name(s->version);
    fprintf(fp, "# mqtt-fuzz finding: %s: %s\n# %s\n", fz_class_name(f->cls), f->what, origin);
    fprintf(fp, "# Run: mqtt-conform --broker HOST:PORT THIS_FILE (fails while the defect is there)\n");
    fprintf(fp, "title    mqtt-fuzz %s: %s\n", fz_class_name(f->cls), f->sig);
    fprintf(fp, "versions %s\nrules    %s\ntags     fuzz %s malformed\n", v, fz_emit_rule(f, s->version), fz_class_name(f->cls));
    fprintf(fp, "clients ");
    for (uint8_t c = 0; c < s->nclients; c++) fprintf(fp, " %c", 'a' + c);
    fprintf(fp, " probe\ndeadline 30s\nserial\n\n");
}

/* The final check: the step that fails while the defect is there. */
static void final_check(FILE *fp, const fz_session *s, const fz_finding *f)
{
    char c = (char)('a' + (f->client >= 0 ? f->client : 0));
    const char *type = mqtt_packet_type_name((mqtt_packet_type)f->packet_type);
    /* Bytes that do not decode: the runner fails the expect that reaches them
     * (with the codec's rule); a correct broker passes it when it sends a valid
     * packet of that type there. */
    if (f->cls == FZ_SPEC && f->undecodable && f->packet_type >= 1 && f->packet_type <= 15)
        fprintf(fp, "%c expect %s within 2s   # the broker's %s here breaks %s\n", c, type, type, f->rule);
    else if (f->cls == FZ_SPEC && f->packet_type == MQTT_CONNACK && f->code >= 0)
        fprintf(fp, "%c expect CONNACK reason_code!=0x%02x within 2s\n", c, f->code);
    else if (f->cls == FZ_SPEC && f->packet_type >= 1 && f->packet_type <= 15 && strcmp(f->rule, "MQTT-4.7.3-4") != 0)
        fprintf(fp, "%c expect %s within 2s   # the broker's %s breaks %s\n", c, type, type, f->rule);
    else if (f->cls == FZ_SPEC)
        fprintf(fp, "%c expect nothing for 1s   # the broker sent %s here (%s)\n", c, type, f->rule);
    else if (f->cls == FZ_DIFF && f->delivery)
        fprintf(fp, "# the reference broker's deliveries to %c, in any order, and no other (%s)\n%s", c, f->rule, f->expect);
    else if (f->cls == FZ_DIFF && f->expect_type)
        fprintf(fp, "%c expect %s within 2s   # as the reference broker answers\n", c,
                mqtt_packet_type_name((mqtt_packet_type)f->expect_type));
    else if (f->cls == FZ_DIFF)
        fprintf(fp, "%c expect nothing for 1s   # the reference broker sends nothing here\n", c);
    else if (f->cls == FZ_HANG && f->conn >= 0)
        fprintf(fp, "%c expect PINGRESP within 2s\n", c);
    (void)s;
    /* Every class ends with a fresh client: the broker must still be up and answering. */
    fprintf(fp, "probe connect\nprobe send PINGREQ\nprobe expect PINGRESP within 2s\n");
}

/* Follows the run's events; with_expects adds the answers as sync points. */
static void body(FILE *fp, const fz_session *s, const fz_run *run, const fz_finding *f, bool with_expects)
{
    size_t framed[FZ_MAX_CONNS] = {0};
    int count[FZ_MAX_CONNS] = {0};
    /* The end-of-session PINGREQs are the hang oracle: only a hang needs them. */
    size_t nev = f->cls == FZ_HANG ? run->nev : run->sync_ev;
    for (size_t i = 0; i < nev; i++) {
        const fz_event *e = &run->ev[i];
        const fz_conn *k = &run->conn[e->conn];
        char who = (char)('a' + k->client);
        if (e->kind == FZ_EV_OPEN) fprintf(fp, "%c open\n", who);
        /* The executor's closing at the end is not a step: a drop there (a reset)
         * could discard bytes the broker has not read yet. */
        else if (e->kind == FZ_EV_CLOSE_CLIENT && i < run->end_ev) fprintf(fp, "%c drop\n", who);
        else if (e->kind == FZ_EV_SEND) {
            fprintf(fp, "%c send raw", who);
            raw(fp, k->out.p + e->off, e->len, s->ns);
            fputc('\n', fp);
        } else if (e->kind == FZ_EV_RECV && with_expects && (k->out_ok || (int)e->conn == f->conn)) {
            /* Answers are sync points only where what the client sent was valid:
             * a correct broker may answer invalid input otherwise (or close). */
            int limit = (int)e->conn == f->conn ? f->before : -1;
            size_t end = e->off + e->len, off = framed[e->conn];
            while (off < end) {
                long n = fz_frame_size(k->in.p, end, off);
                if (n <= 0) break;
                off += (size_t)n;
            }
            expects(fp, k, framed[e->conn], off, &count[e->conn], limit, f->delivery && (int)e->conn == f->conn);
            framed[e->conn] = off;
        }
    }
}

int fz_emit_mqs(const char *path, const fz_session *s, const fz_run *run, const fz_finding *f,
                const char *origin)
{
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    header(fp, s, f, origin);
    bool with_expects = f->cls == FZ_SPEC || f->cls == FZ_DIFF || (f->cls == FZ_HANG && f->conn >= 0);
    body(fp, s, run, f, with_expects);
    final_check(fp, s, f);
    return fclose(fp) == 0 ? 0 : -1;
}
