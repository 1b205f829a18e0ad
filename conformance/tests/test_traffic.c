/*
 * The traffic recording on its own (traffic.h): file names, the --pcap
 * words, the memory limit, closes while connecting, write errors. The pcap
 * is read back with the tests' own reader (pcap_read.h).
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conformance/src/traffic.h"
#include "net/net.h"
#include "pcap_read.h"

/* A TCP connection to a local listener: the client fd, its peer address. */
typedef struct {
    int lfd, fd;
    uint16_t port;
    struct sockaddr_in peer;
} conn;

static void conn_open(conn *c)
{
    char err[128];
    c->lfd = net_listen("127.0.0.1", 0, 4, err, sizeof err);
    cr_assert_geq(c->lfd, 0, "%s", err);
    c->port = net_local_port(c->lfd);
    c->peer = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(c->port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&c->peer, sizeof c->peer), 0);
}

static void conn_close(conn *c)
{
    close(c->fd);
    close(c->lfd);
}

Test(conform_traffic, file_names_are_one_safe_path_component)
{
    char n[128];
    conf_traffic_filename("connect/03-empty-client-id", "5.0", 0, n, sizeof n);
    cr_assert_str_eq(n, "connect_03-empty-client-id@5.0.pcap");
    conf_traffic_filename("a b/c#d?e\\f:g", "3.1.1", 2, n, sizeof n);
    cr_assert_str_eq(n, "a_b_c_d_e_f_g@3.1.1-r3.pcap");
    conf_traffic_filename("../x", "3.1", 0, n, sizeof n);
    cr_assert_str_eq(n, "_._x@3.1.pcap", "never a hidden file, never a path: %s", n);
    conf_traffic_filename("averyveryverylongscenarioname", "5.0", 0, n, 16);
    cr_assert_eq(strlen(n), 15);
    cr_assert(strstr(n, ".pcap"), "the extension survives a short buffer: %s", n);
}

Test(conform_traffic, pcap_mode_words)
{
    conf_pcap_mode m;
    cr_assert_eq(conf_pcap_mode_parse("all", &m), 0);
    cr_assert_eq(m, CONF_PCAP_ALL);
    cr_assert_eq(conf_pcap_mode_parse("failures", &m), 0);
    cr_assert_eq(m, CONF_PCAP_FAILURES);
    cr_assert_eq(conf_pcap_mode_parse("none", &m), 0);
    cr_assert_eq(m, CONF_PCAP_NONE);
    cr_assert_eq(conf_pcap_mode_parse("failure", &m), -1);
    cr_assert_eq(conf_pcap_mode_parse("", &m), -1);
}

Test(conform_traffic, bytes_and_closes_round_trip_through_the_file)
{
    conn c;
    conn_open(&c);
    conf_traffic *t = conf_traffic_new(CONF_TRAFFIC_LIMIT);
    int s = conf_traffic_open(t, 0, c.fd, (struct sockaddr *)&c.peer, sizeof c.peer);
    cr_assert_eq(s, 0);
    conf_traffic_established(t, s);
    static uint8_t big[5000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    conf_traffic_data(t, s, CONF_TR_CLIENT, "\x10\x00", 2);
    conf_traffic_data(t, s, CONF_TR_SERVER, big, sizeof big); /* several segments in the file */
    conf_traffic_data(t, s, CONF_TR_CLIENT, "\xe0\x00", 2);
    conf_traffic_close(t, s, CONF_TR_SERVER, false);
    conf_traffic_close(t, s, CONF_TR_CLIENT, true); /* ignored: the broker's FIN came first */
    conf_traffic_data(t, s, CONF_TR_CLIENT, "late", 4); /* ignored: the stream ended */
    cr_assert(!conf_traffic_truncated(t));
    char path[] = "/tmp/conform-traffic-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char err[256];
    cr_assert_eq(conf_traffic_write(t, path, err, sizeof err), 0, "%s", err);
    tr_capture cap;
    cr_assert_eq(tr_read(path, c.port, &cap, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cap.s[0].len[TR_CLIENT], 4);
    cr_assert_arr_eq(cap.s[0].data[TR_CLIENT], "\x10\x00\xe0\x00", 4);
    cr_assert_eq(cap.s[0].len[TR_SERVER], sizeof big);
    cr_assert_arr_eq(cap.s[0].data[TR_SERVER], big, sizeof big);
    cr_assert(cap.s[0].fin[TR_SERVER], "the broker's FIN ...");
    cr_assert(!cap.s[0].rst[TR_CLIENT] && !cap.s[0].rst[TR_SERVER], "... and no reset after it");
    tr_free(&cap);
    unlink(path);
    conf_traffic_free(t);
    conn_close(&c);
}

Test(conform_traffic, recording_stops_at_the_limit_and_says_so)
{
    conn c;
    conn_open(&c);
    conf_traffic *t = conf_traffic_new(10);
    int s = conf_traffic_open(t, 0, c.fd, (struct sockaddr *)&c.peer, sizeof c.peer);
    conf_traffic_established(t, s);
    conf_traffic_data(t, s, CONF_TR_CLIENT, "0123456", 7);
    conf_traffic_data(t, s, CONF_TR_SERVER, "abcd", 4); /* 11 > 10: dropped, and all after it */
    conf_traffic_data(t, s, CONF_TR_CLIENT, "x", 1);
    conf_traffic_close(t, s, CONF_TR_CLIENT, false);
    cr_assert(conf_traffic_truncated(t));
    cr_assert_eq(conf_traffic_open(t, 1, c.fd, (struct sockaddr *)&c.peer, sizeof c.peer), -1,
                 "no new streams once truncated");
    char path[] = "/tmp/conform-traffic-XXXXXX";
    close(mkstemp(path));
    char err[256];
    cr_assert_eq(conf_traffic_write(t, path, err, sizeof err), 0, "%s", err);
    tr_capture cap;
    cr_assert_eq(tr_read(path, c.port, &cap, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cap.s[0].len[TR_CLIENT], 7, "what came before the limit, without a hole");
    cr_assert_eq(cap.s[0].len[TR_SERVER], 0);
    cr_assert(!cap.s[0].fin[TR_CLIENT], "nothing after the limit");
    tr_free(&cap);
    unlink(path);
    conf_traffic_free(t);
    conn_close(&c);
}

Test(conform_traffic, close_while_connecting_leaves_only_the_syn)
{
    conn c;
    conn_open(&c);
    conf_traffic *t = conf_traffic_new(CONF_TRAFFIC_LIMIT);
    int s = conf_traffic_open(t, 0, c.fd, (struct sockaddr *)&c.peer, sizeof c.peer);
    conf_traffic_close(t, s, CONF_TR_CLIENT, false);
    char path[] = "/tmp/conform-traffic-XXXXXX";
    close(mkstemp(path));
    char err[256];
    cr_assert_eq(conf_traffic_write(t, path, err, sizeof err), 0, "%s", err);
    tr_capture cap;
    cr_assert_eq(tr_read(path, c.port, &cap, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cap.records, 1);
    cr_assert(cap.s[0].syn && !cap.s[0].synack && !cap.s[0].fin[TR_CLIENT]);
    tr_free(&cap);
    unlink(path);
    conf_traffic_free(t);
    conn_close(&c);
}

Test(conform_traffic, unwritable_path_is_an_error_naming_it)
{
    conf_traffic *t = conf_traffic_new(CONF_TRAFFIC_LIMIT);
    char err[256];
    cr_assert_eq(conf_traffic_write(t, "/nonexistent/x.pcap", err, sizeof err), -1);
    cr_assert(strstr(err, "/nonexistent/x.pcap") && strstr(err, "No such file"), "%s", err);
    conf_traffic_free(t);
    /* calls on no recording (captures off) do nothing */
    conf_traffic_data(NULL, 0, CONF_TR_CLIENT, "x", 1);
    conf_traffic_close(NULL, 0, CONF_TR_CLIENT, false);
    cr_assert_eq(conf_traffic_open(NULL, 0, 0, NULL, 0), -1);
}
