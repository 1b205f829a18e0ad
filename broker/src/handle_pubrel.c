/*
 * handle_pubrel: PUBREL from a client releases an incoming QoS 2 message:
 * it is delivered now, once (Method A, see handle_publish.c), and PUBCOMP
 * is sent with the same id (5.0 MQTT-4.3.3-11, 3.1.1 MQTT-4.3.3-2). An
 * unknown id still gets PUBCOMP (0x92 in 5.0): the release may be a re-send
 * after a reconnect whose first PUBCOMP was lost.
 */
#include "broker/src/broker_internal.h"

void broker_handle_pubrel(broker_conn *c, const mqtt_ack *p)
{
    broker_core *core = c->core;
    broker_session *s = c->session;
    broker_rx_qos2 *rx = broker_session_find_rx(s, p->packet_id);
    if (!rx) {
        broker_send_ack(c, MQTT_PUBCOMP, p->packet_id, 0x92, NULL);
        return;
    }
    broker_msg *msg = rx->msg;
    rx->msg = NULL;
    broker_session_remove_rx(s, rx);
    if (msg) {
        core->cur_publisher = c;
        broker_publish_msg(core, msg, s);
        core->cur_publisher = NULL;
        broker_msg_unref(msg);
    }
    /* After the deliveries: a crash between the two re-delivers (duplicate)
     * rather than loses the message. */
    broker_journal_rx_done(core, s, p->packet_id);
    broker_send_ack(c, MQTT_PUBCOMP, p->packet_id, 0, NULL);
}
