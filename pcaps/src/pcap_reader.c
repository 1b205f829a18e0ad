/*
 * pcap_reader: libpcap behind one FILE*, with gzip inflated on the fly.
 *
 * The first two bytes decide: 1f 8b is gzip, anything else goes to libpcap
 * as is. A gzip capture is served by a fopencookie stream that inflates from
 * the underlying FILE* (so it works on pipes and fmemopen buffers alike, and
 * nothing is ever written to disk); concatenated gzip members are read in
 * order, trailing bytes that are not another member are ignored, as gzip(1)
 * does. A non-seekable plain stream (a pipe) is served by the same cookie in
 * pass-through mode, because the two bytes already read must be given back.
 *
 * Offsets: before each record we ask ftell() on the stream libpcap reads,
 * which accounts for stdio buffering. The cookie's seek callback answers the
 * "where am I" query (SEEK_CUR 0) with the count of bytes it produced, which
 * is all ftell() needs; it refuses real seeks, which libpcap never makes on
 * an offline capture.
 */
#define _GNU_SOURCE
#include "pcaps/src/pcap_reader.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IN_SIZE 65536

/* The cookie behind a gzip (or pass-through) stream. */
typedef struct {
    FILE *src;
    bool gzip;
    z_stream zs;
    bool member_done;      /* the last inflate() ended a gzip member */
    bool in_eof;
    uint64_t produced;     /* bytes handed to stdio so far */
    uint64_t consumed;     /* compressed bytes read from src */
    char err[200];
    uint8_t in[IN_SIZE];
} src_cookie;

struct pcap_reader {
    pcap_t *p;
    FILE *fp;              /* the stream libpcap reads (owned by p) */
    src_cookie *cookie;    /* NULL for a plain seekable file */
    char name[256];
    bool compressed;
    int state;             /* 1 = reading, 0 = clean end, -1 = error */
    uint64_t index;
    char err[1024];
};

static ssize_t cookie_read(void *c, char *buf, size_t size)
{
    src_cookie *k = c;
    if (size == 0)
        return 0;
    if (!k->gzip) {
        /* Pass-through: the bytes read for detection first, then the source. */
        size_t n = 0;
        if (k->zs.avail_in > 0) {
            n = k->zs.avail_in < size ? k->zs.avail_in : size;
            memcpy(buf, k->zs.next_in, n);
            k->zs.next_in += n;
            k->zs.avail_in -= (uInt)n;
        }
        if (n < size)
            n += fread(buf + n, 1, size - n, k->src);
        if (n == 0 && ferror(k->src)) {
            snprintf(k->err, sizeof k->err, "read error: %s", strerror(errno));
            errno = EIO;
            return -1;
        }
        k->produced += n;
        return (ssize_t)n;
    }
    k->zs.next_out = (Bytef *)buf;
    k->zs.avail_out = (uInt)(size > 1u << 30 ? 1u << 30 : size);
    uInt want = k->zs.avail_out;
    while (k->zs.avail_out == want) {
        if (k->zs.avail_in == 0 && !k->in_eof) {
            size_t n = fread(k->in, 1, sizeof k->in, k->src);
            if (n == 0) {
                if (ferror(k->src)) {
                    snprintf(k->err, sizeof k->err, "read error: %s", strerror(errno));
                    errno = EIO;
                    return -1;
                }
                k->in_eof = true;
            }
            k->consumed += n;
            k->zs.next_in = k->in;
            k->zs.avail_in = (uInt)n;
        }
        if (k->member_done) {
            if (k->zs.avail_in == 0 && k->in_eof)
                break; /* clean end after a whole member */
            if (k->zs.next_in[0] != 0x1f) {
                k->in_eof = true; /* trailing garbage: ignored, as gzip(1) does */
                k->zs.avail_in = 0;
                break;
            }
            inflateReset(&k->zs);
            k->member_done = false;
        }
        if (k->zs.avail_in == 0 && k->in_eof) {
            snprintf(k->err, sizeof k->err,
                     "gzip data ends early (compressed file truncated at byte %llu)",
                     (unsigned long long)k->consumed);
            errno = EIO;
            if (k->zs.avail_out != want)
                break; /* hand out what we have; the error comes next call */
            return -1;
        }
        int rc = inflate(&k->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            k->member_done = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(k->err, sizeof k->err, "corrupt gzip data near compressed byte %llu: %s",
                     (unsigned long long)(k->consumed - k->zs.avail_in),
                     k->zs.msg ? k->zs.msg : zError(rc));
            errno = EIO;
            if (k->zs.avail_out != want)
                break;
            return -1;
        }
    }
    size_t got = want - k->zs.avail_out;
    k->produced += got;
    return (ssize_t)got;
}

/* Only "where am I" is answered; that is all ftell() needs. */
static int cookie_seek(void *c, off64_t *off, int whence)
{
    src_cookie *k = c;
    if ((whence == SEEK_CUR && *off == 0) || (whence == SEEK_SET && *off == (off64_t)k->produced)) {
        *off = (off64_t)k->produced;
        return 0;
    }
    errno = ESPIPE;
    return -1;
}

static int cookie_close(void *c)
{
    src_cookie *k = c;
    if (k->gzip)
        inflateEnd(&k->zs);
    int rc = k->src ? fclose(k->src) : 0;
    free(k);
    return rc;
}

static void set_err(pcap_reader *r, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(pcap_reader *r, uint64_t offset, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (r->index > 0)
        snprintf(r->err, sizeof r->err, "%s: offset %llu%s (record %llu): %s", r->name,
                 (unsigned long long)offset, r->compressed ? " of the decompressed data" : "",
                 (unsigned long long)r->index + 1, what);
    else
        snprintf(r->err, sizeof r->err, "%s: offset %llu%s: %s", r->name,
                 (unsigned long long)offset, r->compressed ? " of the decompressed data" : "",
                 what);
}

static pcap_reader *fail(pcap_reader *r, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", r->err);
    if (r->p)
        pcap_close(r->p);
    else if (r->fp)
        fclose(r->fp);
    free(r);
    return NULL;
}

pcap_reader *pcap_reader_open_stream(FILE *fp, const char *name, char *err, size_t errlen)
{
    pcap_reader *r = calloc(1, sizeof *r);
    if (!r) {
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    r->fp = fp;
    uint8_t magic[2];
    size_t got = fread(magic, 1, 2, fp);
    if (got < 2) {
        set_err(r, 0, ferror(fp) ? "read error: %s" : "file too short to be a capture%s",
                ferror(fp) ? strerror(errno) : "");
        return fail(r, err, errlen);
    }
    bool gz = magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gz && fseek(fp, 0, SEEK_SET) == 0) {
        /* A plain seekable file: libpcap reads it directly (the fast path). */
    } else {
        src_cookie *k = calloc(1, sizeof *k);
        if (!k) {
            set_err(r, 0, "out of memory");
            return fail(r, err, errlen);
        }
        k->src = fp;
        k->gzip = gz;
        memcpy(k->in, magic, 2);
        k->zs.next_in = k->in;
        k->zs.avail_in = 2;
        k->consumed = 2;
        if (gz && inflateInit2(&k->zs, 15 + 16) != Z_OK) {
            free(k);
            set_err(r, 0, "cannot initialise zlib");
            return fail(r, err, errlen);
        }
        cookie_io_functions_t io = {.read = cookie_read, .seek = cookie_seek,
                                    .close = cookie_close};
        FILE *cf = fopencookie(k, "r", io);
        if (!cf) {
            cookie_close(k);
            r->fp = NULL;
            set_err(r, 0, "cannot open a stream: %s", strerror(errno));
            return fail(r, err, errlen);
        }
        r->fp = cf;
        r->cookie = k;
        r->compressed = gz;
    }
    char perr[PCAP_ERRBUF_SIZE] = "";
    r->p = pcap_fopen_offline_with_tstamp_precision(r->fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!r->p) {
        if (r->cookie && r->cookie->err[0])
            set_err(r, 0, "%s", r->cookie->err);
        else
            set_err(r, 0, "%s", perr[0] ? perr : "not a pcap or pcapng capture");
        return fail(r, err, errlen);
    }
    r->state = 1;
    return r;
}

pcap_reader *pcap_reader_open_file(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0)
        return pcap_reader_open_stream(stdin, "<stdin>", err, errlen);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return pcap_reader_open_stream(fp, path, err, errlen);
}

pcap_reader *pcap_reader_open_memory(const void *buf, size_t len, const char *name, char *err,
                                     size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "%s: offset 0: empty file", name);
        return NULL;
    }
    FILE *fp = fmemopen((void *)buf, len, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open memory stream: %s", name, strerror(errno));
        return NULL;
    }
    return pcap_reader_open_stream(fp, name, err, errlen);
}

int pcap_reader_linktype(const pcap_reader *r)
{
    return pcap_datalink(r->p);
}

bool pcap_reader_compressed(const pcap_reader *r)
{
    return r->compressed;
}

int pcap_reader_next(pcap_reader *r, pcap_record *rec)
{
    if (r->state != 1)
        return r->state;
    long pos = ftell(r->fp);
    uint64_t offset = pos < 0 ? 0 : (uint64_t)pos;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(r->p, &h, &data);
    if (rc == 1) {
        rec->ts_sec = h->ts.tv_sec;
        rec->ts_nsec = (uint32_t)h->ts.tv_usec; /* nanoseconds: opened with NANO precision */
        rec->data = data;
        rec->caplen = h->caplen;
        rec->origlen = h->len;
        rec->offset = offset;
        rec->index = ++r->index;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK) {
        r->state = 0;
        return 0;
    }
    r->state = -1;
    if (r->cookie && r->cookie->err[0])
        set_err(r, offset, "%s", r->cookie->err);
    else
        set_err(r, offset, "%s", pcap_geterr(r->p));
    return -1;
}

const char *pcap_reader_error(const pcap_reader *r)
{
    return r->err;
}

void pcap_reader_close(pcap_reader *r)
{
    if (!r)
        return;
    if (r->p)
        pcap_close(r->p); /* closes r->fp, and through it the cookie and its source */
    free(r);
}
