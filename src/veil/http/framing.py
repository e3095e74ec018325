"""Request-head checks the edge makes on top of llhttp's strict parser (RFC 9112).

httptools (llhttp) in its default, strict mode already rejects Content-Length together with
Transfer-Encoding, duplicate or malformed Content-Length, obs-fold, bare LF/CR, bad chunk sizes
and control characters (edge-threats.md §1). It accepts a few things an edge must not; this
module decides those, as a pure function of the parsed head, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request the edge answers with `status` and then closes the connection."""

    status: int
    reason: str


# RFC 9112 §3.2: Host is required in HTTP/1.1; §3.2.2: a recipient of more than one -> 400.
MISSING_HOST: Final = Rejection(400, "the request has no Host header")
DUPLICATE_HOST: Final = Rejection(400, "the request has more than one Host header")
HOST_USERINFO: Final = Rejection(400, "the Host header must not contain userinfo ('@')")
BAD_HOST: Final = Rejection(400, "the Host header is not a valid host[:port]")
# RFC 9112 §2.3 / §9: only HTTP/1.0 and HTTP/1.1 are spoken on this listener.
HTTP09: Final = Rejection(400, "HTTP/0.9 requests are not accepted")
BAD_VERSION: Final = Rejection(400, "only HTTP/1.0 and HTTP/1.1 are accepted on this connection")
# RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing.
TE_ON_HTTP10: Final = Rejection(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request")
# RFC 9112 §3.2.2: an absolute-form target's authority replaces Host; we refuse a mismatch so
# that routing and every later key use one host.
ABSOLUTE_HOST_MISMATCH: Final = Rejection(
    400, "the request target's host differs from the Host header"
)
BAD_TARGET: Final = Rejection(400, "the request target is not origin-form or absolute-form")
BAD_FORWARD_CHAR = Rejection(400, "a header name contains a character the edge will not forward")

_NAME_CHARS: Final = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._"
_HOST_CHARS: Final = _NAME_CHARS + b":[]"
# Plain Host names already checked, lower-cased (a keep-alive connection repeats its Host on
# every request): a bounded memo, cleared when full. Only names that pass the check enter it.
_PLAIN_HOSTS: Final[dict[bytes, str]] = {}
_PLAIN_HOSTS_MAX: Final = 4096


def split_host(host: bytes) -> tuple[str, int | None] | None:
    """Split a Host value into a lower-case hostname and optional port, or None if invalid.

    RFC 9110 §7.2: Host = uri-host [ ":" port ]. IPv6 literals stay bracketed.
    """
    if not host or len(host) > 1024 or host.translate(None, _HOST_CHARS):
        return None  # empty, huge, or a byte outside the allowed set (translate deletes those)
    text = host.decode("ascii").lower()
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            return None
        name, rest = text[: end + 1], text[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, sep, port_text_raw = text.partition(":")
        port_text = port_text_raw if sep else None
        if "[" in name or "]" in name:
            return None
    if not name:
        return None
    if port_text is None:
        return name.rstrip("."), None
    if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
        return None
    return name.rstrip("."), int(port_text)


def split_absolute_target(target: bytes) -> tuple[bytes, bytes] | None:
    """For an absolute-form target (RFC 9112 §3.2.2) return (authority, origin-form path)."""
    lower = target[:8].lower()
    if lower.startswith(b"http://"):
        rest = target[7:]
    elif lower.startswith(b"https://"):
        rest = target[8:]
    else:
        return None
    slash = rest.find(b"/")
    query = rest.find(b"?")
    cut = min(i for i in (slash, query, len(rest)) if i != -1)
    authority, path = rest[:cut], rest[cut:]
    if not path.startswith(b"/"):
        path = b"/" + path
    return authority, path


def check_request_head(
    *,
    version: str,
    hosts: list[bytes],
    target: bytes,
    has_transfer_encoding: bool,
) -> Rejection | tuple[str, int | None, bytes]:
    """Decide a parsed request head: a Rejection, or (host, port, origin-form target)."""
    if version == "1.1" and len(hosts) == 1 and target[:1] == b"/":
        host = hosts[0]  # fast path: the common case, a plain name without a port
        known = _PLAIN_HOSTS.get(host)
        if known is not None:
            return known, None, target
        if 0 < len(host) <= 253 and not host.translate(None, _NAME_CHARS) and host[-1:] != b".":
            name = host.decode("ascii").lower()
            if len(_PLAIN_HOSTS) >= _PLAIN_HOSTS_MAX:
                _PLAIN_HOSTS.clear()
            _PLAIN_HOSTS[host] = name
            return name, None, target
    if version == "0.9":
        return HTTP09
    if version not in ("1.1", "1.0"):
        return BAD_VERSION
    if has_transfer_encoding and version == "1.0":
        return TE_ON_HTTP10
    if len(hosts) > 1:
        return DUPLICATE_HOST
    if not hosts:
        return MISSING_HOST
    host_value = hosts[0]
    if b"@" in host_value:
        return HOST_USERINFO
    parsed = split_host(host_value)
    if parsed is None:
        return BAD_HOST
    if target.startswith(b"/"):
        return parsed[0], parsed[1], target
    absolute = split_absolute_target(target)
    if absolute is None:
        # asterisk-form (OPTIONS *) is answered by the edge itself; authority-form is CONNECT.
        return BAD_TARGET if target != b"*" else (parsed[0], parsed[1], target)
    authority, path = absolute
    if b"@" in authority:
        return HOST_USERINFO
    if split_host(authority) != parsed:
        return ABSOLUTE_HOST_MISMATCH
    return parsed[0], parsed[1], path
