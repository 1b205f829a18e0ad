/*
 * TLS for mqtt-pub and mqtt-sub: when it is on, which port is the default,
 * and the checks of the TLS options before connecting, with the messages
 * and exit statuses of mosquitto's clients (the transport is net/tls.h).
 *
 * Invariants: TLS is on exactly when mosquitto_pub/sub turn it on (--cafile,
 * --capath, --tls-use-os-certs, an mqtts:// URL, or port 8883); --cert,
 * --key, --insecure and --tls-version alone do not turn it on. Every failure
 * prints mosquitto's line first, then one line of ours saying which file or
 * option and why, and gives mosquitto's exit status (1: nothing was sent).
 */
#include "tools/src/client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/tls.h"

int client_port(const client_cfg *cfg)
{
    if (cfg->port != CLIENT_PORT_UNSET) return cfg->port;
    return cfg->cafile || cfg->capath ? 8883 : 1883;
}

bool client_tls_wanted(const client_cfg *cfg)
{
    return cfg->cafile || cfg->capath || cfg->tls_use_os_certs || cfg->port == 8883;
}

/* mosquitto_tls_set refuses files it cannot open, before any connection. */
static int check_file(const client_cfg *cfg, const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return 0;
    }
    int e = errno;
    client_err(cfg, "Error: Problem setting TLS options: File not found.\n");
    client_err(cfg, "Error: cannot open the %s \"%s\": %s.\n", what, path, strerror(e));
    return 1;
}

int client_tls_setup(client_cfg *cfg)
{
    if (!client_tls_wanted(cfg)) return 0;
    if (cfg->cafile && check_file(cfg, cfg->cafile, "CA file (--cafile)")) return 1;
    if (cfg->certfile && check_file(cfg, cfg->certfile, "certificate (--cert)")) return 1;
    if (cfg->keyfile && check_file(cfg, cfg->keyfile, "key (--key)")) return 1;
    if (cfg->tls_version && strcmp(cfg->tls_version, "tlsv1.3") != 0 && strcmp(cfg->tls_version, "tlsv1.2") != 0 &&
        strcmp(cfg->tls_version, "tlsv1.1") != 0) {
        client_err(cfg, "Error: Problem setting TLS options, check the options are valid.\n");
        client_err(cfg, "Error: --tls-version \"%s\": expected tlsv1.3, tlsv1.2 or tlsv1.1.\n", cfg->tls_version);
        return 1;
    }
    /* No --cafile/--capath: the system's store (mqtts://, --tls-use-os-certs, port 8883). */
    net_tls_opts o = {.cafile = cfg->cafile,
                      .capath = cfg->capath,
                      .certfile = cfg->certfile,
                      .keyfile = cfg->keyfile,
                      .tls_version = cfg->tls_version,
                      .insecure = cfg->insecure};
    char err[512];
    cfg->tls = net_tls_ctx_new(NET_TLS_CLIENT, &o, err, sizeof err);
    if (!cfg->tls) {
        /* What libmosquitto says when it cannot use the files at connect time. */
        client_err(cfg, "Unable to connect (%s).\n", client_strerror(CERR_TLS));
        client_err(cfg, "Error: %s.\n", err);
        return 1;
    }
    return 0;
}

void client_tls_usage(void)
{
    printf("\nTLS (on with --cafile, --capath, --tls-use-os-certs, an mqtts:// URL or port 8883):\n");
    printf(" --cafile : path to a file containing trusted CA certificates to enable encrypted\n");
    printf("            communication. Makes the default port 8883.\n");
    printf(" --capath : path to a directory containing trusted CA certificates (c_rehash) to enable\n");
    printf("            encrypted communication. Makes the default port 8883.\n");
    printf(" --cert : client certificate for authentication, if required by server.\n");
    printf(" --key : client private key for authentication, if required by server.\n");
    printf(" --tls-version : minimum TLS protocol version, one of tlsv1.3 tlsv1.2 or tlsv1.1.\n");
    printf("                 Defaults to tlsv1.2.\n");
    printf(" --tls-use-os-certs : trust the CA certificates of the system.\n");
    printf(" --insecure : do not check that the server certificate hostname matches the remote\n");
    printf("              hostname. Using this option means that you cannot be sure that the\n");
    printf("              remote host is the server you wish to connect to and so is insecure.\n");
    printf("              Do not use this option in a production environment.\n");
}
