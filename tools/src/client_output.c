/*
 * mqtt-sub's output (see client_output.h). The format walker, the padding
 * rules (including the payload being cut to the field width, and "%-p"
 * padding with as many spaces as the payload is long) and the JSON objects of
 * %j / %J follow mosquitto_sub 2.0 built with cJSON, which is what Debian
 * ships, so scripts parsing its output read ours the same way.
 *
 * Known difference: MQTT 5 properties in %j / %J are printed in a fixed order
 * (subscription-identifier, payload-format-indicator, content-type,
 * response-topic, correlation-data, topic-alias, user-properties,
 * message-expiry-interval), because the codec does not keep wire order;
 * mosquitto_sub prints them in the order they arrived. The fixed order is the
 * one a mosquitto broker forwards when the publisher sent them in ascending
 * identifier order (as mqtt-pub, through the codec, always does).
 */
#include "tools/src/client_output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/src/client_json.h"

int client_format_check(const char *str)
{
    size_t len = strlen(str);
    for (size_t i = 0; i < len; i++) {
        if (str[i] == '%') {
            if (i == len - 1) goto incomplete;
            if (str[i + 1] == '0' || str[i + 1] == '-') {
                i++;
                if (i == len - 1) goto incomplete;
            }
            while (str[i + 1] >= '0' && str[i + 1] <= '9') {
                i++;
                if (i == len - 1) goto incomplete;
            }
            if (str[i + 1] == '.') {
                i++;
                if (i == len - 1) goto incomplete;
                while (str[i + 1] >= '0' && str[i + 1] <= '9') {
                    i++;
                    if (i == len - 1) goto incomplete;
                }
            }
            if (!strchr("%ACDEFIlmPpqRSrtjJUxX", str[i + 1]) || str[i + 1] == '\0') {
                fprintf(stderr, "Error: Invalid format specifier '%c'.\n", str[i + 1]);
                return 1;
            }
            i++;
        } else if (str[i] == '@') {
            if (i == len - 1) goto incomplete;
            i++;
        } else if (str[i] == '\\') {
            if (i == len - 1) {
                fprintf(stderr, "Error: Incomplete escape specifier.\n");
                return 1;
            }
            if (!strchr("\\0aenrtv", str[i + 1])) {
                fprintf(stderr, "Error: Invalid escape specifier '%c'.\n", str[i + 1]);
                return 1;
            }
            i++;
        }
    }
    return 0;
incomplete:
    fprintf(stderr, "Error: Incomplete format specifier.\n");
    return 1;
}

/* Local time now, as mosquitto_sub reads it for %I %U %j @x. */
static int get_time(struct tm *tm, long *ns)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    time_t s = ts.tv_sec;
    if (!localtime_r(&s, tm)) return -1;
    *ns = ts.tv_nsec;
    return 0;
}

/* The payload, optionally hex, padded to field_width (and cut to it). */
static void write_payload(FILE *out, mqtt_bytes payload, int hex, char align, char pad, int field_width)
{
    int len = (int)payload.len;
    int padlen;
    if (field_width > 0) {
        if (len > field_width) len = field_width;
        if (hex > 0) {
            len /= 2;
            padlen = field_width - len * 2;
        } else {
            padlen = field_width - len;
        }
    } else {
        padlen = field_width - len;
    }
    if (align != '-')
        for (int i = 0; i < padlen; i++) fputc(pad, out);
    if (hex == 0) {
        if (len > 0) fwrite(payload.ptr, 1, (size_t)len, out);
    } else {
        for (int i = 0; i < len; i++) fprintf(out, hex == 1 ? "%02x" : "%02X", payload.ptr[i]);
    }
    if (align == '-') fprintf(out, "%*s", padlen, "");
}

static void print_blank(FILE *out, char pad, int field_width)
{
    for (int i = 0; i < field_width; i++) fputc(pad, out);
}

static void print_int(FILE *out, long value, char align, char pad, int field_width)
{
    if (field_width == 0) fprintf(out, "%ld", value);
    else if (align == '-') fprintf(out, "%-*ld", field_width, value);
    else if (pad == '0') fprintf(out, "%0*ld", field_width, value);
    else fprintf(out, "%*ld", field_width, value);
}

static void print_str(FILE *out, mqtt_bytes b, char align, int field_width, int precision)
{
    char *value = malloc(b.len + 1);
    if (!value) return;
    if (b.len) memcpy(value, b.ptr, b.len);
    value[b.len] = '\0';
    if (field_width == 0 && precision == -1) fputs(value, out);
    else if (precision == -1) fprintf(out, align == '-' ? "%-*s" : "%*s", field_width, value);
    else if (field_width == 0) fprintf(out, "%.*s", precision, value);
    else fprintf(out, align == '-' ? "%-*.*s" : "%*.*s", field_width, precision, value);
    free(value);
}

static bool has(const mqtt_properties *p, mqtt_property_id id)
{
    return p && MQTT_HAS_PROP(p, id);
}

/* The "properties" object of %j / %J. */
static bool json_properties(json_value *root, const mqtt_properties *p)
{
    json_value *obj = client_json_object();
    if (!client_json_add(root, "properties", obj)) return false;
    bool ok = true;
    /* mosquitto (the broker) puts the Subscription Identifier first. */
    for (size_t i = 0; i < p->subscription_identifier_count; i++)
        ok &= client_json_add(obj, "subscription-identifier", client_json_number(p->subscription_identifiers[i]));
    if (has(p, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR))
        ok &= client_json_add(obj, "payload-format-indicator", client_json_number(p->payload_format_indicator));
    if (has(p, MQTT_PROP_CONTENT_TYPE))
        ok &= client_json_add(obj, "content-type", client_json_string_n(p->content_type.ptr, p->content_type.len));
    if (has(p, MQTT_PROP_RESPONSE_TOPIC))
        ok &= client_json_add(obj, "response-topic",
                              client_json_string_n(p->response_topic.ptr, p->response_topic.len));
    if (has(p, MQTT_PROP_CORRELATION_DATA))
        ok &= client_json_add(obj, "correlation-data",
                              client_json_string_n(p->correlation_data.ptr, p->correlation_data.len));
    if (has(p, MQTT_PROP_TOPIC_ALIAS)) ok &= client_json_add(obj, "topic-alias", client_json_number(p->topic_alias));
    if (p->user_property_count) {
        json_value *users = client_json_object();
        ok &= client_json_add(obj, "user-properties", users);
        for (size_t i = 0; ok && i < p->user_property_count; i++) {
            const mqtt_user_property *u = &p->user_properties[i];
            char *name = strndup((const char *)u->name.ptr, u->name.len);
            if (!name) return false;
            ok &= client_json_add(users, name, client_json_string_n(u->value.ptr, u->value.len));
            free(name);
        }
    }
    if (has(p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL))
        ok &= client_json_add(obj, "message-expiry-interval", client_json_number(p->message_expiry_interval));
    return ok;
}

/* %j (escaped: the payload as a JSON string) and %J (the payload is JSON). 1 when %J's payload is not JSON. */
static int json_print(FILE *out, const client_cfg *cfg, const client_message *m, bool escaped)
{
    struct tm tm;
    long ns;
    char buf[100];
    if (get_time(&tm, &ns)) return -1;
    /* mosquitto's layout: the microseconds, then 'Z', then the numeric zone. */
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000000Z%z", &tm);
    char usec[16];
    snprintf(usec, sizeof usec, "%06ld", (ns / 1000) % 1000000);
    memcpy(&buf[strlen("2020-05-06T21:48:00.")], usec, 6);

    json_value *root = client_json_object();
    bool ok = client_json_add(root, "tst", client_json_string_n((const uint8_t *)buf, strlen(buf)));
    ok &= client_json_add(root, "topic", client_json_string_n(m->topic.ptr, m->topic.len));
    ok &= client_json_add(root, "qos", client_json_number(m->qos));
    ok &= client_json_add(root, "retain", client_json_number(m->retain));
    ok &= client_json_add(root, "payloadlen", client_json_number((double)m->payload.len));
    if (m->qos > 0) ok &= client_json_add(root, "mid", client_json_number(m->mid));
    if (m->props) ok &= json_properties(root, m->props);
    json_value *payload;
    if (m->payload.len == 0) {
        payload = client_json_null();
    } else if (escaped) {
        payload = client_json_string_n(m->payload.ptr, m->payload.len);
    } else {
        payload = client_json_parse(m->payload.ptr, m->payload.len);
        if (!payload) {
            client_json_free(root);
            return 1;
        }
    }
    ok &= client_json_add(root, "payload", payload);
    if (ok) client_json_print(out, root, cfg->pretty);
    client_json_free(root);
    return ok ? 0 : -1;
}

static void print_percent(FILE *out, const client_cfg *cfg, const client_message *m, char format, char align,
                          char pad, int field_width, int precision)
{
    const mqtt_properties *p = m->props;
    struct tm tm;
    long ns;
    char buf[100];
    switch (format) {
    case '%': fputc('%', out); break;
    case 'A':
        if (has(p, MQTT_PROP_TOPIC_ALIAS)) print_int(out, p->topic_alias, align, pad, field_width);
        else print_blank(out, pad, field_width);
        break;
    case 'C':
        if (has(p, MQTT_PROP_CONTENT_TYPE)) print_str(out, p->content_type, align, field_width, precision);
        else print_blank(out, ' ', field_width);
        break;
    case 'D':
        if (has(p, MQTT_PROP_CORRELATION_DATA) && p->correlation_data.len)
            fwrite(p->correlation_data.ptr, 1, p->correlation_data.len, out);
        break;
    case 'E':
        if (has(p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL))
            print_int(out, (int)p->message_expiry_interval, align, pad, field_width);
        else print_blank(out, pad, field_width);
        break;
    case 'F':
        if (has(p, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR))
            print_int(out, p->payload_format_indicator, align, pad, field_width);
        else print_blank(out, pad, field_width);
        break;
    case 'I':
        if (get_time(&tm, &ns)) {
            client_err(cfg, "Error obtaining system time.\n");
            return;
        }
        if (strftime(buf, sizeof buf, "%FT%T%z", &tm) != 0)
            print_str(out, (mqtt_bytes){(const uint8_t *)buf, strlen(buf)}, align, field_width, precision);
        else print_blank(out, ' ', field_width);
        break;
    case 'j':
        if (json_print(out, cfg, m, true)) client_err(cfg, "Error: Out of memory.\n");
        break;
    case 'J': {
        int rc = json_print(out, cfg, m, false);
        if (rc == 1) {
            client_err(cfg, "Error: Message payload is not valid JSON on topic %.*s.\n", (int)m->topic.len,
                       (const char *)m->topic.ptr);
        } else if (rc) {
            client_err(cfg, "Error: Out of memory.\n");
        }
        break;
    }
    case 'l': print_int(out, (long)m->payload.len, align, pad, field_width); break;
    case 'm': print_int(out, m->mid, align, pad, field_width); break;
    case 'P':
        for (size_t i = 0; p && i < p->user_property_count; i++) {
            const mqtt_user_property *u = &p->user_properties[i];
            if (i) fputc(' ', out);
            fprintf(out, "%.*s:%.*s", (int)u->name.len, (const char *)u->name.ptr, (int)u->value.len,
                    (const char *)u->value.ptr);
        }
        break;
    case 'p': write_payload(out, m->payload, 0, align, pad, field_width); break;
    case 'q': fputc(m->qos + '0', out); break;
    case 'R':
        if (has(p, MQTT_PROP_RESPONSE_TOPIC)) print_str(out, p->response_topic, align, field_width, precision);
        break;
    case 'r': fputc(m->retain ? '1' : '0', out); break;
    case 'S':
        if (p && p->subscription_identifier_count)
            print_int(out, (int)p->subscription_identifiers[0], align, pad, field_width);
        else print_blank(out, pad, field_width);
        break;
    case 't': print_str(out, m->topic, align, field_width, precision); break;
    case 'U':
        if (get_time(&tm, &ns)) {
            client_err(cfg, "Error obtaining system time.\n");
            return;
        }
        fprintf(out, "%lld.%09ld", (long long)mktime(&tm), ns);
        break;
    case 'x': write_payload(out, m->payload, 1, align, pad, field_width); break;
    case 'X': write_payload(out, m->payload, 2, align, pad, field_width); break;
    default: break;
    }
}

static void formatted_print(FILE *out, const client_cfg *cfg, const client_message *m)
{
    const char *f = cfg->format;
    size_t len = strlen(f);
    struct tm tm;
    long ns = 0;
    bool have_time = false;
    char buf[100];

    for (size_t i = 0; i < len; i++) {
        if (f[i] == '%') {
            char align = 0, pad = ' ';
            int field_width = 0, precision = -1;
            if (i < len - 1) {
                i++;
                if (f[i] == '-') {
                    align = '-';
                    if (i < len - 1) i++;
                }
                if (f[i] == '0') {
                    pad = '0';
                    if (i < len - 1) i++;
                }
                while (i < len - 1 && f[i] >= '0' && f[i] <= '9') {
                    field_width = field_width * 10 + (f[i] - '0');
                    i++;
                }
                if (f[i] == '.' && i < len - 1) {
                    i++;
                    precision = 0;
                    while (i < len - 1 && f[i] >= '0' && f[i] <= '9') {
                        precision = precision * 10 + (f[i] - '0');
                        i++;
                    }
                }
                if (i < len) print_percent(out, cfg, m, f[i], align, pad, field_width, precision);
            }
        } else if (f[i] == '@') {
            if (i < len - 1) {
                i++;
                if (f[i] == '@') {
                    fputc('@', out);
                } else {
                    if (!have_time) {
                        if (get_time(&tm, &ns)) {
                            client_err(cfg, "Error obtaining system time.\n");
                            return;
                        }
                        have_time = true;
                    }
                    if (f[i] == 'N') {
                        fprintf(out, "%09ld", ns);
                    } else {
                        char strf[3] = {'%', f[i], '\0'};
                        if (strftime(buf, sizeof buf, strf, &tm) != 0) fputs(buf, out);
                    }
                }
            }
        } else if (f[i] == '\\') {
            if (i < len - 1) {
                i++;
                switch (f[i]) {
                case '\\': fputc('\\', out); break;
                case '0': fputc('\0', out); break;
                case 'a': fputc('\a', out); break;
                case 'e': fputc('\033', out); break;
                case 'n': fputc('\n', out); break;
                case 'r': fputc('\r', out); break;
                case 't': fputc('\t', out); break;
                case 'v': fputc('\v', out); break;
                default: break;
                }
            }
        } else {
            fputc(f[i], out);
        }
    }
    if (cfg->eol) fputc('\n', out);
    fflush(out);
}

void client_print_message(FILE *out, const client_cfg *cfg, const client_message *m)
{
    if (cfg->random_filter < 10000 && random() % 10000 >= cfg->random_filter) return;
    if (cfg->format) {
        formatted_print(out, cfg, m);
    } else if (cfg->verbose) {
        if (m->payload.len) {
            fprintf(out, "%.*s ", (int)m->topic.len, (const char *)m->topic.ptr);
            write_payload(out, m->payload, 0, 0, 0, 0);
            if (cfg->eol) fputc('\n', out);
        } else if (cfg->eol) {
            fprintf(out, "%.*s (null)\n", (int)m->topic.len, (const char *)m->topic.ptr);
        }
        fflush(out);
    } else if (m->payload.len) {
        write_payload(out, m->payload, 0, 0, 0, 0);
        if (cfg->eol) fputc('\n', out);
        fflush(out);
    }
}
