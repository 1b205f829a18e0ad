/*
 * The decoder set-up every oracle of mqtt-fuzz uses: caller arrays for a
 * packet's repeated items (user properties, subscription identifiers,
 * subscriptions), bounded as the codec requires, and a codec over them.
 */
#ifndef FZ_CODEC_H
#define FZ_CODEC_H

#include <mqtt/mqtt.h>

typedef struct {
    mqtt_user_property up[64];
    uint32_t sid[32];
    mqtt_subscription subs[64];
} fz_arrays;

/* A codec for version v decoding what `side` sends into a's arrays; max: the
 * receiver's Maximum Packet Size (0: the protocol's). */
static inline mqtt_codec fz_codec_for(mqtt_version v, mqtt_side side, fz_arrays *a, uint32_t max)
{
    return (mqtt_codec){.version = v, .from = side, .max_packet_size = max, .user_properties = a->up,
                        .user_properties_cap = 64, .subscription_identifiers = a->sid,
                        .subscription_identifiers_cap = 32, .subscriptions = a->subs, .subscriptions_cap = 64};
}

#endif
