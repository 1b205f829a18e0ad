/*
 * The in-process driver (broker_driver.h) over socket pairs, on a clock the
 * test owns: configuration text as mqtt-broker reads it, answers readable as
 * soon as the pump settles (no time passes), keep alive enforced at exactly
 * the virtual time the spec gives (MQTT-3.1.2-24: 1.5 x Keep Alive, within
 * the core's one-second tick), and a peer that goes away is closed.
 */
#include "broker/src/broker_driver.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T0 1000000

/* 3.1.1 CONNECT, client id "c1", clean session, Keep Alive 10 s. */
static const uint8_t connect_ka10[] = {0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
                                       0x00, 0x0a, 0x00, 0x02, 'c', '1'};
static const uint8_t connack_ok[] = {0x20, 0x02, 0x00, 0x00};

static void settle(broker_driver *d, int64_t now)
{
    for (int k = 0; k < 100 && broker_driver_pump(d, now); k++) {}
}

static broker_driver *new_driver(void)
{
    char err[256] = "";
    broker_driver *d = broker_driver_new("max_packet_size 1048576\n", "test", NULL, NULL, T0, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    return d;
}

/* Connects, sends CONNECT and checks the CONNACK, all at T0. */
static int connected_client(broker_driver *d)
{
    int fd = broker_driver_connect(d, "test", T0);
    cr_assert_geq(fd, 0, "connect: %s", strerror(errno));
    cr_assert_eq(send(fd, connect_ka10, sizeof connect_ka10, 0), (ssize_t)sizeof connect_ka10);
    settle(d, T0);
    uint8_t in[16];
    cr_assert_eq(recv(fd, in, sizeof in, MSG_DONTWAIT), (ssize_t)sizeof connack_ok, "no CONNACK after the pump");
    cr_assert_arr_eq(in, connack_ok, sizeof connack_ok);
    return fd;
}

Test(broker_driver, refuses_what_it_cannot_serve)
{
    char err[256] = "";
    cr_assert_null(broker_driver_new("persistence true\n", "x.conf", NULL, NULL, T0, err, sizeof err));
    cr_assert(strstr(err, "persistence") != NULL, "%s", err);
    cr_assert_null(broker_driver_new("no_such_option 1\n", "x.conf", NULL, NULL, T0, err, sizeof err));
    cr_assert(strstr(err, "x.conf:1") != NULL, "the error names file and line: %s", err);
}

Test(broker_driver, answers_without_time_passing)
{
    broker_driver *d = new_driver();
    int fd = connected_client(d);
    cr_assert_eq(broker_driver_conn_count(d), 1);
    close(fd);
    broker_driver_free(d, T0);
}

/* MQTT-3.1.2-24: closed once 1.5 x Keep Alive passed without a packet, not before. */
Test(broker_driver, keep_alive_enforced_at_its_virtual_time)
{
    broker_driver *d = new_driver();
    int fd = connected_client(d);
    int64_t now = T0, closed_at = -1;
    for (int step = 0; step < 100 && closed_at < 0; step++) {
        int64_t next = broker_driver_next_deadline(d);
        now = next > now ? next : now + 1;
        settle(d, now);
        uint8_t b;
        if (recv(fd, &b, 1, MSG_DONTWAIT) == 0) closed_at = now;
    }
    cr_assert_geq(closed_at - T0, 15000, "closed after %lld ms", (long long)(closed_at - T0));
    cr_assert_leq(closed_at - T0, 16000, "closed after %lld ms", (long long)(closed_at - T0));
    cr_assert_eq(broker_driver_conn_count(d), 0);
    close(fd);
    broker_driver_free(d, now);
}

Test(broker_driver, peer_gone_is_closed)
{
    broker_driver *d = new_driver();
    int fd = connected_client(d);
    close(fd);
    settle(d, T0);
    cr_assert_eq(broker_driver_conn_count(d), 0);
    broker_driver_free(d, T0);
}
