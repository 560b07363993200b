#!/usr/bin/env python3
"""Render envoy/envoy.template.yaml into a runnable Envoy configuration.

Used by `make run`, `make bench-gateway` and the end-to-end tests; standard
library only, no network. Settings come from the environment:

  LISTEN     address:port of the listener          (default 127.0.0.1:8080)
  ADMIN      address:port of the admin interface   (default 127.0.0.1:9901)
  UPSTREAM   http:// or https:// URL, no path      (default https://api.anthropic.com)
  CONFIG     path of a JSON filter config          (default: `{}`)
  SECRET     token secret, merged into the config as `secret`
  WASM       path of aws_masker.wasm               (default: the release build)
  FILTER     `off` renders a passthrough Envoy without the filter (benchmarks)
  CA_BUNDLE  CA certificates for a TLS upstream    (default /etc/ssl/certs/ca-certificates.crt)

Usage: scripts/render_envoy.py [OUTPUT]   (stdout without OUTPUT)
"""

import json
import os
import re
import sys
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "envoy", "envoy.template.yaml")
DEFAULT_WASM = os.path.join(ROOT, "target", "wasm32-wasip1", "release", "aws_masker.wasm")
# The filter's default max_body_bytes (src/config.rs).
DEFAULT_MAX_BODY = 32 * 1024 * 1024
# Envoy's per-connection buffer limit: max_body_bytes plus room for headers
# and the masked body growing, never below 40 MiB.
MIN_BUFFER_LIMIT = 40 * 1024 * 1024
# The largest HTTP/2 flow-control window (2^31 - 1, RFC 9113 and Envoy).
MAX_H2_WINDOW = 2**31 - 1


def fail(msg):
    sys.exit(f"render_envoy: {msg}")


def host_port(name, value):
    m = re.fullmatch(r"\[?([^\[\]]+?)\]?:(\d{1,5})", value)
    if not m or int(m.group(2)) > 65535:
        fail(f"{name}={value!r} is not address:port (e.g. 127.0.0.1:8080)")
    return m.group(1), int(m.group(2))


def main():
    env = os.environ
    listen_host, listen_port = host_port("LISTEN", env.get("LISTEN") or "127.0.0.1:8080")
    admin_host, admin_port = host_port("ADMIN", env.get("ADMIN") or "127.0.0.1:9901")

    upstream = env.get("UPSTREAM") or "https://api.anthropic.com"
    u = urlsplit(upstream)
    if u.scheme not in ("http", "https") or not u.hostname:
        fail(f"UPSTREAM={upstream!r} must be an http:// or https:// URL")
    if u.path not in ("", "/") or u.query or u.fragment:
        fail(f"UPSTREAM={upstream!r} must not have a path, e.g. https://api.anthropic.com")
    tls = u.scheme == "https"
    upstream_port = u.port or (443 if tls else 80)

    config = {}
    if env.get("CONFIG"):
        try:
            with open(env["CONFIG"], "rb") as f:
                config = json.loads(f.read() or b"{}")
        except (OSError, ValueError) as e:
            fail(f"CONFIG={env['CONFIG']!r}: {e}")
    if env.get("SECRET"):
        if not isinstance(config, dict):
            fail("CONFIG must hold a JSON object to merge SECRET into")
        config["secret"] = env["SECRET"]
    max_body = DEFAULT_MAX_BODY
    if isinstance(config, dict) and isinstance(config.get("max_body_bytes"), int):
        max_body = config["max_body_bytes"]
    buffer_limit = max(MIN_BUFFER_LIMIT, max_body + 8 * 1024 * 1024)
    # HTTP/2 buffers a request body in the stream's window: it holds the
    # same bytes as the buffer limit, and the connection's window one such
    # stream (Envoy caps both at 2^31 - 1).
    h2_window = min(buffer_limit, MAX_H2_WINDOW)

    wasm = os.path.abspath(env.get("WASM") or DEFAULT_WASM)
    filter_on = (env.get("FILTER") or "on") != "off"

    values = {
        "LISTEN_HOST": json.dumps(listen_host),
        "LISTEN_PORT": str(listen_port),
        "ADMIN_HOST": json.dumps(admin_host),
        "ADMIN_PORT": str(admin_port),
        "UPSTREAM_HOST": json.dumps(u.hostname),
        "UPSTREAM_PORT": str(upstream_port),
        "BUFFER_LIMIT": str(buffer_limit),
        "H2_STREAM_WINDOW": str(h2_window),
        "H2_CONNECTION_WINDOW": str(h2_window),
        # The filter config as a JSON string inside a YAML double-quoted
        # scalar (JSON string escapes are valid YAML escapes).
        "CONFIG_JSON": json.dumps(json.dumps(config, separators=(",", ":"))),
        "WASM": json.dumps(wasm),
        "CA_BUNDLE": json.dumps(env.get("CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"),
    }
    conditions = {"tls": tls, "plain": not tls, "filter": filter_on}

    out, keep = [], [True]
    with open(TEMPLATE, encoding="utf-8") as f:
        for line in f:
            directive = line.strip()
            if directive.startswith("#@if "):
                keep.append(keep[-1] and conditions[directive[5:].strip()])
                continue
            if directive == "#@endif":
                keep.pop()
                continue
            if keep[-1]:
                out.append(re.sub(r"\{\{([A-Z0-9_]+)\}\}", lambda m: values[m.group(1)], line))
    text = "".join(out)

    if len(sys.argv) > 1:
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
