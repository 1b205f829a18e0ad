/* libmqttcodec umbrella header: the codec, topic checks and the formatter. */
#ifndef MQTT_MQTT_H
#define MQTT_MQTT_H
#include "codec.h"
#include "format.h"
#include "topic.h"
#endif
