/*
 * handle_pubrec: PUBREC from a client, second step of a QoS 2 delivery.
 * Success: the message is released and PUBREL sent (MQTT-4.3.3-4); the
 * PUBLISH is never sent again (MQTT-4.3.3-6). A reason >= 0x80 ends the
 * delivery (MQTT-4.4.0-2). A repeated PUBREC gets PUBREL again; an unknown
 * id gets PUBREL 0x92 (Packet Identifier not found) in 5.0.
 */
#include "broker/src/broker_internal.h"

void broker_handle_pubrec(broker_conn *c, const mqtt_ack *p)
{
    broker_session *s = c->session;
    broker_delivery *d = broker_session_find_inflight(s, p->packet_id);
    if (!d) {
        broker_send_ack(c, MQTT_PUBREL, p->packet_id, 0x92, NULL);
        return;
    }
    if (d->state == DLV_WAIT_PUBACK) {
        broker_conn_fail(c, 0x82, "MQTT-4.3.2-3", true, "PUBREC for QoS 1 message %u", (unsigned)p->packet_id);
        return;
    }
    if (d->state == DLV_WAIT_PUBREC) {
        if (c->version == MQTT_V5 && p->reason_code >= 0x80) {
            broker_journal_done(c->core, s, p->packet_id);
            broker_session_remove_inflight(s, d);
            broker_session_pump(c->core, s);
            return;
        }
        d->state = DLV_WAIT_PUBCOMP;
        broker_journal_pubrel(c->core, s, p->packet_id);
        broker_msg_unref(d->msg); /* only the packet id is needed from now on */
        d->msg = NULL;
    }
    broker_send_ack(c, MQTT_PUBREL, p->packet_id, 0, NULL);
}
