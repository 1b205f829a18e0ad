/*
 * handle_auth: AUTH from a client. Enhanced authentication is not offered
 * (a CONNECT with an Authentication Method is refused with 0x8C), so an AUTH
 * is always a Protocol Error (MQTT-4.12.0-7: no AUTH without a method).
 */
#include "broker/src/broker_internal.h"

void broker_handle_auth(broker_conn *c, const mqtt_disconnect *p)
{
    broker_conn_fail(c, 0x82, "MQTT-4.12.0-7", true, "AUTH (reason 0x%02X) without an Authentication Method",
                     (unsigned)p->reason_code);
}
