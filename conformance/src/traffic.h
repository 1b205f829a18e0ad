/*
 * Traffic recording: what one run put on the wire, at the socket level, so
 * that it can be written as a pcap that opens in Wireshark (issue 6,
 * "Writing captures"). The engine reports every TCP connection it opens (its
 * real local and remote address), every chunk of bytes send(2) accepted and
 * recv(2) returned, exactly as they were (undecodable garbage included), and
 * how each connection ended (FIN or RST, from which side); each event is
 * stamped with the wall clock when it happened. Nothing is re-encoded.
 *
 * One recording per run holds every client's connections (reconnects are new
 * streams); conf_traffic_write turns it into one classic pcap file with one
 * TCP stream per connection, through pcaps/src/pcap_writer.
 */
#ifndef CONF_TRAFFIC_H
#define CONF_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* When the engine writes a run's pcap. */
typedef enum { CONF_PCAP_NONE, CONF_PCAP_FAILURES, CONF_PCAP_ALL } conf_pcap_mode;

/* Parses "none" / "failures" / "all". Returns 0, or -1 if the word is none of them. */
int conf_pcap_mode_parse(const char *s, conf_pcap_mode *out);

/* Which side sent or closed (the values of PCAP_WRITER_CLIENT/SERVER). */
enum { CONF_TR_CLIENT = 0, CONF_TR_SERVER = 1 };

/* Bytes of payload one run may hold in memory; traffic after that is not
 * recorded (the pcap ends there and the transcript says so). */
#define CONF_TRAFFIC_LIMIT (64u << 20)

typedef struct conf_traffic conf_traffic;

/* A new, empty recording that keeps at most `limit` payload bytes. NULL if out of memory. */
conf_traffic *conf_traffic_new(size_t limit);
void conf_traffic_free(conf_traffic *t);

/* Client `client` started a TCP connect on fd towards `remote` (connect(2)
 * was just called; the local address is read from fd with getsockname).
 * Returns the stream index for the calls below, or -1 (nothing is recorded
 * for that connection then). */
int conf_traffic_open(conf_traffic *t, int client, int fd, const struct sockaddr *remote, socklen_t len);
/* The same for a connection that is not TCP (an in-process broker's socket
 * pair): recorded as a TCP stream from `local` (same family as remote). */
int conf_traffic_open_from(conf_traffic *t, int client, const struct sockaddr *local, const struct sockaddr *remote,
                           socklen_t len);

/* Broker seat: the runner accepted fd from a client under test. The client
 * is the stream's client side (its data: CONF_TR_CLIENT), the runner the
 * server side. Returns the stream index, or -1. Call established() next. */
int conf_traffic_open_accepted(conf_traffic *t, int client, int fd);

/* The connect completed (the three-way handshake happened). */
void conf_traffic_established(conf_traffic *t, int stream);

/* The connect failed: the SYN was answered with a reset (connection refused). */
void conf_traffic_refused(conf_traffic *t, int stream);

/* `len` bytes went from `side` to the other: accepted by send(2) (client) or
 * returned by recv(2) (server), in that order. */
void conf_traffic_data(conf_traffic *t, int stream, int side, const void *data, size_t len);

/* `side` closed the connection: FIN (graceful) or RST (reset). Only the first
 * close of a stream counts (the other side's answer follows from it). */
void conf_traffic_close(conf_traffic *t, int stream, int side, bool rst);

/* True once CONF_TRAFFIC_LIMIT bytes were recorded and later traffic was dropped. */
bool conf_traffic_truncated(const conf_traffic *t);

/* Writes the recording as a classic pcap (Ethernet framing) at path.
 * Returns 0, or -1 with err filled (naming the file). */
int conf_traffic_write(const conf_traffic *t, const char *path, char *err, size_t errlen);

/* A file name for a run's capture: "<id>@<version>.pcap" ("-rN" before
 * ".pcap" for repeat N > 1), with '/' and every character other than
 * letters, digits, '.', '-', '_' and '@' replaced by '_', so the name is one
 * path component safe on any filesystem and in a URL. */
void conf_traffic_filename(const char *id, const char *version, int rep, char *out, size_t cap);

#endif
