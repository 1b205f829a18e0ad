/*
 * fz_diff: the differential oracle (see fz_diff.h). Each connection is
 * reduced to a list of spec-fixed facts; the first fact that differs is the
 * finding, named by the rule that fixes it.
 */
#include "fuzz/live/src/fz_diff.h"

#include <stdio.h>
#include <string.h>

#define MAX_FACTS 128

typedef struct {
    uint8_t type;   /* answer packet type */
    uint8_t ok;     /* CONNACK accepted / SUBACK code < 0x80 (per filter) */
} fact;

typedef struct {
    fact f[MAX_FACTS];
    int n;
    bool valid;     /* every byte we sent was a whole valid packet */
    bool cut;       /* the broker's bytes stopped decoding: the list is incomplete */
} facts;

static void add(facts *fs, uint8_t type, uint8_t ok)
{
    if (fs->n < MAX_FACTS) fs->f[fs->n++] = (fact){type, ok};
}

static void collect(const fz_conn *k, facts *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->valid = k->out_ok && k->out_parsed == k->out.len && !k->refused;
    static mqtt_user_property up[64];
    static uint32_t sid[32];
    mqtt_codec codec = {.version = k->version, .from = MQTT_FROM_SERVER, .user_properties = up,
                        .user_properties_cap = 64, .subscription_identifiers = sid,
                        .subscription_identifiers_cap = 32};
    for (size_t off = 0; off < k->in.len;) {
        mqtt_packet p;
        mqtt_status st = mqtt_decode(&codec, k->in.p + off, k->in.len - off, &p, NULL);
        if (st != MQTT_OK) {
            fs->cut = st != MQTT_NEED_MORE;
            return;
        }
        off += p.length;
        switch (p.type) {
        case MQTT_CONNACK: add(fs, MQTT_CONNACK, p.connack.reason_code == 0); break;
        case MQTT_SUBACK:
            for (size_t i = 0; i < p.suback.reason_codes.len; i++) add(fs, MQTT_SUBACK, p.suback.reason_codes.ptr[i] < 0x80);
            break;
        case MQTT_UNSUBACK: case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBCOMP: case MQTT_PINGRESP:
            add(fs, (uint8_t)p.type, 1);
            break;
        default: break;
        }
    }
}

static const char *rule_of(uint8_t type, mqtt_version v)
{
    bool v5 = v == MQTT_V5;
    switch (type) {
    case MQTT_CONNACK: return v5 ? "MQTT-3.2.0-1" : "MQTT-3.2.0-1";
    case MQTT_SUBACK: return v5 ? "MQTT-3.8.4-1" : "MQTT-3.8.4-1";
    case MQTT_UNSUBACK: return "MQTT-3.10.4-4";
    case MQTT_PUBACK: case MQTT_PUBREC: return v5 ? "MQTT-4.3.2-4" : "MQTT-4.3.2-1";
    case MQTT_PUBCOMP: return v5 ? "MQTT-4.3.3-11" : "MQTT-4.3.3-1";
    case MQTT_PINGRESP: return "MQTT-3.12.4-1";
    default: return "MQTT-4.7.3-4";
    }
}

static int differ(fz_finding *f, const fz_conn *k, size_t c, int before, uint8_t got, uint8_t want, const char *what)
{
    memset(f, 0, sizeof *f);
    f->cls = FZ_DIFF;
    f->conn = (int)c;
    f->client = k->client;
    f->before = before;
    f->code = -1;
    f->packet_type = got;
    f->expect_type = want;
    snprintf(f->rule, sizeof f->rule, "%s", rule_of(want ? want : got, k->version));
    snprintf(f->what, sizeof f->what, "client %c (connection %zu): %s", 'a' + k->client, c + 1, what);
    snprintf(f->sig, sizeof f->sig, "diff %s %s/%s", f->rule, mqtt_packet_type_name((mqtt_packet_type)got),
             mqtt_packet_type_name((mqtt_packet_type)want));
    return 1;
}

/* Complete (both connections answered the final PINGREQs): every fact counts.
 * Otherwise only the answers both runs saw before one side's close. */
static int compare(const facts *a, const facts *b, const fz_conn *k, size_t c, bool complete, fz_finding *f)
{
    char what[200];
    int n = complete ? (a->n > b->n ? a->n : b->n) : (a->n < b->n ? a->n : b->n);
    for (int i = 0; i < n; i++) {
        uint8_t ta = i < a->n ? a->f[i].type : 0, tb = i < b->n ? b->f[i].type : 0;
        if (ta == tb && (i >= a->n || a->f[i].ok == b->f[i].ok)) continue;
        snprintf(what, sizeof what, "answer %d is %s%s, the reference sent %s%s", i + 1,
                 ta ? mqtt_packet_type_name((mqtt_packet_type)ta) : "nothing", ta && i < a->n && !a->f[i].ok ? " (failure)" : "",
                 tb ? mqtt_packet_type_name((mqtt_packet_type)tb) : "nothing", tb && i < b->n && !b->f[i].ok ? " (failure)" : "");
        return differ(f, k, c, i, ta, tb, what);
    }
    /* PUBLISH deliveries: fz_deliver, which knows what the spec leaves open. */
    return 0;
}

/* Connection c is the same conversation in both runs: the same client sent
 * the same bytes (one may have stopped earlier, its broker closing first).
 * Numbering alone is not enough: when a broker closes a connection after
 * invalid input later than the executor waits (a loaded machine), the next
 * packets go on that connection in one run and open a new one in the other. */
static bool same_conversation(const fz_conn *a, const fz_conn *b)
{
    size_t n = a->out.len < b->out.len ? a->out.len : b->out.len;
    return a->client == b->client && (n == 0 || memcmp(a->out.p, b->out.p, n) == 0);
}

int fz_diff(const fz_run *target, const fz_run *ref, fz_finding *f)
{
    static facts a, b;
    for (size_t c = 0; c < target->nconn && c < ref->nconn; c++) {
        if (!same_conversation(&target->conn[c], &ref->conn[c])) continue;
        collect(&target->conn[c], &a);
        collect(&ref->conn[c], &b);
        if (!a.valid || !b.valid) continue;
        bool complete = target->conn[c].synced && ref->conn[c].synced && !a.cut && !b.cut;
        if (compare(&a, &b, &target->conn[c], c, complete, f)) return 1;
    }
    return 0;
}
