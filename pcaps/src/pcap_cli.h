/*
 * pcap_cli: what the mqtt-pcap commands share: options, opening and running
 * a capture through pcap_flow, time and JSON formatting helpers.
 */
#ifndef PCAP_CLI_H
#define PCAP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcaps/src/pcap_flow.h"

#define PCAP_CLI_MAX_PORTS 32

typedef struct {
    const char *cmd;
    const char *file;
    uint16_t ports[PCAP_CLI_MAX_PORTS];
    size_t nports;
    bool no_detect;
    bool json;
    bool abs_time;
    bool quiet;
    const char *broker;        /* replay: HOST:PORT */
    bool inproc;               /* replay: the reference broker in-process, virtual clock */
    bool fast;                 /* replay: no original pacing */
    int timeout_ms;            /* replay: how long to wait for answers */
    const char *output;        /* to-scenario: file (default stdout) */
    const char *title;         /* to-scenario: title line */
    unsigned conn_filter;      /* 0 = all connections, else only this id */
} pcap_cli;

/* Parses argv (after the command word). Returns 0, or 2 after printing a
 * usage error. */
int pcap_cli_parse(int argc, char **argv, pcap_cli *cli);

/* Opens cli->file and runs the flow. Returns 0 (read to the end), 1 (the
 * capture is truncated or corrupt: the error was printed after everything
 * before it was emitted) or 2 (it could not be opened at all). */
int pcap_cli_run(const pcap_cli *cli, pcap_event_fn fn, void *ctx, pcap_flow_summary *sum);

/* Time of an event: seconds since the first record ("12.345678"), or an absolute UTC time with --abs-time. */
void pcap_cli_time(const pcap_cli *cli, const pcap_event *ev, char *buf, size_t cap);

/* Writes s[0..n) as a JSON string (with quotes). */
void pcap_json_str(FILE *out, const char *s, size_t n);

/* Writes at most max bytes as hex pairs separated by spaces ("..." if cut). */
void pcap_hex(FILE *out, const uint8_t *p, size_t n, size_t max, bool spaces);

/* Formats a packet with the codec's line formatter into a growable buffer;
 * returns the text (owned by *buf). */
const char *pcap_format_line(const mqtt_packet *pkt, mqtt_version v, char **buf, size_t *cap);
const char *pcap_format_json(const mqtt_packet *pkt, mqtt_version v, char **buf, size_t *cap);

int pcap_cmd_dump(const pcap_cli *cli);
int pcap_cmd_stats(const pcap_cli *cli);
int pcap_cmd_check(const pcap_cli *cli);
int pcap_cmd_to_scenario(const pcap_cli *cli);
int pcap_cmd_replay(const pcap_cli *cli);

#endif
