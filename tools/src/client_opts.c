/*
 * The option parser shared by mqtt-pub and mqtt-sub: mosquitto_pub's and
 * mosquitto_sub's options, their checks and their messages (same words, same
 * blank lines), so scripts written for mosquitto's clients run unchanged.
 *
 * Invariants: an option of the other tool is "Unknown option", as in
 * mosquitto; every error is printed here and reported as CLIENT_CFG_ERROR
 * (the caller adds "Use '... --help' to see usage."). Numbers are parsed
 * strictly: mosquitto's atoi() read "1x" as 1 and "abc" as 0, we refuse them.
 */
#include "tools/src/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/net.h"
#include "net/tls.h"
#include "tools/src/client_output.h"

void client_err(const client_cfg *cfg, const char *fmt, ...)
{
    if (cfg && cfg->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static mqtt_bytes view(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, strlen(s)};
}

static void init_config(client_cfg *cfg, client_kind kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->progname = kind == CLIENT_PUB ? "mqtt-pub" : "mqtt-sub";
    cfg->port = CLIENT_PORT_UNSET;
    cfg->max_inflight = 20;
    cfg->keepalive = 60;
    cfg->clean_session = true;
    cfg->eol = true;
    cfg->repeat_count = 1;
    cfg->random_filter = 10000;
    cfg->version = MQTT_V311;
    cfg->session_expiry = -1;
}

static int push(char ***list, int *count, const char *s)
{
    char **n = realloc(*list, (size_t)(*count + 1) * sizeof *n);
    if (!n) return -1;
    *list = n;
    n[*count] = strdup(s);
    if (!n[*count]) return -1;
    (*count)++;
    return 0;
}

/* Replaces *slot with a copy of s. */
static int set_str(char **slot, const char *s)
{
    char *c = strdup(s);
    if (!c) return -1;
    free(*slot);
    *slot = c;
    return 0;
}

/* A topic from -t or -L: a topic name for mqtt-pub, a filter for mqtt-sub. */
static int add_topic(client_cfg *cfg, const char *topic, const char *arg)
{
    if (mqtt_utf8_check(MQTT_V5, view(topic), NULL)) {
        fprintf(stderr, "Error: Malformed UTF-8 in %s argument.\n\n", arg);
        return 1;
    }
    if (cfg->kind == CLIENT_PUB) {
        if (mqtt_topic_name_check(MQTT_V5, view(topic))) {
            fprintf(stderr, "Error: Invalid publish topic '%s', does it contain '+' or '#'?\n", topic);
            return 1;
        }
        if (set_str(&cfg->topic, topic)) goto nomem;
        return 0;
    }
    if (mqtt_topic_filter_check(MQTT_V5, view(topic))) {
        fprintf(stderr, "Error: Invalid subscription topic '%s', are all '+' and '#' wildcards correct?\n",
                topic);
        return 1;
    }
    if (push(&cfg->topics, &cfg->topic_count, topic)) goto nomem;
    return 0;
nomem:
    fprintf(stderr, "Error: Out of memory.\n");
    return 1;
}

/* -L mqtt[s]://[username[:password]@]host[:port]/topic. mqtts:// means TLS,
 * port 8883 by default and the system's CA store unless --cafile/--capath
 * names one (mosquitto's clients). */
static int parse_url(client_cfg *cfg, const char *arg)
{
    const char *url = arg;
    uint16_t port = 1883;
    if (!strncasecmp(url, "mqtt://", 7)) {
        url += 7;
    } else if (!strncasecmp(url, "mqtts://", 8)) {
        url += 8;
        port = 8883;
        cfg->tls_use_os_certs = true;
    } else {
        fprintf(stderr, "Error: unsupported URL scheme.\n\n");
        return 1;
    }
    const char *slash = strchr(url, '/');
    if (!slash) {
        fprintf(stderr, "Error: Invalid URL for -L argument specified - topic missing.\n");
        return 1;
    }
    if (add_topic(cfg, slash + 1, "-L topic")) return 1;

    char *authority = strndup(url, (size_t)(slash - url));
    if (!authority) goto nomem;
    char *hostport = authority;
    char *at = strrchr(authority, '@');
    if (at) {
        *at = '\0';
        hostport = at + 1;
        char *colon = strchr(authority, ':');
        if (colon) {
            *colon = '\0';
            if (set_str(&cfg->password, colon + 1)) goto nomem_free;
        }
        if (set_str(&cfg->username, authority)) goto nomem_free;
    }
    char host[256];
    if (net_parse_hostport(hostport, host, sizeof host, &port) != 0) {
        fprintf(stderr, "Error: Invalid host or port '%s' in -L URL.\n\n", hostport);
        free(authority);
        return 1;
    }
    if (set_str(&cfg->host, host)) goto nomem_free;
    cfg->port = port;
    free(authority);
    return 0;
nomem_free:
    free(authority);
nomem:
    fprintf(stderr, "Error: Out of memory.\n");
    return 1;
}

static bool only_pub(const client_cfg *cfg) { return cfg->kind != CLIENT_PUB; }
static bool only_sub(const client_cfg *cfg) { return cfg->kind != CLIENT_SUB; }

/* Message mode options: exactly one of -f -l -m -n -s. */
static int set_mode(client_cfg *cfg, client_msgmode mode)
{
    if (cfg->pub_mode != MSGMODE_NONE) {
        fprintf(stderr, "Error: Only one type of message can be sent at once.\n\n");
        return 1;
    }
    cfg->pub_mode = mode;
    return 0;
}

static int parse_args(client_cfg *cfg, int argc, char **argv)
{
    long long v;
#define NEED(what)                                                                        \
    do {                                                                                  \
        if (i == argc - 1) {                                                              \
            fprintf(stderr, "Error: %s argument given but no %s specified.\n\n", a, what); \
            return CLIENT_CFG_ERROR;                                                      \
        }                                                                                 \
    } while (0)
#define NOMEM()                                       \
    do {                                              \
        fprintf(stderr, "Error: Out of memory.\n");   \
        return CLIENT_CFG_ERROR;                      \
    } while (0)

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--cafile")) {
            NEED("file");
            if (set_str(&cfg->cafile, argv[++i])) NOMEM();
        } else if (!strcmp(a, "--capath")) {
            NEED("directory");
            if (set_str(&cfg->capath, argv[++i])) NOMEM();
        } else if (!strcmp(a, "--cert")) {
            NEED("file");
            if (set_str(&cfg->certfile, argv[++i])) NOMEM();
        } else if (!strcmp(a, "--key")) {
            NEED("file");
            if (set_str(&cfg->keyfile, argv[++i])) NOMEM();
        } else if (!strcmp(a, "--insecure")) {
            cfg->insecure = true;
        } else if (!strcmp(a, "--tls-use-os-certs")) {
            cfg->tls_use_os_certs = true;
        } else if (!strcmp(a, "--tls-version")) {
            NEED("version");
            if (set_str(&cfg->tls_version, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-C")) {
            if (only_sub(cfg)) goto unknown;
            NEED("count");
            if (client_parse_long(argv[i + 1], 1, 0x7fffffff, &v)) {
                fprintf(stderr, "Error: Invalid message count \"%s\".\n\n", argv[i + 1]);
                return CLIENT_CFG_ERROR;
            }
            cfg->msg_count = (int)v;
            i++;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--disable-clean-session")) {
            cfg->clean_session = false;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
            cfg->debug = true;
        } else if (!strcmp(a, "-D") || !strcmp(a, "--property")) {
            i++;
            if (client_props_parse(cfg, argc, argv, &i)) return CLIENT_CFG_ERROR;
            cfg->version = MQTT_V5;
        } else if (!strcmp(a, "-E")) {
            if (only_sub(cfg)) goto unknown;
            cfg->exit_after_sub = true;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (only_pub(cfg)) goto unknown;
            if (set_mode(cfg, MSGMODE_FILE)) return CLIENT_CFG_ERROR;
            NEED("file");
            if (set_str(&cfg->file_input, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-F")) {
            if (only_sub(cfg)) goto unknown;
            NEED("format");
            if (set_str(&cfg->format, argv[++i])) NOMEM();
            if (client_format_check(cfg->format)) return CLIENT_CFG_ERROR;
        } else if (!strcmp(a, "--help")) {
            return CLIENT_CFG_HELP;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--host")) {
            NEED("host");
            if (set_str(&cfg->host, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-i") || !strcmp(a, "--id")) {
            if (cfg->id_prefix) {
                fprintf(stderr, "Error: -i and -I argument cannot be used together.\n\n");
                return CLIENT_CFG_ERROR;
            }
            NEED("id");
            if (set_str(&cfg->id, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-I") || !strcmp(a, "--id-prefix")) {
            if (cfg->id) {
                fprintf(stderr, "Error: -i and -I argument cannot be used together.\n\n");
                return CLIENT_CFG_ERROR;
            }
            NEED("id prefix");
            if (set_str(&cfg->id_prefix, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-k") || !strcmp(a, "--keepalive")) {
            NEED("keepalive");
            if (client_parse_long(argv[i + 1], 5, 65535, &v)) {
                fprintf(stderr, "Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n");
                return CLIENT_CFG_ERROR;
            }
            cfg->keepalive = (int)v;
            i++;
        } else if (!strcmp(a, "-L") || !strcmp(a, "--url")) {
            NEED("URL");
            if (parse_url(cfg, argv[++i])) return CLIENT_CFG_ERROR;
        } else if (!strcmp(a, "-l") || !strcmp(a, "--stdin-line")) {
            if (only_pub(cfg)) goto unknown;
            if (set_mode(cfg, MSGMODE_STDIN_LINE)) return CLIENT_CFG_ERROR;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--message")) {
            if (only_pub(cfg)) goto unknown;
            if (set_mode(cfg, MSGMODE_CMD)) return CLIENT_CFG_ERROR;
            NEED("message");
            size_t len = strlen(argv[i + 1]);
            free(cfg->message);
            cfg->message = malloc(len ? len : 1);
            if (!cfg->message) NOMEM();
            memcpy(cfg->message, argv[++i], len);
            cfg->msglen = len;
        } else if (!strcmp(a, "-M")) {
            NEED("max_inflight");
            if (client_parse_long(argv[i + 1], 1, 65535, &v)) {
                fprintf(stderr, "Error: Maximum inflight messages must be greater than 0.\n\n");
                return CLIENT_CFG_ERROR;
            }
            cfg->max_inflight = (unsigned)v;
            i++;
        } else if (!strcmp(a, "--nodelay")) {
            /* Our transport always sets TCP_NODELAY. */
        } else if (!strcmp(a, "-n") || !strcmp(a, "--null-message")) {
            if (only_pub(cfg)) goto unknown;
            if (set_mode(cfg, MSGMODE_NULL)) return CLIENT_CFG_ERROR;
        } else if (!strcmp(a, "-N")) {
            if (only_sub(cfg)) goto unknown;
            cfg->eol = false;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--port")) {
            NEED("port");
            if (client_parse_long(argv[i + 1], 1, 65535, &v)) {
                fprintf(stderr, "Error: Invalid port given: %s\n", argv[i + 1]);
                return CLIENT_CFG_ERROR;
            }
            cfg->port = (int)v;
            i++;
        } else if (!strcmp(a, "--pretty")) {
            if (only_sub(cfg)) goto unknown;
            cfg->pretty = true;
        } else if (!strcmp(a, "-P") || !strcmp(a, "--pw")) {
            NEED("password");
            if (set_str(&cfg->password, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-q") || !strcmp(a, "--qos")) {
            NEED("QoS");
            if (client_parse_long(argv[i + 1], 0, 2, &v)) {
                fprintf(stderr, "Error: Invalid QoS given: %s\n", argv[i + 1]);
                return CLIENT_CFG_ERROR;
            }
            cfg->qos = (int)v;
            i++;
        } else if (!strcmp(a, "--quiet")) {
            cfg->quiet = true;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--retain")) {
            if (only_pub(cfg)) goto unknown;
            cfg->retain = true;
        } else if (!strcmp(a, "-R")) {
            if (only_sub(cfg)) goto unknown;
            cfg->no_retain = true;
        } else if (!strcmp(a, "--random-filter")) {
            if (only_sub(cfg)) goto unknown;
            NEED("chance");
            char *end;
            double f = strtod(argv[i + 1], &end);
            int chance = (int)(10.0 * f);
            if (end == argv[i + 1] || *end || chance > 10000 || chance < 1) {
                fprintf(stderr, "Error: --random-filter chance must be between 0.1-100.0\n\n");
                return CLIENT_CFG_ERROR;
            }
            cfg->random_filter = chance;
            i++;
        } else if (!strcmp(a, "--remove-retained")) {
            if (only_sub(cfg)) goto unknown;
            cfg->remove_retained = true;
        } else if (!strcmp(a, "--repeat")) {
            if (only_pub(cfg)) goto unknown;
            NEED("count");
            if (client_parse_long(argv[i + 1], 1, 0x7fffffff, &v)) {
                fprintf(stderr, "Error: --repeat argument must be >0.\n\n");
                return CLIENT_CFG_ERROR;
            }
            cfg->repeat_count = (int)v;
            i++;
        } else if (!strcmp(a, "--repeat-delay")) {
            if (only_pub(cfg)) goto unknown;
            NEED("time");
            char *end;
            double f = strtod(argv[i + 1], &end);
            if (end == argv[i + 1] || *end || !(f >= 0.0) || f > 1e9) {
                fprintf(stderr, "Error: --repeat-delay argument must be >=0.0.\n\n");
                return CLIENT_CFG_ERROR;
            }
            cfg->repeat_delay_us = (long long)(f * 1e6);
            i++;
        } else if (!strcmp(a, "--retain-as-published")) {
            if (only_sub(cfg)) goto unknown;
            cfg->retain_as_published = true;
        } else if (!strcmp(a, "--retained-only")) {
            if (only_sub(cfg)) goto unknown;
            cfg->retained_only = true;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--stdin-file")) {
            if (only_pub(cfg)) goto unknown;
            if (set_mode(cfg, MSGMODE_STDIN_FILE)) return CLIENT_CFG_ERROR;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--topic")) {
            NEED("topic");
            if (add_topic(cfg, argv[++i], "-t")) return CLIENT_CFG_ERROR;
        } else if (!strcmp(a, "-T") || !strcmp(a, "--filter-out")) {
            if (only_sub(cfg)) goto unknown;
            NEED("topic filter");
            const char *t = argv[++i];
            if (mqtt_utf8_check(MQTT_V5, view(t), NULL)) {
                fprintf(stderr, "Error: Malformed UTF-8 in -T argument.\n\n");
                return CLIENT_CFG_ERROR;
            }
            if (mqtt_topic_filter_check(MQTT_V5, view(t))) {
                fprintf(stderr, "Error: Invalid filter topic '%s', are all '+' and '#' wildcards correct?\n", t);
                return CLIENT_CFG_ERROR;
            }
            if (push(&cfg->filter_outs, &cfg->filter_out_count, t)) NOMEM();
        } else if (!strcmp(a, "-U") || !strcmp(a, "--unsubscribe")) {
            if (only_sub(cfg)) goto unknown;
            NEED("unsubscribe topic");
            const char *t = argv[++i];
            if (mqtt_utf8_check(MQTT_V5, view(t), NULL)) {
                fprintf(stderr, "Error: Malformed UTF-8 in -U argument.\n\n");
                return CLIENT_CFG_ERROR;
            }
            if (mqtt_topic_filter_check(MQTT_V5, view(t))) {
                fprintf(stderr, "Error: Invalid unsubscribe topic '%s', are all '+' and '#' wildcards correct?\n", t);
                return CLIENT_CFG_ERROR;
            }
            if (push(&cfg->unsub_topics, &cfg->unsub_topic_count, t)) NOMEM();
        } else if (!strcmp(a, "-u") || !strcmp(a, "--username")) {
            NEED("username");
            if (set_str(&cfg->username, argv[++i])) NOMEM();
        } else if (!strcmp(a, "-V") || !strcmp(a, "--protocol-version")) {
            if (i == argc - 1) {
                fprintf(stderr, "Error: --protocol-version argument given but no version specified.\n\n");
                return CLIENT_CFG_ERROR;
            }
            const char *p = argv[++i];
            if (!strcmp(p, "mqttv31") || !strcmp(p, "31")) cfg->version = MQTT_V31;
            else if (!strcmp(p, "mqttv311") || !strcmp(p, "311")) cfg->version = MQTT_V311;
            else if (!strcmp(p, "mqttv5") || !strcmp(p, "5")) cfg->version = MQTT_V5;
            else {
                fprintf(stderr, "Error: Invalid protocol version argument given.\n\n");
                return CLIENT_CFG_ERROR;
            }
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            if (only_sub(cfg)) goto unknown;
            cfg->verbose = true;
        } else if (!strcmp(a, "--version")) {
            return CLIENT_CFG_VERSION;
        } else if (!strcmp(a, "-W")) {
            if (only_sub(cfg)) goto unknown;
            NEED("timeout");
            if (client_parse_long(argv[i + 1], 1, 0x7fffffff, &v)) {
                fprintf(stderr, "Error: Invalid timeout \"%s\".\n\n", argv[i + 1]);
                return CLIENT_CFG_ERROR;
            }
            cfg->timeout = (unsigned)v;
            i++;
        } else if (!strcmp(a, "--will-payload")) {
            NEED("will payload");
            if (set_str(&cfg->will_payload, argv[++i])) NOMEM();
            cfg->will_payloadlen = strlen(cfg->will_payload);
        } else if (!strcmp(a, "--will-qos")) {
            NEED("will QoS");
            if (client_parse_long(argv[i + 1], 0, 2, &v)) {
                fprintf(stderr, "Error: Invalid will QoS %s.\n\n", argv[i + 1]);
                return CLIENT_CFG_ERROR;
            }
            cfg->will_qos = (int)v;
            i++;
        } else if (!strcmp(a, "--will-retain")) {
            cfg->will_retain = true;
        } else if (!strcmp(a, "--will-topic")) {
            NEED("will topic");
            const char *t = argv[++i];
            if (mqtt_utf8_check(MQTT_V5, view(t), NULL)) {
                fprintf(stderr, "Error: Malformed UTF-8 in --will-topic argument.\n\n");
                return CLIENT_CFG_ERROR;
            }
            if (mqtt_topic_name_check(MQTT_V5, view(t))) {
                fprintf(stderr, "Error: Invalid will topic '%s', does it contain '+' or '#'?\n", t);
                return CLIENT_CFG_ERROR;
            }
            if (set_str(&cfg->will_topic, t)) NOMEM();
        } else if (!strcmp(a, "-x")) {
            NEED("session expiry interval");
            const char *x = argv[++i];
            if (!strcmp(x, "\xe2\x88\x9e")) { /* "∞" */
                cfg->session_expiry = UINT32_MAX;
            } else {
                char *end;
                long long e = strtoll(x, &end, 0);
                if (end == x || *end != '\0') {
                    fprintf(stderr, "Error: session-expiry-interval not a number.\n\n");
                    return CLIENT_CFG_ERROR;
                }
                if (e > (long long)UINT32_MAX || e < -1) {
                    fprintf(stderr, "Error: session-expiry-interval out of range.\n\n");
                    return CLIENT_CFG_ERROR;
                }
                cfg->session_expiry = e == -1 ? (long long)UINT32_MAX : e;
            }
        } else {
            goto unknown;
        }
        continue;
    unknown:
        fprintf(stderr, "Error: Unknown option '%s'.\n", a);
        return CLIENT_CFG_ERROR;
    }
    return 0;
#undef NEED
#undef NOMEM
}

int client_cfg_load(client_cfg *cfg, client_kind kind, int argc, char **argv)
{
    init_config(cfg, kind);
    int rc = parse_args(cfg, argc, argv);
    if (rc) return rc;

    if (cfg->will_payload && !cfg->will_topic) {
        fprintf(stderr, "Error: Will payload given, but no will topic given.\n");
        return CLIENT_CFG_ERROR;
    }
    if (cfg->will_retain && !cfg->will_topic) {
        fprintf(stderr, "Error: Will retain given, but no will topic given.\n");
        return CLIENT_CFG_ERROR;
    }
    if ((cfg->certfile == NULL) != (cfg->keyfile == NULL)) {
        fprintf(stderr, "Error: Both certfile and keyfile must be provided if one of them is set.\n");
        return CLIENT_CFG_ERROR;
    }
    if (cfg->version == MQTT_V5) {
        if (!cfg->clean_session && cfg->session_expiry == -1) {
            /* -c without -x: a session that never expires, as mosquitto. */
            cfg->session_expiry = UINT32_MAX;
        }
        if (cfg->session_expiry > 0) {
            if (cfg->session_expiry == UINT32_MAX && (cfg->id_prefix || !cfg->id)) {
                fprintf(stderr, "Error: You must provide a client id if you are using an infinite session "
                                "expiry interval.\n");
                return CLIENT_CFG_ERROR;
            }
            client_props_set_session_expiry(cfg, (uint32_t)cfg->session_expiry);
        }
    } else {
        if (!cfg->clean_session && (cfg->id_prefix || !cfg->id)) {
            fprintf(stderr, "Error: You must provide a client id if you are using the -c option.\n");
            return CLIENT_CFG_ERROR;
        }
        if (cfg->have_props) {
            /* mosquitto_pub 2.0.11 silently sent nothing in this case. */
            fprintf(stderr, "Error: -D properties need MQTT v5, but -V %s was given after them.\n",
                    cfg->version == MQTT_V31 ? "mqttv31" : "mqttv311");
            return CLIENT_CFG_ERROR;
        }
    }
    if (kind == CLIENT_SUB && cfg->topic_count == 0) {
        fprintf(stderr, "Error: You must specify a topic to subscribe to.\n");
        return CLIENT_CFG_ERROR;
    }
    if (!cfg->host && set_str(&cfg->host, "localhost")) {
        fprintf(stderr, "Error: Out of memory.\n");
        return CLIENT_CFG_ERROR;
    }
    if (client_props_check(cfg)) return CLIENT_CFG_ERROR;
    return 0;
}

int client_id_generate(client_cfg *cfg)
{
    if (cfg->id_prefix) {
        size_t n = strlen(cfg->id_prefix) + 24;
        char *id = malloc(n);
        if (!id) return -1;
        snprintf(id, n, "%s%ld", cfg->id_prefix, (long)getpid());
        free(cfg->id);
        cfg->id = id;
    } else if (!cfg->id && cfg->version == MQTT_V31) {
        /* MQTT 3.1 has no server-assigned ids and allows 23 characters (MQTT 3.1 section 3.1):
         * libmosquitto makes "mosq-" + 18 random characters. */
        static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        struct timeval tv;
        gettimeofday(&tv, NULL);
        unsigned seed = (unsigned)tv.tv_usec ^ (unsigned)getpid() ^ (unsigned)tv.tv_sec;
        char *id = malloc(24);
        if (!id) return -1;
        memcpy(id, "mosq-", 5);
        for (int i = 0; i < 18; i++) id[5 + i] = alnum[rand_r(&seed) % 62];
        id[23] = '\0';
        cfg->id = id;
    }
    return 0;
}

static void free_list(char **list, int count)
{
    for (int i = 0; i < count; i++) free(list[i]);
    free(list);
}

void client_cfg_free(client_cfg *cfg)
{
    free(cfg->host);
    free(cfg->id);
    free(cfg->id_prefix);
    free(cfg->username);
    free(cfg->password);
    free(cfg->will_topic);
    free(cfg->will_payload);
    free(cfg->topic);
    free(cfg->message);
    free(cfg->file_input);
    free(cfg->format);
    free(cfg->cafile);
    free(cfg->capath);
    free(cfg->certfile);
    free(cfg->keyfile);
    free(cfg->tls_version);
    net_tls_ctx_free(cfg->tls);
    free_list(cfg->topics, cfg->topic_count);
    free_list(cfg->filter_outs, cfg->filter_out_count);
    free_list(cfg->unsub_topics, cfg->unsub_topic_count);
    client_props_free(cfg);
    memset(cfg, 0, sizeof *cfg);
}
