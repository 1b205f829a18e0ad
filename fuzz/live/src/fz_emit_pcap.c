/*
 * fz_emit_pcap: a recorded run as a pcap with the real addresses, ports and
 * times of each connection (pcaps/src/pcap_writer.c synthesizes the TCP
 * framing around the bytes).
 */
#include "fuzz/live/src/fz_emit.h"

#include "pcaps/src/pcap_writer.h"

int fz_emit_pcap(const char *path, const fz_run *run, char *err, size_t errlen)
{
    pcap_writer *w = pcap_writer_open(path, PCAP_WRITER_ETHERNET, err, errlen);
    if (!w) return -1;
    pcap_writer_conn pc[FZ_MAX_CONNS];
    bool ok[FZ_MAX_CONNS] = {false};
    for (size_t i = 0; i < run->nev; i++) {
        const fz_event *e = &run->ev[i];
        const fz_conn *k = &run->conn[e->conn];
        pcap_writer_conn *c = &pc[e->conn];
        if (e->kind == FZ_EV_OPEN) {
            ok[e->conn] = pcap_writer_conn_init(c, (const struct sockaddr *)&k->local,
                                                (const struct sockaddr *)&k->peer) == 0;
            if (ok[e->conn]) pcap_writer_handshake(w, c, e->t_us);
        }
        if (!ok[e->conn]) continue;
        if (e->kind == FZ_EV_SEND) pcap_writer_send(w, c, PCAP_WRITER_CLIENT, k->out.p + e->off, e->len, e->t_us);
        else if (e->kind == FZ_EV_RECV) pcap_writer_send(w, c, PCAP_WRITER_SERVER, k->in.p + e->off, e->len, e->t_us);
        else if (e->kind == FZ_EV_CLOSE_CLIENT) pcap_writer_fin(w, c, PCAP_WRITER_CLIENT, e->t_us);
        else if (e->kind == FZ_EV_CLOSE_BROKER) pcap_writer_fin(w, c, PCAP_WRITER_SERVER, e->t_us);
    }
    if (pcap_writer_close(w) != 0) {
        snprintf(err, errlen, "%s: write error", path);
        return -1;
    }
    return 0;
}
