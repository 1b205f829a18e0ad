/*
 * The encoder: packets built field by field encode to the bytes the spec's
 * layouts give (and those bytes pass every decode check), the two steps agree,
 * a too-small buffer is left untouched, and the encoder refuses - with the
 * decoder's rule id - every packet its own decoder would reject.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

#define S(s) tv_str(s)

static mqtt_packet pkt_of(mqtt_packet_type t)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = t;
    return p;
}

/* ---- packets that encode ---------------------------------------------------- */

Test(codec_encode, connect_311_and_31_from_fields)
{
    mqtt_packet p = pkt_of(MQTT_CONNECT);
    p.connect.clean_start = true;
    p.connect.keep_alive = 60;
    p.connect.client_id = S("sub-mqttv311");
    mqtt_codec c = TV_C311;
    TV_ENCODE_OK(&c, &p, "10 18 00 04 'MQTT' 04 02 00 3c 00 0c 'sub-mqttv311'");
    p.connect.client_id = S("sub-mqttv31");
    c = TV_C31;
    TV_ENCODE_OK(&c, &p, "10 19 00 06 'MQIsdp' 03 02 00 3c 00 0b 'sub-mqttv31'");
}

Test(codec_encode, connect_with_will_and_credentials)
{
    mqtt_packet p = pkt_of(MQTT_CONNECT);
    mqtt_connect *k = &p.connect;
    k->clean_start = true;
    k->keep_alive = 60;
    k->client_id = S("pub2");
    k->will = true;
    k->will_qos = 1;
    k->will_retain = true;
    k->will_topic = S("w/t");
    k->will_payload = S("bye");
    k->has_username = true;
    k->username = S("user");
    k->has_password = true;
    k->password = S("pass");
    mqtt_codec c = TV_C311;
    TV_ENCODE_OK(&c, &p, "10 26 00 04 'MQTT' 04 ee 00 3c 00 04 'pub2' 00 03 'w/t' 00 03 'bye'"
                         " 00 04 'user' 00 04 'pass'");
    k->properties.present = MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    k->properties.receive_maximum = 20;
    c = TV_C5;
    TV_ENCODE_OK(&c, &p, "10 2b 00 04 'MQTT' 05 ee 00 3c 03 21 00 14 00 04 'pub2' 00"
                         " 00 03 'w/t' 00 03 'bye' 00 04 'user' 00 04 'pass'");
}

Test(codec_encode, connect_level_comes_from_the_packet)
{
    /* protocol_level 5 in the packet wins over the codec's 3.1.1. */
    mqtt_packet p = pkt_of(MQTT_CONNECT);
    p.connect.protocol_level = 5;
    p.connect.clean_start = true;
    mqtt_codec c = TV_C311;
    uint8_t out[64];
    size_t w;
    cr_assert_eq(mqtt_encode(&c, &p, out, sizeof out, &w, NULL), MQTT_OK);
    uint8_t want[] = {0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 0};
    cr_assert_eq(w, sizeof want);
    cr_assert(memcmp(out, want, sizeof want) == 0);
}

Test(codec_encode, publish_with_properties_in_ascending_order)
{
    mqtt_user_property up[2] = {{S("k"), S("v")}, {S("k"), S("w")}};
    uint32_t ids[2] = {5, 300};
    mqtt_packet p = pkt_of(MQTT_PUBLISH);
    mqtt_publish *m = &p.publish;
    m->qos = 2;
    m->dup = true;
    m->retain = true;
    m->packet_id = 0x0102;
    m->topic = S("a/b");
    m->payload = S("hi");
    m->properties.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) |
                            MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
    m->properties.content_type = S("t");
    m->properties.payload_format_indicator = 1;
    m->properties.user_properties = up;
    m->properties.user_property_count = 2;
    m->properties.subscription_identifiers = ids;
    m->properties.subscription_identifier_count = 2;
    mqtt_codec c = TV_S5;
    TV_ENCODE_OK(&c, &p,
                 "3d 23 00 03 'a/b' 01 02 19 01 01 03 00 01 't' 0b 05 0b ac 02"
                 " 26 00 01 'k' 00 01 'v' 26 00 01 'k' 00 01 'w' 'hi'");
}

Test(codec_encode, acks_use_their_shortest_form)
{
    mqtt_packet p = pkt_of(MQTT_PUBACK);
    p.ack.packet_id = 7;
    mqtt_codec c = TV_C5;
    TV_ENCODE_OK(&c, &p, "40 02 00 07");
    p.ack.reason_code = 0x10;
    TV_ENCODE_OK(&c, &p, "40 03 00 07 10");
    p.type = MQTT_PUBREL;
    p.ack.reason_code = 0;
    p.ack.properties.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
    p.ack.properties.reason_string = S("ok");
    TV_ENCODE_OK(&c, &p, "62 09 00 07 00 05 1f 00 02 'ok'");
    c = TV_C311;
    p.ack.properties.present = 0;
    TV_ENCODE_OK(&c, &p, "62 02 00 07");
}

Test(codec_encode, subscribe_suback_unsubscribe_unsuback)
{
    mqtt_subscription subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].topic_filter = S("a/b");
    subs[0].qos = 2;
    subs[1].topic_filter = S("x/#");
    subs[1].qos = 1;
    subs[1].no_local = true;
    subs[1].retain_as_published = true;
    subs[1].retain_handling = 2;
    mqtt_packet p = pkt_of(MQTT_SUBSCRIBE);
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = subs;
    p.subscribe.count = 2;
    mqtt_codec c = TV_C5;
    TV_ENCODE_OK(&c, &p, "82 0f 00 01 00 00 03 'a/b' 02 00 03 'x/#' 2d");
    subs[1].no_local = subs[1].retain_as_published = false;
    subs[1].retain_handling = 0;
    c = TV_C311;
    TV_ENCODE_OK(&c, &p, "82 0e 00 01 00 03 'a/b' 02 00 03 'x/#' 01");
    p.type = MQTT_UNSUBSCRIBE;
    TV_ENCODE_OK(&c, &p, "a2 0c 00 01 00 03 'a/b' 00 03 'x/#'");

    uint8_t codes[] = {0x02, 0x80};
    mqtt_packet a = pkt_of(MQTT_SUBACK);
    a.suback.packet_id = 1;
    a.suback.reason_codes.ptr = codes;
    a.suback.reason_codes.len = 2;
    c = TV_S311;
    TV_ENCODE_OK(&c, &a, "90 04 00 01 02 80");
    c = TV_S5;
    TV_ENCODE_OK(&c, &a, "90 05 00 01 00 02 80");
    a.type = MQTT_UNSUBACK;
    codes[0] = 0x11;
    TV_ENCODE_OK(&c, &a, "b0 05 00 01 00 11 80");
    a.suback.reason_codes.len = 0;
    c = TV_S311;
    TV_ENCODE_OK(&c, &a, "b0 02 00 01");
}

Test(codec_encode, connack_ping_disconnect_auth)
{
    mqtt_user_property up = {S("k"), S("v")};
    mqtt_packet p = pkt_of(MQTT_CONNACK);
    p.connack.session_present = true;
    mqtt_codec c = TV_S311;
    TV_ENCODE_OK(&c, &p, "20 02 01 00");
    c = TV_S5;
    p.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM) |
                                   MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    p.connack.properties.topic_alias_maximum = 10;
    p.connack.properties.receive_maximum = 20;
    p.connack.properties.user_properties = &up;
    p.connack.properties.user_property_count = 1;
    TV_ENCODE_OK(&c, &p, "20 10 01 00 0d 21 00 14 22 00 0a 26 00 01 'k' 00 01 'v'");

    mqtt_packet q = pkt_of(MQTT_PINGRESP);
    TV_ENCODE_OK(&c, &q, "d0 00");
    q.type = MQTT_PINGREQ;
    c = TV_C31;
    TV_ENCODE_OK(&c, &q, "c0 00");

    mqtt_packet d = pkt_of(MQTT_DISCONNECT);
    TV_ENCODE_OK(&c, &d, "e0 00");
    c = TV_S5;
    d.disconnect.reason_code = 0x8e;
    TV_ENCODE_OK(&c, &d, "e0 01 8e");

    mqtt_packet a = pkt_of(MQTT_AUTH);
    TV_ENCODE_OK(&c, &a, "f0 00");
    a.disconnect.reason_code = 0x18;
    a.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD) |
                                      MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_DATA);
    a.disconnect.properties.authentication_method = S("SCRAM");
    a.disconnect.properties.authentication_data = S("xyz");
    TV_ENCODE_OK(&c, &a, "f0 10 18 0e 15 00 05 'SCRAM' 16 00 03 'xyz'");
}

Test(codec_encode, size_first_then_encode_and_null_buffer_of_capacity_0)
{
    mqtt_packet p = pkt_of(MQTT_PUBLISH);
    p.publish.topic = S("a/b");
    p.publish.payload = S("hello");
    mqtt_codec c = TV_C311;
    size_t size = 0;
    cr_assert_eq(mqtt_encoded_size(&c, &p, &size, NULL), MQTT_OK);
    cr_assert_eq(size, 12);
    size_t w = 99;
    mqtt_error e;
    cr_assert_eq(mqtt_encode(&c, &p, NULL, 0, &w, &e), MQTT_ERR_LIMIT);
    cr_assert_eq(w, 12);
    cr_assert_str_eq(e.rule, "LIMIT-buffer");
}

/* ---- packets the encoder refuses ------------------------------------------- */

Test(codec_encode, refuses_bad_publish)
{
    mqtt_codec c311 = TV_C311, c5 = TV_C5, s5 = TV_S5;
    mqtt_packet p = pkt_of(MQTT_PUBLISH);
    p.publish.topic = S("a/b");
    p.publish.qos = 3;
    p.publish.packet_id = 1;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.3.1-4");
    p.publish.qos = 0;
    p.publish.dup = true;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-3.3.1-2");
    p.publish.dup = false;
    p.publish.qos = 1;
    p.publish.packet_id = 0;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_PROTOCOL, "MQTT-2.3.1-1");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-2.2.1-3");
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-2.2.1-4");
    p.publish.qos = 0;
    p.publish.topic = S("a/+");
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_PROTOCOL, "MQTT-3.3.2-2");
    p.publish.topic = S("");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-4.7.3-1");
    p.publish.topic = S("a\xed\xa0\x80");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-1.5.4-1");
}

Test(codec_encode, refuses_bad_publish_properties)
{
    mqtt_codec c5 = TV_C5, c311 = TV_C311;
    uint32_t id = 1;
    mqtt_packet p = pkt_of(MQTT_PUBLISH);
    p.publish.topic = S("t");
    p.publish.properties.subscription_identifiers = &id;
    p.publish.properties.subscription_identifier_count = 1;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.3.4-6");
    id = 0;
    mqtt_codec s5 = TV_S5;
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.3.2.3.8");
    p.publish.properties.subscription_identifier_count = 0;

    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
    p.publish.properties.topic_alias = 0;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.3.2-8");
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-2.2.2.2");
    p.publish.properties.present = MQTT_PROP_BIT(0x05);
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-2.2.2.2");
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC);
    p.publish.properties.response_topic = S("r/#");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.3.2-14");
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
    p.publish.properties.payload_format_indicator = 2;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.3.2.3.2");
    p.publish.properties.payload_format_indicator = 1;
    /* Properties do not exist before 5.0. */
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_PROTOCOL, "LIMIT-not-in-version");
    p.publish.properties.present = 0;
    /* A User Property is a UTF-8 String Pair: MQTT-1.5.7-1 covers both of its strings. */
    static const uint8_t bad_name[] = {'a', 0};
    mqtt_user_property up = {{bad_name, 2}, S("v")};
    p.publish.properties.user_properties = &up;
    p.publish.properties.user_property_count = 1;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-1.5.7-1");
    /* An empty topic needs a Topic Alias. */
    p.publish.properties.user_property_count = 0;
    p.publish.topic = S("");
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
    p.publish.properties.topic_alias = 3;
    size_t size;
    cr_assert_eq(mqtt_encoded_size(&c5, &p, &size, NULL), MQTT_OK);
    cr_assert_eq(size, 8);
}

Test(codec_encode, refuses_what_does_not_fit_mqtt_or_the_limit)
{
    /* The payload view is never read: sizing refuses first. */
    static const uint8_t small[1];
    mqtt_packet p = pkt_of(MQTT_PUBLISH);
    p.publish.topic = S("t");
    p.publish.payload.ptr = small;
    p.publish.payload.len = MQTT_MAX_REMAINING_LENGTH;
    mqtt_codec c = TV_C311;
    TV_ENCODE_REFUSED(&c, &p, MQTT_ERR_MALFORMED, "MQTT-2.2.3");
    c = TV_C5;
    TV_ENCODE_REFUSED(&c, &p, MQTT_ERR_MALFORMED, "MQTT-1.5.5");
    p.publish.payload.len = 100;
    c.max_packet_size = 50;
    TV_ENCODE_REFUSED(&c, &p, MQTT_ERR_LIMIT, "MQTT-3.2.2-15");
    c = TV_S5;
    c.max_packet_size = 50;
    TV_ENCODE_REFUSED(&c, &p, MQTT_ERR_LIMIT, "MQTT-3.1.2-24");

    static uint8_t big[70000];
    memset(big, 'u', sizeof big);
    mqtt_packet k = pkt_of(MQTT_CONNECT);
    k.connect.has_username = true;
    k.connect.username.ptr = big;
    k.connect.username.len = sizeof big;
    c = TV_C311;
    TV_ENCODE_REFUSED(&c, &k, MQTT_ERR_MALFORMED, "MQTT-1.5.3");
}

Test(codec_encode, refuses_bad_connect)
{
    mqtt_codec c311 = TV_C311, c5 = TV_C5;
    mqtt_packet p = pkt_of(MQTT_CONNECT);
    p.connect.will_qos = 1;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-13");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-11");
    p.connect.will_qos = 0;
    p.connect.will_retain = true;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-15");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-13");
    p.connect.will_retain = false;
    p.connect.will = true;
    p.connect.will_topic = S("w");
    p.connect.will_qos = 3;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-14");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-12");
    p.connect.will_qos = 0;
    p.connect.will_topic = S("w/#");
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_PROTOCOL, "MQTT-4.7.1-1");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-4.7.0-1");
    p.connect.will = false;
    p.connect.has_password = true;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.1.2-22");
    size_t size;
    cr_assert_eq(mqtt_encoded_size(&c5, &p, &size, NULL), MQTT_OK);
    p.connect.has_password = false;

    p.connect.protocol_level = 6;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_UNSUPPORTED_VERSION, "MQTT-3.1.2-2");
    p.connect.protocol_level = 4;
    p.connect.protocol_name = S("MQTX");
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_UNSUPPORTED_VERSION, "MQTT-3.1.2-1");
    p.connect.protocol_name = S("MQIsdp");
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_UNSUPPORTED_VERSION, "MQTT-3.1.2-2");
    p.connect.protocol_name = S("");
    p.connect.protocol_level = 0;

    p.connect.client_id = S("\xc0\x80");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-1.5.4-1");
    p.connect.client_id = S("c");
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.1.2.11.3");
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_DATA);
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.1.2.11.10");
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_WILL_DELAY_INTERVAL);
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-2.2.2.2");
    p.connect.properties.present = 0;
    mqtt_codec s5 = TV_S5;
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-2.1.2");
}

Test(codec_encode, refuses_bad_connack)
{
    mqtt_codec c5 = TV_C5, s5 = TV_S5, s311 = TV_S311, s31 = TV_S31;
    mqtt_packet p = pkt_of(MQTT_CONNACK);
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-2.1.2");
    p.connack.reason_code = 0x04;
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.2.2-8");
    p.connack.reason_code = 0x80;
    p.connack.session_present = true;
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.2.2-6");
    p.connack.reason_code = 5;
    TV_ENCODE_REFUSED(&s311, &p, MQTT_ERR_PROTOCOL, "MQTT-3.2.2-4");
    p.connack.session_present = false;
    p.connack.reason_code = 6;
    TV_ENCODE_REFUSED(&s311, &p, MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3");
    p.connack.reason_code = 0;
    p.connack.session_present = true;
    TV_ENCODE_REFUSED(&s31, &p, MQTT_ERR_MALFORMED, "MQTT-3.2.2.1");
    p.connack.session_present = false;
    p.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS);
    p.connack.properties.maximum_qos = 2;
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.4");
    p.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
    TV_ENCODE_REFUSED(&s5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.6");
}

Test(codec_encode, refuses_bad_subscribe)
{
    mqtt_codec c311 = TV_C311, c5 = TV_C5;
    mqtt_subscription s;
    memset(&s, 0, sizeof s);
    s.topic_filter = S("a/b");
    mqtt_packet p = pkt_of(MQTT_SUBSCRIBE);
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = &s;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.3-3");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.3-2");
    p.subscribe.count = 1;
    s.qos = 3;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.8.3-4");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.3.1");
    s.qos = 1;
    s.no_local = true;
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_MALFORMED, "MQTT-3.8.3-4");
    s.topic_filter = S("$share/g/a");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.3-4");
    s.no_local = false;
    s.retain_handling = 3;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.3.1");
    s.retain_handling = 0;
    s.topic_filter = S("a#");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-4.7.1-1");
    TV_ENCODE_REFUSED(&c311, &p, MQTT_ERR_PROTOCOL, "MQTT-4.7.1-2");
    s.topic_filter = S("$share//a");
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-4.8.2-1");
    s.topic_filter = S("a");
    uint32_t ids[2] = {1, 2};
    p.subscribe.properties.subscription_identifiers = ids;
    p.subscribe.properties.subscription_identifier_count = 2;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.2.1.2");
    p.subscribe.properties.subscription_identifier_count = 1;
    ids[0] = 0;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.8.2.1.2");
    ids[0] = MQTT_MAX_REMAINING_LENGTH + 1;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_MALFORMED, "MQTT-1.5.5");
    p.subscribe.properties.subscription_identifier_count = 0;
    p.subscribe.packet_id = 0;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-2.2.1-3");
    p.type = MQTT_UNSUBSCRIBE;
    p.subscribe.packet_id = 1;
    p.subscribe.count = 0;
    TV_ENCODE_REFUSED(&c5, &p, MQTT_ERR_PROTOCOL, "MQTT-3.10.3-2");
}

Test(codec_encode, refuses_bad_acknowledgements)
{
    mqtt_codec s311 = TV_S311, s5 = TV_S5, c5 = TV_C5, c311 = TV_C311;
    uint8_t code = 0x03;
    mqtt_packet a = pkt_of(MQTT_SUBACK);
    a.suback.packet_id = 1;
    a.suback.reason_codes.ptr = &code;
    a.suback.reason_codes.len = 1;
    TV_ENCODE_REFUSED(&s311, &a, MQTT_ERR_PROTOCOL, "MQTT-3.9.3-2");
    TV_ENCODE_REFUSED(&s5, &a, MQTT_ERR_PROTOCOL, "MQTT-3.9.3-2");
    a.suback.reason_codes.len = 0;
    TV_ENCODE_REFUSED(&s5, &a, MQTT_ERR_PROTOCOL, "MQTT-3.9.3");
    a.type = MQTT_UNSUBACK;
    a.suback.reason_codes.len = 1;
    TV_ENCODE_REFUSED(&s5, &a, MQTT_ERR_PROTOCOL, "MQTT-3.11.3-2");
    TV_ENCODE_REFUSED(&s311, &a, MQTT_ERR_PROTOCOL, "LIMIT-not-in-version");

    mqtt_packet k = pkt_of(MQTT_PUBACK);
    k.ack.packet_id = 1;
    k.ack.reason_code = 0x92;
    TV_ENCODE_REFUSED(&c5, &k, MQTT_ERR_PROTOCOL, "MQTT-3.4.2-1");
    k.type = MQTT_PUBCOMP;
    k.ack.reason_code = 0x10;
    TV_ENCODE_REFUSED(&c5, &k, MQTT_ERR_PROTOCOL, "MQTT-3.7.2-1");
    TV_ENCODE_REFUSED(&c311, &k, MQTT_ERR_PROTOCOL, "LIMIT-not-in-version");
    k.ack.reason_code = 0;
    k.ack.packet_id = 0;
    TV_ENCODE_REFUSED(&c311, &k, MQTT_ERR_PROTOCOL, "MQTT-2.3.1");
    TV_ENCODE_REFUSED(&c5, &k, MQTT_ERR_PROTOCOL, "MQTT-2.2.1");
}

Test(codec_encode, refuses_bad_disconnect_and_auth)
{
    mqtt_codec s5 = TV_S5, s311 = TV_S311, c311 = TV_C311, c5 = TV_C5;
    mqtt_packet d = pkt_of(MQTT_DISCONNECT);
    TV_ENCODE_REFUSED(&s311, &d, MQTT_ERR_PROTOCOL, "MQTT-2.2.1");
    d.disconnect.reason_code = 0x04;
    TV_ENCODE_REFUSED(&s5, &d, MQTT_ERR_PROTOCOL, "MQTT-3.14.2-1");
    d.disconnect.reason_code = 0;
    d.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    TV_ENCODE_REFUSED(&s5, &d, MQTT_ERR_PROTOCOL, "MQTT-3.14.2-2");
    d.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
    d.disconnect.properties.reason_string = S("a\xff");
    TV_ENCODE_REFUSED(&c5, &d, MQTT_ERR_MALFORMED, "MQTT-1.5.4-1");

    mqtt_packet a = pkt_of(MQTT_AUTH);
    TV_ENCODE_REFUSED(&c311, &a, MQTT_ERR_MALFORMED, "MQTT-2.2.1");
    a.disconnect.reason_code = 0x18;
    TV_ENCODE_REFUSED(&c5, &a, MQTT_ERR_PROTOCOL, "MQTT-3.15.2.2.2");
    a.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_DATA);
    TV_ENCODE_REFUSED(&c5, &a, MQTT_ERR_PROTOCOL, "MQTT-3.15.2.2.3");
    a.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD);
    a.disconnect.reason_code = 0x19;
    TV_ENCODE_REFUSED(&s5, &a, MQTT_ERR_PROTOCOL, "MQTT-3.15.2-1");
}

Test(codec_encode, refuses_before_the_version_is_known_and_reserved_types)
{
    mqtt_codec u = tv_codec(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT);
    mqtt_packet p = pkt_of(MQTT_PINGREQ);
    TV_ENCODE_REFUSED(&u, &p, MQTT_ERR_PROTOCOL, "MQTT-3.1.0-1");
    p.type = (mqtt_packet_type)0;
    mqtt_codec c = TV_C5;
    TV_ENCODE_REFUSED(&c, &p, MQTT_ERR_MALFORMED, "MQTT-2.1.2");
    c = TV_C311;
    TV_ENCODE_REFUSED(&c, &p, MQTT_ERR_MALFORMED, "MQTT-2.2.1");
}

/* ---- sizes whose sum would wrap (issue 14) ----------------------------------- */

/* Every addition of the size computation is checked against the 268,435,455-byte
 * MQTT maximum before it is made: lengths near SIZE_MAX used to wrap the sum to a
 * small size, and the write then copied a "negative" length. Nothing is read from
 * the (tiny) buffers the lengths lie about, and nothing is written. */
static void expect_too_large(const mqtt_codec *c, const mqtt_packet *p, const char *rule)
{
    uint8_t out[64];
    memset(out, 0xAA, sizeof out);
    size_t n = 0, written = 0;
    mqtt_error err;
    memset(&err, 0, sizeof err);
    cr_assert_eq(mqtt_encoded_size(c, p, &n, &err), MQTT_ERR_MALFORMED, "size accepted: %zu", n);
    cr_assert_str_eq(err.rule, rule);
    memset(&err, 0, sizeof err);
    cr_assert_eq(mqtt_encode(c, p, out, sizeof out, &written, &err), MQTT_ERR_MALFORMED);
    cr_assert_str_eq(err.rule, rule);
    for (size_t i = 0; i < sizeof out; i++) cr_assert_eq(out[i], 0xAA, "byte %zu written", i);
}

Test(codec_encode, lengths_that_would_wrap_the_size_are_refused)
{
    static const uint8_t tiny[8] = "payload";
    size_t huge[] = {(size_t)-1, (size_t)-3, (size_t)-7, (size_t)1 << 32, MQTT_MAX_REMAINING_LENGTH};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        mqtt_packet p = pkt_of(MQTT_PUBLISH);
        p.publish.topic = S("t");
        p.publish.payload = (mqtt_bytes){tiny, huge[i]};
        mqtt_codec c311 = TV_C311;
        expect_too_large(&c311, &p, "MQTT-2.2.3");
        p.publish.qos = 1;
        p.publish.packet_id = 1;
        mqtt_codec c5 = TV_C5;
        expect_too_large(&c5, &p, "MQTT-1.5.5");
        mqtt_packet s = pkt_of(MQTT_SUBACK);
        s.suback.packet_id = 1;
        s.suback.reason_codes = (mqtt_bytes){tiny, huge[i]};
        c5.from = MQTT_FROM_SERVER;
        expect_too_large(&c5, &s, "MQTT-1.5.5");
        if (huge[i] <= 65535) continue;
        /* Topic Names and Filters are never scanned past 65535 bytes. */
        mqtt_packet t = pkt_of(MQTT_PUBLISH);
        t.publish.topic = (mqtt_bytes){tiny, huge[i]};
        expect_too_large(&c311, &t, "MQTT-1.5.3");
        mqtt_subscription sub = {.topic_filter = (mqtt_bytes){tiny, huge[i]}};
        mqtt_packet u = pkt_of(MQTT_SUBSCRIBE);
        u.subscribe.packet_id = 1;
        u.subscribe.subscriptions = &sub;
        u.subscribe.count = 1;
        expect_too_large(&c311, &u, "MQTT-1.5.3");
    }
}
