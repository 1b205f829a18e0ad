# The project's reference broker (build/bin/mqtt-broker): strict, complete.
# `make conform-run` and `make check` run every scenario against it; all must pass.
name      reference
versions  3.1 3.1.1 5.0
max_qos   2
