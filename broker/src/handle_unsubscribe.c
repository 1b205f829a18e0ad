/*
 * handle_unsubscribe: UNSUBSCRIBE -> each filter compared byte for byte
 * with the session's filters, the match deleted (MQTT-3.10.4-1/2), one
 * UNSUBACK with the same packet id even if nothing matched (MQTT-3.10.4-4/5,
 * -6). 5.0 reason per filter: 0x00 Success or 0x11 No subscription existed.
 * Messages already queued or in flight still complete (MQTT-3.10.4-3).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

void broker_handle_unsubscribe(broker_conn *c, const mqtt_subscribe *p)
{
    broker_core *core = c->core;
    broker_session *s = c->session;
    uint8_t *codes = broker_xmalloc(p->count);
    for (size_t i = 0; i < p->count; i++) {
        mqtt_bytes f = p->subscriptions[i].topic_filter;
        broker_sub *sub = broker_session_find_sub(s, f.ptr, f.len);
        codes[i] = sub ? 0x00 : 0x11;
        if (sub) {
            broker_journal_unsub(core, s, sub);
            broker_sub_remove(core, sub);
        }
    }
    mqtt_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = MQTT_UNSUBACK;
    ack.suback.packet_id = p->packet_id;
    if (c->version == MQTT_V5) ack.suback.reason_codes = (mqtt_bytes){codes, p->count};
    broker_send(c, &ack);
    free(codes);
}
