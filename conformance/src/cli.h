/* mqtt-conform's command line: the options, their table and their checks. */
#ifndef CONF_CLI_H
#define CONF_CLI_H

#include "conformance/src/traffic.h"

#include <stdbool.h>
#include <stdio.h>

#define CONF_DEFAULT_JOBS 32

/* Every option of a run; NULL / false / 0 when not given. Strings point into argv. */
typedef struct {
    const char *broker, *broker_bin, *username, *password;
    const char *versions, *profile, *filter;
    const char *cafile, *certfile, *keyfile;
    bool insecure;
    bool inproc;              /* --inproc: the reference broker's core in-process, virtual clock */
    const char *outdir, *junit, *json, *md, *html, *write_profile;
    bool list, verbose, quiet, no_reports, strict, help;
    const char *pcap;         /* as given; parsed into pcap_mode */
    conf_pcap_mode pcap_mode;
    double time_scale;
    int repeat, jobs;
    const char *client;       /* --client NAME|'CMD ...': test a client (broker seat) */
    const char *client_listen; /* --client-listen HOST:PORT: test clients started by someone else */
    char **roots;             /* scenario files or directories (argv) */
    int nroots;
} conf_cli;

/* Parses argv into o (defaults first). Returns 0, or 2 after a message on
 * stderr (usage errors name the option and the value). o->help: print
 * conf_cli_usage and exit 0. */
int conf_cli_parse(int argc, char **argv, conf_cli *o);
void conf_cli_usage(FILE *f);

/* --versions LIST as a mask of CONF_VBIT; 0 after a message on stderr. */
unsigned conf_cli_versions(const char *list);
#endif
