/*
 * The regression corpus (pcaps/corpus/NAME.pcap, recorded from Debian's
 * mosquitto): each capture's `dump` must equal its .dump file, through every
 * link type and container the reader supports (the capture is rewritten by
 * the rewriter below: Ethernet with 802.1Q and 802.1ad tags, Linux cooked v1
 * and v2, BSD loopback, raw IPv4 and IPv6, pcapng, gzip), and truncated or
 * corrupted copies must give an error naming the offset, keep every packet
 * decoded before it, and never crash.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <zlib.h>

#include "helpers.h"
#include "pcaps/src/pcap_link.h"

#define CORPUS "pcaps/corpus"
#define BIN "build/asan/bin/mqtt-pcap"

/* The corpus captures, sorted. */
static size_t corpus(char names[][128], size_t max)
{
    DIR *d = opendir(CORPUS);
    cr_assert(d, "cannot open %s (tests run from the repository root)", CORPUS);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".pcap") == 0)
            snprintf(names[n++], 128, "%.*s", (int)(l - 5), e->d_name);
    }
    closedir(d);
    qsort(names, n, 128, (int (*)(const void *, const void *))strcmp);
    cr_assert(n >= 10, "the corpus has %zu captures", n);
    return n;
}

static char *run_dump(const char *file, const char *args, int *status)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s dump '%s' %s 2>&1", BIN, file, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t k;
    while ((k = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (cap - len < 4096)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    *status = pclose(p);
    return out;
}

static char *args_of(const char *name)
{
    char path[256];
    size_t n;
    snprintf(path, sizeof path, CORPUS "/%s.args", name);
    char *a = read_file(path, &n);
    if (!a)
        return strdup("");
    for (size_t i = 0; i < n; i++)
        if (a[i] == '\n')
            a[i] = ' ';
    return a;
}

/* ---------- the rewriter ---------- */

typedef enum {
    V_ETH_VLAN, V_ETH_QINQ, V_SLL, V_SLL2, V_NULL, V_RAW4, V_IPV4, V_RAW6, V_ETH6, V_PCAPNG,
    V_GZIP, V_PCAPNG_GZIP, V_COUNT
} variant;

static const char *const vnames[V_COUNT] = {"ethernet+802.1Q", "ethernet+802.1ad+802.1Q",
                                            "linux-cooked-v1", "linux-cooked-v2", "bsd-loopback",
                                            "raw-ip", "raw-ipv4", "raw-ipv6", "ethernet-ipv6",
                                            "pcapng", "pcap.gz", "pcapng.gz"};

/* IPv4 -> IPv6: addresses a.b.c.d become fd00::a.b.c.d. */
static size_t to_ipv6(const uint8_t *ip, size_t len, uint8_t *out)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = (size_t)(ip[2] << 8 | ip[3]);
    if (total > len)
        total = len;
    memset(out, 0, 40);
    out[0] = 0x60;
    out[4] = (uint8_t)((total - ihl) >> 8);
    out[5] = (uint8_t)(total - ihl);
    out[6] = 6;
    out[7] = 64;
    out[8] = 0xfd;
    memcpy(out + 20, ip + 12, 4);
    out[24] = 0xfd;
    memcpy(out + 36, ip + 16, 4);
    memcpy(out + 40, ip + ihl, total - ihl);
    return 40 + total - ihl;
}

static void put_le32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f); /* host order: pcapng's SHB byte-order magic says which */
}

static void ng_block(FILE *f, uint32_t type, const void *body, size_t len)
{
    uint32_t total = (uint32_t)(12 + ((len + 3) & ~3u));
    put_le32(f, type);
    put_le32(f, total);
    fwrite(body, 1, len, f);
    static const uint8_t pad[4];
    fwrite(pad, 1, ((len + 3) & ~3u) - len, f);
    put_le32(f, total);
}

/* Writes `name` as variant v into out_path. */
static void rewrite(const char *in_path, variant v, const char *out_path)
{
    char err[512];
    pcap_reader *r = pcap_reader_open_file(in_path, err, sizeof err);
    cr_assert(r, "%s", err);
    int src_dlt = pcap_reader_linktype(r);
    int dlt = v == V_ETH_VLAN || v == V_ETH_QINQ || v == V_ETH6 ? DLT_EN10MB
            : v == V_SLL ? DLT_LINUX_SLL : v == V_SLL2 ? 276 : v == V_NULL ? DLT_NULL
            : v == V_RAW4 ? DLT_RAW : v == V_IPV4 ? 228 : v == V_RAW6 ? 229 : DLT_EN10MB;
    bool ng = v == V_PCAPNG || v == V_PCAPNG_GZIP;
    bool gz = v == V_GZIP || v == V_PCAPNG_GZIP;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    pcap_dumper_t *dump = NULL;
    FILE *ngf = NULL;
    if (ng) {
        ngf = fopen(tmp, "wb");
        cr_assert(ngf);
        uint8_t shb[16] = {0};
        uint32_t magic = 0x1A2B3C4D;
        memcpy(shb, &magic, 4);
        shb[4] = 1; /* version 1.0 (host order) */
        int64_t unknown = -1;
        memcpy(shb + 8, &unknown, 8);
        ng_block(ngf, 0x0A0D0D0A, shb, 16);
        uint8_t idb[8] = {0};
        uint16_t lt = (uint16_t)dlt;
        uint32_t snap = 262144;
        memcpy(idb, &lt, 2);
        memcpy(idb + 4, &snap, 4);
        ng_block(ngf, 1, idb, 8);
    } else {
        dump = pcap_dump_open(dead, tmp);
        cr_assert(dump, "%s", pcap_geterr(dead));
    }
    pcap_record rec;
    static uint8_t frame[70000], ip6[70000];
    int got;
    while ((got = pcap_reader_next(r, &rec)) == 1) {
        pcap_segment seg;
        const char *why;
        pcap_link_status st = pcap_link_decode(src_dlt, rec.data, rec.caplen, &seg, &why);
        cr_assert_neq(st, PCAP_LINK_BAD, "%s record %llu: %s", in_path,
                      (unsigned long long)rec.index, why);
        const uint8_t *ip = rec.data + seg.ip_offset;
        size_t iplen = rec.caplen - seg.ip_offset;
        bool six = v == V_RAW6 || v == V_ETH6;
        if (six) {
            iplen = to_ipv6(ip, iplen, ip6);
            ip = ip6;
        }
        size_t h = 0;
        uint16_t et = six ? 0x86DD : 0x0800;
        memset(frame, 0, 32);
        switch (v) {
        case V_ETH_VLAN:
            frame[12] = 0x81, frame[14] = 0x00, frame[15] = 42;
            frame[16] = (uint8_t)(et >> 8), frame[17] = (uint8_t)et;
            h = 18;
            break;
        case V_ETH_QINQ:
            frame[12] = 0x88, frame[13] = 0xA8, frame[15] = 7;
            frame[16] = 0x81, frame[19] = 42;
            frame[20] = (uint8_t)(et >> 8), frame[21] = (uint8_t)et;
            h = 22;
            break;
        case V_SLL:
            frame[1] = 4; /* sent by us */
            frame[3] = 1;
            frame[5] = 6;
            frame[14] = (uint8_t)(et >> 8), frame[15] = (uint8_t)et;
            h = 16;
            break;
        case V_SLL2:
            frame[0] = (uint8_t)(et >> 8), frame[1] = (uint8_t)et;
            frame[7] = 1; /* ifindex */
            frame[9] = 1;
            frame[11] = 6;
            h = 20;
            break;
        case V_NULL: {
            uint32_t af = 2;
            memcpy(frame, &af, 4);
            h = 4;
            break;
        }
        case V_RAW4: case V_IPV4: case V_RAW6:
            h = 0;
            break;
        default: /* Ethernet */
            frame[12] = (uint8_t)(et >> 8), frame[13] = (uint8_t)et;
            h = 14;
            break;
        }
        memcpy(frame + h, ip, iplen);
        size_t flen = h + iplen;
        if (ng) {
            uint8_t epb[20 + 70000];
            uint64_t us = (uint64_t)rec.ts_sec * 1000000 + rec.ts_nsec / 1000;
            uint32_t w[5] = {0, (uint32_t)(us >> 32), (uint32_t)us, (uint32_t)flen,
                             (uint32_t)flen};
            memcpy(epb, w, 20);
            memcpy(epb + 20, frame, flen);
            ng_block(ngf, 6, epb, 20 + flen);
        } else {
            struct pcap_pkthdr ph = {.caplen = (bpf_u_int32)flen, .len = (bpf_u_int32)flen};
            ph.ts.tv_sec = (time_t)rec.ts_sec;
            ph.ts.tv_usec = (suseconds_t)(rec.ts_nsec / 1000);
            pcap_dump((u_char *)dump, &ph, frame);
        }
    }
    cr_assert_eq(got, 0, "%s", pcap_reader_error(r));
    pcap_reader_close(r);
    if (ng)
        fclose(ngf);
    else
        pcap_dump_close(dump);
    pcap_close(dead);
    if (gz) {
        size_t n;
        char *bytes = read_file(tmp, &n);
        cr_assert(bytes);
        gzFile g = gzopen(out_path, "wb");
        cr_assert(g);
        cr_assert_eq(gzwrite(g, bytes, (unsigned)n), (int)n);
        gzclose(g);
        free(bytes);
        remove(tmp);
    } else {
        cr_assert_eq(rename(tmp, out_path), 0);
    }
}

/* expected with every "a.b.c.d:" replaced by "[fd00::a.b.c.d]:" as inet_ntop prints it. */
static char *ipv6_expected(const char *exp)
{
    size_t cap = strlen(exp) * 2 + 1, o = 0;
    char *out = malloc(cap);
    const char *p = exp;
    while (*p) {
        unsigned a, b, c, d, port;
        int used = 0;
        if ((p == exp || p[-1] == ' ') &&
            sscanf(p, "%u.%u.%u.%u:%u%n", &a, &b, &c, &d, &port, &used) == 5 && used > 0) {
            o += (size_t)snprintf(out + o, cap - o, "[fd00::%x:%x]:%u", a << 8 | b, c << 8 | d,
                                  port);
            p += used;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

Test(corpus, dump_matches_expected_in_every_link_type_and_container)
{
    static char names[64][128];
    size_t n = corpus(names, 64);
    char dir[] = "/tmp/pcap-corpus-XXXXXX";
    cr_assert(mkdtemp(dir));
    for (size_t i = 0; i < n; i++) {
        char in[256], expf[256];
        snprintf(in, sizeof in, CORPUS "/%s.pcap", names[i]);
        snprintf(expf, sizeof expf, CORPUS "/%s.dump", names[i]);
        size_t elen;
        char *expected = read_file(expf, &elen);
        cr_assert(expected, "missing %s", expf);
        char *args = args_of(names[i]);
        int status;
        char *got = run_dump(in, args, &status);
        cr_assert_eq(status, 0, "%s: exit %d\n%s", in, status, got);
        cr_assert_str_eq(got, expected, "%s: dump differs from %s", in, expf);
        free(got);
        char *expected6 = ipv6_expected(expected);
        for (int v = 0; v < V_COUNT; v++) {
            char out[300];
            snprintf(out, sizeof out, "%s/%s.%s", dir, names[i], vnames[v]);
            rewrite(in, (variant)v, out);
            got = run_dump(out, args, &status);
            bool six = v == V_RAW6 || v == V_ETH6;
            cr_assert_eq(status, 0, "%s: exit %d\n%s", out, status, got);
            cr_assert_str_eq(got, six ? expected6 : expected, "%s (%s): dump differs", names[i],
                             vnames[v]);
            free(got);
            remove(out);
        }
        free(expected6);
        free(expected);
        free(args);
    }
    rmdir(dir);
}

/* Only the packets of an event log: "C>S CONNECT|S>C CONNACK|...". */
static void packets_only(const char *log, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    const char *p = log;
    while (*p) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        bool bad = l >= 7 && strncmp(p + 3, " BAD", 4) == 0;
        if ((strncmp(p, "C>S ", 4) == 0 || strncmp(p, "S>C ", 4) == 0) && !bad)
            o += (size_t)snprintf(out + o, cap - o, "%.*s|", (int)l, p);
        p += l + (e ? 1 : 0);
        if (o >= cap)
            break;
    }
}

Test(corpus, truncated_captures_keep_what_came_before_and_name_the_offset)
{
    static char names[64][128];
    size_t n = corpus(names, 64);
    for (size_t i = 0; i < n; i++) {
        char in[256];
        snprintf(in, sizeof in, CORPUS "/%s.pcap", names[i]);
        size_t len;
        char *bytes = read_file(in, &len);
        char *args = args_of(names[i]);
        uint16_t ports[2] = {1883, 0};
        sscanf(args, "--port %hu", &ports[1]);
        ev_log full;
        char err[512];
        cr_assert_eq(run_flow(bytes, len, ports, 2, &full, err, sizeof err), 0, "%s", err);
        static char fullp[8192], cutp[8192];
        packets_only(full.text, fullp, sizeof fullp);
        for (size_t cut = 1; cut < len; cut += 37) {
            ev_log l;
            err[0] = '\0';
            int rc = run_flow(bytes, cut, ports, 2, &l, err, sizeof err);
            if (cut < 24) {
                cr_assert_eq(rc, -2, "%s cut at %zu: header error expected", in, cut);
            } else {
                packets_only(l.text, cutp, sizeof cutp);
                cr_assert(strncmp(fullp, cutp, strlen(cutp)) == 0,
                          "%s cut at %zu: packets are not a prefix:\n%s\nvs\n%s", in, cut, cutp,
                          fullp);
                if (rc != 0)
                    cr_assert(strstr(err, "offset "), "%s cut at %zu: error '%s' names no offset",
                              in, cut, err);
            }
            cr_assert(strstr(err, "offset ") || rc == 0, "%s cut at %zu: '%s'", in, cut, err);
        }
        free(bytes);
        free(args);
    }
}

Test(corpus, corrupted_bytes_never_crash)
{
    static char names[64][128];
    size_t n = corpus(names, 64);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        char in[256];
        snprintf(in, sizeof in, CORPUS "/%s.pcap", names[i]);
        size_t len;
        char *orig = read_file(in, &len);
        char *bytes = malloc(len);
        for (int round = 0; round < 40; round++) {
            memcpy(bytes, orig, len);
            for (int k = 0; k < 1 + round % 8; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                size_t at = 24 + (size_t)(x % (len - 24)); /* keep the file header: reach records */
                bytes[at] = (char)(x >> 32);
            }
            ev_log l;
            char err[512];
            int rc = run_flow(bytes, len, NULL, 0, &l, err, sizeof err);
            cr_assert(rc == 0 || (rc == -1 && strstr(err, "offset ")), "%s round %d: rc %d %s",
                      in, round, rc, err);
        }
        free(bytes);
        free(orig);
    }
}

Test(corpus, gzip_corrupt_and_truncated_are_errors_with_offsets)
{
    size_t len;
    char *orig = read_file(CORPUS "/v5_qos1.pcap", &len);
    cr_assert(orig);
    uLongf zcap = compressBound(len) + 64;
    uint8_t *z = malloc(zcap);
    z_stream zs = {0};
    cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)orig;
    zs.avail_in = (uInt)len;
    zs.next_out = z;
    zs.avail_out = (uInt)zcap;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t zlen = zs.total_out;
    deflateEnd(&zs);
    ev_log whole, l;
    char err[512];
    uint16_t ports[] = {1883, 20361};
    cr_assert_eq(run_flow(z, zlen, ports, 2, &whole, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(whole.text, "PUBLISH"), "%s", whole.text);
    /* Truncated gzip: an error that says so, after what could be read. */
    int rc = run_flow(z, zlen * 2 / 3, ports, 2, &l, err, sizeof err);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err, "gzip") && strstr(err, "offset "), "%s", err);
    /* Corrupt deflate data. */
    z[zlen / 2] ^= 0x5a;
    z[zlen / 2 + 1] ^= 0xa5;
    rc = run_flow(z, zlen, ports, 2, &l, err, sizeof err);
    cr_assert(rc == -1 && strstr(err, "offset "), "rc %d: %s", rc, err);
    free(z);
    free(orig);
}

Test(reader, garbage_and_empty_input_are_errors_at_offset_0)
{
    char err[512];
    cr_assert_null(pcap_reader_open_memory("", 0, "empty.pcap", err, sizeof err));
    cr_assert(strstr(err, "empty.pcap") && strstr(err, "offset 0"), "%s", err);
    static const char junk[] = "this is not a capture file at all";
    cr_assert_null(pcap_reader_open_memory(junk, sizeof junk, "junk.pcap", err, sizeof err));
    cr_assert(strstr(err, "junk.pcap: offset 0"), "%s", err);
    cr_assert_null(pcap_reader_open_file("/nonexistent/x.pcap", err, sizeof err));
    cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(reader, records_carry_their_file_offsets)
{
    size_t len;
    char *b = read_file(CORPUS "/v311_qos0.pcap", &len);
    char err[256];
    pcap_reader *r = pcap_reader_open_memory(b, len, "x", err, sizeof err);
    cr_assert(r, "%s", err);
    pcap_record rec;
    uint64_t expect = 24;
    while (pcap_reader_next(r, &rec) == 1) {
        cr_assert_eq(rec.offset, expect, "record %llu", (unsigned long long)rec.index);
        expect += 16 + rec.caplen;
    }
    cr_assert_eq(expect, len);
    pcap_reader_close(r);
    free(b);
}
