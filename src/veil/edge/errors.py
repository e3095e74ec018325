"""Branded error pages the edge synthesises (HTML, or JSON when the client asks for it).

Codes follow Cloudflare's well-known 52x family so operators' runbooks carry over. A page names
the status, what happened in plain words, the ray id and the time — and never the origin's
address or name: nothing here receives them.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from http import HTTPStatus


@dataclass(frozen=True, slots=True)
class ErrorKind:
    status: int
    title: str
    detail: str


ORIGIN_REFUSED = ErrorKind(521, "Web server is down", "The origin refused the connection.")
CONNECT_TIMEOUT = ErrorKind(
    522, "Connection timed out", "The origin did not accept a connection in time."
)
ORIGIN_UNREACHABLE = ErrorKind(
    523, "Origin is unreachable", "The origin's address could not be resolved or reached."
)
ORIGIN_TIMEOUT = ErrorKind(
    524, "A timeout occurred", "The origin accepted the connection but did not answer in time."
)
BAD_GATEWAY = ErrorKind(502, "Bad gateway", "The origin sent a response the edge could not use.")
ORIGIN_FORBIDDEN = ErrorKind(
    530, "Origin not allowed", "The zone's origin is in an address range this edge refuses."
)
UNKNOWN_HOST = ErrorKind(
    421,
    "Unknown host",
    "This hostname is not served by this edge. If it is your site, add it as a zone.",
)
LOOP_DETECTED = ErrorKind(508, "Loop detected", "The request has passed this CDN too often.")
BODY_TOO_LARGE = ErrorKind(413, "Content too large", "The request body is too large.")
# RFC 9111 §4.2.4 / §5.2.2.2: a stale copy that must be revalidated is never served when the
# origin cannot be reached; §5.2.1.7: only-if-cached with nothing usable stored.
MUST_REVALIDATE = ErrorKind(
    504,
    "Gateway timeout",
    "The origin could not be reached and the stored copy may not be used without it.",
)
NOT_CACHED = ErrorKind(504, "Gateway timeout", "Nothing usable is stored (only-if-cached).")

STATUS_LINES: dict[int, bytes] = {
    s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus
}
_EXTRA_PHRASES = {
    521: "Web Server Is Down",
    522: "Connection Timed Out",
    523: "Origin Is Unreachable",
    524: "A Timeout Occurred",
    530: "Origin Error",
}
STATUS_LINES.update({k: f"HTTP/1.1 {k} {v}\r\n".encode() for k, v in _EXTRA_PHRASES.items()})


def status_line(status: int) -> bytes:
    return STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n".encode()


PAGE_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;"
    "color:#222}h1{font-size:1.6em}code{background:#f3f3f3;padding:.1em .3em}"
    "footer{color:#666;font-size:.9em;margin-top:3em}"
)


def page_time(now: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))


def render_error(
    status: int, title: str, detail: str, *, ray: str, now: float, as_json: bool
) -> tuple[bytes, bytes]:
    """(content-type, body) of an error page."""
    if as_json:
        doc = {
            "success": False,
            "errors": [{"code": status, "message": f"{title}: {detail}"}],
            "ray_id": ray,
            "time": page_time(now),
        }
        return b"application/json", json.dumps(doc).encode()
    esc = html.escape
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} {esc(title)} | veil</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>{PAGE_STYLE}</style>
</head><body><main><h1>Error {status}: {esc(title)}</h1><p>{esc(detail)}</p></main>
<footer>Ray ID <code>{esc(ray)}</code> &middot; {page_time(now)} &middot; veil</footer>
</body></html>
"""
    return b"text/html; charset=utf-8", page.encode()


def error_for(kind: ErrorKind, *, ray: str, now: float, as_json: bool) -> tuple[bytes, bytes]:
    return render_error(kind.status, kind.title, kind.detail, ray=ray, now=now, as_json=as_json)
