/*
 * handle_pubcomp: PUBCOMP from a client ends a QoS 2 delivery
 * (MQTT-4.3.3-5) and frees its place in the window. Unknown ids are ignored.
 */
#include "broker/src/broker_internal.h"

void broker_handle_pubcomp(broker_conn *c, const mqtt_ack *p)
{
    broker_session *s = c->session;
    broker_delivery *d = broker_session_find_inflight(s, p->packet_id);
    if (!d || d->state != DLV_WAIT_PUBCOMP) {
        broker_log_conn(c, BROKER_LOG_DEBUG, "PUBCOMP for packet id %u not awaited, ignored", (unsigned)p->packet_id);
        return;
    }
    broker_journal_done(c->core, s, p->packet_id);
    broker_session_remove_inflight(s, d);
    broker_session_pump(c->core, s);
}
