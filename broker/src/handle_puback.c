/*
 * handle_puback: PUBACK from a client ends a QoS 1 delivery (MQTT-4.3.2-3)
 * and frees its place in the window, so the queue moves on. A PUBACK for an
 * id not in flight is ignored.
 */
#include "broker/src/broker_internal.h"

void broker_handle_puback(broker_conn *c, const mqtt_ack *p)
{
    broker_session *s = c->session;
    broker_delivery *d = broker_session_find_inflight(s, p->packet_id);
    if (!d || d->state != DLV_WAIT_PUBACK) {
        broker_log_conn(c, BROKER_LOG_DEBUG, "PUBACK for packet id %u not in flight, ignored", (unsigned)p->packet_id);
        return;
    }
    broker_journal_done(c->core, s, p->packet_id);
    broker_session_remove_inflight(s, d);
    broker_session_pump(c->core, s);
}
