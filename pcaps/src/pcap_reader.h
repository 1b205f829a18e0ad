/*
 * pcap_reader: records out of a capture file, whatever its container.
 *
 * pcap and pcapng are read by libpcap (pcap_fopen_offline on a FILE*);
 * gzip-compressed captures are inflated on the fly through zlib behind a
 * fopencookie FILE*, never unpacked to disk. The same entry point serves a
 * path, an open stream (stdin) and a memory buffer (fmemopen), so tests and
 * the fuzz harness drive exactly the code users run.
 *
 * Every record carries the byte offset at which it starts, in the file as
 * libpcap reads it (for a .gz capture: in the decompressed stream, which the
 * error says). An error names that offset, so a user can look at the bytes.
 */
#ifndef PCAP_READER_H
#define PCAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct pcap_reader pcap_reader;

/* One captured frame. `data` stays valid until the next pcap_reader_next. */
typedef struct {
    int64_t ts_sec;      /* capture time, seconds since the epoch */
    uint32_t ts_nsec;    /* and nanoseconds */
    const uint8_t *data;
    uint32_t caplen;     /* bytes captured (data[0..caplen)) */
    uint32_t origlen;    /* bytes on the wire */
    uint64_t offset;     /* where the record starts in the (decompressed) file */
    uint64_t index;      /* 1 for the first record */
} pcap_record;

/* Opens a capture file ("-" = standard input). NULL on error, with err filled
 * ("capture.pcap: offset 0: unknown file format"). */
pcap_reader *pcap_reader_open_file(const char *path, char *err, size_t errlen);

/* Reads a capture from fp, which the reader then owns (closes it). `name`
 * names the capture in errors. NULL on error (fp is closed then too). */
pcap_reader *pcap_reader_open_stream(FILE *fp, const char *name, char *err, size_t errlen);

/* Reads a capture held in memory; buf must outlive the reader. For fuzzing
 * and tests. NULL on error. */
pcap_reader *pcap_reader_open_memory(const void *buf, size_t len, const char *name, char *err,
                                     size_t errlen);

/* The capture's link type (a DLT_* value, as libpcap reports it). */
int pcap_reader_linktype(const pcap_reader *r);

/* True when the capture was gzip-compressed. */
bool pcap_reader_compressed(const pcap_reader *r);

/* Next record: 1 and *rec filled, 0 at the clean end of the capture, -1 on a
 * truncated or corrupt capture (pcap_reader_error says what and where; every
 * record before it was returned). After 0 or -1 it keeps returning the same. */
int pcap_reader_next(pcap_reader *r, pcap_record *rec);

/* The last error: "FILE: offset N (record K): what", or "" if none. */
const char *pcap_reader_error(const pcap_reader *r);

void pcap_reader_close(pcap_reader *r);

#endif
