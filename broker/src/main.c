/*
 * mqtt-broker: the reference MQTT 3.1 / 3.1.1 / 5.0 broker.
 *
 *   mqtt-broker [-c FILE] [-p PORT] [-v] [-d]
 *
 * Without options it listens on 127.0.0.1:1883 and accepts anonymous
 * clients, as mosquitto 2 does without a configuration. For every listening
 * socket it prints `listening on HOST:PORT` on stdout, so `-p 0` (any free
 * port) lets a script start it and learn the port without a race. Log lines
 * go to stderr; -v adds every packet, through the codec's formatter.
 * Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a usage or
 * configuration error, 2 when it cannot listen.
 */
#include "broker/src/broker_config.h"
#include "broker/src/event_loop.h"
#include "net/net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug", "packet"};

static void log_stderr(void *ctx, broker_log_level level, const char *line)
{
    int max = *(const int *)ctx;
    if ((int)level > max) return;
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s %s: %s\n", when, level_names[level], line);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mqtt-broker [-c FILE] [-p PORT] [-v] [-d]\n"
            "  -c FILE  read the configuration file FILE (mosquitto.conf syntax)\n"
            "  -p PORT  listen on PORT (0: any free port) instead of the configured one\n"
            "           (the first listener's; default listener 127.0.0.1:1883)\n"
            "  -v       verbose: log every packet in and out\n"
            "  -d       run in the background (daemon); logs are then discarded\n"
            "  -h       this help\n"
            "Prints `listening on HOST:PORT` on stdout for each listening socket.\n");
}

/* Allows as many connections as the hard limit permits. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    long port_override = -1;
    bool verbose = false, daemonize = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config-file") == 0) {
            if (++i == argc) {
                fprintf(stderr, "mqtt-broker: %s needs a file name\n", a);
                return 1;
            }
            config_path = argv[i];
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) {
            char *end;
            if (++i == argc) {
                fprintf(stderr, "mqtt-broker: %s needs a port number\n", a);
                return 1;
            }
            errno = 0;
            port_override = strtol(argv[i], &end, 10);
            if (*argv[i] == '\0' || *end || errno || port_override < 0 || port_override > 65535) {
                fprintf(stderr, "mqtt-broker: invalid port '%s' (expected 0 to 65535)\n", argv[i]);
                return 1;
            }
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--daemon") == 0) {
            daemonize = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "mqtt-broker: unknown option '%s'\n", a);
            usage(stderr);
            return 1;
        }
    }

    broker_config cfg;
    broker_config_init(&cfg);
    char err[512];
    if (config_path && broker_config_load(&cfg, config_path, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-broker: %s\n", err);
        return 1;
    }
    broker_listener listeners[BROKER_MAX_LISTENERS + 1];
    size_t nl = broker_config_listeners(&cfg, listeners, BROKER_MAX_LISTENERS + 1);
    if (port_override >= 0) listeners[0].port = (uint16_t)port_override;

    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);

    int fds[BROKER_MAX_LISTENERS + 1];
    for (size_t i = 0; i < nl; i++) {
        fds[i] = net_listen(listeners[i].host, listeners[i].port, 1024, err, sizeof err);
        if (fds[i] < 0) {
            fprintf(stderr, "mqtt-broker: %s\n", err);
            for (size_t k = 0; k < i; k++) close(fds[k]);
            return 2;
        }
        printf("listening on %s:%u\n", listeners[i].host[0] ? listeners[i].host : "*",
               (unsigned)net_local_port(fds[i]));
    }
    fflush(stdout);

    int max_level = verbose ? BROKER_LOG_PACKET : BROKER_LOG_INFO;
    cfg.opts.trace_packets = verbose;
    cfg.opts.log = log_stderr;
    cfg.opts.log_ctx = &max_level;
    if (daemonize && daemon(0, 0) != 0) {
        fprintf(stderr, "mqtt-broker: daemon: %s\n", strerror(errno));
        return 1;
    }

    broker_core *core = broker_core_new(&cfg.opts, net_now_ms());
    log_stderr(&max_level, BROKER_LOG_NOTICE, "mqtt-broker " BROKER_VERSION " running");
    int rc = broker_event_loop(core, fds, nl, err, sizeof err);
    if (rc != 0) fprintf(stderr, "mqtt-broker: %s\n", err);
    broker_core_free(core);
    log_stderr(&max_level, BROKER_LOG_NOTICE, "mqtt-broker stopped");
    return rc == 0 ? 0 : 2;
}
