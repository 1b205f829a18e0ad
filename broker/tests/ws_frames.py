#!/usr/bin/env python3
"""Wire-level checks of mqtt-broker's WebSocket listener (MQTT 3.1.1 / 5.0
section 6, RFC 6455), with frames built byte by byte here.
    ws_frames.py PORT
Prints PASS/FAIL per case and a closing "N passed, N failed" line."""
import base64, os, socket, struct, sys

PORT = int(sys.argv[1])
CONNECT = bytes([0x10, 0x0e, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 2]) + b"ws"
PINGREQ = bytes([0xc0, 0])
results = []


def frame(opcode, payload, fin=True, mask=True, declared=None):
    n = len(payload) if declared is None else declared
    head = bytes([(0x80 if fin else 0) | opcode])
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n <= 0xffff:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def upgrade(protocols="mqtt"):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % key)
    if protocols is not None:
        req += "Sec-WebSocket-Protocol: %s\r\n" % protocols
    s.sendall((req + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return s, head.decode(errors="replace")


def read_frames(s, want):
    """Reads frames until `want` (a predicate on the list) holds or the peer closes."""
    buf, frames = b"", []
    while not want(frames):
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            frames.append(("eof", b""))
            break
        buf += chunk
        while len(buf) >= 2:
            n, off = buf[1] & 0x7f, 2
            if n == 126:
                n, off = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127:
                n, off = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < off + n:
                break
            frames.append((buf[0] & 0x0f, buf[off:off + n]))
            buf = buf[off + n:]
    return frames


def stream(frames):
    return b"".join(p for op, p in frames if op in (0, 2))


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))


def case_upgrade():
    s, head = upgrade()
    check("MQTT-6.0.0-4: 101 selects mqtt", head.startswith("HTTP/1.1 101") and
          "Sec-WebSocket-Protocol: mqtt\r\n" in head, head)
    s.close()
    s, head = upgrade(None)
    check("MQTT-6.0.0-3: no subprotocol is refused (400)", head.startswith("HTTP/1.1 400"), head)
    s.close()
    s, head = upgrade("mqttv3.1, chat")
    check("MQTT-6.0.0-4: no mqtt among the offers is refused", head.startswith("HTTP/1.1 400"), head)
    s.close()


def connack_after(frames_bytes, name, extra=None):
    s, _ = upgrade()
    s.sendall(frames_bytes)
    want = extra or (lambda f: len(stream(f)) >= 4)
    got = read_frames(s, want)
    s.close()
    return got


def case_split_and_many():
    got = connack_after(b"".join(frame(2, CONNECT[i:i + 1]) for i in range(len(CONNECT))), "split")
    check("MQTT-6.0.0-2: CONNECT over 16 frames gets CONNACK", stream(got)[:2] == b"\x20\x02", repr(got))
    got = connack_after(frame(2, CONNECT + PINGREQ + PINGREQ), "many", lambda f: len(stream(f)) >= 8)
    check("MQTT-6.0.0-2: CONNECT + 2 PINGREQ in one frame", stream(got)[:8] == b"\x20\x02\x00\x00\xd0\x00\xd0\x00",
          repr(got))
    wire = frame(2, CONNECT[:5], fin=False) + frame(9, b"hi") + frame(0, CONNECT[5:])
    got = connack_after(wire, "ping", lambda f: len(stream(f)) >= 4 and any(op == 10 for op, _ in f))
    check("ping inside a fragmented CONNECT: pong, then CONNACK",
          (10, b"hi") in got and stream(got)[:2] == b"\x20\x02", repr(got))


def close_code(frames):
    for op, p in frames:
        if op == 8 and len(p) >= 2:
            return struct.unpack(">H", p[:2])[0]
    return None


def case_closes():
    got = connack_after(frame(2, CONNECT) + frame(1, b"{}"), "text", lambda f: any(op == "eof" for op, _ in f))
    check("MQTT-6.0.0-1: a text frame closes (1003)", close_code(got) == 1003 and got[-1][0] == "eof", repr(got))
    got = connack_after(frame(2, b"", declared=1 << 63), "2^63", lambda f: any(op == "eof" for op, _ in f))
    check("a 2^63 frame length is refused (1002)", close_code(got) == 1002, repr(got))
    got = connack_after(frame(2, b"", declared=1 << 40), "2^40", lambda f: any(op == "eof" for op, _ in f))
    check("a 2^40 frame length is refused before payload (1009)", close_code(got) == 1009, repr(got))
    got = connack_after(frame(2, CONNECT, mask=False), "unmasked", lambda f: any(op == "eof" for op, _ in f))
    check("an unmasked client frame is refused (1002)", close_code(got) == 1002, repr(got))


case_upgrade()
case_split_and_many()
case_closes()
print("%d passed, %d failed" % (results.count(True), results.count(False)))
sys.exit(0 if all(results) else 1)
