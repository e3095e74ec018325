"""A real RDAP server on 127.0.0.1 that answers with the recorded registry answers in
`tests/abuse/data/`, plus misbehaving registries; and bootstrap files pointing at it.

Paths are `/{registry}/ip/{address}`:
- `arin`, `ripe`, `apnic`, `lacnic`, `afrinic`: the recorded answer for that address (404 if
  none was recorded), `application/rdap+json`;
- `slow`: the recorded answer after `SLOW_SECONDS` (or at once when the server stops);
- `garbage`: 200 with a body that is not JSON;
- `big`: 200 with 2 MiB of JSON and no Content-Length;
- `hop`: a relative redirect to `/arin/...`; `loop`: redirects to itself; `evil`: a redirect
  to `file:///etc/passwd`; `away`: a redirect to a server the bootstrap does not name (this
  same server as `localhost`, which the bootstrap never calls it).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "abuse" / "data"
RECORDED = ("arin", "ripe", "apnic", "lacnic", "afrinic")
SLOW_SECONDS = 5.0
_REGISTRY_OF_HOST = {
    "rdap.arin.net": "arin",
    "rdap.db.ripe.net": "ripe",
    "rdap.apnic.net": "apnic",
    "rdap.lacnic.net": "lacnic",
    "rdap.afrinic.net": "afrinic",
}


def recorded(registry: str, address: str) -> bytes | None:
    path = DATA / f"{registry}-{address.replace(':', '-')}.json"
    return path.read_bytes() if path.is_file() else None


@dataclass
class RdapServer:
    port: int
    hits: Counter[str] = field(default_factory=Counter)
    stopping: threading.Event = field(default_factory=threading.Event)

    def base(self, registry: str) -> str:
        return f"http://127.0.0.1:{self.port}/{registry}/"


class _Handler(BaseHTTPRequestHandler):
    server_state: RdapServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server_state.hits[self.path] += 1
        _, registry, kind, address = ([*self.path.split("/", 3), "", "", ""])[:4]
        if kind != "ip":
            return self._send(404, b"{}")
        if registry == "slow":
            self.server_state.stopping.wait(SLOW_SECONDS)
            registry = "arin"
        if registry == "garbage":
            return self._send(200, b"this is not json {")
        if registry == "big":
            return self._send(200, b'{"name": "' + b"x" * (2 << 20) + b'"}', length=False)
        if registry in ("hop", "loop", "evil", "away"):
            target = {
                "hop": f"/arin/ip/{address}",
                "loop": self.path,
                "evil": "file:///etc/passwd",
                # the same server under a name the bootstrap does not use: followed, it would
                # answer with ARIN's record, so a fallback proves the redirect was refused
                "away": f"http://localhost:{self.server.server_address[1]}/arin/ip/{address}",
            }[registry]
            return self._send(302, b"", location=target)
        body = recorded(registry, address) if registry in RECORDED else None
        self._send(404 if body is None else 200, body or b'{"errorCode": 404}')

    def _send(
        self, status: int, body: bytes, *, location: str | None = None, length: bool = True
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/rdap+json")
        if location is not None:
            self.send_header("Location", location)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (size cap, deadline)
            self.wfile.write(body)


@contextmanager
def rdap_server() -> Iterator[RdapServer]:
    """The server on 127.0.0.1:<free port>, in a thread, for the duration of the block."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    state = RdapServer(port=httpd.server_address[1])
    httpd.RequestHandlerClass = type("Handler", (_Handler,), {"server_state": state})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def recorded_bootstrap(server: RdapServer) -> dict[str, Any]:
    """IANA's real IPv4 and IPv6 bootstrap files (as recorded) in one document, each registry's
    URLs replaced by its path on `server`."""
    services: list[Any] = []
    for name in ("bootstrap-ipv4.json", "bootstrap-ipv6.json"):
        for prefixes, urls in json.loads((DATA / name).read_text())["services"]:
            host = urls[0].split("/")[2]
            services.append([prefixes, [server.base(_REGISTRY_OF_HOST[host])]])
    return {"version": "1.0", "services": services}


def bootstrap_to(server: RdapServer, registry: str, prefixes: list[str]) -> dict[str, Any]:
    """A bootstrap sending `prefixes` to one registry path on `server`."""
    return {"version": "1.0", "services": [[prefixes, [server.base(registry)]]]}
