#!/usr/bin/env python3
"""HTTP/2 (h2c, prior knowledge) client of the gateway tests.

Sends one request whose body may end with a trailers HEADERS frame instead
of an END_STREAM DATA frame, reads the answer whether it comes before or
after the body is sent, and prints one JSON object:

  {"status": 200, "headers": [[name, value], ...], "trailers": [...],
   "body_len": N, "reset": null | error code, "goaway": null | error code,
   "sent": body bytes sent, "body_done": bool, "timeout": bool}

The response body goes to the file the spec names (it can be tens of MB).

Usage: h2_client.py SPEC.json, where the spec holds host, port, method,
path, headers ([[name, value], ...], lower-case names), body_file (or
none), trailers ([[name, value], ...] or null: the last DATA frame ends the
stream), response_body_file, timeout (seconds).

Needs the PyPI package h2 (`make test` installs it into .venv).
"""

import json
import selectors
import socket
import sys
import time

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError as e:
    sys.stderr.write(
        f"h2_client: the Python package h2 is missing ({e}): "
        "`make test` (or `make h2`) installs it into .venv\n"
    )
    sys.exit(3)

MAX_WINDOW = 2**31 - 1
# Body bytes queued ahead of the socket at most (keeps memory flat).
MAX_QUEUED = 1 << 20


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    body = b""
    if spec.get("body_file"):
        with open(spec["body_file"], "rb") as f:
            body = f.read()
    trailers = spec.get("trailers")
    deadline = time.monotonic() + float(spec.get("timeout", 60))

    config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    conn = h2.connection.H2Connection(config=config)
    # Large receive windows and frames: answers of tens of MB flow at once.
    conn.local_settings = h2.settings.Settings(
        client=True,
        initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: MAX_WINDOW,
            h2.settings.SettingCodes.MAX_FRAME_SIZE: 1 << 20,
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
        },
    )
    conn.initiate_connection()
    conn.increment_flow_control_window(MAX_WINDOW - 65535)

    sock = socket.create_connection((spec["host"], spec["port"]), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)

    sid = conn.get_next_available_stream_id()
    authority = f"{spec['host']}:{spec['port']}"
    headers = [
        (":method", spec.get("method", "POST")),
        (":scheme", "http"),
        (":authority", authority),
        (":path", spec.get("path", "/")),
    ] + [(n, v) for n, v in spec.get("headers", [])]
    has_body = bool(body) or trailers is not None
    conn.send_headers(sid, headers, end_stream=not has_body)

    result = {
        "status": None,
        "headers": [],
        "trailers": [],
        "body_len": 0,
        "reset": None,
        "goaway": None,
        "sent": 0,
        "body_done": not has_body,
        "timeout": False,
    }
    out = open(spec["response_body_file"], "wb")
    outbuf = bytearray(conn.data_to_send())
    sending = has_body
    sent = 0
    done = False
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)

    while not done:
        if time.monotonic() > deadline:
            result["timeout"] = True
            break
        # Queue body frames as the peer's windows allow.
        while sending and len(outbuf) < MAX_QUEUED:
            try:
                window = conn.local_flow_control_window(sid)
            except h2.exceptions.StreamClosedError:
                sending = False
                break
            if sent < len(body):
                n = min(window, conn.max_outbound_frame_size, len(body) - sent)
                if n <= 0:
                    break
                last = sent + n == len(body) and trailers is None
                conn.send_data(sid, body[sent : sent + n], end_stream=last)
                sent += n
                if last:
                    sending = False
                    result["body_done"] = True
            else:
                if trailers is not None:
                    conn.send_headers(sid, [(n, v) for n, v in trailers], end_stream=True)
                else:
                    conn.end_stream(sid)
                sending = False
                result["body_done"] = True
            outbuf += conn.data_to_send()
        outbuf += conn.data_to_send()

        sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if outbuf else 0))
        for _key, mask in sel.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
            if mask & selectors.EVENT_WRITE and outbuf:
                try:
                    n = sock.send(outbuf)
                    del outbuf[:n]
                except BlockingIOError:
                    pass
                except OSError:
                    # The peer closed while we were still sending.
                    outbuf.clear()
                    sending = False
            if mask & selectors.EVENT_READ:
                try:
                    data = sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    done = True
                    break
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError as e:
                    result["protocol_error"] = str(e)
                    done = True
                    break
                for ev in events:
                    if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                        hs = [(n, v) for n, v in ev.headers]
                        status = dict(hs).get(":status")
                        if status and status.startswith("1"):
                            continue
                        result["status"] = int(status) if status else None
                        result["headers"] = [[n, v] for n, v in hs if not n.startswith(":")]
                    elif isinstance(ev, h2.events.InformationalResponseReceived):
                        pass
                    elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                        out.write(ev.data)
                        result["body_len"] += len(ev.data)
                        conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                    elif isinstance(ev, h2.events.TrailersReceived) and ev.stream_id == sid:
                        result["trailers"] = [[n, v] for n, v in ev.headers]
                    elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                        done = True
                    elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                        result["reset"] = int(ev.error_code)
                        done = True
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        result["goaway"] = int(ev.error_code)
                        done = True
                outbuf += conn.data_to_send()

    result["sent"] = sent
    out.close()
    try:
        conn.close_connection()
        sock.setblocking(True)
        sock.settimeout(1)
        sock.sendall(bytes(outbuf) + conn.data_to_send())
    except (OSError, h2.exceptions.ProtocolError):
        pass
    sock.close()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
