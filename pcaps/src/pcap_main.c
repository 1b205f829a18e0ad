/*
 * mqtt-pcap: decode, check, convert and replay captured MQTT traffic.
 * Exit status: 0 fine; 1 the capture is truncated or corrupt, check found
 * violations, or replay found differences; 2 usage error or a file/broker
 * that cannot be opened at all.
 */
#include <stdio.h>
#include <string.h>

#include "pcaps/src/pcap_cli.h"

static const char usage[] =
    "usage: mqtt-pcap COMMAND FILE [OPTIONS]\n"
    "\n"
    "Decode, check, convert and replay MQTT traffic captured with tcpdump or Wireshark\n"
    "(pcap or pcapng, optionally gzip-compressed; Ethernet with VLAN tags, Linux cooked\n"
    "v1/v2, raw IPv4/IPv6 or BSD loopback; FILE '-' reads standard input).\n"
    "\n"
    "commands:\n"
    "  dump FILE          one line per MQTT packet: time, connection, direction, packet\n"
    "  check FILE         check every packet and exchange against the negotiated version\n"
    "                     of the spec; violations with rule ids; exit 1 if any\n"
    "  stats FILE         connections, versions, packets and bytes by type\n"
    "  to-scenario FILE   write a conformance scenario (.mqs) replaying the client side\n"
    "  replay FILE --broker HOST:PORT\n"
    "                     replay the client side against a broker; report where its\n"
    "                     answers differ from the recorded ones; exit 1 if they do\n"
    "\n"
    "options:\n"
    "  --port N           MQTT is also on port N (repeatable; 1883 always is)\n"
    "  --no-detect        do not recognise MQTT by a CONNECT on other ports\n"
    "  --conn N           only connection cN (dump, check, to-scenario, replay)\n"
    "  --json             JSON lines (dump, check) or a JSON object (stats)\n"
    "  --abs-time         absolute UTC times instead of seconds since the first record\n"
    "  --broker HOST:PORT broker for replay\n"
    "  --inproc           replay against the reference broker's core in this process,\n"
    "                     on a virtual clock (recorded pace and timeouts take no real time)\n"
    "  --fast             replay without the original pacing\n"
    "  --timeout MS       replay: how long to wait for each answer (default 2000)\n"
    "  -o, --output FILE  to-scenario: write here instead of standard output\n"
    "  --title TEXT       to-scenario: the scenario's title\n"
    "  -q, --quiet        check/replay: only the summary line\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    pcap_cli cli = {.cmd = argv[1]};
    int (*cmd)(const pcap_cli *) = NULL;
    if (strcmp(argv[1], "dump") == 0)
        cmd = pcap_cmd_dump;
    else if (strcmp(argv[1], "check") == 0)
        cmd = pcap_cmd_check;
    else if (strcmp(argv[1], "stats") == 0)
        cmd = pcap_cmd_stats;
    else if (strcmp(argv[1], "to-scenario") == 0)
        cmd = pcap_cmd_to_scenario;
    else if (strcmp(argv[1], "replay") == 0)
        cmd = pcap_cmd_replay;
    if (!cmd) {
        fprintf(stderr, "mqtt-pcap: unknown command '%s'\n(try 'mqtt-pcap --help')\n", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
    int rc = pcap_cli_parse(argc - 2, argv + 2, &cli);
    if (rc)
        return rc;
    if (strcmp(cli.cmd, "replay") == 0 && !cli.broker == !cli.inproc) {
        fprintf(stderr, "mqtt-pcap replay: %s\n", cli.inproc ? "--inproc (the reference broker in-process) "
                "and --broker HOST:PORT exclude each other" : "missing --broker HOST:PORT (or --inproc)");
        return 2;
    }
    return cmd(&cli);
}
