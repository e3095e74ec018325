"""A small demo website (standard library HTTP server) to proxy in `veil up --demo`.

It shows what reached the origin through the edge — X-Forwarded-For, Forwarded, Veil-Ray —
so the first `curl http://demo.localhost:8080/` already explains what a CDN does.
"""

from __future__ import annotations

import html
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHOWN = (
    "host",
    "x-forwarded-for",
    "x-forwarded-proto",
    "forwarded",
    "veil-connecting-ip",
    "veil-ray",
    "cdn-loop",
    "user-agent",
)


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "demo-origin"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet by default
        return None

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=60")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        seen = {k: v for k, v in self.headers.items() if k.lower() in SHOWN}
        if self.path.startswith("/api/time"):
            body = json.dumps({"time": time.time(), "headers_seen": seen}).encode()
            return self._send(200, "application/json", body)
        if self.path != "/" and not self.path.startswith("/?"):
            return self._send(404, "text/plain; charset=utf-8", b"not found on the demo origin\n")
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>"
            for k, v in seen.items()
        )
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Veil demo origin</title></head>
<body style="font-family:system-ui;max-width:44em;margin:3em auto">
<h1>Hello from the demo origin</h1>
<p>This page was served by a small origin server and delivered to you through Veil's edge.
Below are the request headers the origin received from the edge.</p>
<table>{rows}</table>
<p>Try <code>curl -i http://demo.localhost:8080/api/time</code>.</p>
</body></html>
"""
        self._send(200, "text/html; charset=utf-8", page.encode())

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        self._send(200, "application/json", json.dumps({"received_bytes": len(data)}).encode())


def run(host: str, port: int) -> None:
    """Process entry point: serve forever (the supervisor stops it with SIGTERM)."""
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((host, port), DemoHandler)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
