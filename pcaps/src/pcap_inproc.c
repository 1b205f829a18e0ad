/*
 * pcap_inproc (pcap_inproc.h): replay's broker in-process, on a virtual
 * clock. Before every read the broker is pumped until nothing moves; when
 * nothing came, the clock jumps to the reader's deadline or the broker's
 * next timer, whichever is first, instead of waiting. So a capture replayed
 * at its recorded pace (keep alive, expiry, Will delay included) takes no
 * real time, and gives the same answers on any machine.
 */
#include "pcaps/src/pcap_inproc.h"

#include "broker/src/broker_driver.h"
#include "net/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#define VIRTUAL_EPOCH_MS 1000000
#define PUMPS_MAX 4096 /* per settle: a bound, not a limit a replay reaches */

struct pcap_inproc {
    broker_driver *d;
    int64_t now;
};

pcap_inproc *pcap_inproc_new(char *err, size_t errlen)
{
    pcap_inproc *ip = calloc(1, sizeof *ip);
    if (!ip) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ip->now = VIRTUAL_EPOCH_MS;
    /* the broker's defaults (local only mode: anonymous clients allowed) */
    if (!(ip->d = broker_driver_new("", "default configuration", NULL, NULL, ip->now, err, errlen))) {
        free(ip);
        return NULL;
    }
    return ip;
}

void pcap_inproc_free(pcap_inproc *ip)
{
    if (!ip) return;
    broker_driver_free(ip->d, ip->now);
    free(ip);
}

int64_t pcap_inproc_now(const pcap_inproc *ip)
{
    return ip->now;
}

static void settle(pcap_inproc *ip)
{
    for (int k = 0; k < PUMPS_MAX && broker_driver_pump(ip->d, ip->now); k++) {}
}

int pcap_inproc_connect(pcap_inproc *ip, const char *peer)
{
    return broker_driver_connect(ip->d, peer, ip->now);
}

ssize_t pcap_inproc_send(pcap_inproc *ip, int fd, const void *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = send(fd, (const char *)p + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) { off += (size_t)k; continue; }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        /* the socket pair is full: the broker reads it now */
        if (!broker_driver_pump(ip->d, ip->now))
            return NET_TIMEOUT; /* it takes nothing more (throttled): what a blocked TCP send comes to */
    }
    settle(ip);
    return (ssize_t)n;
}

ssize_t pcap_inproc_recv(pcap_inproc *ip, int fd, void *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = ip->now + (timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        settle(ip);
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        if (ip->now >= deadline) return NET_TIMEOUT;
        int64_t t = broker_driver_next_deadline(ip->d);
        ip->now = t > ip->now && t < deadline ? t : deadline;
    }
}

void pcap_inproc_sleep_until(pcap_inproc *ip, int64_t due)
{
    while (ip->now < due) {
        settle(ip);
        int64_t t = broker_driver_next_deadline(ip->d);
        ip->now = t > ip->now && t < due ? t : due;
    }
    settle(ip);
}
