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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/net.h"
#include "net/tls.h"
#include "net/url.h"
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

/* -L / --url: mosquitto's mqtt[s]://[username[:password]@]host[:port]/topic,
 * plus ws[s]://[username[:password]@]host[:port][/path], where the path is
 * the WebSocket's (the topic then comes from -t). mqtts:// and wss:// mean
 * TLS, with the system's CA store unless --cafile/--capath names one
 * (mosquitto's clients). */
static int parse_url(client_cfg *cfg, const char *arg)
{
    net_url u;
    char err[300];
    if (net_url_parse(arg, &u, err, sizeof err) != 0 || !u.has_scheme) {
        if (strstr(err, "scheme") || !u.has_scheme) fprintf(stderr, "Error: unsupported URL scheme.\n\n");
        else fprintf(stderr, "Error: Invalid URL for -L argument: %s.\n\n", err);
        return 1;
    }
    if (u.tls) cfg->tls_use_os_certs = true;
    if (u.ws) {
        if (set_str(&cfg->ws_path, u.path)) goto nomem;
    } else {
        if (!strchr(strstr(arg, "://") + 3, '/')) {
            fprintf(stderr, "Error: Invalid URL for -L argument specified - topic missing.\n");
            return 1;
        }
        if (add_topic(cfg, u.path, "-L topic")) return 1;
        free(cfg->ws_path);
        cfg->ws_path = NULL;
    }
    if (u.has_user && set_str(&cfg->username, u.user)) goto nomem;
    if (u.has_password && set_str(&cfg->password, u.password)) goto nomem;
    if (set_str(&cfg->host, u.host)) goto nomem;
    cfg->port = u.port;
    return 0;
nomem:
    fprintf(stderr, "Error: Out of memory.\n");
    return 1;
}

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

/* ---- the option table ---- */

/* The command line being read: argv[i] is the option at hand. */
typedef struct {
    int argc;
    char **argv;
    int i;
} args_t;

/* A numeric option's bounds and the message (one %s: the text) when outside. */
typedef struct {
    long long min, max;
    const char *bad;
} num_range;

struct option_def;
typedef int (*option_fn)(client_cfg *cfg, args_t *g, const struct option_def *o);

typedef struct option_def {
    const char *name;  /* short or only form */
    const char *alias; /* long form, or NULL */
    unsigned char tools;
    option_fn fn;
    size_t field;      /* offsetof the client_cfg member set by the generic handlers */
    const char *what;  /* the argument's name in "no ... specified" */
    const num_range *range; /* opt_int */
} option_def;

enum { FOR_PUB = 1, FOR_SUB = 2, FOR_BOTH = 3 };

#define FIELD(cfg, o, type) ((type *)((char *)(cfg) + (o)->field))

/* The option's argument, or NULL after mosquitto's message when missing. */
static const char *need(args_t *g, const char *what)
{
    if (g->i == g->argc - 1) {
        fprintf(stderr, "Error: %s argument given but no %s specified.\n\n", g->argv[g->i], what);
        return NULL;
    }
    return g->argv[++g->i];
}

static int nomem(void)
{
    fprintf(stderr, "Error: Out of memory.\n");
    return CLIENT_CFG_ERROR;
}

static int opt_string(client_cfg *cfg, args_t *g, const option_def *o)
{
    const char *v = need(g, o->what);
    if (!v) return CLIENT_CFG_ERROR;
    return set_str(FIELD(cfg, o, char *), v) ? nomem() : 0;
}

static int opt_true(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)g;
    *FIELD(cfg, o, bool) = true;
    return 0;
}

/* A number in [min, max] for an int member, with the option's own message. */
static int number(args_t *g, const char *what, long long min, long long max, long long *v, const char *fmt)
{
    const char *text = need(g, what);
    if (!text) return CLIENT_CFG_ERROR;
    if (client_parse_long(text, min, max, v)) {
        fprintf(stderr, fmt, text);
        return CLIENT_CFG_ERROR;
    }
    return 0;
}

static const num_range R_COUNT = {1, 0x7fffffff, "Error: Invalid message count \"%s\".\n\n"};
static const num_range R_KEEPALIVE = {5, 65535,
                                      "Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n%.0s"};
static const num_range R_PORT = {1, 65535, "Error: Invalid port given: %s\n"};
static const num_range R_QOS = {0, 2, "Error: Invalid QoS given: %s\n"};
static const num_range R_REPEAT = {1, 0x7fffffff, "Error: --repeat argument must be >0.\n\n%.0s"};
static const num_range R_TIMEOUT = {1, 0x7fffffff, "Error: Invalid timeout \"%s\".\n\n"};
static const num_range R_WILL_QOS = {0, 2, "Error: Invalid will QoS %s.\n\n"};
static const num_range R_INFLIGHT = {1, 65535, "Error: Maximum inflight messages must be greater than 0.\n\n%.0s"};

/* An int member (or max_inflight / timeout, unsigned) within o->range. */
static int opt_int(client_cfg *cfg, args_t *g, const option_def *o)
{
    long long v;
    int rc = number(g, o->what, o->range->min, o->range->max, &v, o->range->bad);
    if (rc) return rc;
    if (o->field == offsetof(client_cfg, max_inflight)) cfg->max_inflight = (unsigned)v;
    else if (o->field == offsetof(client_cfg, timeout)) cfg->timeout = (unsigned)v;
    else *FIELD(cfg, o, int) = (int)v;
    return 0;
}

static int opt_property(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)o;
    g->i++;
    if (client_props_parse(cfg, g->argc, g->argv, &g->i)) return CLIENT_CFG_ERROR;
    cfg->version = MQTT_V5;
    return 0;
}

static int opt_clean(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)g, (void)o;
    cfg->clean_session = false;
    return 0;
}

static int opt_no_eol(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)g, (void)o;
    cfg->eol = false;
    return 0;
}

static int opt_nothing(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)cfg, (void)g, (void)o; /* --nodelay: our transport always sets TCP_NODELAY. */
    return 0;
}

static int opt_help(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)cfg, (void)g;
    return strcmp(o->name, "--help") == 0 ? CLIENT_CFG_HELP : CLIENT_CFG_VERSION;
}

/* -f -l -m -n -s: the mode is checked before the argument, as mosquitto. */
static int opt_message(client_cfg *cfg, args_t *g, const option_def *o)
{
    static const struct { const char *name; client_msgmode mode; } modes[] = {
        {"-f", MSGMODE_FILE}, {"-l", MSGMODE_STDIN_LINE}, {"-m", MSGMODE_CMD}, {"-n", MSGMODE_NULL},
        {"-s", MSGMODE_STDIN_FILE}};
    client_msgmode mode = MSGMODE_NONE;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++)
        if (!strcmp(modes[k].name, o->name)) mode = modes[k].mode;
    if (set_mode(cfg, mode)) return CLIENT_CFG_ERROR;
    if (mode == MSGMODE_FILE) {
        const char *v = need(g, "file");
        if (!v) return CLIENT_CFG_ERROR;
        return set_str(&cfg->file_input, v) ? nomem() : 0;
    }
    if (mode != MSGMODE_CMD) return 0;
    const char *v = need(g, "message");
    if (!v) return CLIENT_CFG_ERROR;
    size_t len = strlen(v);
    free(cfg->message);
    cfg->message = malloc(len ? len : 1);
    if (!cfg->message) return nomem();
    memcpy(cfg->message, v, len);
    cfg->msglen = len;
    return 0;
}

static int opt_format(client_cfg *cfg, args_t *g, const option_def *o)
{
    int rc = opt_string(cfg, g, o);
    if (rc) return rc;
    return client_format_check(cfg->format) ? CLIENT_CFG_ERROR : 0;
}

/* -i and -I exclude each other, checked before the argument. */
static int opt_id(client_cfg *cfg, args_t *g, const option_def *o)
{
    bool prefix = o->field == offsetof(client_cfg, id_prefix);
    if (prefix ? cfg->id != NULL : cfg->id_prefix != NULL) {
        fprintf(stderr, "Error: -i and -I argument cannot be used together.\n\n");
        return CLIENT_CFG_ERROR;
    }
    return opt_string(cfg, g, o);
}

static int opt_url(client_cfg *cfg, args_t *g, const option_def *o)
{
    const char *v = need(g, o->what);
    if (!v) return CLIENT_CFG_ERROR;
    return parse_url(cfg, v) ? CLIENT_CFG_ERROR : 0;
}

/* --random-filter and --repeat-delay: decimals. */
static int opt_decimal(client_cfg *cfg, args_t *g, const option_def *o)
{
    bool filter = o->field == offsetof(client_cfg, random_filter);
    const char *v = need(g, o->what);
    if (!v) return CLIENT_CFG_ERROR;
    char *end;
    double f = strtod(v, &end);
    bool bad = end == v || *end;
    if (filter) {
        int chance = (int)(10.0 * f);
        if (bad || chance > 10000 || chance < 1) {
            fprintf(stderr, "Error: --random-filter chance must be between 0.1-100.0\n\n");
            return CLIENT_CFG_ERROR;
        }
        cfg->random_filter = chance;
    } else {
        if (bad || !(f >= 0.0) || f > 1e9) {
            fprintf(stderr, "Error: --repeat-delay argument must be >=0.0.\n\n");
            return CLIENT_CFG_ERROR;
        }
        cfg->repeat_delay_us = (long long)(f * 1e6);
    }
    return 0;
}

static int opt_topic(client_cfg *cfg, args_t *g, const option_def *o)
{
    const char *v = need(g, o->what);
    if (!v) return CLIENT_CFG_ERROR;
    return add_topic(cfg, v, "-t") ? CLIENT_CFG_ERROR : 0;
}

/* -T and -U: topic filters into a list. */
static int opt_filter_list(client_cfg *cfg, args_t *g, const option_def *o)
{
    bool unsub = o->field == offsetof(client_cfg, unsub_topics);
    const char *t = need(g, o->what);
    if (!t) return CLIENT_CFG_ERROR;
    if (mqtt_utf8_check(MQTT_V5, view(t), NULL)) {
        fprintf(stderr, "Error: Malformed UTF-8 in %s argument.\n\n", unsub ? "-U" : "-T");
        return CLIENT_CFG_ERROR;
    }
    if (mqtt_topic_filter_check(MQTT_V5, view(t))) {
        fprintf(stderr, "Error: Invalid %s topic '%s', are all '+' and '#' wildcards correct?\n",
                unsub ? "unsubscribe" : "filter", t);
        return CLIENT_CFG_ERROR;
    }
    int rc = unsub ? push(&cfg->unsub_topics, &cfg->unsub_topic_count, t)
                   : push(&cfg->filter_outs, &cfg->filter_out_count, t);
    return rc ? nomem() : 0;
}

static int opt_version(client_cfg *cfg, args_t *g, const option_def *o)
{
    (void)o;
    if (g->i == g->argc - 1) {
        fprintf(stderr, "Error: --protocol-version argument given but no version specified.\n\n");
        return CLIENT_CFG_ERROR;
    }
    const char *p = g->argv[++g->i];
    if (!strcmp(p, "mqttv31") || !strcmp(p, "31")) cfg->version = MQTT_V31;
    else if (!strcmp(p, "mqttv311") || !strcmp(p, "311")) cfg->version = MQTT_V311;
    else if (!strcmp(p, "mqttv5") || !strcmp(p, "5")) cfg->version = MQTT_V5;
    else {
        fprintf(stderr, "Error: Invalid protocol version argument given.\n\n");
        return CLIENT_CFG_ERROR;
    }
    return 0;
}

static int opt_will_payload(client_cfg *cfg, args_t *g, const option_def *o)
{
    int rc = opt_string(cfg, g, o);
    if (!rc) cfg->will_payloadlen = strlen(cfg->will_payload);
    return rc;
}

static int opt_will_topic(client_cfg *cfg, args_t *g, const option_def *o)
{
    const char *t = need(g, o->what);
    if (!t) return CLIENT_CFG_ERROR;
    if (mqtt_utf8_check(MQTT_V5, view(t), NULL)) {
        fprintf(stderr, "Error: Malformed UTF-8 in --will-topic argument.\n\n");
        return CLIENT_CFG_ERROR;
    }
    if (mqtt_topic_name_check(MQTT_V5, view(t))) {
        fprintf(stderr, "Error: Invalid will topic '%s', does it contain '+' or '#'?\n", t);
        return CLIENT_CFG_ERROR;
    }
    return set_str(&cfg->will_topic, t) ? nomem() : 0;
}

static int opt_expiry(client_cfg *cfg, args_t *g, const option_def *o)
{
    const char *x = need(g, o->what);
    if (!x) return CLIENT_CFG_ERROR;
    if (!strcmp(x, "\xe2\x88\x9e")) { /* "∞" */
        cfg->session_expiry = UINT32_MAX;
        return 0;
    }
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
    return 0;
}

#define F(member) offsetof(client_cfg, member)

/* mosquitto_pub's and mosquitto_sub's options (an option of the other tool is unknown). */
static const option_def OPTIONS[] = {
    {"--cafile", NULL, FOR_BOTH, opt_string, F(cafile), "file"},
    {"--capath", NULL, FOR_BOTH, opt_string, F(capath), "directory"},
    {"--cert", NULL, FOR_BOTH, opt_string, F(certfile), "file"},
    {"--key", NULL, FOR_BOTH, opt_string, F(keyfile), "file"},
    {"--insecure", NULL, FOR_BOTH, opt_true, F(insecure), NULL},
    {"--tls-use-os-certs", NULL, FOR_BOTH, opt_true, F(tls_use_os_certs), NULL},
    {"--tls-version", NULL, FOR_BOTH, opt_string, F(tls_version), "version"},
    {"-C", NULL, FOR_SUB, opt_int, F(msg_count), "count", &R_COUNT},
    {"-c", "--disable-clean-session", FOR_BOTH, opt_clean, 0, NULL},
    {"-d", "--debug", FOR_BOTH, opt_true, F(debug), NULL},
    {"-D", "--property", FOR_BOTH, opt_property, 0, NULL},
    {"-E", NULL, FOR_SUB, opt_true, F(exit_after_sub), NULL},
    {"-f", "--file", FOR_PUB, opt_message, 0, "file"},
    {"-F", NULL, FOR_SUB, opt_format, F(format), "format"},
    {"--help", NULL, FOR_BOTH, opt_help, 0, NULL},
    {"-h", "--host", FOR_BOTH, opt_string, F(host), "host"},
    {"-i", "--id", FOR_BOTH, opt_id, F(id), "id"},
    {"-I", "--id-prefix", FOR_BOTH, opt_id, F(id_prefix), "id prefix"},
    {"-k", "--keepalive", FOR_BOTH, opt_int, F(keepalive), "keepalive", &R_KEEPALIVE},
    {"-L", "--url", FOR_BOTH, opt_url, 0, "URL"},
    {"-l", "--stdin-line", FOR_PUB, opt_message, 0, NULL},
    {"-m", "--message", FOR_PUB, opt_message, 0, "message"},
    {"-M", NULL, FOR_BOTH, opt_int, F(max_inflight), "max_inflight", &R_INFLIGHT},
    {"--nodelay", NULL, FOR_BOTH, opt_nothing, 0, NULL},
    {"-n", "--null-message", FOR_PUB, opt_message, 0, NULL},
    {"-N", NULL, FOR_SUB, opt_no_eol, 0, NULL},
    {"-p", "--port", FOR_BOTH, opt_int, F(port), "port", &R_PORT},
    {"--pretty", NULL, FOR_SUB, opt_true, F(pretty), NULL},
    {"-P", "--pw", FOR_BOTH, opt_string, F(password), "password"},
    {"-q", "--qos", FOR_BOTH, opt_int, F(qos), "QoS", &R_QOS},
    {"--quiet", NULL, FOR_BOTH, opt_true, F(quiet), NULL},
    {"-r", "--retain", FOR_PUB, opt_true, F(retain), NULL},
    {"-R", NULL, FOR_SUB, opt_true, F(no_retain), NULL},
    {"--random-filter", NULL, FOR_SUB, opt_decimal, F(random_filter), "chance"},
    {"--remove-retained", NULL, FOR_SUB, opt_true, F(remove_retained), NULL},
    {"--repeat", NULL, FOR_PUB, opt_int, F(repeat_count), "count", &R_REPEAT},
    {"--repeat-delay", NULL, FOR_PUB, opt_decimal, F(repeat_delay_us), "time"},
    {"--retain-as-published", NULL, FOR_SUB, opt_true, F(retain_as_published), NULL},
    {"--retained-only", NULL, FOR_SUB, opt_true, F(retained_only), NULL},
    {"-s", "--stdin-file", FOR_PUB, opt_message, 0, NULL},
    {"-t", "--topic", FOR_BOTH, opt_topic, 0, "topic"},
    {"-T", "--filter-out", FOR_SUB, opt_filter_list, F(filter_outs), "topic filter"},
    {"-U", "--unsubscribe", FOR_SUB, opt_filter_list, F(unsub_topics), "unsubscribe topic"},
    {"-u", "--username", FOR_BOTH, opt_string, F(username), "username"},
    {"-V", "--protocol-version", FOR_BOTH, opt_version, 0, NULL},
    {"-v", "--verbose", FOR_SUB, opt_true, F(verbose), NULL},
    {"--version", NULL, FOR_BOTH, opt_help, 0, NULL},
    {"-W", NULL, FOR_SUB, opt_int, F(timeout), "timeout", &R_TIMEOUT},
    {"--will-payload", NULL, FOR_BOTH, opt_will_payload, F(will_payload), "will payload"},
    {"--will-qos", NULL, FOR_BOTH, opt_int, F(will_qos), "will QoS", &R_WILL_QOS},
    {"--will-retain", NULL, FOR_BOTH, opt_true, F(will_retain), NULL},
    {"--will-topic", NULL, FOR_BOTH, opt_will_topic, 0, "will topic"},
    {"-x", NULL, FOR_BOTH, opt_expiry, 0, "session expiry interval"},
};

#undef F

static int parse_args(client_cfg *cfg, int argc, char **argv)
{
    args_t g = {argc, argv, 1};
    unsigned char mine = cfg->kind == CLIENT_PUB ? FOR_PUB : FOR_SUB;
    for (; g.i < argc; g.i++) {
        const char *a = argv[g.i];
        const option_def *o = NULL;
        for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0] && !o; k++)
            if (!strcmp(a, OPTIONS[k].name) || (OPTIONS[k].alias && !strcmp(a, OPTIONS[k].alias))) o = &OPTIONS[k];
        if (!o || !(o->tools & mine)) {
            fprintf(stderr, "Error: Unknown option '%s'.\n", a);
            return CLIENT_CFG_ERROR;
        }
        int rc = o->fn(cfg, &g, o);
        if (rc) return rc;
    }
    return 0;
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
    free(cfg->ws_path);
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
