/*
 * handle_disconnect: DISCONNECT from a client. The Will is discarded
 * (3.1.1 MQTT-3.14.4-3; 5.0 MQTT-3.1.2-10, MQTT-3.14.4-3) only by reason 0x00
 * "Normal disconnection": 0x04 "Disconnect with Will Message" and every error
 * reason (0x80 ...) leave it to be published, as 5.0 MQTT-3.1.2-8 says. A 5.0 client may change its Session Expiry
 * Interval here, but not from 0 to non-zero (a Protocol Error, 5.0 3.14.2.2.2).
 */
#include "broker/src/broker_internal.h"

void broker_handle_disconnect(broker_conn *c, const mqtt_disconnect *p)
{
    broker_session *s = c->session;
    bool will = false;
    if (c->version == MQTT_V5) {
        if (MQTT_HAS_PROP(&p->properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL)) {
            uint32_t e = p->properties.session_expiry_interval;
            if (s->expiry_interval == 0 && e != 0) {
                broker_conn_fail(c, 0x82, "MQTT-3.14.2.2.2", true,
                                 "DISCONNECT sets a Session Expiry Interval but CONNECT had 0");
                return;
            }
            bool was_persistent = s->persistent;
            s->expiry_interval = e;
            s->persistent = e > 0;
            if (s->persistent) broker_journal_session(c->core, s);
            else if (was_persistent) broker_journal_session_end(c->core, s);
        }
        will = p->reason_code != 0x00;
    }
    broker_log_conn(c, BROKER_LOG_INFO, "disconnected (DISCONNECT%s)", will ? " with Will Message" : "");
    broker_conn_detach(c, will);
}
