#!/usr/bin/env bash
# Builds an old mosquitto release (default v2.0.7, before the 2021 fixes for
# CVE-2021-34432 and CVE-2021-28166) with ASan (crashes, not UBSan's undefined-behaviour notes) from the git mirror of
# eclipse/mosquitto, for `make fuzz-live`.
#   build-mosquitto.sh OUTDIR [TAG]      -> OUTDIR/mosquitto-TAG/src/mosquitto
# The mirror is looked for in $MOSQUITTO_MIRROR, else /work/.mirror/eclipse+mosquitto/repo.
# Without it the script says what it needs and exits 2 (CI has no network fetch).
set -euo pipefail
out=${1:?usage: build-mosquitto.sh OUTDIR [TAG]}
tag=${2:-v2.0.7}
mirror=${MOSQUITTO_MIRROR:-/work/.mirror/eclipse+mosquitto/repo}
src="$out/mosquitto-$tag"
bin="$src/build/src/mosquitto"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
if ! git --git-dir="$mirror" rev-parse -q --verify "refs/tags/$tag^{commit}" >/dev/null 2>&1; then
    cat >&2 <<MSG
build-mosquitto: no git mirror of eclipse/mosquitto with tag $tag at $mirror.
  make fuzz-live needs mosquitto's source at that tag. Either
    git clone --mirror https://github.com/eclipse/mosquitto "$mirror"
  or point MOSQUITTO_MIRROR at any clone (bare or .git directory) that has tag $tag.
MSG
    exit 2
fi
rm -rf "$src" && mkdir -p "$src"
git --git-dir="$mirror" archive "$tag" | tar -x -C "$src"
san="-fsanitize=address -fno-omit-frame-pointer -g -O1"
# Only the broker: no TLS, websockets, cJSON (dynamic security), docs, clients or plugins.
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address" \
    -DWITH_CJSON=no -DWITH_TLS=no -DWITH_WEBSOCKETS=no -DDOCUMENTATION=no \
    -DWITH_CLIENTS=no -DWITH_APPS=no -DWITH_PLUGINS=no -DWITH_SRV=no -DWITH_DLT=no \
    >"$src/cmake.log" 2>&1 || { echo "build-mosquitto: cmake failed, see $src/cmake.log" >&2; exit 1; }
make -C "$src/build" -j"${JOBS:-2}" mosquitto >"$src/make.log" 2>&1 \
    || { echo "build-mosquitto: make failed, see $src/make.log" >&2; exit 1; }
echo "$bin"
