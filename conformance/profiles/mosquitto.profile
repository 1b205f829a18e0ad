# Debian's mosquitto 2.0.11, started by the tests with a generated config
# (conformance/tests/mosquitto.sh: anonymous, no persistence, 127.0.0.1).
# Each deviation was seen in a run and is explained; a deviation that starts
# passing is reported as unexpected-pass, so this file stays true.
name      mosquitto
versions  3.1 3.1.1 5.0
max_qos   2

deviation connect/08-session-takeover     5.0   "closes the taken-over connection without DISCONNECT 0x8E (Session taken over)"
deviation keepalive/02-expiry             all   "checks keep alive only every few seconds: a keep_alive=1 client is closed after about 5 s, not 1.5 s"
deviation will/04-keepalive-expiry        all   "keep alive is enforced late (about 5 s for keep_alive=1), so the Will comes after the 3 s limit"
deviation malformed/03-dup-on-qos0        all   "accepts a QoS 0 PUBLISH with DUP=1 instead of closing the connection"
