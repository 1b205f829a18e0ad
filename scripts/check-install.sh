#!/usr/bin/env bash
# Proves `make install` works for a user: installs into a temporary prefix, then
# builds a program against it through pkg-config, statically and dynamically,
# and runs both. Prints a plain "N passed, N failed" line.
set -u
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
passed=0 failed=0
check() { # NAME COMMAND...
    if "${@:2}" >"$prefix/out.log" 2>&1; then passed=$((passed + 1)); echo "ok   $1"
    else failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/     /' "$prefix/out.log"; fi
}
check "make install PREFIX=tmp" make --no-print-directory install PREFIX="$prefix"
files_installed() {
    local f rc=0
    for f in lib/libmqttcodec.a lib/libmqttcodec.so lib/libmqttcodec.so.0 include/mqtt/mqtt.h \
             include/mqtt/codec.h lib/pkgconfig/libmqttcodec.pc bin/mqtt-codec; do
        [ -e "$prefix/$f" ] || { echo "missing $f"; rc=1; }
    done
    return $rc
}
check "installed: the libraries, headers, pkg-config file and mqtt-codec" files_installed
cat > "$prefix/app.c" <<'C'
#include <mqtt/mqtt.h>
#include <stdio.h>
int main(void)
{
    const unsigned char ping[] = {0xc0, 0x00};
    mqtt_codec c = {.version = MQTT_V311, .from = MQTT_FROM_CLIENT};
    mqtt_packet p;
    mqtt_status s = mqtt_decode(&c, ping, sizeof ping, &p, NULL);
    printf("%s %s\n", mqtt_status_name(s), mqtt_packet_type_name(p.type));
    return s != MQTT_OK;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config knows libmqttcodec" pkg-config --exists libmqttcodec
check "build against the shared library" \
    sh -c "cc -o '$prefix/app' '$prefix/app.c' \$(pkg-config --cflags --libs libmqttcodec)"
check "run against the shared library" \
    sh -c "LD_LIBRARY_PATH='$prefix/lib' '$prefix/app' | grep -qx 'ok PINGREQ'"
check "build against the static library" \
    sh -c "cc -o '$prefix/app-static' '$prefix/app.c' \$(pkg-config --cflags libmqttcodec) '$prefix/lib/libmqttcodec.a'"
check "run against the static library" sh -c "'$prefix/app-static' | grep -qx 'ok PINGREQ'"
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
