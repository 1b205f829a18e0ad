/*
 * broker_log: log lines of the core. Every line about a connection names
 * the client the same way, `client "ID" (PEER): ...`, with non-printable
 * bytes of the identifier escaped, and any control character a client put
 * in a user name, topic or identifier elsewhere in the line replaced by '?',
 * so that a line is always one line of text (no forged log lines). Packet tracing (-v) goes through the codec's formatter.
 */
#include "broker/src/broker_internal.h"

#include <stdarg.h>
#include <stdio.h>

/* Control characters a client put in an identifier, a user name or a topic
 * would let it forge log lines: each becomes '?' (a line stays one line). */
static void defang(char *line)
{
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

void broker_log(broker_core *core, broker_log_level level, const char *fmt, ...)
{
    if (!core->opt.log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    defang(line);
    core->opt.log(core->opt.log_ctx, level, line);
}

/* Writes the client identifier, escaped and cut at 64 bytes. */
static size_t escape_id(char *out, size_t cap, const char *id, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < 64 && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') out[o++] = (char)ch;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02X", ch);
    }
    if (len > 64 && o + 4 < cap) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
    return o;
}

void broker_log_conn(broker_conn *c, broker_log_level level, const char *fmt, ...)
{
    broker_core *core = c->core;
    if (!core->opt.log) return;
    char id[300];
    if (c->session) escape_id(id, sizeof id, c->session->client_id, c->session->client_id_len);
    else snprintf(id, sizeof id, "%s", "");
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    char line[1300];
    snprintf(line, sizeof line, "client \"%s\" (%s): %s", id, c->peer, msg);
    defang(line);
    core->opt.log(core->opt.log_ctx, level, line);
}

void broker_trace_packet(broker_conn *c, const mqtt_packet *pkt, bool incoming)
{
    if (!c->core->opt.trace_packets || !c->core->opt.log) return;
    mqtt_version v = c->version;
    if (pkt->type == MQTT_CONNECT) v = (mqtt_version)pkt->connect.protocol_level;
    char text[600];
    mqtt_format_line(pkt, v, text, sizeof text);
    broker_log_conn(c, BROKER_LOG_PACKET, "%s %s", incoming ? "<-" : "->", text);
}
