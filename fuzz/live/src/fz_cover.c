/*
 * fz_cover: what the broker answered with (see fz_cover.h). Answers are
 * decoded leniently here (no packet size limit); bytes that do not decode
 * end that connection's contribution (the spec oracle reports them).
 */
#include "fuzz/live/src/fz_cover.h"

#include <string.h>

static int slot(mqtt_version v)
{
    return v == MQTT_V5 ? 2 : v == MQTT_V311 ? 1 : 0;
}

static int mark(uint8_t *cell)
{
    if (*cell) return 0;
    *cell = 1;
    return 1;
}

static const mqtt_properties *props_of(const mqtt_packet *p)
{
    switch (p->type) {
    case MQTT_CONNACK: return &p->connack.properties;
    case MQTT_PUBLISH: return &p->publish.properties;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP: return &p->ack.properties;
    case MQTT_SUBACK: case MQTT_UNSUBACK: return &p->suback.properties;
    case MQTT_DISCONNECT: case MQTT_AUTH: return &p->disconnect.properties;
    default: return NULL;
    }
}

static int add_packet(fz_cover *cov, int v, const mqtt_packet *p)
{
    int n = mark(&cov->type[v][p->type]), t = p->type;
    switch (p->type) {
    case MQTT_CONNACK: n += mark(&cov->reason[v][t][p->connack.reason_code]); break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP:
        n += mark(&cov->reason[v][t][p->ack.reason_code]);
        break;
    case MQTT_SUBACK: case MQTT_UNSUBACK:
        for (size_t i = 0; i < p->suback.reason_codes.len; i++)
            n += mark(&cov->reason[v][t][p->suback.reason_codes.ptr[i]]);
        break;
    case MQTT_DISCONNECT: case MQTT_AUTH: n += mark(&cov->reason[v][t][p->disconnect.reason_code]); break;
    default: break;
    }
    const mqtt_properties *pr = props_of(p);
    for (int id = 1; pr && id < 64; id++)
        if (pr->present & MQTT_PROP_BIT(id)) n += mark(&cov->prop[v][t][id]);
    return n;
}

int fz_cover_add(fz_cover *cov, const fz_run *run)
{
    static mqtt_user_property up[64];
    static uint32_t sid[32];
    int n = 0;
    for (size_t c = 0; c < run->nconn; c++) {
        const fz_conn *k = &run->conn[c];
        mqtt_codec codec = {.version = k->version, .from = MQTT_FROM_SERVER, .user_properties = up,
                            .user_properties_cap = 64, .subscription_identifiers = sid,
                            .subscription_identifiers_cap = 32};
        for (size_t off = 0; off < k->in.len;) {
            mqtt_packet p;
            if (mqtt_decode(&codec, k->in.p + off, k->in.len - off, &p, NULL) != MQTT_OK) break;
            n += add_packet(cov, slot(k->version), &p);
            off += p.length;
        }
    }
    return n;
}

void fz_cover_totals(const fz_cover *cov, int *types, int *reasons, int *props)
{
    *types = *reasons = *props = 0;
    for (int t = 0; t < 16; t++) {
        bool any = false;
        for (int v = 0; v < 3; v++) any |= cov->type[v][t] != 0;
        *types += any;
        for (int x = 0; x < 256; x++) {
            bool r = false, p = false;
            for (int v = 0; v < 3; v++) {
                r |= cov->reason[v][t][x] != 0;
                p |= x < 64 && cov->prop[v][t][x] != 0;
            }
            *reasons += r;
            *props += p;
        }
    }
}

void fz_cover_merge(fz_cover *dst, const fz_cover *src)
{
    const uint8_t *s = (const uint8_t *)src;
    uint8_t *d = (uint8_t *)dst;
    for (size_t i = 0; i < sizeof *dst; i++) d[i] |= s[i];
}

/* "types": ["CONNACK", ...], "reason_codes": ["SUBACK:0x80", ...], "properties": ["CONNACK:0x21", ...] */
static void json_version(const fz_cover *cov, int v, FILE *fp)
{
    const char *sep = "";
    fprintf(fp, "{\"types\": [");
    for (int t = 1; t < 16; t++)
        if (cov->type[v][t]) fprintf(fp, "%s\"%s\"", sep, mqtt_packet_type_name((mqtt_packet_type)t)), sep = ", ";
    fprintf(fp, "], \"reason_codes\": [");
    sep = "";
    for (int t = 1; t < 16; t++)
        for (int x = 0; x < 256; x++)
            if (cov->reason[v][t][x]) fprintf(fp, "%s\"%s:0x%02x\"", sep, mqtt_packet_type_name((mqtt_packet_type)t), x), sep = ", ";
    fprintf(fp, "], \"properties\": [");
    sep = "";
    for (int t = 1; t < 16; t++)
        for (int x = 1; x < 64; x++)
            if (cov->prop[v][t][x]) fprintf(fp, "%s\"%s:0x%02x\"", sep, mqtt_packet_type_name((mqtt_packet_type)t), x), sep = ", ";
    fprintf(fp, "]}");
}

void fz_cover_json(const fz_cover *cov, FILE *fp)
{
    static const char *const names[] = {"3.1", "3.1.1", "5.0"};
    fprintf(fp, "{");
    for (int v = 0; v < 3; v++) {
        fprintf(fp, "%s\"%s\": ", v ? ", " : "", names[v]);
        json_version(cov, v, fp);
    }
    fprintf(fp, "}");
}
