#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz entry point: the real script lives in fuzz/build.sh.
exec "$SRC/mqtt/fuzz/build.sh"
