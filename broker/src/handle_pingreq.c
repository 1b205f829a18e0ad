/*
 * handle_pingreq: PINGREQ -> PINGRESP (MQTT-3.12.4-1). Receiving it already
 * reset the keep alive timer (any packet does).
 */
#include "broker/src/broker_internal.h"

#include <string.h>

void broker_handle_pingreq(broker_conn *c)
{
    mqtt_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = MQTT_PINGRESP;
    broker_send(c, &pkt);
}
